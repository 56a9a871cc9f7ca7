//! Finding quotes: does a piece of text repeat the article or an earlier piece of the thread?
//!
//! Text is folded ([`crate::textnorm::fold`]) and cut into word trigrams; a text is a quote of a
//! source when most of its trigrams occur in that one source. The index grows as the thread is read,
//! so each lookup only sees what came before, and it costs time in proportion to the text looked up,
//! not to the size of the thread.

use crate::textnorm::{trigram_hashes, words};
use std::collections::HashMap;

/// Share of a text's trigrams that must occur in one source for the text to count as a quote.
pub const MIN_COVERAGE: f64 = 0.8;
/// Fewest words a quote can have (shorter repeats, like "Klopt", are not evidence of quoting).
pub const MIN_WORDS: usize = 5;
/// A very common trigram is not evidence of anything; postings longer than this are not scanned.
const MAX_POSTINGS: usize = 64;

/// Where quoted text was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<K> {
    Article,
    Piece(K),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuoteMatch<K> {
    pub origin: Origin<K>,
    /// Share of the text's trigrams found in the origin.
    pub coverage: f64,
}

/// An index of the article and of earlier pieces (lines or comments), keyed by `K`.
#[derive(Debug, Clone)]
pub struct QuoteIndex<K> {
    article: std::collections::HashSet<u64>,
    postings: HashMap<u64, Vec<K>>,
}

impl<K: Copy + Eq + std::hash::Hash + Ord> QuoteIndex<K> {
    pub fn new(article_text: &str) -> Self {
        QuoteIndex { article: trigram_hashes(&words(article_text)).into_iter().collect(), postings: HashMap::new() }
    }

    /// Add a piece of own text (not a quote) that later text may quote.
    pub fn add(&mut self, key: K, text: &str) {
        let mut grams = trigram_hashes(&words(text));
        grams.sort_unstable();
        grams.dedup();
        for g in grams {
            let list = self.postings.entry(g).or_default();
            if list.last() != Some(&key) {
                list.push(key);
            }
        }
    }

    /// The best source of `text`, if it is a quote. Among pieces with equal coverage the latest
    /// (largest key) wins; the article wins over a piece only with strictly higher coverage, since a
    /// piece that repeats the article is itself usually a quote of it.
    pub fn find(&self, text: &str) -> Option<QuoteMatch<K>> {
        let w = words(text);
        if w.len() < MIN_WORDS {
            return None;
        }
        let grams = trigram_hashes(&w);
        let total = grams.len() as f64;
        let in_article = grams.iter().filter(|g| self.article.contains(g)).count() as f64 / total;
        let mut counts: HashMap<K, usize> = HashMap::new();
        for g in &grams {
            if let Some(list) = self.postings.get(g)
                && list.len() <= MAX_POSTINGS
            {
                for k in list {
                    *counts.entry(*k).or_default() += 1;
                }
            }
        }
        let best_piece = counts
            .into_iter()
            .map(|(k, n)| (n as f64 / total, k))
            .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let article =
            (in_article >= MIN_COVERAGE).then_some(QuoteMatch { origin: Origin::Article, coverage: in_article });
        let piece = best_piece
            .filter(|(c, _)| *c >= MIN_COVERAGE)
            .map(|(c, k)| QuoteMatch { origin: Origin::Piece(k), coverage: c });
        match (article, piece) {
            (Some(a), Some(p)) if p.coverage > a.coverage => Some(p),
            (Some(a), _) => Some(a),
            (None, p) => p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_article_and_earlier_pieces() {
        let mut idx: QuoteIndex<usize> = QuoteIndex::new(
            "De AP zegt echter dat de AVG wel degelijk van toepassing is, omdat Clearview data verwerkt.",
        );
        idx.add(1, "Ze verwerken data van Nederlanders, en dus is de AVG wel degelijk van toepassing.");
        let m = idx.find("De AP zegt echter dat de AVG wel degelijk van toepassing is").unwrap();
        assert_eq!(m.origin, Origin::Article);
        let m = idx.find("ze verwerken data van Nederlanders, en dus").unwrap();
        assert_eq!(m.origin, Origin::Piece(1));
        assert!(idx.find("Klopt helemaal").is_none());
        assert!(idx.find("Iets heel anders dat nergens in voorkomt hier").is_none());
    }

    #[test]
    fn typography_does_not_hide_a_quote() {
        let idx: QuoteIndex<usize> = QuoteIndex::new("‘Zo’n bedrijf mag niet straffeloos doorgaan met het schenden’");
        assert!(idx.find("'Zo'n bedrijf mag niet  straffeloos doorgaan met het schenden'").is_some());
    }
}
