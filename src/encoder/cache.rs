//! Cache of a thread's vectors on disk, so that a thread is encoded once.
//!
//! The key is SHA-256 over the encoder's identity (model file and tokenizer hashes), the prefix,
//! a format version and every text; the file `KEY.vec` holds the vectors. A file that is short,
//! of another key or shape, or whose checksum fails is ignored (and rewritten), never trusted.
//! Files are written to a temporary name and renamed into place.
//!
//! File: `"DRDE"`, u32 version 1, 32-byte key, u32 count, u32 dim, count × dim f32 (little-endian),
//! then SHA-256 of everything before it.

use super::Prefix;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"DRDE";
const VERSION: u32 = 1;
/// Bump when the encoder's arithmetic changes, so old vectors are not reused.
const ENCODER_REVISION: &str = "draad-e5/1";

#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    dir: PathBuf,
}

/// The cache key of a list of texts.
pub fn key(model_id: &[u8; 32], prefix: Prefix, texts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(ENCODER_REVISION.as_bytes());
    h.update(model_id);
    h.update(prefix.text().as_bytes());
    h.update((texts.len() as u64).to_le_bytes());
    for t in texts {
        h.update((t.len() as u64).to_le_bytes());
        h.update(t.as_bytes());
    }
    h.finalize().into()
}

impl EmbeddingCache {
    pub fn new(dir: impl Into<PathBuf>) -> EmbeddingCache {
        EmbeddingCache { dir: dir.into() }
    }

    /// `$DRAAD_CACHE_DIR/embeddings`, else `$XDG_CACHE_HOME/draad/embeddings`, else
    /// `~/.cache/draad/embeddings`; `None` when none of them is set.
    pub fn default_location() -> Option<EmbeddingCache> {
        let var = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty()).map(PathBuf::from);
        let root = var("DRAAD_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("draad")))
            .or_else(|| var("HOME").map(|p| p.join(".cache").join("draad")))?;
        Some(EmbeddingCache::new(root.join("embeddings")))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, key: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.vec", hex(key)))
    }

    /// The cached vectors for `key`, when a file is there and passes every check.
    pub fn get(&self, key: &[u8; 32], count: usize, dim: usize) -> Option<Vec<Vec<f32>>> {
        let data = std::fs::read(self.path(key)).ok()?;
        decode(&data, key, count, dim)
    }

    /// Store vectors under `key`; returns the file written.
    pub fn put(&self, key: &[u8; 32], vectors: &[Vec<f32>]) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(key);
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            hex(key),
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        ));
        std::fs::write(&tmp, encode(key, vectors)).and_then(|_| std::fs::rename(&tmp, &path)).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        Ok(path)
    }
}

fn encode(key: &[u8; 32], vectors: &[Vec<f32>]) -> Vec<u8> {
    let dim = vectors.first().map_or(0, Vec::len);
    let mut out = Vec::with_capacity(48 + vectors.len() * dim * 4 + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&(vectors.len() as u32).to_le_bytes());
    out.extend_from_slice(&(dim as u32).to_le_bytes());
    for v in vectors {
        for x in v {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

fn decode(data: &[u8], key: &[u8; 32], count: usize, dim: usize) -> Option<Vec<Vec<f32>>> {
    let body_len = 48usize.checked_add(count.checked_mul(dim)?.checked_mul(4)?)?;
    if data.len() != body_len + 32 || &data[..4] != MAGIC {
        return None;
    }
    let (body, sum) = data.split_at(body_len);
    if Sha256::digest(body).as_slice() != sum {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes(body[i..i + 4].try_into().expect("4 bytes"));
    if u32_at(4) != VERSION || &body[8..40] != key || u32_at(40) as usize != count || u32_at(44) as usize != dim {
        return None;
    }
    let values: Vec<f32> =
        body[48..].chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
    if values.iter().any(|x| !x.is_finite()) {
        return None;
    }
    Some(if dim == 0 { vec![Vec::new(); count] } else { values.chunks(dim).map(<[f32]>::to_vec).collect() })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = std::env::temp_dir().join(format!("draad-cache-test-{}", std::process::id()));
        let cache = EmbeddingCache::new(&dir);
        let k = key(&[7; 32], Prefix::Query, &["een", "twee"]);
        assert_ne!(k, key(&[7; 32], Prefix::Passage, &["een", "twee"]));
        assert_ne!(k, key(&[7; 32], Prefix::Query, &["eentwee", ""]));
        let v = vec![vec![0.5f32, -0.25, 1.0], vec![0.0, 2.0, -3.5]];
        assert_eq!(cache.get(&k, 2, 3), None);
        let path = cache.put(&k, &v).unwrap();
        assert_eq!(cache.get(&k, 2, 3), Some(v.clone()));
        assert_eq!(cache.get(&k, 2, 4), None, "wrong shape is not trusted");
        // Flip one byte of a value: the checksum no longer matches.
        let mut data = std::fs::read(&path).unwrap();
        data[50] ^= 1;
        std::fs::write(&path, &data).unwrap();
        assert_eq!(cache.get(&k, 2, 3), None);
        // Truncated.
        std::fs::write(&path, &data[..20]).unwrap();
        assert_eq!(cache.get(&k, 2, 3), None);
        // Rewritten, it is good again.
        cache.put(&k, &v).unwrap();
        assert_eq!(cache.get(&k, 2, 3), Some(v));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
