//! The data model every stage shares: a thread (article + comments), the blocks of a comment body,
//! the reply edges with their evidence, and the warnings a reader raises.
//!
//! The JSON that `draad parse` writes is exactly the serde form of [`Thread`] (see the README for the
//! contract). Later stages add fields to [`Comment`]; existing fields keep their shape.

use serde::{Deserialize, Serialize};

/// Version tag of the JSON output. Bump when a field changes meaning or shape.
pub const SCHEMA: &str = "draad.thread/1";

/// A whole thread: the article, its reactions in display order, and what the reader noticed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Thread {
    #[serde(default = "schema")]
    pub schema: String,
    pub source: Source,
    #[serde(default)]
    pub article: Article,
    pub comments: Vec<Comment>,
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// Where the thread came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Source {
    /// The path given by the user (`-` for standard input); the first page when several were given.
    pub path: String,
    pub format: Format,
    /// Every page, in the order given, when a thread split over pages was read from several saved
    /// pages (left out otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<String>,
}

impl Source {
    /// The path to show a reader: every page, joined by ` + `, when the thread came from several.
    pub fn shown(&self) -> String {
        if self.pages.is_empty() { self.path.clone() } else { self.pages.join(" + ") }
    }
}

/// Input formats draad reads.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Plain text copied from a Tweakers page (nesting lost).
    Text,
    /// A saved Tweakers HTML page.
    Html,
    /// draad's own JSON (the output of `draad parse`).
    Json,
    /// One JSON object per line, one comment each (generic, columns mappable).
    Jsonl,
    /// A CSV table of comments with a header row (generic, columns mappable).
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Html => "html",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }
}

/// The news article the reactions belong to. Every field may be missing in some input.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Article {
    pub title: Option<String>,
    /// Paragraphs of the article body (sub-headings are short paragraphs).
    #[serde(default)]
    pub body: Vec<String>,
    pub author: Option<String>,
    /// The author's function ("Redacteur", "Nieuwscoördinator").
    pub author_function: Option<String>,
    /// The date as the page shows it, e.g. `03-09-2024 • 10:38`.
    pub date: Option<String>,
    /// The same date as ISO 8601 with the Europe/Amsterdam offset, when it could be read.
    pub date_iso: Option<String>,
    /// The reaction count the page declares (`Reacties (125)`), collapsed reactions included.
    pub declared_reactions: Option<u32>,
    /// The six score-filter counts: score >= -1, 0, 1, 2, 3, and unrated.
    pub filter_counts: Option<FilterCounts>,
    pub submitter: Option<String>,
    /// True when the page says no new reactions can be posted.
    #[serde(default)]
    pub closed: bool,
    /// 1-based inclusive lines of the article in a text input.
    pub span: Option<Span>,
}

/// The moderation filter counts of a Tweakers page (cumulative: score >= level).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct FilterCounts {
    pub at_least_minus_1: u32,
    pub at_least_0: u32,
    pub at_least_1: u32,
    pub at_least_2: u32,
    pub at_least_3: u32,
    pub unrated: u32,
}

impl FilterCounts {
    pub fn from_slice(v: &[u32]) -> Option<Self> {
        match v {
            [a, b, c, d, e, f] => Some(FilterCounts {
                at_least_minus_1: *a,
                at_least_0: *b,
                at_least_1: *c,
                at_least_2: *d,
                at_least_3: *e,
                unrated: *f,
            }),
            _ => None,
        }
    }
    /// Reactions with score -1, which Tweakers collapses (and a copy of the page omits).
    pub fn collapsed(&self) -> u32 {
        self.at_least_minus_1.saturating_sub(self.at_least_0)
    }
}

/// 1-based inclusive line range in the input file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Span {
    pub first_line: usize,
    pub last_line: usize,
}

/// One reaction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comment {
    /// Stable id: the Tweakers reaction id where known, else `c<index>`.
    pub id: String,
    /// 1-based position in display order.
    #[serde(default)]
    pub index: usize,
    /// The id of the comment this one answers, or `None` for a reply to the article.
    pub parent: Option<String>,
    /// How sure the reader is of `parent` (1.0 when the input states it).
    #[serde(default = "one")]
    pub parent_confidence: f64,
    /// What decided the parent.
    #[serde(default)]
    pub parent_evidence: Vec<Evidence>,
    /// When the parent was rebuilt from copied text: every parent the reader weighed with a
    /// probability of at least 0.05, and the chosen one, most likely first (`parent` null for the
    /// article). Empty when the input states the parent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent_candidates: Vec<ParentCandidate>,
    pub author: Option<String>,
    #[serde(default)]
    pub author_id: Option<String>,
    /// Posting time as the page shows it (`3 september 2024 10:56`).
    #[serde(default)]
    pub time: Option<String>,
    /// Posting time as ISO 8601 with the Europe/Amsterdam offset.
    #[serde(default)]
    pub time_iso: Option<String>,
    /// Moderation score -1..3; `None` when unrated or unknown.
    #[serde(default)]
    pub score: Option<i32>,
    /// True for a collapsed reaction (score -1) whose text the page does not show.
    #[serde(default)]
    pub collapsed: bool,
    /// True when the reaction is by the article's author.
    #[serde(default)]
    pub by_article_author: bool,
    /// The commenter's own words: the body without quotes and without the edit line.
    pub text: String,
    #[serde(default)]
    pub blocks: Vec<Block>,
    #[serde(default)]
    pub mentions: Vec<String>,
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default)]
    pub edit: Option<EditLine>,
    /// Lines of the input file (text input only).
    #[serde(default)]
    pub span: Option<Span>,
    /// How the start and end of the comment were found (text input; `certain` otherwise).
    #[serde(default)]
    pub provenance: Provenance,
    /// Stance per dimension of the codebook (added by `draad analyze`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stance: Option<std::collections::BTreeMap<String, Label>>,
    /// Whether the comment agrees or disagrees with its parent (added by `draad analyze`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_to_parent: Option<Label>,
    /// Argument clusters (added by `draad analyze`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<ClusterAssignment>,
}

/// A parent the reader weighed for a reply rebuilt from copied text, with its probability (given the
/// parents chosen before it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParentCandidate {
    /// A comment id, or `None` for the article.
    pub parent: Option<String>,
    pub probability: f64,
}

/// The argument clusters of a comment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClusterAssignment {
    pub primary: String,
    #[serde(default)]
    pub secondary: Vec<String>,
    /// Probability of the primary cluster.
    pub confidence: f64,
    #[serde(default)]
    pub evidence: Vec<LabelEvidence>,
    /// The group found by discovery, for a comment that fits no codebook cluster well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovered: Option<String>,
    /// The probability of every cluster of the codebook, in its order (for the stance stage; not
    /// written out).
    #[serde(skip)]
    pub probabilities: Vec<f64>,
}

/// A label with its confidence and the evidence behind it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Label {
    pub label: String,
    /// The probability of `label`: `probabilities[label]` when those are given.
    pub confidence: f64,
    #[serde(default)]
    pub evidence: Vec<LabelEvidence>,
    /// The probability of every label of the question, rounded to three decimals (a stance or a
    /// relation the model scored; empty for a rule's label).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub probabilities: std::collections::BTreeMap<String, f64>,
}

impl Label {
    /// The probability of every label, as written: `labels[k]` with `p[k]`, rounded by [`round3`].
    pub fn probabilities_of(labels: &[String], p: &[f64]) -> std::collections::BTreeMap<String, f64> {
        labels.iter().cloned().zip(p.iter().map(|&x| round3(x))).collect()
    }
}

/// Rounded to three decimals, as confidences and probabilities are written.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Evidence for a label. `start`/`end` are character offsets into the comment's `text` when the
/// evidence is a phrase of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelEvidence {
    /// What kind of evidence (`cue`, `feature`, `graph`, ...): a fixed word when draad wrote it.
    pub kind: std::borrow::Cow<'static, str>,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<usize>,
}

/// A contribution this large or larger to a label's score is named in its evidence.
pub const NOTED_FROM: f64 = 0.25;

/// Add `weight * values[k]` to the score of every label `k`. A contribution of [`NOTED_FROM`] or
/// more becomes evidence of `kind` without offsets (it speaks for the whole comment), its detail
/// written by `detail(k, values[k])`.
pub fn add_scores(
    scores: &mut [f64],
    evidence: &mut [Vec<LabelEvidence>],
    values: &[f64],
    weight: f64,
    kind: &'static str,
    detail: impl Fn(usize, f64) -> String,
) {
    for (k, &v) in values.iter().enumerate() {
        scores[k] += weight * v;
        if weight * v >= NOTED_FROM {
            evidence[k].push(LabelEvidence { kind: kind.into(), detail: detail(k, v), start: None, end: None });
        }
    }
}

/// One block of a comment body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    Paragraph { text: String },
    Quote { text: String, source: QuoteSource },
    ListItem { text: String },
}

impl Block {
    pub fn text(&self) -> &str {
        match self {
            Block::Paragraph { text } | Block::Quote { text, .. } | Block::ListItem { text } => text,
        }
    }
}

/// Where quoted text comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum QuoteSource {
    Article,
    Comment {
        id: String,
    },
    /// Matches nothing in the thread: a quote of an outside source (or of a collapsed reaction).
    Outside,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Link {
    /// The text shown on the page.
    pub text: String,
    /// The target, when the input has it (HTML `href`); copied text keeps only the shown text.
    pub url: Option<String>,
    /// True when the shown text was shortened with `...` and the full URL is not in the text.
    pub truncated: bool,
}

/// `[Reactie gewijzigd door NAME op DATE]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EditLine {
    pub name: String,
    pub date: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Provenance {
    pub start: Certainty,
    pub end: Certainty,
    /// Confidence that the comment starts where it does (1.0 when certain).
    #[serde(default = "one")]
    pub boundary_confidence: f64,
}

impl Default for Provenance {
    fn default() -> Self {
        Provenance { start: Certainty::Certain, end: Certainty::Certain, boundary_confidence: 1.0 }
    }
}

fn schema() -> String {
    SCHEMA.to_string()
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    #[default]
    Certain,
    Inferred,
}

/// One piece of evidence behind a decision, e.g. `{kind: "quote", detail: "opens with a quote of c12"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    pub kind: String,
    pub detail: String,
}

impl Evidence {
    pub fn new(kind: &str, detail: impl Into<String>) -> Self {
        Evidence { kind: kind.to_string(), detail: detail.into() }
    }
}

/// Something the reader noticed but could work around.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Warning {
    pub kind: String,
    pub message: String,
    /// Where, e.g. `line 212` or `reaction r_18998006`.
    #[serde(default)]
    pub place: Option<String>,
}

impl Warning {
    pub fn new(kind: &str, message: impl Into<String>, place: Option<String>) -> Self {
        Warning { kind: kind.to_string(), message: message.into(), place }
    }
}

impl Thread {
    /// Find a comment by id.
    pub fn comment(&self, id: &str) -> Option<&Comment> {
        self.comments.iter().find(|c| c.id == id)
    }

    /// For every comment, the position of its parent in `comments` (`None` for a reply to the
    /// article or a parent that is not in the thread).
    pub fn parent_positions(&self) -> Vec<Option<usize>> {
        let pos: crate::textnorm::FastMap<&str, usize> =
            self.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
        self.comments.iter().map(|c| c.parent.as_deref().and_then(|p| pos.get(p).copied())).collect()
    }
}
