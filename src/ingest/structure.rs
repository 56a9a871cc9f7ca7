//! A reply structure given as a table (the `replies.tsv` format of the annotated threads): read
//! one, apply it to copied text instead of rebuilding the structure, and write one from a thread so
//! that a user can correct draad's reconstruction by hand and analyse the thread with it.
//!
//! Columns: `comment first_line last_line parent boundary parent_confidence author note`; `comment`
//! is the display number (1-based), `first_line`/`last_line` the 1-based lines of the copied text,
//! `parent` a comment number or 0 for the article. `#` lines are comments; a header line is skipped.
//! In a structure table applied to copied text (not in a reference annotation), the parent may be
//! `?`: draad then rebuilds that parent within what the given ones allow.

use crate::error::{Error, Result};
use crate::model::{Evidence, Format, Thread, Warning};
use crate::reply_graph::{GivenParent, check_given_parents};
use std::collections::HashMap;

/// The kind of the warning a thread read with a structure table carries (reports check it).
pub const STRUCTURE_GIVEN: &str = "structure_given";

/// The kind of the warning a thread read with a structure table that leaves some parents open
/// (`?`) carries: the reactions are given, and so are some parents; the others are rebuilt.
pub const STRUCTURE_PARTLY_GIVEN: &str = "structure_partly_given";

/// One reaction of the reference, located by lines; the parent by its first line (`None` = article).
#[derive(Debug, Clone, PartialEq)]
pub struct GoldComment {
    /// The comment number the table gives (the display number).
    pub comment: usize,
    pub first_line: usize,
    pub last_line: usize,
    pub parent_first_line: Option<usize>,
    /// The table leaves the parent open (`?`) for draad to rebuild; `parent_first_line` is then
    /// `None` and means nothing.
    pub parent_open: bool,
    /// The annotator's confidence in the parent: high / medium / low.
    pub parent_confidence: Option<String>,
}

/// Read `replies.tsv`: `comment first_line last_line parent boundary parent_confidence author note`,
/// `#` lines are comments, the first other line is the header. Every parent must be given.
pub fn read_annotation(path: &str) -> Result<Vec<GoldComment>> {
    read_table(path, false)
}

/// Read a structure table as [`read_annotation`] does, where a parent may also be `?` (open).
pub fn read_structure_table(path: &str) -> Result<Vec<GoldComment>> {
    read_table(path, true)
}

fn read_table(path: &str, allow_open: bool) -> Result<Vec<GoldComment>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::new(path, None, format!("cannot read: {e}")))?;
    // The parent column: `None` when open.
    let mut rows: Vec<(usize, usize, usize, Option<usize>, Option<String>)> = Vec::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !header_seen {
            header_seen = true;
            if line.starts_with("comment") {
                continue;
            }
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 4 {
            return Err(Error::at_line(
                path,
                n,
                "expected at least 4 tab-separated columns: comment, first_line, last_line, parent",
            ));
        }
        let num = |k: usize, what: &str| -> Result<usize> {
            f[k].trim().parse().map_err(|_| Error::at_line(path, n, format!("{what} is not a number: '{}'", f[k])))
        };
        rows.push((
            num(0, "comment")?,
            num(1, "first_line")?,
            num(2, "last_line")?,
            match f[3].trim() {
                "?" if allow_open => None,
                cell => Some(cell.parse().map_err(|_| {
                    Error::at_line(
                        path,
                        n,
                        format!(
                            "parent is not a comment number (0 for the article{}): '{cell}'",
                            if allow_open { ", ? to let draad choose" } else { "" }
                        ),
                    )
                })?),
            },
            f.get(5).map(|s| s.trim().to_string()),
        ));
    }
    let mut first_of: HashMap<usize, usize> = HashMap::with_capacity(rows.len());
    for r in &rows {
        if first_of.insert(r.0, r.1).is_some() {
            return Err(Error::new(path, Some(format!("comment {}", r.0)), "the comment number appears twice"));
        }
    }
    rows.iter()
        .map(|&(c, first, last, parent, ref conf)| {
            let parent_first_line = match parent {
                None | Some(0) => None,
                Some(parent) => Some(*first_of.get(&parent).ok_or_else(|| {
                    Error::new(
                        path,
                        Some(format!("comment {c}")),
                        format!("parent {parent} is not an annotated comment"),
                    )
                })?),
            };
            Ok(GoldComment {
                comment: c,
                first_line: first,
                last_line: last,
                parent_first_line,
                parent_open: parent.is_none(),
                parent_confidence: conf.clone(),
            })
        })
        .collect()
}

/// Give a thread read with the annotated boundaries the annotated parents (confidence 1, evidence
/// `annotation`). `thread` must hold the reactions `gold` lists, in the same order.
pub fn apply_annotation(thread: &mut Thread, gold: &[GoldComment], annotation_path: &str) {
    let id_of_line: HashMap<usize, String> =
        thread.comments.iter().filter_map(|c| c.span.map(|s| (s.first_line, c.id.clone()))).collect();
    for (c, g) in thread.comments.iter_mut().zip(gold) {
        c.parent = g.parent_first_line.and_then(|l| id_of_line.get(&l).cloned());
        c.parent_confidence = 1.0;
        c.parent_candidates = Vec::new();
        c.parent_evidence = vec![crate::model::Evidence::new("annotation", format!("parent from {annotation_path}"))];
    }
}

/// Read copied text with the reactions and parents a structure table gives (see the module doc),
/// instead of rebuilding them. Errors name the table and the row when a start is not the first line
/// of a reaction, rows are out of order, or a parent breaks the display order.
pub fn read_text_with_structure(path: &str, options: &super::ReadOptions, structure: &str) -> Result<Thread> {
    let bytes = super::read_bytes(path, options.max_bytes)?;
    let text = super::check_text(&bytes, path)?;
    let format = options.format.or_else(|| super::detect_format(text));
    if format != Some(Format::Text) {
        return Err(Error::new(
            structure,
            None,
            format!(
                "a structure table applies to copied text only, and {path} is {}",
                format.map_or("of unknown format".to_string(), |f| format!("{f:?}").to_lowercase())
            ),
        ));
    }
    let rows = read_structure_table(structure)?;
    if rows.is_empty() {
        return Err(Error::new(structure, None, "the structure table has no rows"));
    }
    for pair in rows.windows(2) {
        if pair[1].first_line <= pair[0].last_line.max(pair[0].first_line) {
            return Err(Error::new(
                structure,
                Some(format!("comment {}", pair[1].comment)),
                format!(
                    "starts at line {}, not after comment {} (lines {}-{}): rows must follow the text",
                    pair[1].first_line, pair[0].comment, pair[0].first_line, pair[0].last_line
                ),
            ));
        }
    }
    let starts: Vec<usize> = rows.iter().map(|g| g.first_line).collect();
    let pos: HashMap<usize, usize> = rows.iter().enumerate().map(|(i, g)| (g.first_line, i)).collect();
    let open = rows.iter().filter(|g| g.parent_open).count();
    let given: Vec<GivenParent> = if open == 0 {
        Vec::new()
    } else {
        rows.iter()
            .map(|g| match (g.parent_open, g.parent_first_line) {
                (true, _) => GivenParent::Open,
                (false, None) => GivenParent::Article,
                (false, Some(l)) => GivenParent::Comment(pos[&l]),
            })
            .collect()
    };
    if let Err((k, why)) = check_given_parents(&given) {
        return Err(Error::new(structure, Some(format!("comment {}", rows[k].comment)), why));
    }
    let mut thread = super::copied_text::read_given(
        text,
        path,
        Some(&starts),
        &given,
        &crate::reply_graph::ReplyWeights::default(),
        None,
    )?;
    let found: std::collections::HashSet<usize> =
        thread.comments.iter().filter_map(|c| c.span.map(|s| s.first_line)).collect();
    if let Some(row) = rows.iter().find(|r| !found.contains(&r.first_line)) {
        return Err(Error::new(
            structure,
            Some(format!("comment {}", row.comment)),
            format!(
                "line {} of {path} does not start a reaction: it is blank or outside the reactions",
                row.first_line
            ),
        ));
    }
    if found.len() != rows.len() {
        let extra = found.iter().filter(|l| !starts.contains(l)).min().copied().unwrap_or(0);
        return Err(Error::new(
            structure,
            None,
            format!(
                "the table does not cover the reactions of {path}: the text before its first row (line {extra}) holds a reaction of its own"
            ),
        ));
    }
    if open > 0 {
        // The given parents were kept by the reconstruction; name their source.
        for (c, g) in thread.comments.iter_mut().zip(&rows) {
            if !g.parent_open {
                c.parent_confidence = 1.0;
                c.parent_candidates = Vec::new();
                c.parent_evidence = vec![Evidence::new("annotation", format!("parent from {structure}"))];
            }
        }
        warn_last_lines(&mut thread, &rows, structure);
        thread.warnings.push(Warning::new(
            STRUCTURE_PARTLY_GIVEN,
            format!(
                "reactions are taken from {structure}, and {} of {} parents; the {open} left open (?) are rebuilt from the text within what the given ones allow",
                rows.len() - open,
                rows.len()
            ),
            None,
        ));
        return Ok(thread);
    }
    // Parents: the reaction just before, one of its ancestors, or the article.
    let parents: Vec<GivenParent> = rows
        .iter()
        .map(|g| g.parent_first_line.map_or(GivenParent::Article, |l| GivenParent::Comment(pos[&l])))
        .collect();
    if let Some(&k) = crate::reply_graph::display_order_breaks(&parents).first() {
        let target = match parents[k] {
            GivenParent::Comment(p) => rows[p].comment,
            _ => 0,
        };
        return Err(Error::new(
            structure,
            Some(format!("comment {}", rows[k].comment)),
            format!(
                "its parent, comment {target}, is not the reaction before it or one of that reaction's ancestors (the thread is shown depth first)"
            ),
        ));
    }
    apply_annotation(&mut thread, &rows, structure);
    warn_last_lines(&mut thread, &rows, structure);
    thread.warnings.push(Warning::new(
        STRUCTURE_GIVEN,
        format!("reactions and parents are taken from {structure}, not rebuilt from the text"),
        None,
    ));
    Ok(thread)
}

/// Warn where the table's last line of a reaction is not the text's.
fn warn_last_lines(thread: &mut Thread, rows: &[GoldComment], structure: &str) {
    for (c, g) in thread.comments.iter().zip(rows) {
        if c.span.is_some_and(|s| s.last_line != g.last_line) {
            thread.warnings.push(Warning::new(
                "structure_last_line",
                format!(
                    "{structure} says the reaction ends at line {}, the text at line {}",
                    g.last_line,
                    c.span.map_or(0, |s| s.last_line)
                ),
                Some(format!("line {}", g.first_line)),
            ));
        }
    }
}

/// Write a thread read from copied text as a structure table (the module doc's columns), with
/// draad's confidence as high (0.8 or more), medium (0.5 or more) or low, and the deciding evidence
/// as the note. Edit the `parent` column (or add and remove rows) and read the text again with it.
pub fn structure_table(thread: &Thread) -> Result<String> {
    let number: HashMap<&str, usize> =
        thread.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i + 1)).collect();
    let level = |x: f64| {
        if x >= 0.8 {
            "high"
        } else if x >= 0.5 {
            "medium"
        } else {
            "low"
        }
    };
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let mut out = String::from(
        "# Reply structure rebuilt by draad; edit the parent column (a comment number, 0 = the article) and read the text again with --structure.\n",
    );
    out.push_str("comment\tfirst_line\tlast_line\tparent\tboundary\tparent_confidence\tauthor\tnote\n");
    for (i, c) in thread.comments.iter().enumerate() {
        let Some(span) = c.span else {
            return Err(Error::new(
                &thread.source.path,
                Some(format!("comment {}", c.id)),
                "a structure table locates reactions by line, and only copied text has lines (use --to json)",
            ));
        };
        let parent = c.parent.as_deref().and_then(|p| number.get(p)).copied().unwrap_or(0);
        let note: Vec<String> = c
            .parent_evidence
            .iter()
            .filter(|e| e.kind != "display_order")
            .map(|e: &Evidence| clean(&e.detail))
            .collect();
        let boundary = c.provenance.boundary_confidence;
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            i + 1,
            span.first_line,
            span.last_line,
            parent,
            level(boundary),
            level(c.parent_confidence),
            c.author.as_deref().map_or("-".to_string(), clean),
            if note.is_empty() { "display order".to_string() } else { note.join("; ") }
        ));
    }
    Ok(out)
}
