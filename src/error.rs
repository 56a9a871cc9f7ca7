//! Errors that name the file and the place. Every reader returns these; the CLI prints them and
//! exits with status 2.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The file the problem is in (`-` for standard input), or empty when no file is involved.
    pub file: String,
    /// Where in the file: `line 12`, `line 3, column 7`, `byte 4096`, `reaction r_123`.
    pub place: Option<String>,
    pub message: String,
}

impl Error {
    pub fn new(file: &str, place: Option<String>, message: impl Into<String>) -> Self {
        Error { file: file.to_string(), place, message: message.into() }
    }
    pub fn at_line(file: &str, line: usize, message: impl Into<String>) -> Self {
        Error::new(file, Some(format!("line {line}")), message)
    }
    /// The same error found in a part of the file (`the page in part 1 of the MHTML archive`): the
    /// place becomes "PLACE of PART", or the part alone.
    pub fn inside(mut self, part: &str) -> Self {
        self.place = Some(self.place.take().map_or(part.to_string(), |p| format!("{p} of {part}")));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file.is_empty(), &self.place) {
            (true, None) => write!(f, "{}", self.message),
            (true, Some(p)) => write!(f, "{p}: {}", self.message),
            (false, None) => write!(f, "{}: {}", self.file, self.message),
            (false, Some(p)) => write!(f, "{}: {p}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
