//! Subword tokens: a BPE tokenizer trained with the `tokenizers` crate on the project's own Dutch
//! text (the threads and news reports under `threads/`), saved as `models/tokenizer.json`.
//! Training is deterministic: the same text gives the same file (no continuing-subword prefix, whose
//! alphabet the trainer numbers in hash order).

use crate::error::{Error, Result};
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::normalizers::{unicode::NFC, utils::Lowercase, utils::Sequence};
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{Tokenizer, TokenizerBuilder};

/// Where `draad train` keeps the tokenizer.
pub const DEFAULT_PATH: &str = "models/tokenizer.json";

/// Every `.txt` file under `dir`, sorted, so training sees the same text in the same order.
pub fn training_files(dir: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| Error::new(&d.to_string_lossy(), None, format!("cannot list: {e}")))?;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "txt") {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Train a BPE tokenizer on the files and write it to `out` (JSON).
pub fn train(files: &[String], vocab_size: usize, out: &str) -> Result<()> {
    let mut texts = Vec::new();
    for f in files {
        texts.push(std::fs::read_to_string(f).map_err(|e| Error::new(f, None, format!("cannot read: {e}")))?);
    }
    let tokenizer = train_on_texts(&texts, vocab_size).map_err(|e| Error::new(out, None, e))?;
    if let Some(dir) = std::path::Path::new(out).parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::new(out, None, format!("cannot create folder: {e}")))?;
    }
    tokenizer.tokenizer.save(out, true).map_err(|e| Error::new(out, None, format!("cannot write tokenizer: {e}")))
}

/// Train a BPE tokenizer on texts in memory (used for each fold of cross-validation, so that the
/// held-out comments are not in the tokenizer's training text).
pub fn train_on_texts(texts: &[String], vocab_size: usize) -> std::result::Result<Subwords, String> {
    let fail = |e: tokenizers::Error| format!("tokenizer training failed: {e}");
    let mut trainer = BpeTrainerBuilder::new().show_progress(false).vocab_size(vocab_size).min_frequency(2).build();
    let mut tokenizer = TokenizerBuilder::new()
        .with_model(BPE::default())
        .with_normalizer(Some(Sequence::new(vec![NFC.into(), Lowercase.into()])))
        .with_pre_tokenizer(Some(Whitespace {}))
        .with_post_processor(None::<tokenizers::processors::PostProcessorWrapper>)
        .with_decoder(None::<tokenizers::decoders::DecoderWrapper>)
        .build()
        .map_err(fail)?;
    tokenizer.train(&mut trainer, texts.iter()).map_err(fail)?;
    Ok(Subwords { tokenizer: tokenizer.into(), id: next_id() })
}

/// A trained tokenizer, if the file is there.
pub struct Subwords {
    tokenizer: Tokenizer,
    /// Tells this tokenizer's cached pieces from another's.
    id: u64,
}

fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

type PieceCache = std::collections::HashMap<u64, crate::textnorm::FastMap<String, Vec<String>>>;

thread_local! {
    /// Pieces of the words seen so far, per tokenizer: words recur throughout a thread.
    static PIECES: std::cell::RefCell<PieceCache> = std::cell::RefCell::new(PieceCache::new());
}

impl Subwords {
    pub fn load(path: &str) -> Result<Subwords> {
        Tokenizer::from_file(path)
            .map(|tokenizer| Subwords { tokenizer, id: next_id() })
            .map_err(|e| Error::new(path, None, format!("cannot load tokenizer: {e}")))
    }

    /// The subword tokens of a text.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_token(text, |t| out.push(t.to_string()));
        out
    }

    /// Call `f` with each subword token of a text, in order (what [`Subwords::tokens`] returns).
    pub fn for_each_token(&self, text: &str, mut f: impl FnMut(&str)) {
        // The pre-tokenizer never joins across white space, and the normaliser (NFC, lower case)
        // composes nothing across it, so a text's pieces are its words' pieces one after another.
        PIECES.with(|cache| {
            let mut cache = cache.borrow_mut();
            let words = cache.entry(self.id).or_default();
            if words.len() > 200_000 {
                words.clear();
            }
            for word in text.split_whitespace() {
                if let Some(pieces) = words.get(word) {
                    pieces.iter().for_each(|p| f(p));
                    continue;
                }
                let pieces = self.encode(word);
                pieces.iter().for_each(|p| f(p));
                words.insert(word.to_string(), pieces);
            }
        })
    }

    fn encode(&self, text: &str) -> Vec<String> {
        self.tokenizer.encode(text, false).map(|e| e.get_tokens().to_vec()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn word_by_word_pieces_equal_the_whole_text_pieces() {
        let texts = vec!["De AVG geldt ook voor Clearview AI, zei de AP. Boetes!".to_string(); 3];
        let s = super::train_on_texts(&texts, 300).unwrap();
        for t in ["De AVG geldt ook\tvoor Clearview-AI,  zei de AP...", "Één café; Ærø?", "Boetes!!\nNee"] {
            assert_eq!(s.tokens(t), s.encode(t), "{t}");
        }
    }
}
