//! Reader for the text a reader copies from a Tweakers page: the article with its footer, then the
//! reactions with their nesting lost. Segments the reactions ([`crate::segment`]) and rebuilds the
//! reply graph ([`crate::reply_graph::reconstruct`]).

use crate::error::{Error, Result};
use crate::ingest::comment_parts::{find_links, find_mentions, own_text};
use crate::model::{
    Article, Block, Certainty, Comment, FilterCounts, Format, Provenance, QuoteSource, SCHEMA, Source, Span, Thread,
    Warning,
};
use crate::quotes::Origin;
use crate::segment::{LineKind, Segment, classify, segment, segment_at};
use crate::textnorm::parse_numeric_datetime;
use regex::Regex;
use std::sync::LazyLock;

static REACTIONS_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^Reacties \((\d+)\)$").unwrap());
const CLOSED_LINE: &str = "Op dit item kan niet meer gereageerd worden.";

/// Does this text look like a copied Tweakers page?
pub fn looks_like(text: &str) -> bool {
    let lines = || text.lines().map(crate::textnorm::plain_spaces);
    lines().any(|l| REACTIONS_RE.is_match(l.trim())) || lines().any(|l| is_thread_sign(&l))
}

/// A line only a copied Tweakers thread has: an edit line, the article author's glued header, the
/// sort button or the closing notice. Lets draad read a copy of the reactions alone (no heading).
fn is_thread_sign(line: &str) -> bool {
    let t = line.trim();
    t == "Wijzig sortering"
        || t == CLOSED_LINE
        || crate::segment::parse_edit_line(t).is_some()
        || crate::segment::parse_author_header(t).is_some()
}

/// Where the reactions start in a copy without the 'Reacties (N)' heading (the reader copied the
/// reactions alone): after any filter counts and the sort button at the top. An error when nothing
/// in the text says it comes from a Tweakers thread.
fn start_without_heading(lines: &[&str], file: &str, warnings: &mut Vec<Warning>) -> Result<usize> {
    if !lines.iter().any(|l| is_thread_sign(l)) {
        return Err(Error::new(
            file,
            Some("line 1".into()),
            "no 'Reacties (N)' heading and no edit line, author header or sort button: this is not text copied from a Tweakers page (use --format to choose another reader)",
        ));
    }
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        if t.is_empty() || t == "Wijzig sortering" || (t.len() < 8 && t.chars().all(|c| c.is_ascii_digit())) {
            i += 1;
        } else {
            break;
        }
    }
    warnings.push(Warning::new(
        "no_article",
        "no 'Reacties (N)' heading: the text is read as reactions only, without the article, so quotes of the article are not recognised and the page's reaction count is unknown",
        Some(format!("line {}", i + 1)),
    ));
    Ok(i)
}

/// Read a copied Tweakers thread. `file` names the input in errors and in `source`.
pub fn read(text: &str, file: &str) -> Result<Thread> {
    read_with_starts(text, file, None)
}

/// [`read`], with the sentence encoder (if given) weighing the candidate parents of every reaction.
pub fn read_using(text: &str, file: &str, encoder: Option<&crate::encoder::Encoder>) -> Result<Thread> {
    read_with(text, file, None, &crate::reply_graph::ReplyWeights::default(), encoder)
}

/// Read a copied thread with the reactions starting at the given lines (1-based) instead of where
/// the segmenter puts them: to score the reply reconstruction apart from segmentation.
pub fn read_with_starts(text: &str, file: &str, starts: Option<&[usize]>) -> Result<Thread> {
    read_with(text, file, starts, &crate::reply_graph::ReplyWeights::default(), None)
}

/// [`read_with_starts`] with other weights for the reply reconstruction.
pub fn read_with(
    text: &str,
    file: &str,
    starts: Option<&[usize]>,
    weights: &crate::reply_graph::ReplyWeights,
    encoder: Option<&crate::encoder::Encoder>,
) -> Result<Thread> {
    read_given(text, file, starts, &[], weights, encoder)
}

/// [`read_with`] where some parents are given, per reaction in display order (see
/// [`crate::reply_graph::reconstruct_given`]); they must pass
/// [`crate::reply_graph::check_given_parents`].
pub fn read_given(
    text: &str,
    file: &str,
    starts: Option<&[usize]>,
    given: &[crate::reply_graph::GivenParent],
    weights: &crate::reply_graph::ReplyWeights,
    encoder: Option<&crate::encoder::Encoder>,
) -> Result<Thread> {
    // A browser copy may hold non-breaking spaces (from `&nbsp;`) and soft hyphens: read as plain
    // text, or the edit lines and headings would not be recognised.
    let text = crate::textnorm::plain_spaces(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut warnings = Vec::new();
    let heading = lines.iter().position(|l| REACTIONS_RE.is_match(l.trim()));
    let (mut article, reactions_from) = match heading {
        Some(h) => read_article(&lines, h, &mut warnings),
        None => (Article::default(), start_without_heading(&lines, file, &mut warnings)?),
    };
    // The reaction area ends at the closing notice. Text after it (a copy of the whole page takes
    // the site's footer along) is no reaction: it is left out, with a warning.
    let mut end = lines.len();
    if let Some(closed) = (reactions_from..lines.len()).rev().find(|&i| lines[i].trim() == CLOSED_LINE) {
        article.closed = true;
        let after: Vec<usize> = (closed + 1..lines.len()).filter(|&i| !lines[i].trim().is_empty()).collect();
        if let (Some(first), Some(last)) = (after.first(), after.last()) {
            warnings.push(Warning::new(
                "text_after_thread",
                format!(
                    "{} line(s) after the closing notice 'Op dit item kan niet meer gereageerd worden.' \
                     are not part of the thread (page footer?) and were left out",
                    after.len()
                ),
                Some(if first == last {
                    format!("line {}", first + 1)
                } else {
                    format!("lines {}-{}", first + 1, last + 1)
                }),
            ));
        }
        end = closed;
    }
    while end > reactions_from && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    // Copies of later pages pasted below the first repeat the article's header: leave each out, and
    // mark where it was, since a reaction ends there and another starts.
    let repeats = repeated_page_headers(&lines, reactions_from, end, article.title.as_deref());
    if let (Some(first), Some(last)) = (repeats.first(), repeats.last()) {
        warnings.push(Warning::new(
            "pages_joined",
            format!(
                "the copy holds {} page(s) of the thread: the article's header repeats {} time(s) below the reactions; \
                 each repeat is left out and a reaction starts after it",
                repeats.len() + 1,
                repeats.len()
            ),
            Some(if repeats.len() == 1 {
                format!("lines {}-{}", first.start + 1, first.end)
            } else {
                format!("lines {}-{} to {}-{}", first.start + 1, first.end, last.start + 1, last.end)
            }),
        ));
    }
    let left_out = |i: usize| repeats.iter().any(|r| r.contains(&i));
    let area: Vec<(usize, &str)> = (reactions_from..end).filter(|&i| !left_out(i)).map(|i| (i + 1, lines[i])).collect();
    if area.iter().all(|(_, l)| l.trim().is_empty()) {
        return Err(Error::at_line(
            file,
            heading.map_or(1, |h| h + 1),
            match heading {
                Some(_) => format!(
                    "the thread has no reactions after the 'Reacties' heading{}",
                    article.declared_reactions.map(|n| format!(" (the page declares {n})")).unwrap_or_default()
                ),
                None => "the text has no reactions".to_string(),
            },
        ));
    }
    let article_text = article_text(&article);
    let mut classified = classify(&area, &article_text);
    for r in repeats.iter().rev() {
        let at = classified.partition_point(|l| l.number <= r.start);
        classified
            .insert(at, crate::segment::Line { number: r.start + 1, text: String::new(), kind: LineKind::PageBreak });
    }
    if starts.is_none() && crate::segment::separates_by_blank_lines(&classified) {
        warnings.push(Warning::new(
            "blank_line_copy",
            "most lines of the reactions are separated by blank lines, so the copy is read as one that puts a \
             blank line between reactions: a single line break is taken to stay inside a reaction, and a blank \
             line is where a new one may start"
                .to_string(),
            None,
        ));
    }
    let mut segments = match starts {
        None => segment(&classified),
        Some(starts) => segment_at(&classified, starts),
    };
    crate::segment::drop_page_breaks(&mut segments);
    let bare_buttons = crate::segment::take_empty(&mut segments);
    if let (Some(first), Some(last)) = (bare_buttons.first(), bare_buttons.last()) {
        warnings.push(Warning::new(
            "collapsed_reactions",
            format!(
                "{} reply button(s) with no text above them: collapsed reactions (score -1), whose text a copy does not hold",
                bare_buttons.len()
            ),
            Some(if first == last { format!("line {first}") } else { format!("lines {first}-{last}") }),
        ));
    }
    let (mut comments, reply_to) = build_comments(&segments, &article, &mut warnings);
    // The meaning evidence weighs nothing by default: the reactions are embedded only when it counts.
    let vectors = encoder.filter(|_| weights.semantic != 0.0).and_then(|e| {
        let texts = crate::encoder::texts_of(&comments);
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        match e.embed_cached(&refs, crate::encoder::Prefix::Query) {
            Ok(v) => Some(crate::semantic::SentenceVectors::new(v)),
            Err(why) => {
                warnings.push(Warning::new(
                    "encoder_failed",
                    format!("the sentence encoder failed; parents are chosen without it: {why}"),
                    None,
                ));
                None
            }
        }
    });
    crate::reply_graph::reconstruct_given(&mut comments, &reply_to, &article_text, weights, vectors.as_ref(), given);
    count_warning(&article, comments.len(), &mut warnings);
    Ok(Thread {
        schema: SCHEMA.into(),
        source: Source { path: file.into(), format: Format::Text, pages: Vec::new() },
        article,
        comments,
        warnings,
    })
}

/// The article text that quotes may come from: title and body.
pub fn article_text(article: &Article) -> String {
    let mut t = article.title.clone().unwrap_or_default();
    for p in &article.body {
        t.push('\n');
        t.push_str(p);
    }
    t
}

/// Warn when the reactions found differ from what the page declares. Collapsed reactions (score -1)
/// are counted by the page but absent from a copy, so the copy should hold `declared - collapsed`.
pub fn count_warning(article: &Article, found: usize, warnings: &mut Vec<Warning>) {
    let Some(declared) = article.declared_reactions else {
        return;
    };
    let declared = declared as usize;
    let collapsed = article.filter_counts.map_or(0, |f| f.collapsed()) as usize;
    let visible = declared.saturating_sub(collapsed);
    let message = if found == visible && collapsed == 0 {
        return;
    } else if found == visible {
        format!(
            "the page declares {declared} reactions and {found} were found: the {collapsed} collapsed reaction(s) (score -1) are absent from copied text; replies to them are attached to the nearest visible reaction"
        )
    } else {
        format!(
            "the page declares {declared} reactions, {collapsed} of them collapsed (score -1, absent from copied text), so {visible} should be visible, but {found} were found: {}",
            if found < visible {
                "some reactions may be merged with the one before them, or missing from the copy"
            } else {
                "some reactions may have been split in two"
            }
        )
    };
    warnings.push(Warning::new("reaction_count", message, None));
}

/// Lines of a menu above the title, as a copy of the whole page takes them along: when the first
/// block of lines (up to the first blank line) holds three or more lines and all but its last are
/// short (a menu item: at most 40 characters and five words), those are the menu and the last is
/// the title. Returns their indices (none when the text starts with the title).
fn site_chrome(lines: &[&str]) -> Vec<usize> {
    let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return Vec::new();
    };
    let block: Vec<usize> = (first..lines.len()).take_while(|&j| !lines[j].trim().is_empty()).collect();
    let menu_item = |l: &str| l.trim().chars().count() <= 40 && l.split_whitespace().count() <= 5;
    if block.len() >= 3 && block[..block.len() - 1].iter().all(|&j| menu_item(lines[j])) {
        block[..block.len() - 1].to_vec()
    } else {
        Vec::new()
    }
}

fn read_article(lines: &[&str], heading: usize, warnings: &mut Vec<Warning>) -> (Article, usize) {
    let mut article = Article::default();
    let cap = REACTIONS_RE.captures(lines[heading].trim()).expect("heading matched");
    article.declared_reactions = cap[1].parse().ok();
    // Filter counts and "Wijzig sortering" after the heading.
    let mut i = heading + 1;
    let mut counts = Vec::new();
    while i < lines.len() && counts.len() < 6 {
        let t = lines[i].trim();
        if t.is_empty() {
            i += 1;
            continue;
        }
        match t.parse::<u32>() {
            Ok(n) => {
                counts.push(n);
                i += 1;
            }
            Err(_) => break,
        }
    }
    article.filter_counts = FilterCounts::from_slice(&counts);
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    if i < lines.len() && lines[i].trim() == "Wijzig sortering" {
        i += 1;
    }
    // Footer above the heading: "Door NAME", function, date, count, "Submitter: NAME".
    let door = (0..heading).rev().find(|&j| lines[j].trim().starts_with("Door "));
    let body_end = door.unwrap_or(heading);
    let chrome = site_chrome(&lines[..body_end]);
    if let Some(last) = chrome.last() {
        warnings.push(Warning::new(
            "page_chrome",
            format!(
                "{} short line(s) above the title look like the site's menu (a copy of the whole page) and are not part of the article: {}",
                chrome.len(),
                chrome.iter().map(|&j| lines[j].trim()).collect::<Vec<_>>().join(" | ")
            ),
            Some(format!("lines {}-{}", chrome[0] + 1, last + 1)),
        ));
    }
    let from = chrome.last().map_or(0, |l| l + 1);
    let mut paragraphs = lines[from..body_end].iter().map(|l| l.trim()).filter(|l| !l.is_empty());
    article.title = paragraphs.next().map(str::to_string);
    article.body = paragraphs.map(str::to_string).collect();
    if let Some(d) = door {
        article.author = Some(lines[d].trim()["Door ".len()..].trim().to_string());
        for l in lines[d + 1..heading].iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
            if let Some(s) = l.strip_prefix("Submitter:") {
                article.submitter = Some(s.trim().to_string());
            } else if let Some(t) = parse_numeric_datetime(l).filter(|_| l.contains(':')) {
                article.date = Some(l.to_string());
                article.date_iso = Some(t.iso());
            } else if l.chars().all(|c| c.is_ascii_digit()) {
                // The bare reaction count repeats the heading.
            } else if article.author_function.is_none() {
                article.author_function = Some(l.to_string());
            }
        }
    }
    if article.title.is_none() {
        warnings.push(Warning::new(
            "no_article",
            "the 'Reacties' heading has no article above it: quotes of the article are not recognised",
            Some(format!("line {}", heading + 1)),
        ));
    }
    article.span = Some(Span { first_line: 1, last_line: i });
    (article, i)
}

/// How far above a `Reacties (N)` heading the article's byline may start.
const BYLINE_LINES: usize = 12;

/// The article's header repeated inside the reaction area (0-based line ranges, end exclusive), as
/// when the copies of several pages of a thread are pasted one below the other: from the closing
/// notice or the title above a repeated `Reacties (N)` heading (or the `Door NAME` byline just above
/// it, or the heading itself) down to its filter counts and `Wijzig sortering`.
fn repeated_page_headers(lines: &[&str], from: usize, end: usize, title: Option<&str>) -> Vec<std::ops::Range<usize>> {
    let mut repeats: Vec<std::ops::Range<usize>> = Vec::new();
    let mut floor = from;
    let mut i = from;
    while i < end {
        if !REACTIONS_RE.is_match(lines[i].trim()) {
            i += 1;
            continue;
        }
        // Only a heading with its filter counts or sort button below it is a page's header; a
        // reaction that merely says "Reacties (3)" is not.
        let (_, after) = read_article(lines, i, &mut Vec::new());
        let after = after.min(end).max(i + 1);
        let below = &lines[i + 1..after];
        if !below.iter().any(|l| l.trim().parse::<u32>().is_ok() || l.trim() == "Wijzig sortering") {
            i += 1;
            continue;
        }
        let find_up = |pred: &dyn Fn(&str) -> bool| (floor..i).rev().find(|&j| pred(lines[j].trim()));
        // The byline ("Door NAME", function, date, count, submitter) sits just above the heading.
        let byline = (i.saturating_sub(BYLINE_LINES).max(floor)..i).find(|&j| lines[j].trim().starts_with("Door "));
        // `ends_with`: a copy without a final line break, pasted above the next, glues its last line
        // (the closing notice) to the title.
        let top = title.and_then(|t| find_up(&|l: &str| l.ends_with(t.trim()))).or(byline).unwrap_or(i);
        // The closing notice of the page above, and what a copy of the whole page takes along between
        // it and the next title (footer, menu), go too.
        let top = (floor..=top).rev().find(|&j| lines[j].trim().starts_with(CLOSED_LINE)).unwrap_or(top);
        repeats.push(top..after);
        floor = after;
        i = after;
    }
    repeats
}

/// Turn segments into comments. Returns the comments and, per comment, what its header (if it has
/// one) says it answers.
fn build_comments(
    segments: &[Segment],
    article: &Article,
    warnings: &mut Vec<Warning>,
) -> (Vec<Comment>, Vec<crate::reply_graph::HeaderReply>) {
    // Which segment holds each line, for quote sources.
    let mut segment_of_line = std::collections::HashMap::new();
    for (i, s) in segments.iter().enumerate() {
        for l in &s.lines {
            segment_of_line.insert(l.number, i);
        }
    }
    let id_of = |i: usize| format!("c{}", i + 1);
    // Names known in the thread: authors from edit lines and headers, and the article's author.
    let mut known: Vec<String> = segments
        .iter()
        .filter_map(|s| s.header().map(|h| h.name.clone()).or_else(|| s.edit().map(|e| e.name.clone())))
        .collect();
    known.extend(article.submitter.clone());
    known.sort();
    known.dedup();
    let mut comments = Vec::with_capacity(segments.len());
    let mut reply_to = Vec::with_capacity(segments.len());
    for (i, seg) in segments.iter().enumerate() {
        let header = seg.header();
        let edit = seg.edit().cloned();
        let mut blocks: Vec<Block> = Vec::new();
        let mut paragraph: Vec<&str> = Vec::new();
        let flush = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| {
            if !paragraph.is_empty() {
                blocks.push(Block::Paragraph { text: paragraph.join("\n") });
                paragraph.clear();
            }
        };
        for line in &seg.lines {
            match &line.kind {
                LineKind::Blank
                | LineKind::Edit(_)
                | LineKind::Header(_)
                | LineKind::HeaderTime
                | LineKind::ReplyButton
                | LineKind::PageBreak => flush(&mut paragraph, &mut blocks),
                LineKind::Quote(_) | LineKind::OutsideQuote => {
                    let source = match &line.kind {
                        LineKind::OutsideQuote => Some(QuoteSource::Outside),
                        LineKind::Quote(m) => match m.origin {
                            Origin::Article => Some(QuoteSource::Article),
                            Origin::Piece(l) => match segment_of_line.get(&l) {
                                Some(&s) if s != i => Some(QuoteSource::Comment { id: id_of(s) }),
                                _ => None,
                            },
                        },
                        _ => None,
                    };
                    match source {
                        Some(source) => {
                            flush(&mut paragraph, &mut blocks);
                            match blocks.last_mut() {
                                Some(Block::Quote { text, source: s }) if *s == source && paragraph.is_empty() => {
                                    text.push('\n');
                                    text.push_str(line.text.trim());
                                }
                                _ => blocks.push(Block::Quote { text: line.text.trim().to_string(), source }),
                            }
                        }
                        // A line repeating text of its own reaction is just text.
                        None => paragraph.push(line.text.trim()),
                    }
                }
                LineKind::ListItem => {
                    flush(&mut paragraph, &mut blocks);
                    blocks.push(Block::ListItem { text: line.text.trim().to_string() });
                }
                LineKind::Text => paragraph.push(line.text.trim()),
            }
        }
        flush(&mut paragraph, &mut blocks);
        let text = own_text(&blocks);
        let author = header.map(|h| h.name.clone()).or_else(|| edit.as_ref().map(|e| e.name.clone()));
        if let (Some(h), Some(e)) = (header, &edit)
            && h.name != e.name
        {
            warnings.push(Warning::new(
                "edit_name",
                format!("the header names {} but the edit line {}", h.name, e.name),
                Some(format!("line {}", seg.last_line())),
            ));
        }
        let time = header.map(|h| h.time.clone());
        let time_iso = time.as_deref().and_then(crate::textnorm::parse_reaction_time).map(|t| t.iso());
        if let (Some(t), None) = (&time, &time_iso) {
            warnings.push(Warning::new(
                "unreadable_time",
                format!("the time '{t}' counts from the day the page was shown, which a copy does not record; time_iso is left empty"),
                Some(format!("line {}", seg.first_line())),
            ));
        }
        comments.push(Comment {
            id: id_of(i),
            index: i + 1,
            parent: None,
            parent_confidence: 0.0,
            parent_evidence: Vec::new(),
            parent_candidates: Vec::new(),
            author,
            author_id: None,
            time_iso,
            time,
            score: None,
            collapsed: false,
            by_article_author: header.is_some_and(|h| h.by_article_author),
            mentions: find_mentions(&text, &known),
            links: find_links(&text),
            text,
            blocks,
            edit,
            span: Some(Span { first_line: seg.first_line(), last_line: seg.last_line() }),
            provenance: Provenance {
                start: seg.start,
                end: seg.end,
                boundary_confidence: crate::model::round3(seg.boundary_confidence),
            },
            stance: None,
            relation_to_parent: None,
            clusters: None,
        });
        reply_to.push(match header {
            None => crate::reply_graph::HeaderReply::None,
            Some(h) => {
                h.reply_to.clone().map_or(crate::reply_graph::HeaderReply::Article, crate::reply_graph::HeaderReply::To)
            }
        });
        if seg.start == Certainty::Inferred && seg.boundary_confidence < 0.6 {
            warnings.push(Warning::new(
                "uncertain_boundary",
                format!("reaction c{} may continue the one before it ({})", i + 1, seg.start_cues.join("; ")),
                Some(format!("line {}", seg.first_line())),
            ));
        }
    }
    (comments, reply_to)
}
