//! Render a thread as the text a reader gets when copying the Tweakers page: the article with its
//! footer, then the visible reactions one after another with their nesting, authors, times and
//! scores lost (except the article author's glued header), edit lines between blank lines, and
//! collapsed reactions left out.
//!
//! Used to turn a Tweakers HTML page (whose structure is known) into copied text, so that the
//! reconstruction can be scored on data that did not shape its rules, and by the synthetic-thread
//! generator.

use crate::model::{Block, Span, Thread};

/// The copied text and, per comment, the lines it occupies (`None` for a collapsed reaction).
#[derive(Debug, Clone)]
pub struct RenderedCopy {
    pub text: String,
    pub spans: Vec<Option<Span>>,
}

struct Writer {
    text: String,
    line: usize,
}

impl Writer {
    /// Write one line (it must not contain a newline).
    fn line(&mut self, s: &str) -> usize {
        self.line += 1;
        self.text.push_str(s);
        self.text.push('\n');
        self.line
    }
    fn lines(&mut self, s: &str) -> (usize, usize) {
        let mut first = 0;
        let mut last = 0;
        for l in s.split('\n') {
            last = self.line(l);
            if first == 0 {
                first = last;
            }
        }
        (first, last)
    }
}

/// Which reaction headers a copy keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderStyle {
    /// Only the article author's glued header, as in the seed thread (a browser copy of 2024).
    #[default]
    AuthorOnly,
    /// Every reaction's header on one line, glued as the article author's is (`stijn014 @Upsilon28 juli
    /// 2023 11:38`): a way of copying that keeps the header text.
    Glued,
    /// Every reaction's header on two lines, as the 2023 markup lays it out: the name, then
    /// `@Upsilon • 28 juli 2023 11:38` (the reply-to only on replies).
    TwoLines,
}

pub fn render(thread: &Thread) -> RenderedCopy {
    render_with(thread, HeaderStyle::AuthorOnly)
}

/// [`render`] with the headers of a given style.
pub fn render_with(thread: &Thread, headers: HeaderStyle) -> RenderedCopy {
    let a = &thread.article;
    let mut w = Writer { text: String::new(), line: 0 };
    w.line(a.title.as_deref().unwrap_or("Zonder titel"));
    for p in &a.body {
        w.line("");
        w.line(p);
    }
    let footer: Vec<String> = [
        a.author.as_ref().map(|x| format!("Door {x}")),
        a.author_function.clone(),
        a.date.clone(),
        a.declared_reactions.map(|n| n.to_string()),
        a.submitter.as_ref().map(|s| format!("Submitter: {s}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    for f in footer {
        w.line("");
        w.line(&f);
    }
    w.line("");
    w.line(&format!("Reacties ({})", a.declared_reactions.unwrap_or(thread.comments.len() as u32)));
    w.line("");
    if let Some(f) = a.filter_counts {
        for n in [f.at_least_minus_1, f.at_least_0, f.at_least_1, f.at_least_2, f.at_least_3, f.unrated] {
            w.line(&n.to_string());
        }
    }
    w.line("Wijzig sortering");
    let by_id: std::collections::HashMap<&str, &crate::model::Comment> =
        thread.comments.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut spans = Vec::with_capacity(thread.comments.len());
    let mut after_edit = false;
    for c in &thread.comments {
        if c.collapsed {
            spans.push(None);
            continue;
        }
        if after_edit {
            w.line("");
        }
        let mut first = 0;
        let reply_to = c
            .parent
            .as_deref()
            .and_then(|p| by_id.get(p))
            .and_then(|p| p.author.as_deref())
            .map(|n| format!(" @{n}"))
            .unwrap_or_default();
        let time = c.time.as_deref().unwrap_or("");
        let name = c.author.as_deref().unwrap_or("");
        if !c.by_article_author && !name.is_empty() && !time.is_empty() {
            match headers {
                HeaderStyle::AuthorOnly => {}
                HeaderStyle::Glued => first = w.line(&format!("{name}{reply_to}{time}")),
                HeaderStyle::TwoLines => {
                    first = w.line(name);
                    let to = reply_to.trim_start();
                    w.line(&if to.is_empty() { time.to_string() } else { format!("{to} • {time}") });
                }
            }
        }
        if c.by_article_author {
            first = w.line(&format!(
                "Auteur{} {}{}{}",
                c.author.as_deref().unwrap_or(""),
                a.author_function.as_deref().unwrap_or("Redacteur"),
                reply_to,
                time
            ));
        }
        let mut last = first;
        let mut previous_was_paragraph = false;
        for b in &c.blocks {
            if previous_was_paragraph && matches!(b, Block::Paragraph { .. }) {
                w.line("");
            }
            let (f, l) = w.lines(b.text());
            if first == 0 {
                first = f;
            }
            last = l;
            previous_was_paragraph = matches!(b, Block::Paragraph { .. });
        }
        if let Some(e) = &c.edit {
            w.line("");
            last = w.line(&format!("[Reactie gewijzigd door {} op {}]", e.name, e.date));
            if first == 0 {
                first = last;
            }
        }
        after_edit = c.edit.is_some();
        if first == 0 {
            // An empty body still occupies a line on the page.
            first = w.line("");
            last = first;
        }
        spans.push(Some(Span { first_line: first, last_line: last }));
    }
    if a.closed {
        w.line("Op dit item kan niet meer gereageerd worden.");
    }
    RenderedCopy { text: w.text, spans }
}
