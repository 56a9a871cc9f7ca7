//! A Tweakers page saved as a single-file web archive (MHTML, Chrome's "Webpage, Single File"): a
//! MIME `multipart/related` message whose first `text/html` part is the page, most often encoded as
//! quoted-printable, with the images and style sheets as further parts. This module takes the page
//! out of the archive, with the archive's save date (its `Date:` header), for the HTML reader.

use crate::error::{Error, Result};
use crate::textnorm::LocalTime;

/// The page inside an archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Archived {
    pub html: String,
    /// The 1-based number of the part that holds the page, and its transfer encoding as written.
    pub part: usize,
    pub encoding: String,
    /// When the archive was made (its `Date:` header) on the Europe/Amsterdam clock, if it says.
    pub saved: Option<LocalTime>,
}

/// Lines the message header of an archive may take before the first blank line.
const HEADER_LINES: usize = 40;

/// Whether a text is an MHTML archive: a MIME message header (`MIME-Version`) with a
/// `multipart/related` content type before its first blank line.
pub fn looks_like(text: &str) -> bool {
    let header = message_header(text);
    let lower = header.to_lowercase();
    lower.lines().any(|l| l.starts_with("mime-version:")) && lower.contains("multipart/related")
}

/// The message header: the lines before the first blank line (at most [`HEADER_LINES`]).
fn message_header(text: &str) -> &str {
    let t = text.trim_start_matches(['\r', '\n']);
    let mut end = 0;
    for (i, line) in t.split_inclusive('\n').enumerate() {
        if i >= HEADER_LINES || line.trim().is_empty() {
            break;
        }
        end += line.len();
    }
    &t[..end]
}

/// The header fields of a MIME header block, with folded lines joined, names in lower case.
fn fields(header: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in header.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_lowercase(), value.trim().to_string()));
        }
    }
    out
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Whether a character set name an archive gives is UTF-8 (or its ASCII subset), the one draad reads.
pub(crate) fn is_utf8_charset(name: &str) -> bool {
    ["utf-8", "utf8", "us-ascii"].contains(&name.trim().to_lowercase().as_str())
}

/// A parameter of a structured header value (`boundary="..."`, `charset=utf-8`).
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (n, v) = p.split_once('=')?;
        (n.trim().eq_ignore_ascii_case(name)).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Take the page out of an MHTML archive. Errors name the file and the part.
pub fn unwrap(text: &str, file: &str) -> Result<Archived> {
    let header = message_header(text);
    let top = fields(header);
    let content_type = field(&top, "content-type").unwrap_or_default();
    let boundary = parameter(content_type, "boundary").filter(|b| !b.is_empty()).ok_or_else(|| {
        Error::new(file, Some("the archive's header".into()), "an MHTML archive without a multipart boundary")
    })?;
    let saved = field(&top, "date").and_then(parse_mail_date);
    let delimiter = format!("--{boundary}");
    // The parts: what lies between two delimiter lines (the text before the first is the preamble).
    let mut parts: Vec<&str> = Vec::new();
    let mut closed = false;
    let body = &text[text.find(header).map_or(0, |p| p + header.len())..];
    let mut rest = body;
    let mut current: Option<usize> = None;
    let mut offset = 0;
    while !rest.is_empty() {
        let line_end = rest.find('\n').map_or(rest.len(), |p| p + 1);
        let line = rest[..line_end].trim_end_matches(['\r', '\n']);
        if line.starts_with(&delimiter) {
            let tail = &line[delimiter.len()..];
            if let Some(start) = current.take() {
                parts.push(&body[start..offset]);
            }
            if tail.trim_end() == "--" {
                closed = true;
                break;
            }
            current = Some(offset + line_end);
        }
        offset += line_end;
        rest = &rest[line_end..];
    }
    if let Some(start) = current {
        // A last part with no closing delimiter: the archive was cut off. The page part usually
        // comes first, so read on if it is complete.
        parts.push(&body[start..]);
    }
    let (number, part) = parts
        .iter()
        .enumerate()
        .map(|(i, p)| (i + 1, *p))
        .find(|(_, p)| {
            let (h, _) = split_part(p);
            field(&fields(h), "content-type").is_some_and(|t| t.to_lowercase().starts_with("text/html"))
        })
        .ok_or_else(|| {
            Error::new(
                file,
                None,
                format!(
                    "an MHTML archive with {} part(s) and no text/html part{}: it holds no saved page",
                    parts.len(),
                    if closed { "" } else { " (it also ends before its closing boundary)" }
                ),
            )
        })?;
    let (h, content) = split_part(part);
    let pf = fields(h);
    let place = Some(format!("part {number} of the MHTML archive"));
    let ctype = field(&pf, "content-type").unwrap_or_default();
    if let Some(charset) = parameter(ctype, "charset")
        && !is_utf8_charset(&charset)
    {
        return Err(Error::new(
            file,
            place,
            format!(
                "the saved page is in the character set {charset}; draad reads UTF-8 pages (save the page again, or convert it)"
            ),
        ));
    }
    let encoding = field(&pf, "content-transfer-encoding").unwrap_or("8bit").to_lowercase();
    let bytes = match encoding.as_str() {
        "quoted-printable" => decode_quoted_printable(content),
        "base64" => decode_base64(content).ok_or_else(|| {
            Error::new(file, place.clone(), "the saved page's base64 encoding is broken (a character outside base64)")
        })?,
        "7bit" | "8bit" | "binary" => content.as_bytes().to_vec(),
        other => {
            return Err(Error::new(file, place, format!("the saved page has an unknown transfer encoding '{other}'")));
        }
    };
    let html = String::from_utf8(bytes).map_err(|e| {
        Error::new(
            file,
            place.clone(),
            format!("the saved page, once decoded, is not UTF-8 (byte {} of the page)", e.utf8_error().valid_up_to()),
        )
    })?;
    if !closed && !html.to_lowercase().contains("</html>") {
        return Err(Error::new(
            file,
            place,
            "the MHTML archive is cut off inside the saved page (no closing boundary and no </html>): save the page again",
        ));
    }
    Ok(Archived { html, part: number, encoding, saved })
}

/// A part's header and content, split at the first blank line.
fn split_part(part: &str) -> (&str, &str) {
    let mut pos = 0;
    for line in part.split_inclusive('\n') {
        if line.trim().is_empty() {
            return (&part[..pos], &part[pos + line.len()..]);
        }
        pos += line.len();
    }
    (part, "")
}

/// Decode quoted-printable: `=XX` is a byte, `=` at a line end a soft line break.
pub fn decode_quoted_printable(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    while i < b.len() {
        if b[i] == b'=' {
            // A soft line break: '=' then optional white space, then the line end.
            let mut j = i + 1;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            if j < b.len() && (b[j] == b'\n' || b[j] == b'\r') {
                i = if b[j] == b'\r' && b.get(j + 1) == Some(&b'\n') { j + 2 } else { j + 1 };
                continue;
            }
            if j == b.len() {
                break;
            }
            if let (Some(h), Some(l)) = (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        // The line ends of the archive are CRLF; the page's own are LF.
        if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Decode base64, skipping white space; `None` when another character is met.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text.as_bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            break;
        }
        acc = (acc << 6) | value(c)? as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Parse a mail date (`Tue, 3 Sep 2024 12:00:00 -0000`, `Date: 3 Sep 2024 12:00 +0200`) and give it
/// on the Europe/Amsterdam clock.
pub fn parse_mail_date(text: &str) -> Option<LocalTime> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let t = text.split_once(',').map_or(text, |(_, r)| r);
    let parts: Vec<&str> = t.split_whitespace().collect();
    let [day, month, year, time, zone, ..] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| month.to_lowercase().starts_with(m))? as u32 + 1;
    let mut clock = time.split(':');
    let (hour, minute): (u32, u32) = (clock.next()?.parse().ok()?, clock.next()?.parse().ok()?);
    let offset_minutes: i64 = match *zone {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        z if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => {
            let n: i64 = z[1..].parse().ok()?;
            let m = (n / 100) * 60 + n % 100;
            if z.starts_with('-') { -m } else { m }
        }
        _ => return None,
    };
    let utc = LocalTime { year: year.parse().ok()?, month, day: day.parse().ok()?, hour, minute }
        .checked()?
        .plus_minutes(-offset_minutes);
    // Amsterdam is UTC+1, +2 in summer time (read off the standard-time clock, near enough at the
    // switching hours for a date).
    let winter = utc.plus_minutes(60);
    Some(if winter.is_summer_time() { utc.plus_minutes(120) } else { winter })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_and_base64_decode() {
        assert_eq!(decode_quoted_printable("a=3Db=\r\nc=C3=A9\r\nd"), "a=bcé\nd".as_bytes());
        assert_eq!(decode_quoted_printable("x= \r\ny=\n"), b"xy");
        assert_eq!(decode_quoted_printable("50% =ZZ"), b"50% =ZZ");
        assert_eq!(decode_base64("aGFsbG8g\r\nd2VyZWxk").unwrap(), b"hallo wereld");
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert!(decode_base64("aGk*").is_none());
    }

    #[test]
    fn mail_dates_come_on_the_amsterdam_clock() {
        let d = parse_mail_date("Tue, 3 Sep 2024 22:30:00 -0000").unwrap();
        assert_eq!(d.iso(), "2024-09-04T00:30:00+02:00");
        let w = parse_mail_date("Fri, 1 Dec 2023 09:05:00 +0100").unwrap();
        assert_eq!(w.iso(), "2023-12-01T09:05:00+01:00");
        let y = parse_mail_date("31 Dec 2023 23:30:00 GMT").unwrap();
        assert_eq!(y.iso(), "2024-01-01T00:30:00+01:00");
        assert!(parse_mail_date("gisteren").is_none());
        assert!(parse_mail_date("Tue, 31 Feb 2024 10:00:00 +0000").is_none());
    }
}
