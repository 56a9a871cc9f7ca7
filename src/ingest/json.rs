//! Reader for draad's own JSON (what `draad parse` writes). The structure is stated, so it is
//! checked: unique ids, known parents, no cycles.

use crate::error::{Error, Result};
use crate::model::{Format, Thread};

pub fn read(text: &str, file: &str) -> Result<Thread> {
    let mut thread: Thread = serde_json::from_str(text).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => "truncated JSON",
            serde_json::error::Category::Syntax => "invalid JSON",
            _ => "not a draad thread (JSON with the wrong fields)",
        };
        Error::new(file, Some(format!("line {}, column {}", e.line(), e.column())), format!("{what}: {e}"))
    })?;
    thread.source.path = file.to_string();
    if thread.source.format != Format::Json {
        thread.source.format = Format::Json;
    }
    if thread.comments.is_empty() {
        return Err(Error::new(file, None, "the thread has no comments"));
    }
    super::finish_structured(&mut thread, file)?;
    Ok(thread)
}
