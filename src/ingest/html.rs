//! Reader for a saved Tweakers HTML page (2023 markup, and the 2025 variants that user scripts
//! report: `.userName`, `.authorReaction`, `.userFunction`, `.pagination-section`). The nesting of
//! `<twk-reaction>` elements states the reply structure; the reader checks it against the `@name`
//! reply-to links and reports what it could not find instead of failing.

use crate::error::{Error, Result};
use crate::ingest::comment_parts::{find_mentions, fold_attributions, own_text};
use crate::model::{
    Article, Block, Comment, EditLine, Evidence, FilterCounts, Format, Link, Provenance, QuoteSource, SCHEMA, Source,
    Thread, Warning,
};
use crate::segment::parse_edit_line;
use crate::textnorm::{RELATIVE_DAYS, parse_machine_datetime, parse_numeric_datetime, parse_reaction_time};
use scraper::{ElementRef, Html, Node, Selector};

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("selector is valid")
}

/// The user id in a gallery link such as `https://tweakers.net/gallery/711350/`.
fn gallery_id(href: &str) -> Option<&str> {
    let rest = &href[href.find("/gallery/")? + "/gallery/".len()..];
    let id = rest.split(['/', '?', '#']).next()?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then_some(id)
}

/// Read a saved Tweakers page.
pub fn read(text: &str, file: &str, max_nesting: usize) -> Result<Thread> {
    read_page(text, file, max_nesting).map(|page| page.thread)
}

/// One saved page of a thread, with the reactions whose reply-to link points to a reaction that is
/// not on the page (a long thread split over pages).
pub struct Page {
    pub thread: Thread,
    /// (reaction id, id of the reaction it answers) for reactions at the top of the page whose
    /// reply-to link names a reaction the page does not hold.
    pub off_page_replies: Vec<(String, String)>,
}

/// Read one saved page: the thread it holds, and the replies it holds to reactions on other pages.
/// A page saved as a single-file web archive (MHTML) is taken out of the archive first.
pub fn read_page(text: &str, file: &str, max_nesting: usize) -> Result<Page> {
    if !super::mhtml::looks_like(text) {
        return read_html_page(text, file, max_nesting);
    }
    let archived = super::mhtml::unwrap(text, file)?;
    let inside = format!("the page in part {} of the MHTML archive", archived.part);
    let mut page = read_html_page(&archived.html, file, max_nesting).map_err(|e| e.inside(&inside))?;
    let t = &mut page.thread;
    // A relative time counts from the day the page was shown: the archive's save date.
    let mut dated = 0;
    if let Some(saved) = archived.saved {
        for c in t.comments.iter_mut().filter(|c| c.time_iso.is_none()) {
            if let Some(when) = c.time.as_deref().and_then(|x| crate::textnorm::resolve_relative_time(x, saved)) {
                c.time_iso = Some(when.iso());
                let place = format!("reaction r_{}", c.id);
                t.warnings.retain(|w| !(w.kind == "unreadable_time" && w.place.as_deref() == Some(place.as_str())));
                dated += 1;
            }
        }
    }
    let saved =
        archived.saved.map_or("it does not say when it was saved".to_string(), |d| format!("saved {}", d.iso()));
    let mut message = format!("read {inside} ({}; {saved})", archived.encoding);
    if dated > 0 {
        message
            .push_str(&format!("; {dated} relative reaction time(s) such as 'vandaag 11:38' dated from the save date"));
    }
    t.warnings.insert(0, Warning::new("web_archive", message, None));
    Ok(page)
}

fn read_html_page(text: &str, file: &str, max_nesting: usize) -> Result<Page> {
    check_complete(text, file)?;
    let max_nesting = max_nesting.min(super::MAX_NESTING_CEILING);
    check_open_tags(text, file, max_nesting)?;
    let doc = Html::parse_document(text);
    check_nesting(&doc, file, max_nesting)?;
    let mut warnings = Vec::new();
    let article = read_article(&doc, text, &mut warnings);
    let reaction_sel = sel("twk-reaction");
    // A page may show some reactions again outside the thread (a sidebar, a highlighted reaction):
    // a reaction outside #reactieContainer whose id is also inside it is that copy, and is left out.
    let mut reactions: Vec<ElementRef> = doc.select(&reaction_sel).collect();
    if let Some(container) = doc.select(&sel("#reactieContainer")).next() {
        let inside: std::collections::HashSet<_> = container.select(&reaction_sel).map(|r| r.id()).collect();
        let inside_ids: std::collections::HashSet<String> =
            container.select(&reaction_sel).filter_map(reaction_id).collect();
        let before = reactions.len();
        reactions.retain(|r| inside.contains(&r.id()) || reaction_id(*r).is_none_or(|id| !inside_ids.contains(&id)));
        if reactions.len() < before {
            warnings.push(Warning::new(
                "outside_container",
                format!(
                    "{} reaction(s) shown again outside #reactieContainer (a sidebar or highlight) were read once, from the thread",
                    before - reactions.len()
                ),
                None,
            ));
        }
    }
    if reactions.is_empty() {
        return Err(Error::new(
            file,
            None,
            "no reactions found: the page has no <twk-reaction> elements (is this a Tweakers page with reactions?)",
        ));
    }
    let mut comments = Vec::with_capacity(reactions.len());
    let mut reply_targets = Vec::with_capacity(reactions.len());
    for (i, r) in reactions.iter().enumerate() {
        let (comment, target) = read_reaction(*r, i, file, &mut warnings)?;
        comments.push(comment);
        reply_targets.push(target);
    }
    let off_page_replies = check_reply_targets(&mut comments, &reply_targets, &mut warnings);
    // Reactions by the article's author that the page does not mark as such: by the author's
    // display name, by the gallery id of the article's author link (`data-owner-id`), or by the
    // user name of a reaction the page does mark.
    let author_gallery = doc
        .select(&sel("div.authorBlock a[href]"))
        .filter_map(|a| a.value().attr("href"))
        .find_map(gallery_id)
        .map(str::to_string);
    let marked: Vec<String> =
        comments.iter().filter(|c| c.by_article_author).filter_map(|c| c.author.clone()).collect();
    for c in comments.iter_mut() {
        let by_name = c.author.as_ref().is_some_and(|a| article.author.as_ref() == Some(a) || marked.contains(a));
        let by_gallery = author_gallery.is_some() && c.author_id == author_gallery;
        if by_name || by_gallery {
            c.by_article_author = true;
        }
    }
    let found = comments.len();
    let mut thread = Thread {
        schema: SCHEMA.into(),
        source: Source { path: file.into(), format: Format::Html, pages: Vec::new() },
        article,
        comments,
        warnings,
    };
    super::finish_structured(&mut thread, file)?;
    if let Some(declared) = thread.article.declared_reactions
        && declared as usize != found
    {
        let paged = doc.select(&sel(".pagination-section")).next().is_some();
        thread.warnings.push(Warning::new(
            "reaction_count",
            format!(
                "the page declares {declared} reactions but holds {found}{}",
                if paged { " (the thread is split over pages: .pagination-section)" } else { "" }
            ),
            None,
        ));
    }
    Ok(Page { thread, off_page_replies })
}

/// Compare each reaction's reply-to link with its nesting. A link that agrees is evidence; one that
/// disagrees is a `reply_to_mismatch` warning; a top-level reaction whose link names a reaction not on
/// the page answers a reaction on another page (`reply_off_page`), returned as (id, target).
fn check_reply_targets(
    comments: &mut [Comment],
    targets: &[Option<String>],
    warnings: &mut Vec<Warning>,
) -> Vec<(String, String)> {
    let on_page: std::collections::HashSet<String> = comments.iter().map(|c| c.id.clone()).collect();
    let mut off_page = Vec::new();
    for (c, target) in comments.iter_mut().zip(targets) {
        let Some(t) = target else { continue };
        if c.parent.as_deref() == Some(t.as_str()) {
            continue;
        }
        let place = Some(format!("reaction r_{}", c.id));
        if c.parent.is_none() && !on_page.contains(t.as_str()) {
            warnings.push(Warning::new(
                "reply_off_page",
                format!(
                    "the reply-to link points to r_{t}, which is not on this page (a thread split over pages? \
                     give all its pages: draad parse page1.html page2.html); read as a reply to the article"
                ),
                place,
            ));
            // Its parent is known not to be the article, but is not on the page.
            c.parent_confidence = 0.0;
            c.parent_evidence.push(Evidence::new(
                "reply_to",
                format!("the reply-to link points to r_{t}, not on this page; read as a reply to the article"),
            ));
            off_page.push((c.id.clone(), t.clone()));
        } else {
            warnings.push(Warning::new(
                "reply_to_mismatch",
                format!(
                    "the reply-to link points to r_{t} but the reaction is nested under {}",
                    c.parent.as_deref().map_or("the article".to_string(), |p| format!("r_{p}"))
                ),
                place,
            ));
        }
    }
    off_page
}

/// Elements that have no end tag.
const VOID: &[&str] =
    &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];

/// A start or end tag in the raw page text, found without parsing.
struct RawTag {
    /// Byte offset of the `<`.
    pos: usize,
    /// The tag name in lower case.
    name: String,
    closing: bool,
    /// A start tag that opens an element (not void, not written `<x/>`).
    opens: bool,
}

/// The tags of a page in order, skipping comments, doctype and processing instructions, and the
/// content of `<script>` and `<style>`, which is not markup.
fn raw_tags(text: &str) -> impl Iterator<Item = RawTag> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0usize;
    std::iter::from_fn(move || {
        while let Some(off) = bytes[i..].iter().position(|&b| b == b'<') {
            let pos = i + off;
            i = pos + 1;
            let rest = &text[i..];
            if rest.starts_with("!--") {
                i += rest.find("-->").map_or(rest.len(), |e| e + 3);
                continue;
            }
            if rest.starts_with('!') || rest.starts_with('?') {
                continue;
            }
            let closing = rest.starts_with('/');
            let name: String = rest[usize::from(closing)..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .map(|c| c.to_ascii_lowercase())
                .collect();
            if name.is_empty() {
                continue;
            }
            let end = rest.find('>').unwrap_or(rest.len());
            let opens = !closing && !VOID.contains(&name.as_str()) && !rest[..end].ends_with('/');
            if opens && (name == "script" || name == "style") {
                let close = format!("</{name}");
                i += rest.to_ascii_lowercase().find(&close).unwrap_or(rest.len());
            } else {
                i += end.min(rest.len());
            }
            return Some(RawTag { pos, name, closing, opens });
        }
        None
    })
}

/// Before parsing (which slows down on very deep nesting): count the elements left open by the raw
/// tags, and refuse a page that opens more than the limit at once, naming the line.
fn check_open_tags(text: &str, file: &str, limit: usize) -> Result<()> {
    let mut depth = 0usize;
    for tag in raw_tags(text) {
        if tag.closing {
            depth = depth.saturating_sub(1);
        } else if tag.opens && tag.name != "script" && tag.name != "style" {
            depth += 1;
            if depth > limit {
                let line = text[..tag.pos].matches('\n').count() + 1;
                return Err(Error::at_line(
                    file,
                    line,
                    format!(
                        "the HTML opens more than {limit} elements without closing them (raise the limit with --max-nesting)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Refuse a page nested deeper than the limit (the reader walks reaction bodies recursively).
fn check_nesting(doc: &Html, file: &str, limit: usize) -> Result<()> {
    let mut depth = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => {
                depth += 1;
                if depth > limit {
                    let (tag, reaction) = match ElementRef::wrap(node) {
                        Some(el) => (
                            el.value().name().to_string(),
                            el.ancestors().filter_map(ElementRef::wrap).find_map(|a| {
                                (a.value().name() == "twk-reaction").then(|| a.value().id().unwrap_or("?").to_string())
                            }),
                        ),
                        None => ("text".to_string(), None),
                    };
                    return Err(Error::new(
                        file,
                        Some(match reaction {
                            Some(r) => format!("reaction {r}, <{tag}>"),
                            None => format!("<{tag}>"),
                        }),
                        format!(
                            "the HTML is nested more than {limit} elements deep (raise the limit with --max-nesting)"
                        ),
                    ));
                }
            }
            ego_tree::iter::Edge::Close(_) => depth -= 1,
        }
    }
    Ok(())
}

/// A saved page cut off in the middle: `<html>` without `</html>`, or reactions left open.
fn check_complete(text: &str, file: &str) -> Result<()> {
    let tags: Vec<RawTag> = raw_tags(text).filter(|t| t.name == "twk-reaction" || t.name == "html").collect();
    let of = |name: &'static str, closing: bool| tags.iter().filter(move |t| t.name == name && t.closing == closing);
    let opened: Vec<usize> = of("twk-reaction", false).map(|t| t.pos).collect();
    let closed = of("twk-reaction", true).count();
    if opened.len() > closed {
        // The first reaction still open at the end is the one `closed` closings cannot account for,
        // counting from the innermost: report the last opening tag, the most likely cut.
        let pos = *opened.last().expect("at least one opening");
        let (line, col) = super::line_col(text.as_bytes(), pos);
        return Err(Error::new(
            file,
            Some(format!("line {line}, column {col}")),
            format!(
                "truncated HTML: {} <twk-reaction> elements opened but {} closed (the file was cut off or saved incompletely)",
                opened.len(),
                closed
            ),
        ));
    }
    if of("html", false).next().is_some() && of("html", true).next().is_none() {
        let (line, col) = super::line_col(text.as_bytes(), text.len());
        return Err(Error::new(
            file,
            Some(format!("line {line}, column {col} (end of file)")),
            "truncated HTML: the page has <html> but no </html> (the file was cut off or saved incompletely)",
        ));
    }
    Ok(())
}

fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_text(scope: ElementRef, selector: &str) -> Option<String> {
    scope.select(&sel(selector)).next().map(|e| clean(&e.text().collect::<String>())).filter(|t| !t.is_empty())
}

fn read_article(doc: &Html, raw: &str, warnings: &mut Vec<Warning>) -> Article {
    let root = doc.root_element();
    let mut a = Article {
        title: first_text(root, "h1 span[data-cy=articleTitle]").or_else(|| first_text(root, "h1")),
        ..Article::default()
    };
    if a.title.is_none() {
        warnings.push(Warning::new("article", "no article title (h1 span[data-cy=articleTitle]) found", None));
    }
    if let Some(content) = root.select(&sel("div.articleContent")).next() {
        for el in content.select(&sel("p, h2, h3, h4, li")) {
            let t = clean(&el.text().collect::<String>());
            if !t.is_empty() {
                a.body.push(t);
            }
        }
    } else {
        warnings.push(Warning::new("article", "no article body (div.articleContent) found", None));
    }
    a.author = first_text(root, "div.authorBlock .info p.name a").or_else(|| first_text(root, "div.authorBlock .name"));
    a.author_function = first_text(root, "div.authorBlock .info p.function");
    if let Some(meta) = first_text(root, "span.articleMeta") {
        let date = meta.trim_start_matches(['•', ' ']).trim().to_string();
        a.date_iso = parse_numeric_datetime(&date).map(|t| t.iso());
        a.date = Some(date);
    }
    for script in root.select(&sel(r#"script[type="application/ld+json"]"#)) {
        let json = script.text().collect::<String>();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&json)
            && let Some(d) = find_key(&v, "datePublished").and_then(|d| d.as_str())
        {
            a.date_iso = Some(d.to_string());
            break;
        }
    }
    if let Some(h) = root.select(&sel("h2.reactionCount")).next() {
        let digits: String = h.text().collect::<String>().chars().filter(|c| c.is_ascii_digit()).collect();
        a.declared_reactions = digits.parse().ok();
    }
    let counts: Vec<u32> = root
        .select(&sel("div.modFilter span.reactionCount"))
        .filter_map(|e| e.text().collect::<String>().trim().trim_matches(['(', ')']).parse().ok())
        .collect();
    a.filter_counts = FilterCounts::from_slice(&counts);
    if let Some(s) = first_text(root, ".submitter, .submitterName") {
        a.submitter = Some(s.trim_start_matches("Submitter:").trim().to_string());
    }
    a.closed = raw.contains("Op dit item kan niet meer gereageerd worden");
    a
}

fn find_key<'v>(v: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m.get(key).or_else(|| m.values().find_map(|x| find_key(x, key))),
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

/// The nearest enclosing `<twk-reaction>` of a node, if any.
fn enclosing_reaction(el: ElementRef) -> Option<ElementRef> {
    el.ancestors().filter_map(ElementRef::wrap).find(|a| a.value().name() == "twk-reaction")
}

/// Elements matching `selector` inside reaction `r` but not inside one of its replies.
fn own_select<'a>(r: ElementRef<'a>, selector: &str) -> Vec<ElementRef<'a>> {
    r.select(&sel(selector))
        .filter(|e| e.value().name() != "twk-reaction" && enclosing_reaction(*e).is_some_and(|x| x.id() == r.id()))
        .collect()
}

fn reaction_id(r: ElementRef) -> Option<String> {
    r.attr("data-reaction-id")
        .map(str::to_string)
        .or_else(|| r.attr("id").map(|i| i.trim_start_matches("r_").to_string()))
        .filter(|s| !s.is_empty())
}

/// Where a reaction's header may hold its time: the date link, any element of class `date`, or a
/// `<time>` element in the header.
const TIME_SELECTORS: &[&str] = &["a.date", ".date", ".reactieHeader time", ".reactionHead time", ".reactionMeta time"];

/// The time of a reaction as shown, and as ISO 8601. The shown text is read leniently
/// ([`parse_reaction_time`]); where it is no date (`vandaag 11:38`) or missing, a machine date in a
/// `datetime` or `title` attribute of the time element serves. A time that shows but cannot be
/// dated is kept as shown, with an `unreadable_time` warning.
fn reaction_time(
    r: ElementRef,
    text_of: &dyn Fn(Vec<ElementRef>) -> Option<String>,
    place: &Option<String>,
    warnings: &mut Vec<Warning>,
) -> (Option<String>, Option<String>) {
    let elements: Vec<ElementRef> = TIME_SELECTORS.iter().flat_map(|s| own_select(r, s)).collect();
    let time = TIME_SELECTORS.iter().find_map(|s| text_of(own_select(r, s)));
    let machine = elements.iter().find_map(|e| {
        let attr = |name: &str| e.attr(name).map(str::trim).filter(|v| !v.is_empty());
        attr("datetime")
            .and_then(parse_machine_datetime)
            .map(|(t, offset)| offset.map_or_else(|| t.iso(), |o| t.iso_with_offset(&o)))
            .or_else(|| attr("title").and_then(parse_reaction_time).map(|t| t.iso()))
    });
    let time_iso = time.as_deref().and_then(parse_reaction_time).map(|t| t.iso()).or(machine);
    match (&time, &time_iso) {
        (None, None) => warnings.push(Warning::new("missing_field", "no time (a.date) found", place.clone())),
        (Some(t), None) => {
            let relative = RELATIVE_DAYS.iter().any(|d| t.to_lowercase().starts_with(d));
            warnings.push(Warning::new(
                "unreadable_time",
                if relative {
                    format!("the time '{t}' counts from the day the page was shown, which a saved page does not record; time_iso is left empty")
                } else {
                    format!("the time '{t}' is not a date draad can read; it is kept as shown and time_iso is left empty")
                },
                place.clone(),
            ))
        }
        _ => {}
    }
    (time.or_else(|| time_iso.clone()), time_iso)
}

/// Read one reaction, with the id its reply-to link points to (if it has one).
fn read_reaction(
    r: ElementRef,
    i: usize,
    file: &str,
    warnings: &mut Vec<Warning>,
) -> Result<(Comment, Option<String>)> {
    let id = reaction_id(r).ok_or_else(|| {
        Error::new(file, Some(format!("reaction number {}", i + 1)), "a <twk-reaction> has no data-reaction-id or id")
    })?;
    let place = Some(format!("reaction r_{id}"));
    let parent = enclosing_reaction(r).map(|p| reaction_id(p).unwrap_or_default());
    let body = own_select(r, ".reactieBody").into_iter().next();
    let collapsed = body.is_some_and(|b| b.value().has_class("hidden", scraper::CaseSensitivity::AsciiCaseInsensitive));
    // The first with text: an avatar link may carry the same class around an image.
    let text_of =
        |els: Vec<ElementRef>| els.iter().map(|e| clean(&e.text().collect::<String>())).find(|t| !t.is_empty());
    let author = text_of(own_select(r, ".userLink")).or_else(|| text_of(own_select(r, ".userName")));
    let (time, time_iso) = reaction_time(r, &text_of, &place, warnings);
    let score = own_select(r, "[score]")
        .first()
        .and_then(|b| b.attr("score"))
        .and_then(|s| s.trim().trim_start_matches('+').parse::<i32>().ok());
    let by_author = r.value().has_class("authorReaction", scraper::CaseSensitivity::AsciiCaseInsensitive)
        || !own_select(r, ".authorReaction").is_empty();
    let mut evidence = vec![Evidence::new(
        "markup",
        match &parent {
            Some(p) => format!("nested inside reaction r_{p}"),
            None => "a top-level reaction in #reactieContainer".to_string(),
        },
    )];
    let mut reply_target = None;
    if let Some(reply_to) = own_select(r, "a.replyTo").first() {
        let target = reply_to
            .attr("href")
            .and_then(|h| h.split("showReaction=").nth(1))
            .map(|s| s.chars().take_while(|c| c.is_ascii_digit()).collect::<String>())
            .filter(|t| !t.is_empty());
        if let (Some(t), Some(p)) = (&target, &parent)
            && t == p
        {
            evidence.push(Evidence::new(
                "reply_to",
                format!(
                    "the @{} link points to r_{t}",
                    clean(&reply_to.text().collect::<String>()).trim_start_matches('@')
                ),
            ));
        }
        reply_target = target;
    }
    if !collapsed && author.is_none() {
        warnings.push(Warning::new("missing_field", "no author (.userLink or .userName) found", place.clone()));
    }
    let content = own_select(r, ".reactieContent").into_iter().next();
    let mut parts = BodyParts::default();
    if let Some(c) = content {
        parts.walk(c);
        parts.flush();
    } else if !collapsed {
        warnings.push(Warning::new("missing_field", "no body (.reactieContent) found", place.clone()));
    }
    take_unmarked_edit_line(&mut parts);
    fold_attributions(&mut parts.blocks);
    let text = own_text(&parts.blocks);
    let mut mentions = parts.mentions;
    for m in find_mentions(&text, &mentions.clone()) {
        if !mentions.contains(&m) {
            mentions.push(m);
        }
    }
    let comment = Comment {
        id,
        index: i + 1,
        parent,
        parent_confidence: 1.0,
        parent_evidence: evidence,
        parent_candidates: Vec::new(),
        author,
        author_id: r.attr("data-owner-id").map(str::to_string),
        time_iso,
        time,
        score,
        collapsed,
        by_article_author: by_author,
        text,
        blocks: parts.blocks,
        mentions,
        links: parts.links,
        edit: parts.edit,
        span: None,
        provenance: Provenance::default(),
        stance: None,
        relation_to_parent: None,
        clusters: None,
    };
    Ok((comment, reply_target))
}

/// An edit line in markup other than `p.edit` (the format notes have seen only that one) is the last
/// line of the body's last paragraph: take it as the edit line rather than as the writer's words.
fn take_unmarked_edit_line(parts: &mut BodyParts) {
    if parts.edit.is_some() {
        return;
    }
    let Some(Block::Paragraph { text }) = parts.blocks.last_mut() else { return };
    let (rest, last) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    let Some(edit) = parse_edit_line(last) else { return };
    parts.edit = Some(edit);
    let rest = rest.trim_end().to_string();
    if rest.is_empty() {
        parts.blocks.pop();
    } else {
        *text = rest;
    }
}

/// Walks a reaction body into blocks: `<br>` is a line break, `<br><br>` a paragraph gap,
/// `<blockquote>` a quote, `<li>` a list item, `p.edit` the edit line.
#[derive(Default)]
struct BodyParts {
    buffer: String,
    blocks: Vec<Block>,
    mentions: Vec<String>,
    links: Vec<Link>,
    edit: Option<EditLine>,
}

impl BodyParts {
    fn push_text(&mut self, t: &str) {
        // HTML white space is not layout: collapse it, keeping explicit breaks.
        let mut collapsed = String::new();
        let mut space = self.buffer.ends_with([' ', '\n']) || self.buffer.is_empty();
        for ch in t.chars() {
            if ch.is_whitespace() {
                if !space {
                    collapsed.push(' ');
                    space = true;
                }
            } else {
                collapsed.push(ch);
                space = false;
            }
        }
        self.buffer.push_str(&collapsed);
    }

    fn newline(&mut self) {
        while self.buffer.ends_with(' ') {
            self.buffer.pop();
        }
        self.buffer.push('\n');
    }

    /// Split the buffer into paragraphs at blank lines.
    fn flush(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        for para in split_paragraphs(&buffer) {
            self.blocks.push(Block::Paragraph { text: para });
        }
    }

    fn walk(&mut self, el: ElementRef) {
        for child in el.children() {
            match child.value() {
                Node::Text(t) => self.push_text(t),
                Node::Element(e) => {
                    let Some(c) = ElementRef::wrap(child) else {
                        continue;
                    };
                    match e.name() {
                        "br" => self.newline(),
                        "script" | "style" | "noscript" | "template" => {}
                        "img" => {
                            if let Some(alt) = e.attr("alt") {
                                self.push_text(alt);
                            }
                        }
                        "blockquote" => {
                            self.flush();
                            let mut inner = BodyParts::default();
                            inner.walk(c);
                            let text = split_paragraphs(&inner.buffer).join("\n");
                            let mut all: Vec<String> = inner.blocks.iter().map(|b| b.text().to_string()).collect();
                            if !text.is_empty() {
                                all.push(text);
                            }
                            let text = all.join("\n");
                            if !text.is_empty() {
                                self.blocks.push(Block::Quote { text, source: QuoteSource::Outside });
                            }
                        }
                        "li" => {
                            self.flush();
                            let mut inner = BodyParts::default();
                            inner.walk(c);
                            let text = split_paragraphs(&inner.buffer).join(" ");
                            if !text.is_empty() {
                                self.blocks.push(Block::ListItem { text });
                            }
                            self.mentions.extend(inner.mentions);
                            self.links.extend(inner.links);
                        }
                        _ if e.has_class("edit", scraper::CaseSensitivity::AsciiCaseInsensitive) => {
                            let t = clean(&c.text().collect::<String>());
                            self.edit = parse_edit_line(&t);
                        }
                        "p" | "div" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "pre" | "table" | "tr" => {
                            self.flush();
                            self.walk(c);
                            self.flush();
                        }
                        "a" => {
                            let t = clean(&c.text().collect::<String>());
                            let href = e.attr("href").unwrap_or("");
                            if self.buffer.ends_with('@') && href.contains("/gallery/") {
                                if !self.mentions.contains(&t) {
                                    self.mentions.push(t.clone());
                                }
                            } else if !t.is_empty() {
                                let truncated = t.contains("...") || t.contains('…');
                                self.links.push(Link {
                                    text: t.clone(),
                                    url: (!href.is_empty()).then(|| href.to_string()),
                                    truncated,
                                });
                            }
                            self.push_text(&t);
                        }
                        _ => self.walk(c),
                    }
                }
                _ => {}
            }
        }
    }
}

fn split_paragraphs(buffer: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in buffer.split('\n').map(str::trim) {
        if line.is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out
}
