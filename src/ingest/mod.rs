//! Ingest: from the bytes a user has to a [`Thread`]. Checks the input (empty, binary, invalid
//! UTF-8, too large), detects or takes the format, and hands over to one reader per format.

pub mod comment_parts;
pub mod copied_text;
pub mod html;
pub mod json;
pub mod mhtml;
pub mod pages;
pub mod structure;
pub mod table;
pub mod webarchive;

use crate::error::{Error, Result};
use crate::model::{Format, Thread};
use std::io::Read;

/// Column names of a generic JSONL/CSV table of comments.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    pub id: String,
    pub parent: String,
    pub author: String,
    pub time: String,
    pub text: String,
}

impl Default for ColumnMap {
    fn default() -> Self {
        ColumnMap {
            id: "id".into(),
            parent: "parent".into(),
            author: "author".into(),
            time: "time".into(),
            text: "text".into(),
        }
    }
}

/// How to read an input.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The format, or `None` to detect it from the content.
    pub format: Option<Format>,
    pub columns: ColumnMap,
    /// Largest input accepted, in bytes.
    pub max_bytes: u64,
    /// Longest line accepted in line-based formats (copied text, JSONL and CSV tables), in bytes.
    pub max_line_bytes: usize,
    /// Deepest element nesting accepted in HTML.
    pub max_nesting: usize,
    /// The sentence encoder, if the copied-text reader may use it to weigh candidate parents.
    pub encoder: Option<std::sync::Arc<crate::encoder::Encoder>>,
}

/// Default of [`ReadOptions::max_bytes`].
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Default of [`ReadOptions::max_line_bytes`]: a Tweakers paragraph is a few kilobytes at most.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Default of [`ReadOptions::max_nesting`]: a Tweakers page nests some 60 levels at its deepest.
pub const MAX_NESTING: usize = 512;
/// The highest nesting limit a user can set: the HTML reader walks a reaction's body recursively.
pub const MAX_NESTING_CEILING: usize = 10_000;

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            columns: ColumnMap::default(),
            max_bytes: MAX_BYTES,
            max_line_bytes: MAX_LINE_BYTES,
            max_nesting: MAX_NESTING,
            encoder: None,
        }
    }
}

/// Refuse a line longer than the limit, naming it.
fn check_line_lengths(text: &str, file: &str, limit: usize) -> Result<()> {
    let mut start = 0;
    for (n, line) in text.split('\n').enumerate() {
        if line.len() > limit {
            return Err(Error::new(
                file,
                Some(format!("line {} (byte {start})", n + 1)),
                format!(
                    "the line is {} bytes long, more than the limit of {limit} bytes for one line (raise it with --max-line-bytes)",
                    line.len()
                ),
            ));
        }
        start += line.len() + 1;
    }
    Ok(())
}

/// Read a file (or standard input for `-`) into a thread.
pub fn read_path(path: &str, options: &ReadOptions) -> Result<Thread> {
    let bytes = read_bytes(path, options.max_bytes)?;
    read_bytes_as_thread(&bytes, path, options)
}

/// Read the raw bytes of a file or of standard input, refusing inputs over `max_bytes`.
pub fn read_bytes(path: &str, max_bytes: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let too_large = || {
        Error::new(
            path,
            None,
            format!("input is larger than the limit of {max_bytes} bytes (raise it with --max-bytes)"),
        )
    };
    if path == "-" {
        std::io::stdin()
            .lock()
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Error::new(path, None, format!("cannot read standard input: {e}")))?;
    } else {
        let file = std::fs::File::open(path).map_err(|e| Error::new(path, None, format!("cannot open: {e}")))?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(Error::new(path, None, "is a directory, not a thread file"));
        }
        file.take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Error::new(path, None, format!("cannot read: {e}")))?;
    }
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    Ok(match from_utf16(&bytes, path)? {
        Some(utf8) => utf8,
        None => bytes,
    })
}

/// Text saved as UTF-16 with a byte-order mark (Windows Notepad's "Unicode"), as UTF-8 bytes;
/// `None` when the bytes do not start with a UTF-16 byte-order mark.
pub fn from_utf16(bytes: &[u8], file: &str) -> Result<Option<Vec<u8>>> {
    let little = match bytes {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return Ok(None),
    };
    let body = &bytes[2..];
    let units: Vec<u16> = body
        .chunks(2)
        .map(|c| match c {
            [a, b] if little => u16::from_le_bytes([*a, *b]),
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => *a as u16,
            _ => 0,
        })
        .collect();
    if body.len() % 2 == 1 {
        return Err(Error::new(
            file,
            Some(format!("byte {}", bytes.len() - 1)),
            "UTF-16 text (it starts with a UTF-16 byte-order mark) that ends in half a character",
        ));
    }
    let mut out = String::with_capacity(units.len());
    for (i, c) in char::decode_utf16(units.iter().copied()).enumerate() {
        match c {
            Ok(c) => out.push(c),
            Err(_) => {
                let (line, col) =
                    (out.matches('\n').count() + 1, out.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1);
                return Err(Error::new(
                    file,
                    Some(format!("line {line}, column {col} (UTF-16 unit {})", i + 1)),
                    "invalid UTF-16 (a lone surrogate): save the file as UTF-8",
                ));
            }
        }
    }
    Ok(Some(out.into_bytes()))
}

/// Whether NUL bytes fall on every other byte, as in UTF-16 text saved without a byte-order mark.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(400)];
    if head.len() < 8 {
        return false;
    }
    let (even, odd) = head.iter().enumerate().fold((0, 0), |(e, o), (i, &b)| match (b, i % 2) {
        (0, 0) => (e + 1, o),
        (0, _) => (e, o + 1),
        _ => (e, o),
    });
    let half = head.len() / 2;
    (even * 10 >= half * 8 && odd == 0) || (odd * 10 >= half * 8 && even == 0)
}

/// Check that bytes are non-empty UTF-8 text, naming the place of the first problem.
pub fn check_text<'a>(bytes: &'a [u8], file: &str) -> Result<&'a str> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::new(
            file,
            None,
            if bytes.is_empty() { "the file is empty" } else { "the file holds only white space" },
        ));
    }
    // `contains` finds a byte with memchr, far faster than `position` on long texts.
    if bytes.contains(&0)
        && let Some(pos) = bytes.iter().position(|&b| b == 0)
    {
        if looks_like_utf16(bytes) {
            return Err(Error::new(
                file,
                Some(format!("byte {pos}")),
                "UTF-16 text without a byte-order mark (a NUL byte in every other place): save the file as UTF-8",
            ));
        }
        let (line, col) = line_col(bytes, pos);
        return Err(Error::new(
            file,
            Some(format!("line {line}, column {col} (byte {pos})")),
            "binary data (a NUL byte): this is not a text, HTML or JSON thread",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let pos = e.valid_up_to();
        let (line, col) = line_col(bytes, pos);
        Error::new(
            file,
            Some(format!("line {line}, column {col} (byte {pos})")),
            "invalid UTF-8: save the file as UTF-8",
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(bytes: &[u8], pos: usize) -> (usize, usize) {
    let before = &bytes[..pos.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

/// Guess the format from the content.
pub fn detect_format(text: &str) -> Option<Format> {
    let t = text.trim_start();
    if mhtml::looks_like(t) {
        return Some(Format::Html);
    }
    if t.starts_with('{') || t.starts_with('[') {
        let first_line = t.lines().next().unwrap_or("");
        let one_object_per_line = t.lines().filter(|l| !l.trim().is_empty()).count() > 1
            && serde_json::from_str::<serde_json::Value>(first_line).is_ok_and(|v| v.is_object());
        if one_object_per_line {
            return Some(Format::Jsonl);
        }
        return Some(Format::Json);
    }
    let head: String = t.chars().take(4096).collect::<String>().to_lowercase();
    if head.starts_with("<!doctype")
        || head.starts_with("<html")
        || head.contains("<twk-reaction")
        || head.contains("<body")
    {
        return Some(Format::Html);
    }
    if copied_text::looks_like(text) {
        return Some(Format::Text);
    }
    if t.contains("<twk-reaction") || t.contains("reactieContainer") {
        return Some(Format::Html);
    }
    let first = t.lines().next().unwrap_or("");
    if first.contains(',') && first.split(',').count() >= 2 && first.len() < 500 {
        return Some(Format::Csv);
    }
    None
}

/// The page in a Safari web archive, read as a saved HTML page, with a `web_archive` warning.
pub fn read_webarchive_page(bytes: &[u8], file: &str, max_nesting: usize) -> Result<html::Page> {
    let archived = webarchive::unwrap(bytes, file)?;
    let inside = "the page in the Safari web archive";
    let mut page = html::read_page(&archived.html, file, max_nesting).map_err(|e| e.inside(inside))?;
    let from = archived.url.map(|u| format!(", saved from {u}")).unwrap_or_default();
    page.thread.warnings.insert(0, crate::model::Warning::new("web_archive", format!("read {inside}{from}"), None));
    Ok(page)
}

/// Read bytes in the given or detected format.
pub fn read_bytes_as_thread(bytes: &[u8], file: &str, options: &ReadOptions) -> Result<Thread> {
    if webarchive::looks_like(bytes) && matches!(options.format, None | Some(Format::Html)) {
        return read_webarchive_page(bytes, file, options.max_nesting).map(|p| p.thread);
    }
    let utf8 = from_utf16(bytes, file)?;
    let text = check_text(utf8.as_deref().unwrap_or(bytes), file)?;
    let format = match options.format {
        Some(f) => f,
        None => detect_format(text).ok_or_else(|| {
            Error::new(
                file,
                Some("line 1".into()),
                "cannot tell the format: not a copied Tweakers page (no 'Reacties (N)' heading, edit line or sort button), not HTML, JSON, JSONL or CSV; choose one with --format",
            )
        })?,
    };
    if matches!(format, Format::Text | Format::Jsonl | Format::Csv) {
        check_line_lengths(text, file, options.max_line_bytes)?;
    }
    match format {
        Format::Text => copied_text::read_using(text, file, options.encoder.as_deref()),
        Format::Html => html::read(text, file, options.max_nesting),
        Format::Json => json::read(text, file),
        Format::Jsonl => table::read_jsonl(text, file, &options.columns),
        Format::Csv => table::read_csv(text, file, &options.columns),
    }
}

/// Common work for inputs that state their structure (HTML, JSON, JSONL, CSV): check it, put the
/// comments in depth-first display order (children keep their input order), number them, and find
/// the sources of their quotes among the article and earlier comments.
pub fn finish_structured(thread: &mut Thread, file: &str) -> Result<()> {
    crate::reply_graph::check_structure(thread, file)?;
    if !crate::reply_graph::is_depth_first(thread) {
        crate::reply_graph::reorder_depth_first(thread);
        thread.warnings.push(crate::model::Warning::new(
            "reordered",
            "the comments were not in depth-first order (each reply under its parent); they were put in that order, children in input order",
            None,
        ));
    }
    for (i, c) in thread.comments.iter_mut().enumerate() {
        c.index = i + 1;
    }
    resolve_quote_sources(thread);
    Ok(())
}

/// Give quotes with an `outside` source their real source when their text is found in the article or
/// in a comment posted before (in display order).
fn resolve_quote_sources(thread: &mut Thread) {
    use crate::model::{Block, QuoteSource};
    use crate::quotes::{Origin, QuoteIndex};
    // Only comments before the last quote of unknown source can be its source.
    let is_unresolved = |b: &Block| matches!(b, Block::Quote { source: QuoteSource::Outside, .. });
    let Some(last) = thread.comments.iter().rposition(|c| c.blocks.iter().any(is_unresolved)) else { return };
    let article = copied_text::article_text(&thread.article);
    let mut index: QuoteIndex<usize> = QuoteIndex::new(&article);
    let ids: Vec<String> = thread.comments.iter().map(|c| c.id.clone()).collect();
    for (i, c) in thread.comments.iter_mut().enumerate() {
        for b in c.blocks.iter_mut() {
            if let Block::Quote { text, source } = b
                && *source == QuoteSource::Outside
                && let Some(m) = index.find(text)
            {
                *source = match m.origin {
                    Origin::Article => QuoteSource::Article,
                    Origin::Piece(j) => QuoteSource::Comment { id: ids[j].clone() },
                };
            }
        }
        if i == last {
            break;
        }
        index.add(i, &c.text);
    }
}
