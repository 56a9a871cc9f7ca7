//! Text features of a comment for the stance and cluster models: the commenter's own words (quotes
//! removed but kept as context), sentences and words with offsets, Dutch Snowball stems, subword
//! tokens, codebook cue hits with negation scope, questions, and how a reply opens.

use crate::codebook::{Codebook, Cue, CueHit, CueIndex, compile, words_and_sentences};
use crate::model::{Block, Comment};
use crate::subwords::Subwords;
use unicode_segmentation::UnicodeSegmentation;

/// Words that open agreement with the comment answered.
pub const AGREE_OPENERS: &[&str] = &[
    "klopt",
    "precies",
    "inderdaad",
    "exact",
    "exactly",
    "jazeker",
    "idd",
    "mee eens",
    "eens",
    "helemaal mee eens",
    "terecht",
    "correct",
    "zeker",
];
/// Words that open disagreement.
pub const DISAGREE_OPENERS: &[&str] = &[
    "nee",
    "onzin",
    "hoezo",
    "uh",
    "uhm",
    "welnee",
    "nope",
    "ik volg je niet",
    "ik volg je logica",
    "niet mee eens",
    "dat klopt niet",
    "klopt niet",
    "wat een rare",
    "kromme vergelijking",
    "beetje kromme",
    "dat is niet",
];
/// Second-person words: a comment that uses them early addresses someone.
const ADDRESS_WORDS: &[&str] = &["je", "jij", "jouw", "jou", "u", "uw"];

/// How a reply opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Opening {
    Agree,
    Disagree,
    /// Addresses someone ("je", "@name") without agreeing or disagreeing outright.
    Address,
    None,
}

/// The opening of a comment's own text, and the words that show it.
pub fn reply_opening(text: &str) -> (Opening, Option<String>) {
    let t = text.trim_start();
    // Only the head matters: the first 40 characters and the first 25 words.
    let t = &t[..t.floor_char_boundary(600)];
    if t.starts_with('@') {
        return (Opening::Address, Some("@mention".into()));
    }
    let lower = crate::textnorm::fold(t);
    let head: String = lower.chars().take(40).collect();
    let starts = |cue: &str| head.starts_with(cue) && !head[cue.len()..].starts_with(|c: char| c.is_alphanumeric());
    if let Some(c) = DISAGREE_OPENERS.iter().find(|c| starts(c)) {
        return (Opening::Disagree, Some((*c).to_string()));
    }
    if let Some(c) = AGREE_OPENERS.iter().find(|c| starts(c)) {
        return (Opening::Agree, Some((*c).to_string()));
    }
    if starts("ja") {
        return (Opening::Agree, Some("ja".into()));
    }
    // The words of `t` are those of its fold (`textnorm::words`), which `lower` already is.
    if let Some(w) = lower.unicode_words().take(25).find(|w| ADDRESS_WORDS.contains(w)) {
        return (Opening::Address, Some(w.to_string()));
    }
    (Opening::None, None)
}

/// A cue hit, with what it is evidence for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LabelledHit {
    /// Dimension id, or `cluster` for a cluster cue.
    pub dimension: String,
    /// The label (or cluster id) the cue belongs to.
    pub label: String,
    /// The label it counts for: `label`, or its `negated_label` when negated.
    pub counts_for: Option<String>,
    pub hit: CueHit,
}

/// The features of one comment.
#[derive(Debug, Clone)]
pub struct CommentFeatures {
    /// The commenter's own words.
    pub text: String,
    /// The text it quotes (context only).
    pub quoted: String,
    pub words: StrList,
    pub stems: Vec<std::sync::Arc<str>>,
    pub subwords: StrList,
    pub sentences: usize,
    pub hits: Vec<LabelledHit>,
    pub questions: usize,
    /// The comment ends with a question and states nothing else: a plain question.
    pub only_question: bool,
    /// A question that carries a claim ("Hoezo kan Europa niets doen?", "En dan?").
    pub rhetorical_question: bool,
    pub opening: Opening,
    pub opening_words: Option<String>,
    /// The first content stem of each word with its character span, for locating evidence.
    /// The character span of each of `stems` in the comment's own text, for locating evidence.
    pub stem_spans: Vec<(usize, usize)>,
    /// The model features shared by every dimension, computed once.
    pub base_sparse: std::sync::OnceLock<NamedValues>,
    /// `text` in lower case, made when a subword feature is first located.
    lower: std::sync::OnceLock<String>,
}

impl CommentFeatures {
    /// Where a feature (a stem `s:` or a subword `w:`) first occurs in the comment's own text, as
    /// character offsets.
    pub fn locate(&self, feature: &str) -> Option<(usize, usize)> {
        let (kind, value) = feature.split_once(':')?;
        match kind {
            "s" => self.stems.iter().position(|s| **s == *value).map(|i| self.stem_spans[i]),
            "w" => {
                let needle = value.trim_start_matches("##");
                let lower = self.lower.get_or_init(|| self.text.to_lowercase());
                let b = lower.find(needle)?;
                let start = lower[..b].chars().count();
                Some((start, start + needle.chars().count()))
            }
            _ => None,
        }
    }
}

/// Compiled cue lists of a codebook, indexed for one pass over a comment's words.
pub struct CueSets {
    /// (dimension, label, negated_label, cues)
    labels: Vec<(String, String, Option<String>, Vec<Cue>)>,
    clusters: Vec<(String, Vec<Cue>)>,
    index: CueIndex,
}

impl CueSets {
    pub fn new(codebook: &Codebook) -> CueSets {
        let labels: Vec<(String, String, Option<String>, Vec<Cue>)> = codebook
            .dimensions
            .iter()
            .flat_map(|d| {
                d.labels.iter().map(move |l| (d.id.clone(), l.id.clone(), l.negated_label.clone(), compile(&l.cues)))
            })
            .collect();
        let clusters: Vec<(String, Vec<Cue>)> =
            codebook.clusters.iter().map(|c| (c.id.clone(), compile(&c.cues))).collect();
        let mut sets = CueSets { labels, clusters, index: CueIndex::default() };
        sets.index = CueIndex::new(&sets.lists());
        sets
    }

    /// Every cue list: the labels' first, then the clusters'.
    fn lists(&self) -> Vec<&[Cue]> {
        self.labels.iter().map(|l| l.3.as_slice()).chain(self.clusters.iter().map(|c| c.1.as_slice())).collect()
    }
}

const RHETORICAL_OPENERS: &[&str] =
    &["hoezo", "waarom zou", "en dan", "wat denk je", "sinds wanneer", "wie denkt", "denk je nu echt"];

/// Does `text` hold `". "` followed by `phrase` (`text.contains(". {phrase}")`)?
fn after_full_stop(text: &str, phrase: &str) -> bool {
    // ". " cannot overlap itself, so the matches are all its occurrences.
    text.match_indices(". ").any(|(i, _)| text[i + 2..].starts_with(phrase))
}

/// Compute the features of a comment.
pub fn comment_features(comment: &Comment, cues: &CueSets, subwords: Option<&Subwords>) -> CommentFeatures {
    let text = comment.text.clone();
    let quoted: Vec<&str> = comment
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Quote { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let (words_off, bounds) = words_and_sentences(&text);
    let mut hits = Vec::new();
    let mut found = cues.index.find(&cues.lists(), &words_off).into_iter();
    for ((dim, label, negated_label, _), list_hits) in cues.labels.iter().zip(found.by_ref()) {
        for hit in list_hits {
            // Someone else's claim, reported, is not the writer's position.
            let counts_for = if hit.reported {
                None
            } else if hit.negated {
                negated_label.clone()
            } else {
                Some(label.clone())
            };
            hits.push(LabelledHit { dimension: dim.clone(), label: label.clone(), counts_for, hit });
        }
    }
    for ((cluster, _), list_hits) in cues.clusters.iter().zip(found) {
        for hit in list_hits {
            hits.push(LabelledHit {
                dimension: "cluster".into(),
                label: cluster.clone(),
                counts_for: Some(cluster.clone()),
                hit,
            });
        }
    }
    // A cue inside a longer cue of the same dimension ("van toepassing" in "niet van toepassing") is
    // the longer cue's part, not a second hit.
    let covered: Vec<bool> = hits
        .iter()
        .map(|h| {
            hits.iter().any(|o| {
                o.dimension == h.dimension
                    && o.hit.start <= h.hit.start
                    && o.hit.end >= h.hit.end
                    && o.hit.end - o.hit.start > h.hit.end - h.hit.start
            })
        })
        .collect();
    let mut keep = covered.into_iter().map(|c| !c);
    hits.retain(|_| keep.next().unwrap_or(true));
    // Sentences as `unicode_sentences` gives them: the bounds that hold a letter or digit.
    let sentences: Vec<&str> = bounds.into_iter().filter(|s| s.chars().any(char::is_alphanumeric)).collect();
    let questions = sentences.iter().filter(|s| s.trim_end().ends_with('?')).count();
    let (opening, opening_words) = reply_opening(&text);
    let rhetorical_question = questions > 0 && {
        let folded = crate::textnorm::fold(&text);
        RHETORICAL_OPENERS.iter().any(|r| folded.starts_with(r) || after_full_stop(&folded, r))
    };
    let only_question = questions > 0 && questions == sentences.len() && !rhetorical_question;
    let (mut stems, mut stem_spans) = (Vec::with_capacity(words_off.len()), Vec::with_capacity(words_off.len()));
    for w in words_off.iter().filter(|w| crate::textnorm::is_content_word(&w.text)) {
        stems.push(crate::textnorm::shared_stem(&w.text));
        stem_spans.push((w.start, w.end));
    }
    let mut subword_list = StrList::with_capacity(text.len(), text.len() / 3);
    if let Some(s) = subwords {
        s.for_each_token(&text, |t| subword_list.push(t));
    }
    CommentFeatures {
        base_sparse: std::sync::OnceLock::new(),
        lower: std::sync::OnceLock::new(),
        stems,
        stem_spans,
        words: words_off.iter().fold(StrList::with_capacity(text.len(), words_off.len()), |mut list, w| {
            list.push(&w.text);
            list
        }),
        subwords: subword_list,
        sentences: sentences.len(),
        hits,
        questions,
        only_question,
        rhetorical_question,
        opening,
        opening_words,
        quoted: quoted.join("\n"),
        text,
    }
}

/// Sparse features for the models: name and value. Words and stems are binary; cue hits count per
/// label (negated cues count for the negated label and are also marked as such).
pub fn sparse(f: &CommentFeatures, dimension: Option<&str>) -> Vec<(String, f64)> {
    let (base, cues) = sparse_parts(f, dimension);
    merge_sorted(base, &cues).map(|(n, v)| (n.to_string(), v)).collect()
}

/// A list of strings kept in one buffer (two allocations however many strings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrList {
    text: String,
    /// Where each string ends in `text` (it starts where the one before it ends).
    ends: Vec<u32>,
}

impl StrList {
    /// An empty list with room for `count` strings of `bytes` bytes in all.
    pub fn with_capacity(bytes: usize, count: usize) -> StrList {
        StrList { text: String::with_capacity(bytes), ends: Vec::with_capacity(count) }
    }

    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u32);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of all the strings together.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let s = &self.text[start..end as usize];
            start = end as usize;
            s
        })
    }
}

/// Named feature values kept in one buffer: every name is a slice of one string, so a comment's
/// features take two allocations instead of one per name. Sorted by name, without duplicates.
#[derive(Debug, Clone, Default)]
pub struct NamedValues {
    names: String,
    /// (start, end) of the name in `names`, and the value.
    items: Vec<(u32, u32, f64)>,
}

impl NamedValues {
    fn push(&mut self, parts: &[&str], value: f64) {
        let start = self.names.len() as u32;
        for p in parts {
            self.names.push_str(p);
        }
        self.items.push((start, self.names.len() as u32, value));
    }

    fn name(&self, item: &(u32, u32, f64)) -> &str {
        &self.names[item.0 as usize..item.1 as usize]
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The features in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> + '_ {
        self.items.iter().map(|it| (self.name(it), it.2))
    }

    /// Sort by name and merge duplicates as [`merge_duplicates`] does.
    fn sort_and_merge(&mut self) {
        let names = std::mem::take(&mut self.names);
        let name = |it: &(u32, u32, f64)| &names[it.0 as usize..it.1 as usize];
        // The first eight bytes as a number (zero-padded) order names as their bytes do, but for
        // ties, which the names themselves settle.
        let head = |it: &(u32, u32, f64)| {
            let mut b = [0u8; 8];
            let n = name(it).as_bytes();
            let k = n.len().min(8);
            b[..k].copy_from_slice(&n[..k]);
            u64::from_be_bytes(b)
        };
        let mut keyed: Vec<(u64, (u32, u32, f64))> = self.items.iter().map(|it| (head(it), *it)).collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| name(&a.1).cmp(name(&b.1))));
        self.items.clear();
        self.items.extend(keyed.into_iter().map(|(_, it)| it));
        self.items.dedup_by(|b, a| {
            let n = name(a);
            if n == name(b) {
                if !(n.starts_with("s:") || n.starts_with("w:")) {
                    a.2 += b.2;
                }
                true
            } else {
                false
            }
        });
        self.names = names;
    }
}

/// [`sparse`] in two sorted parts that share no names: the features every dimension shares
/// (computed once per comment) and the cue features of this dimension.
pub fn sparse_parts<'f>(f: &'f CommentFeatures, dimension: Option<&str>) -> (&'f NamedValues, Vec<(String, f64)>) {
    let base = f.base_sparse.get_or_init(|| base_sparse(f));
    let mut cues: Vec<(String, f64)> = Vec::with_capacity(f.hits.len() * 2);
    // `kind:dimension:label`, in a string of the right size.
    let name = |kind: &str, dimension: &str, label: &str| {
        let mut n = String::with_capacity(kind.len() + dimension.len() + label.len() + 2);
        for part in [kind, ":", dimension, ":", label] {
            n.push_str(part);
        }
        n
    };
    for h in &f.hits {
        if dimension.is_some_and(|d| d != h.dimension) {
            continue;
        }
        if let Some(c) = &h.counts_for {
            cues.push((name("cue", &h.dimension, c), 1.0));
        }
        if h.hit.negated {
            cues.push((name("negcue", &h.dimension, &h.label), 1.0));
        }
    }
    merge_duplicates(&mut cues);
    (base, cues)
}

/// Two sorted feature lists as one, in name order.
pub fn merge_sorted<'a>(a: &'a NamedValues, b: &'a [(String, f64)]) -> impl Iterator<Item = (&'a str, f64)> + 'a {
    MergeSorted { a, i: 0, b, j: 0 }
}

/// [`merge_sorted`]: the next feature of `a` (from `i`) or `b` (from `j`), whichever comes first.
struct MergeSorted<'a> {
    a: &'a NamedValues,
    i: usize,
    b: &'a [(String, f64)],
    j: usize,
}

impl<'a> Iterator for MergeSorted<'a> {
    type Item = (&'a str, f64);

    fn next(&mut self) -> Option<(&'a str, f64)> {
        let x = self.a.items.get(self.i).map(|it| (self.a.name(it), it.2));
        let y = self.b.get(self.j).map(|(n, v)| (n.as_str(), *v));
        match (x, y) {
            (Some(x), Some(y)) if y.0 < x.0 => {
                self.j += 1;
                Some(y)
            }
            (Some(x), _) => {
                self.i += 1;
                Some(x)
            }
            (None, y) => {
                self.j += usize::from(y.is_some());
                y
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.a.items.len() - self.i + self.b.len() - self.j;
        (n, Some(n))
    }
}

/// The features of every dimension: words, stems, the opening, questions, length and bias (sorted,
/// without duplicates).
fn base_sparse(f: &CommentFeatures) -> NamedValues {
    let mut out = NamedValues {
        names: String::with_capacity(
            f.stems.iter().map(|s| s.len() + 2).sum::<usize>() + f.subwords.text_len() + 2 * f.subwords.len() + 64,
        ),
        items: Vec::with_capacity(f.stems.len() + f.subwords.len() + 8),
    };
    for s in &f.stems {
        out.push(&["s:", &**s], 1.0);
    }
    for s in f.subwords.iter() {
        let mut bare = s;
        while let Some(rest) = bare.strip_prefix("##") {
            bare = rest;
        }
        if bare.chars().nth(3).is_some() && !crate::textnorm::is_stopword(bare) {
            out.push(&["w:", s], 1.0);
        }
    }
    out.push(
        &[match f.opening {
            Opening::Agree => "open:agree",
            Opening::Disagree => "open:disagree",
            Opening::Address => "open:address",
            Opening::None => "open:none",
        }],
        1.0,
    );
    if f.only_question {
        out.push(&["only_question"], 1.0);
    }
    if f.rhetorical_question {
        out.push(&["rhetorical_question"], 1.0);
    }
    out.push(&["len"], (f.words.len() as f64 + 1.0).ln() / 5.0);
    out.push(&["bias"], 1.0);
    out.sort_and_merge();
    out
}

/// Sort by name and merge duplicates: words and stems are binary, cue counts add up.
fn merge_duplicates(out: &mut Vec<(String, f64)>) {
    // Equal names have equal values unless they count cues, which add up in any order (all 1.0).
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|b, a| {
        if a.0 == b.0 {
            if !(a.0.starts_with("s:") || a.0.starts_with("w:")) {
                a.1 += b.1;
            }
            true
        } else {
            false
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openings() {
        assert_eq!(reply_opening("Nee, dat heeft hij niet.").0, Opening::Disagree);
        assert_eq!(reply_opening("Klopt, maar dan zijn de alternatieven:").0, Opening::Agree);
        assert_eq!(reply_opening("Ik volg je logica niet.").0, Opening::Disagree);
        assert_eq!(reply_opening("Je moet niet vergeten dat").0, Opening::Address);
        assert_eq!(reply_opening("Een hele goede zaak.").0, Opening::None);
        assert_eq!(reply_opening("Januari is koud.").0, Opening::None);
    }
}
