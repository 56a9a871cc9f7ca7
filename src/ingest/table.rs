//! Readers for generic comment tables.
use super::ColumnMap;
use crate::error::{Error, Result};
use crate::model::Thread;
pub fn read_jsonl(_text: &str, file: &str, _c: &ColumnMap) -> Result<Thread> {
    Err(Error::new(file, None, "not yet"))
}
pub fn read_csv(_text: &str, file: &str, _c: &ColumnMap) -> Result<Thread> {
    Err(Error::new(file, None, "not yet"))
}
