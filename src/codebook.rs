//! The codebook as data: the dimensions of a debate with their labels and Dutch cue phrases, and its
//! argument clusters. Loaded from a TOML file under `models/codebooks/`; another debate is another
//! file, not new code. Also finds cue phrases in a text, with their character offsets and whether a
//! negation ("niet", "geen", "nooit", ...) governs them.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// The codebook shipped as the default topic.
pub const DEFAULT_PATH: &str = "models/codebooks/clearview.toml";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Codebook {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub language: Option<String>,
    pub dimensions: Vec<Dimension>,
    #[serde(default)]
    pub clusters: Vec<ClusterDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dimension {
    pub id: String,
    pub question: String,
    /// The label meaning "no position".
    pub neutral: String,
    pub labels: Vec<LabelDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelDef {
    pub id: String,
    pub description: String,
    /// The label a negated cue of this label counts for.
    #[serde(default)]
    pub negated_label: Option<String>,
    #[serde(default)]
    pub cues: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClusterDef {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub cues: Vec<String>,
}

impl Dimension {
    /// All label ids: the neutral one first, then the others in file order.
    pub fn label_ids(&self) -> Vec<String> {
        let mut out = vec![self.neutral.clone()];
        out.extend(self.labels.iter().map(|l| l.id.clone()).filter(|l| *l != self.neutral));
        out
    }
}

impl Codebook {
    /// Read and check a codebook file.
    pub fn load(path: &str) -> Result<Codebook> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::new(path, None, format!("cannot read codebook: {e}")))?;
        Codebook::parse(&text, path)
    }

    /// Parse and check codebook TOML; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Codebook> {
        let cb: Codebook = toml::from_str(text).map_err(|e| {
            let place = e.span().map(|s| {
                let (line, col) = crate::ingest::line_col(text.as_bytes(), s.start);
                format!("line {line}, column {col}")
            });
            Error::new(path, place, format!("not a valid codebook: {}", e.message()))
        })?;
        cb.check(path)?;
        Ok(cb)
    }

    fn check(&self, path: &str) -> Result<()> {
        let err = |m: String| Err(Error::new(path, None, m));
        if self.dimensions.is_empty() {
            return err("the codebook defines no dimensions".into());
        }
        let mut seen = std::collections::HashSet::new();
        for d in &self.dimensions {
            if !seen.insert(d.id.clone()) {
                return err(format!("dimension '{}' is defined twice", d.id));
            }
            let ids: Vec<&str> = d.labels.iter().map(|l| l.id.as_str()).collect();
            if d.labels.iter().filter(|l| l.id != d.neutral).count() < 1 {
                return err(format!("dimension '{}' needs at least one label besides '{}'", d.id, d.neutral));
            }
            for l in &d.labels {
                if let Some(n) = &l.negated_label
                    && !ids.contains(&n.as_str())
                    && n != &d.neutral
                {
                    return err(format!("label '{}' of '{}' names an unknown negated_label '{n}'", l.id, d.id));
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.clusters {
            if !seen.insert(c.id.clone()) {
                return err(format!("cluster '{}' is defined twice", c.id));
            }
        }
        Ok(())
    }

    pub fn dimension(&self, id: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.id == id)
    }
}

/// Words that negate what follows them within a few words.
pub const NEGATIONS: &[&str] = &["niet", "geen", "nooit", "niks", "niets", "nergens", "geenszins"];
/// How many words before a cue a negation reaches.
const NEGATION_REACH: usize = 3;
/// Words that deny a whole `dat`/`of` clause right after them ("onzin dat ...", "ik betwijfel of
/// ..."): a cue in that clause is negated however far into it it is (within [`CLAUSE_REACH`] words).
/// "niet" right before `dat` (or before "zo dat") denies the clause the same way ("ik denk niet dat
/// ...", "het is niet zo dat ..."), but not further away ("ze willen niet horen dat ..." reports what
/// is so) and not an `of` clause ("ik weet niet of ..." is doubt, not denial). Other negations do
/// not: "het is geen geheim dat ..." affirms.
const CLAUSE_DENIALS: &[&str] = &["onzin", "nonsens", "onwaar", "betwijfel"];
/// How many words a denial may stand before its `dat`/`of`, and how far into the clause it reaches.
const DENIAL_TO_CLAUSE: usize = 2;
const CLAUSE_REACH: usize = 8;

/// True when the cue at word `i` stands in a `dat`/`of` clause that a negation or denial before it
/// denies (all in one sentence). A question does not deny: "is het niet zo dat ...?" and "denk je
/// niet dat ...?" assert the clause.
fn in_denied_clause(words: &[Word], i: usize) -> bool {
    if words[i].in_question {
        return false;
    }
    earlier_in_sentence(words, i, CLAUSE_REACH).any(|k| {
        let (dat, of) = (words[k].text == "dat", words[k].text == "of");
        (dat || of)
            && earlier_in_sentence(words, k, DENIAL_TO_CLAUSE).any(|j| {
                let w: &str = &words[j].text;
                let niet = dat && w == "niet" && (j + 1 == k || (j + 2 == k && words[j + 1].text == "zo"));
                CLAUSE_DENIALS.contains(&w) || niet
            })
    })
}

/// The positions of the words before word `i`, at most `reach` back, in its sentence.
fn earlier_in_sentence<'w>(words: &'w [Word], i: usize, reach: usize) -> impl Iterator<Item = usize> + 'w {
    let sentence = words[i].sentence;
    (i.saturating_sub(reach)..i).filter(move |&k| words[k].sentence == sentence)
}

/// Verbs of saying and thinking that report a claim in a `dat` clause.
const REPORTING_VERBS: &[&str] = &[
    "zegt", "zeggen", "zei", "zeiden", "denkt", "denken", "dacht", "dachten", "beweert", "beweren", "beweerde",
    "claimt", "claimen", "claimde", "vindt", "vinden", "vond", "vonden", "meent", "menen", "roept", "roepen",
    "geloven", "gelooft",
];
/// Words that make a report the writer's own ("ik denk dat", "wij vinden dat").
const FIRST_PERSON: &[&str] = &["ik", "we", "wij", "mij", "me", "ons", "mijn"];
/// How far into a reported `dat` clause a cue may stand (a report runs on to the end of the sentence).
const REPORT_REACH: usize = 24;
/// How many words before the reporting verb its subject may stand.
const REPORTER_REACH: usize = 4;

/// True when the cue at word `i` stands in a claim the writer attributes to someone else, in the same
/// sentence: a `dat` clause after a verb of saying or thinking whose subject is not the writer
/// ("Clearview zegt dat ...", "bedrijven die denken dat ...", but not "ik denk dat ..." nor a
/// question).
fn reported(words: &[Word], i: usize) -> bool {
    // "Denk je niet dat ...?" asks the reader to agree with the writer: the writer's claim.
    if words[i].in_question {
        return false;
    }
    let first_person = |j: usize| FIRST_PERSON.contains(&words[j].text.as_ref());
    // "maar" after the `dat` starts the writer's own clause ("ze zeggen dat ..., maar ..."), unless it
    // is "maar ook" inside the report.
    let main_clause_after =
        |k: usize| (k + 1..i).any(|j| words[j].text == "maar" && words.get(j + 1).is_none_or(|w| w.text != "ook"));
    earlier_in_sentence(words, i, REPORT_REACH).filter(|&k| words[k].text == "dat" && !main_clause_after(k)).any(|k| {
        earlier_in_sentence(words, k, DENIAL_TO_CLAUSE).any(|v| {
            REPORTING_VERBS.contains(&words[v].text.as_ref())
                // "ik denk dat", "denk ik dat", "we vinden dat": the writer's own view.
                && !earlier_in_sentence(words, k, k - v + REPORTER_REACH).any(first_person)
        })
    })
}

/// A word of a text with its character offsets (start inclusive, end exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Word<'a> {
    /// The folded word: borrowed from the text when folding leaves it as it is.
    pub text: std::borrow::Cow<'a, str>,
    pub start: usize,
    pub end: usize,
    /// Index of the sentence the word is in.
    pub sentence: usize,
    /// True when that sentence ends in a question mark.
    pub in_question: bool,
}

/// Words of a text, folded to lower case, with character offsets and sentence numbers.
pub fn words_with_offsets(text: &str) -> Vec<Word<'_>> {
    words_and_sentences(text).0
}

/// [`words_with_offsets`] and the sentence segments of the text (Unicode sentence bounds).
pub fn words_and_sentences(text: &str) -> (Vec<Word<'_>>, Vec<&str>) {
    // Room for the words and sentences of ordinary prose, so the lists rarely grow.
    let mut out = Vec::with_capacity(text.len() / 5 + 1);
    let mut sentences = Vec::with_capacity(text.len() / 40 + 1);
    // Words come in text order: count characters from the last word's end (byte `at`, char `c`).
    // In ASCII text a character is a byte.
    let ascii = text.is_ascii();
    let (mut at, mut c) = (0usize, 0usize);
    let mut chars_to = |b: usize| {
        if ascii {
            return b;
        }
        c += text[at..b].chars().count();
        at = b;
        c
    };
    for (s, (sent_start, sentence)) in crate::textnorm::sentence_bound_indices(text).into_iter().enumerate() {
        sentences.push(sentence);
        let in_question = sentence.trim_end().ends_with('?');
        for (b, w) in sentence.unicode_word_indices() {
            let start = sent_start + b;
            let (start, end) = (chars_to(start), chars_to(start + w.len()));
            out.push(Word { text: crate::textnorm::fold_word(w), start, end, sentence: s, in_question });
        }
    }
    (out, sentences)
}

/// A compiled cue phrase: a sequence of words, each matched exactly or as a prefix (`*`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub phrase: String,
    parts: Vec<(String, bool)>,
    has_negation: bool,
}

impl Cue {
    pub fn new(phrase: &str) -> Option<Cue> {
        let parts: Vec<(String, bool)> = phrase
            .split_whitespace()
            .flat_map(|token| {
                let prefix = token.ends_with('*');
                let words: Vec<String> = crate::textnorm::words(token.trim_end_matches('*'));
                let n = words.len();
                words.into_iter().enumerate().map(move |(i, w)| (w, prefix && i + 1 == n))
            })
            .collect();
        if parts.is_empty() {
            return None;
        }
        let has_negation = parts.iter().any(|(w, _)| NEGATIONS.contains(&w.as_str()));
        Some(Cue { phrase: phrase.to_string(), parts, has_negation })
    }

    fn matches_at(&self, words: &[Word], i: usize) -> bool {
        if i + self.parts.len() > words.len() {
            return false;
        }
        self.parts.iter().enumerate().all(|(k, (p, prefix))| {
            let w: &str = &words[i + k].text;
            if *prefix { w.starts_with(p.as_str()) } else { w == p }
        })
    }
}

/// One place where a cue phrase occurs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CueHit {
    pub phrase: String,
    /// Character offsets in the text searched (start inclusive, end exclusive).
    pub start: usize,
    pub end: usize,
    /// True when a negation a few words before governs the cue (and the cue holds none itself).
    pub negated: bool,
    /// True when the cue stands in what the writer reports someone else saying or thinking ("Clearview
    /// zegt dat ...", "bedrijven die denken dat ..."): not the writer's position.
    pub reported: bool,
}

/// Find every occurrence of the cues in `words` (from [`words_with_offsets`]).
pub fn find_cues(cues: &[Cue], words: &[Word]) -> Vec<CueHit> {
    let mut hits = Vec::new();
    for i in 0..words.len() {
        let first = words[i].text.as_bytes().first();
        for cue in cues {
            // Most cues fail on the first letter already.
            if cue.parts[0].0.as_bytes().first() == first && cue.matches_at(words, i) {
                hits.push(cue.hit_at(words, i));
            }
        }
    }
    hits
}

impl Cue {
    /// The hit of a cue that matches at word `i`, with its negation.
    fn hit_at(&self, words: &[Word], i: usize) -> CueHit {
        let last = &words[i + self.parts.len() - 1];
        let negated = !self.has_negation
            && ((i.saturating_sub(NEGATION_REACH)..i)
                .any(|j| words[j].sentence == words[i].sentence && NEGATIONS.contains(&words[j].text.as_ref()))
                || in_denied_clause(words, i));
        CueHit {
            phrase: self.phrase.clone(),
            start: words[i].start,
            end: last.end,
            negated,
            reported: reported(words, i),
        }
    }
}

/// Several cue lists indexed by their first word, so that a text is searched for all of them in
/// one pass: each word is looked up once instead of being compared with every cue.
#[derive(Debug, Clone, Default)]
pub struct CueIndex {
    /// First word (exact) → (list, cue) positions.
    exact: crate::textnorm::FastMap<String, Vec<(usize, usize)>>,
    /// First words matched as a prefix (`*`), by the first byte a word must have to start with them
    /// (256 lists; an empty prefix is in every list).
    prefix: Vec<Vec<(String, usize, usize)>>,
}

impl CueIndex {
    pub fn new(lists: &[&[Cue]]) -> CueIndex {
        let mut index = CueIndex { prefix: vec![Vec::new(); 256], ..CueIndex::default() };
        for (l, list) in lists.iter().enumerate() {
            for (c, cue) in list.iter().enumerate() {
                let (first, is_prefix) = &cue.parts[0];
                if *is_prefix {
                    match first.as_bytes().first() {
                        Some(&b) => index.prefix[b as usize].push((first.clone(), l, c)),
                        None => index.prefix.iter_mut().for_each(|p| p.push((first.clone(), l, c))),
                    }
                } else {
                    index.exact.entry(first.clone()).or_default().push((l, c));
                }
            }
        }
        index
    }

    /// The hits of each list, in the order [`find_cues`] gives them (by word, then by cue).
    pub fn find(&self, lists: &[&[Cue]], words: &[Word]) -> Vec<Vec<CueHit>> {
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let exact = self.exact.get(w.text.as_ref()).into_iter().flatten().copied();
            let candidates = w.text.as_bytes().first().and_then(|&b| self.prefix.get(b as usize));
            let prefix = candidates
                .into_iter()
                .flatten()
                .filter(|(p, _, _)| w.text.starts_with(p.as_str()))
                .map(|&(_, l, c)| (l, c));
            for (l, c) in exact.chain(prefix) {
                if lists[l][c].matches_at(words, i) {
                    found.push((l, i, c));
                }
            }
        }
        found.sort_unstable();
        let mut out = vec![Vec::new(); lists.len()];
        for (l, i, c) in found {
            out[l].push(lists[l][c].hit_at(words, i));
        }
        out
    }
}

/// Compile a list of phrases.
pub fn compile(phrases: &[String]) -> Vec<Cue> {
    phrases.iter().filter_map(|p| Cue::new(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cue_index_finds_what_each_list_finds() {
        let cb = Codebook::load(DEFAULT_PATH).unwrap();
        let lists: Vec<Vec<Cue>> = cb
            .dimensions
            .iter()
            .flat_map(|d| d.labels.iter().map(|l| compile(&l.cues)))
            .chain(cb.clusters.iter().map(|c| compile(&c.cues)))
            .collect();
        let refs: Vec<&[Cue]> = lists.iter().map(Vec::as_slice).collect();
        let index = CueIndex::new(&refs);
        let text = std::fs::read_to_string("threads/clearview-ap-2024/thread.txt").unwrap();
        let words = words_with_offsets(&text);
        let by_index = index.find(&refs, &words);
        let total: usize = by_index.iter().map(Vec::len).sum();
        assert!(total > 50, "the seed thread holds cues: {total}");
        for (l, list) in refs.iter().enumerate() {
            assert_eq!(by_index[l], find_cues(list, &words), "list {l}");
        }
    }

    #[test]
    fn default_codebook_loads() {
        let cb = Codebook::load(DEFAULT_PATH).unwrap();
        assert_eq!(cb.dimensions.len(), 2);
        assert_eq!(cb.dimension("jurisdiction").unwrap().label_ids(), vec!["none", "applies", "rejects"]);
        assert_eq!(cb.clusters.len(), 10);
    }

    #[test]
    fn bad_codebooks_are_named_errors() {
        let e = Codebook::parse("id = 1", "x.toml").unwrap_err();
        assert!(e.to_string().starts_with("x.toml: line 1"), "{e}");
        let e = Codebook::parse("id='a'\ntitle='t'\ndimensions=[]", "x.toml").unwrap_err();
        assert!(e.to_string().contains("no dimensions"), "{e}");
    }

    #[test]
    fn cues_match_with_offsets_prefixes_and_negation() {
        let cues = compile(&["deurwaarder".into(), "betaal*".into(), "van toepassing".into(), "niet betalen".into()]);
        let text = "Een deurwaarder? Die boete betaalt Clearview nooit. Dat is niet van toepassing.";
        let hits = find_cues(&cues, &words_with_offsets(text));
        let got: Vec<(&str, &str, bool)> = hits
            .iter()
            .map(|h| (h.phrase.as_str(), &text[char_to_byte(text, h.start)..char_to_byte(text, h.end)], h.negated))
            .collect();
        assert_eq!(
            got,
            vec![
                ("deurwaarder", "deurwaarder", false),
                ("betaal*", "betaalt", false),
                ("van toepassing", "van toepassing", true)
            ]
        );
        // A cue that holds its own negation is not negated again.
        let hits = find_cues(&cues, &words_with_offsets("Ze gaan echt niet betalen."));
        assert!(hits.iter().any(|h| h.phrase == "niet betalen" && !h.negated));
        // A denied clause negates a cue deep inside it; doubt ("weet niet of") does not.
        for (text, negated) in [
            ("Ik denk niet dat de AVG hier echt van toepassing is.", true),
            ("Ik vind het onzin dat wetgeving van toepassing is als je een domein bezoekt.", true),
            ("Ik betwijfel of die regels voor hen van toepassing zijn.", true),
            ("Ik weet niet of de AVG hier van toepassing is.", false),
            ("Het is geen geheim dat de AVG hier van toepassing is.", false),
            ("Ze willen niet horen dat de AVG op hen van toepassing is.", false),
            ("Ik denk dat de AVG hier wel degelijk van toepassing is.", false),
            ("Is het niet zo dat de AVG hier gewoon van toepassing is?", false),
            ("Denk je niet dat de AVG hier van toepassing is?", false),
        ] {
            let hits = find_cues(&cues, &words_with_offsets(text));
            assert_eq!(hits.iter().map(|h| h.negated).collect::<Vec<_>>(), vec![negated], "{text}");
        }
        // Negation does not reach into the next sentence.
        let hits = find_cues(&cues, &words_with_offsets("Niet. Een deurwaarder helpt."));
        assert!(!hits[0].negated);
        // A claim the writer reports of someone else is marked; the writer's own view and a question
        // put to the reader are not.
        for (text, reported) in [
            ("Clearview zegt dat de AVG op hen niet van toepassing is.", true),
            ("Ik word moe van bedrijven die denken dat de AVG voor hen niet van toepassing is.", true),
            ("De AP vindt dat de AVG hier van toepassing is.", true),
            ("Ik denk dat de AVG hier wel degelijk van toepassing is.", false),
            ("Wij vinden dat de AVG hier van toepassing is.", false),
            ("Denk je niet dat de AVG hier van toepassing is?", false),
            ("De AVG is hier van toepassing, zegt de AP.", false),
            ("Ze zeggen dat het niet kan, maar de AVG is hier echt wel van toepassing.", false),
            (
                "Ik word moe van bedrijven die denken dat wet- en regelgeving, zoals in dit geval de AVG maar ook in meer algemene zin, voor hen niet van toepassing is.",
                true,
            ),
        ] {
            let hits = find_cues(&cues, &words_with_offsets(text));
            assert!(!hits.is_empty(), "{text}");
            assert!(hits.iter().all(|h| h.reported == reported), "{text}: {hits:?}");
        }
    }

    fn char_to_byte(text: &str, c: usize) -> usize {
        text.char_indices().nth(c).map_or(text.len(), |(b, _)| b)
    }
}
