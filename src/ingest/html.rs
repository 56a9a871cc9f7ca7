//! Reader for a saved Tweakers HTML page.
use crate::error::{Error, Result};
use crate::model::Thread;
pub fn read(_text: &str, file: &str) -> Result<Thread> {
    Err(Error::new(file, None, "HTML reader not yet written"))
}
