//! Readers for generic comment tables, so threads from other sites can be analysed: JSONL (one
//! object per line) and CSV (a header row). Each record holds an id, a parent (empty or null for a
//! reply to the article), an author, a time and the text; the column names are mappable.
//! Lines of the text that start with `>` are quotes.

use super::ColumnMap;
use crate::error::{Error, Result};
use crate::ingest::comment_parts::{find_links, find_mentions, own_text};
use crate::model::{Article, Block, Comment, Evidence, Format, Provenance, QuoteSource, SCHEMA, Source, Span, Thread};

/// One record of a table, before it becomes a comment.
struct Record {
    line: usize,
    id: String,
    parent: Option<String>,
    author: Option<String>,
    time: Option<String>,
    text: String,
}

pub fn read_jsonl(text: &str, file: &str, cols: &ColumnMap) -> Result<Thread> {
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            Error::new(file, Some(format!("line {n}, column {}", e.column())), format!("not a JSON object: {e}"))
        })?;
        let obj =
            v.as_object().ok_or_else(|| Error::at_line(file, n, "expected a JSON object (one comment per line)"))?;
        let field = |name: &str| -> Option<String> {
            match obj.get(name) {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            }
        };
        records.push(Record {
            line: n,
            id: field(&cols.id).ok_or_else(|| {
                Error::at_line(file, n, format!("no '{}' field (the comment id; map it with --id-col)", cols.id))
            })?,
            parent: field(&cols.parent).filter(|p| !p.trim().is_empty()),
            author: field(&cols.author),
            time: field(&cols.time),
            text: field(&cols.text).ok_or_else(|| {
                Error::at_line(file, n, format!("no '{}' field (the comment text; map it with --text-col)", cols.text))
            })?,
        });
    }
    build(records, file, Format::Jsonl)
}

pub fn read_csv(text: &str, file: &str, cols: &ColumnMap) -> Result<Thread> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers =
        reader.headers().map_err(|e| Error::at_line(file, 1, format!("cannot read the CSV header: {e}")))?.clone();
    let col = |name: &str, required: bool| -> Result<Option<usize>> {
        let found = headers.iter().position(|h| h.trim() == name);
        if required && found.is_none() {
            let have: Vec<&str> = headers.iter().collect();
            return Err(Error::at_line(
                file,
                1,
                format!(
                    "no '{name}' column in the header (columns: {}); map it with the --*-col flags",
                    have.join(", ")
                ),
            ));
        }
        Ok(found)
    };
    let (id_c, parent_c, author_c, time_c, text_c) = (
        col(&cols.id, true)?,
        col(&cols.parent, false)?,
        col(&cols.author, false)?,
        col(&cols.time, false)?,
        col(&cols.text, true)?,
    );
    let mut records = Vec::new();
    for result in reader.records() {
        let rec = result.map_err(|e| {
            let place = e.position().map(|p| format!("line {}", p.line())).unwrap_or_else(|| "unknown line".into());
            Error::new(file, Some(place), format!("bad CSV record: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let get = |c: Option<usize>| c.and_then(|i| rec.get(i)).map(str::to_string);
        records.push(Record {
            line,
            id: get(id_c).unwrap_or_default(),
            parent: get(parent_c).filter(|p| !p.trim().is_empty()),
            author: get(author_c).filter(|a| !a.is_empty()),
            time: get(time_c).filter(|t| !t.is_empty()),
            text: get(text_c).unwrap_or_default(),
        });
    }
    build(records, file, Format::Csv)
}

/// Blocks of a plain comment text: blank lines separate paragraphs, lines starting with `>` are
/// quotes (their source is found later), lines starting with `- ` or `* ` are list items.
fn blocks_of(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut quote: Vec<&str> = Vec::new();
    let flush_para = |para: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !para.is_empty() {
            blocks.push(Block::Paragraph { text: para.join("\n") });
            para.clear();
        }
    };
    let flush_quote = |quote: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !quote.is_empty() {
            blocks.push(Block::Quote { text: quote.join("\n"), source: QuoteSource::Outside });
            quote.clear();
        }
    };
    for line in text.lines().map(str::trim) {
        if let Some(q) = line.strip_prefix('>') {
            flush_para(&mut para, &mut blocks);
            quote.push(q.trim());
        } else if line.is_empty() {
            flush_para(&mut para, &mut blocks);
            flush_quote(&mut quote, &mut blocks);
        } else if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            flush_para(&mut para, &mut blocks);
            flush_quote(&mut quote, &mut blocks);
            blocks.push(Block::ListItem { text: item.to_string() });
        } else {
            flush_quote(&mut quote, &mut blocks);
            para.push(line);
        }
    }
    flush_para(&mut para, &mut blocks);
    flush_quote(&mut quote, &mut blocks);
    blocks
}

fn build(records: Vec<Record>, file: &str, format: Format) -> Result<Thread> {
    if records.is_empty() {
        return Err(Error::new(file, None, "the table has no comments"));
    }
    let names: Vec<String> = records.iter().filter_map(|r| r.author.clone()).collect();
    let comments = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let blocks = blocks_of(&r.text);
            let text = own_text(&blocks);
            Comment {
                index: i + 1,
                parent_candidates: Vec::new(),
                parent_evidence: vec![Evidence::new(
                    "stated",
                    match &r.parent {
                        Some(p) => format!("the input gives parent {p}"),
                        None => "the input gives no parent: a reply to the article".into(),
                    },
                )],
                id: r.id.trim().to_string(),
                parent: r.parent.map(|p| p.trim().to_string()),
                parent_confidence: 1.0,
                author: r.author,
                author_id: None,
                time_iso: r.time.as_deref().and_then(crate::textnorm::parse_dutch_datetime).map(|t| t.iso()),
                time: r.time,
                score: None,
                collapsed: false,
                by_article_author: false,
                mentions: find_mentions(&text, &names),
                links: find_links(&text),
                text,
                blocks,
                edit: None,
                span: Some(Span { first_line: r.line, last_line: r.line }),
                provenance: Provenance::default(),
                stance: None,
                relation_to_parent: None,
                clusters: None,
            }
        })
        .collect();
    let mut thread = Thread {
        schema: SCHEMA.into(),
        source: Source { path: file.into(), format, pages: Vec::new() },
        article: Article::default(),
        comments,
        warnings: Vec::new(),
    };
    super::finish_structured(&mut thread, file)?;
    Ok(thread)
}
