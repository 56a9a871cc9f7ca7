//! A Tweakers page saved by Safari as a web archive (`.webarchive`): a binary property list
//! (`bplist00`) whose `WebMainResource` holds the page's bytes (`WebResourceData`) with its MIME
//! type and text encoding. This module reads just enough of the property-list format to take the
//! page out, for the HTML reader.

use crate::error::{Error, Result};

/// The page inside a Safari web archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Archived {
    pub html: String,
    /// The address the page was saved from, when the archive says.
    pub url: Option<String>,
}

const MAGIC: &[u8] = b"bplist00";

/// Whether the bytes are a binary property list (as a Safari web archive is).
pub fn looks_like(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// The values of a property list this reader needs; everything else is `Other`.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Data(Vec<u8>),
    Text(String),
    Dict(Vec<(usize, usize)>),
    Other,
}

struct Plist<'a> {
    bytes: &'a [u8],
    offsets: Vec<usize>,
    ref_size: usize,
}

/// Read a big-endian unsigned number of `n` bytes at `at`.
fn uint(bytes: &[u8], at: usize, n: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(n)?)?;
    if n > 8 {
        return None;
    }
    Some(b.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64))
}

impl<'a> Plist<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Self> {
        if !looks_like(bytes) || bytes.len() < MAGIC.len() + 32 {
            return None;
        }
        let t = bytes.len() - 32;
        let offset_size = bytes[t + 6] as usize;
        let ref_size = bytes[t + 7] as usize;
        let count = usize::try_from(uint(bytes, t + 8, 8)?).ok()?;
        let table = usize::try_from(uint(bytes, t + 24, 8)?).ok()?;
        if !(1..=8).contains(&offset_size) || !(1..=8).contains(&ref_size) || count > bytes.len() {
            return None;
        }
        let offsets = (0..count)
            .map(|i| uint(bytes, table.checked_add(i.checked_mul(offset_size)?)?, offset_size).map(|o| o as usize))
            .collect::<Option<Vec<usize>>>()?;
        Some(Plist { bytes, offsets, ref_size })
    }

    fn top(&self) -> Option<usize> {
        let t = self.bytes.len() - 32;
        usize::try_from(uint(self.bytes, t + 16, 8)?).ok()
    }

    /// The length of an object from its marker's low nibble, or the integer after it when that is
    /// 0xF; returns (length, where the content starts).
    fn length(&self, at: usize, info: u8) -> Option<(usize, usize)> {
        if info != 0xF {
            return Some((info as usize, at + 1));
        }
        let marker = *self.bytes.get(at + 1)?;
        if marker >> 4 != 0x1 {
            return None;
        }
        let n = 1usize << (marker & 0xF).min(3);
        Some((usize::try_from(uint(self.bytes, at + 2, n)?).ok()?, at + 2 + n))
    }

    fn value(&self, object: usize) -> Option<Value> {
        let at = *self.offsets.get(object)?;
        let marker = *self.bytes.get(at)?;
        let (kind, info) = (marker >> 4, marker & 0xF);
        Some(match kind {
            0x4 => {
                let (n, from) = self.length(at, info)?;
                Value::Data(self.bytes.get(from..from.checked_add(n)?)?.to_vec())
            }
            0x5 => {
                let (n, from) = self.length(at, info)?;
                Value::Text(String::from_utf8_lossy(self.bytes.get(from..from.checked_add(n)?)?).into_owned())
            }
            0x6 => {
                let (n, from) = self.length(at, info)?;
                let raw = self.bytes.get(from..from.checked_add(n.checked_mul(2)?)?)?;
                let units: Vec<u16> = raw.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
                Value::Text(String::from_utf16_lossy(&units))
            }
            0xD => {
                let (n, from) = self.length(at, info)?;
                let r = self.ref_size;
                let refs = |i: usize| uint(self.bytes, from.checked_add(i.checked_mul(r)?)?, r).map(|x| x as usize);
                Value::Dict((0..n).map(|i| Some((refs(i)?, refs(n.checked_add(i)?)?))).collect::<Option<Vec<_>>>()?)
            }
            _ => Value::Other,
        })
    }

    /// The value under `key` in dictionary `dict`.
    fn get(&self, dict: &Value, key: &str) -> Option<Value> {
        let Value::Dict(pairs) = dict else { return None };
        pairs
            .iter()
            .find(|(k, _)| self.value(*k) == Some(Value::Text(key.to_string())))
            .and_then(|(_, v)| self.value(*v))
    }
}

/// Take the page out of a Safari web archive. Errors name the file.
pub fn unwrap(bytes: &[u8], file: &str) -> Result<Archived> {
    let broken =
        |what: &str| Error::new(file, None, format!("a binary property list (Safari web archive?) that {what}"));
    let plist = Plist::parse(bytes)
        .ok_or_else(|| broken("is cut off or damaged (its trailer or offset table is unreadable)"))?;
    let top = plist.top().and_then(|t| plist.value(t)).ok_or_else(|| broken("has no readable top object"))?;
    let main = plist
        .get(&top, "WebMainResource")
        .ok_or_else(|| broken("holds no WebMainResource: it is no Safari web archive of a page"))?;
    let Some(Value::Data(data)) = plist.get(&main, "WebResourceData") else {
        return Err(broken("holds no page data (WebResourceData)"));
    };
    let text = |key: &str| match plist.get(&main, key) {
        Some(Value::Text(t)) => Some(t),
        _ => None,
    };
    if let Some(mime) = text("WebResourceMIMEType").filter(|m| !m.to_lowercase().contains("html")) {
        return Err(Error::new(file, None, format!("a Safari web archive of a {mime} resource, not of an HTML page")));
    }
    if let Some(enc) = text("WebResourceTextEncodingName").filter(|e| !super::mhtml::is_utf8_charset(e)) {
        return Err(Error::new(
            file,
            None,
            format!("the page in the Safari web archive is in the character set {enc}; draad reads UTF-8 pages"),
        ));
    }
    let html = String::from_utf8(data).map_err(|e| {
        Error::new(
            file,
            None,
            format!(
                "the page in the Safari web archive is not UTF-8 (byte {} of the page)",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok(Archived { html, url: text("WebResourceURL") })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Write a binary property list: a dictionary of string keys whose values are strings, data or
    /// (nested) dictionaries, as Safari lays out a web archive.
    pub enum Node {
        Text(String),
        Data(Vec<u8>),
        Dict(Vec<(String, Node)>),
    }

    pub fn write(top: &Node) -> Vec<u8> {
        fn length(out: &mut Vec<u8>, kind: u8, n: usize) {
            if n < 15 {
                out.push(kind << 4 | n as u8);
            } else {
                out.push(kind << 4 | 0xF);
                out.push(0x13);
                out.extend((n as u64).to_be_bytes());
            }
        }
        fn emit(node: &Node, objects: &mut Vec<Vec<u8>>) -> usize {
            let mut out = Vec::new();
            match node {
                Node::Text(t) => {
                    length(&mut out, 0x5, t.len());
                    out.extend(t.as_bytes());
                }
                Node::Data(d) => {
                    length(&mut out, 0x4, d.len());
                    out.extend(d);
                }
                Node::Dict(pairs) => {
                    let keys: Vec<usize> = pairs.iter().map(|(k, _)| emit(&Node::Text(k.clone()), objects)).collect();
                    let values: Vec<usize> = pairs.iter().map(|(_, v)| emit(v, objects)).collect();
                    length(&mut out, 0xD, pairs.len());
                    for r in keys.iter().chain(&values) {
                        out.extend((*r as u16).to_be_bytes());
                    }
                }
            }
            objects.push(out);
            objects.len() - 1
        }
        let mut objects = Vec::new();
        let top_ref = emit(top, &mut objects);
        let mut out = MAGIC.to_vec();
        let mut offsets = Vec::new();
        for o in &objects {
            offsets.push(out.len() as u64);
            out.extend(o);
        }
        let table = out.len() as u64;
        for o in offsets {
            out.extend(o.to_be_bytes());
        }
        out.extend([0, 0, 0, 0, 0, 0, 8, 2]);
        out.extend((objects.len() as u64).to_be_bytes());
        out.extend((top_ref as u64).to_be_bytes());
        out.extend(table.to_be_bytes());
        out
    }

    pub fn archive(html: &str) -> Vec<u8> {
        let s = |x: &str| Node::Text(x.to_string());
        write(&Node::Dict(vec![(
            "WebMainResource".into(),
            Node::Dict(vec![
                ("WebResourceData".into(), Node::Data(html.as_bytes().to_vec())),
                ("WebResourceMIMEType".into(), s("text/html")),
                ("WebResourceTextEncodingName".into(), s("UTF-8")),
                ("WebResourceURL".into(), s("https://tweakers.net/nieuws/1/voorbeeld.html")),
            ]),
        )]))
    }

    #[test]
    fn the_page_comes_out_of_a_web_archive() {
        let html = "<!DOCTYPE html><html><body><p>Hé, een pagina van twintig tekens en meer.</p></body></html>";
        let a = unwrap(&archive(html), "p.webarchive").unwrap();
        assert_eq!((a.html.as_str(), a.url.as_deref()), (html, Some("https://tweakers.net/nieuws/1/voorbeeld.html")));
        // Cut anywhere, it is an error, never a panic.
        let whole = archive(html);
        for cut in 0..whole.len() {
            let _ = unwrap(&whole[..cut], "cut.webarchive");
        }
        assert!(
            unwrap(&whole[..whole.len() - 5], "cut.webarchive").unwrap_err().to_string().contains("cut off or damaged")
        );
        let no_page = write(&Node::Dict(vec![("WebSubresources".into(), Node::Dict(vec![]))]));
        assert!(unwrap(&no_page, "x.webarchive").unwrap_err().to_string().contains("no WebMainResource"));
    }
}
