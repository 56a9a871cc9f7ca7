//! The summary of an analysed thread, computed from the labels only: per cluster its size, share,
//! stance balance, representative comments and strongest counter-argument; for the thread the stance
//! distribution, the clashes (replies that take the opposite side of their parent), the longest
//! back-and-forth chains, the top-level comments that drew the most replies and the most active
//! participants. Nothing here is prose the data do not support: every item is a count or a comment.

use crate::clusters::{DiscoveredGroup, cosine};
use crate::codebook::Codebook;
use crate::model::{Comment, Span, Thread, round3};
use serde::Serialize;
use std::collections::BTreeMap;

/// A comment quoted in the summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CommentRef {
    pub id: String,
    pub index: usize,
    pub author: Option<String>,
    pub span: Option<Span>,
    /// The first sentence or so of the comment's own text.
    pub excerpt: String,
    /// Stance label per dimension.
    pub stance: BTreeMap<String, String>,
}

/// Counts per label, per dimension.
pub type StanceCounts = BTreeMap<String, BTreeMap<String, usize>>;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClusterSummary {
    pub id: String,
    pub name: String,
    /// Comments with this primary cluster.
    pub size: usize,
    pub share: f64,
    /// Comments that have it as a secondary cluster.
    pub secondary: usize,
    pub stance: StanceCounts,
    pub representatives: Vec<CommentRef>,
    /// The best-placed comment on the other side of the cluster's main side, if any.
    pub counter_argument: Option<CommentRef>,
    /// For a discovered group: its distinctive terms.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Clash {
    pub dimension: String,
    pub reply: CommentRef,
    pub parent: CommentRef,
    /// How sure the reply graph is that the reply answers that parent (1 where the input states it).
    pub parent_confidence: f64,
    /// Product of the two labels' confidences and `parent_confidence`.
    pub strength: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReplyChain {
    /// The comments from the top-level one down.
    pub comments: Vec<CommentRef>,
    /// Known participants, in order of first appearance.
    pub participants: Vec<String>,
    /// Steps in the chain where the reply takes the opposite side of its parent.
    pub clashes: usize,
    /// The lowest parent confidence along the chain: the chain is no surer than its weakest link.
    pub weakest_link: f64,
}

/// How far the reply structure can be trusted: stated by the input (HTML, JSON) or rebuilt from
/// copied text, where the nesting is lost.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StructureNote {
    /// The parents were rebuilt from copied text (not given by a structure table).
    pub inferred: bool,
    /// Comments that answer another comment.
    pub replies: usize,
    /// Median parent confidence over all comments.
    pub median_parent_confidence: f64,
    /// Comments whose parent confidence is below 0.5.
    pub weak_parents: usize,
    /// Comments whose header names the one they answer or says they answer no one (a copy that
    /// keeps the reaction headers, or the article author's reactions).
    pub parents_from_headers: usize,
    /// Where the parents were rebuilt: the (at most [`CHECK_FIRST`]) least confident parents below
    /// 0.8, least confident first, the ones a reader who corrects the structure by hand should
    /// check first (on the seed thread, checking in this order brings more parents right than
    /// checking in display order; `draad eval-graph` measures it).
    pub check_first: Vec<ParentToCheck>,
}

/// How many parents [`StructureNote::check_first`] names.
pub const CHECK_FIRST: usize = 10;

/// A parent worth checking by hand.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ParentToCheck {
    pub id: String,
    pub index: usize,
    /// The comment's first line in the input (copied text).
    pub first_line: Option<usize>,
    pub parent_confidence: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    /// The labels of every dimension, in codebook order (the neutral label first).
    pub labels: BTreeMap<String, Vec<String>>,
    pub comments: usize,
    pub top_level: usize,
    pub stance: StanceCounts,
    pub clashes: Vec<Clash>,
    pub chains: Vec<ReplyChain>,
    /// Top-level comments with the most replies below them (all depths). Where the structure was
    /// rebuilt, only those whose place at the top is at least [`SURE_TOP_LEVEL`] sure.
    pub most_replied: Vec<(CommentRef, usize)>,
    /// Top-level comments with replies left out of `most_replied` because their place at the top
    /// is a guess (rebuilt structures only).
    pub most_replied_left_out: usize,
    /// Authors with the most comments, among comments whose author is known.
    pub participants: Vec<(String, usize)>,
    pub known_authors: usize,
    pub structure: StructureNote,
    pub codebook_fit: CodebookFit,
}

/// How well the codebook's argument clusters fit the thread: a thread about another debate lands
/// almost wholly in the catch-all cluster, and then its stance labels say little.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CodebookFit {
    /// The codebook's id and title.
    pub codebook: String,
    pub title: String,
    /// Comments with text, and how many of them fit none of the named clusters (their primary
    /// cluster is the catch-all one).
    pub comments: usize,
    pub outside: usize,
    /// `outside` is more than [`POOR_FIT_SHARE`] of `comments`.
    pub poor: bool,
}

/// Above this share of comments outside every named cluster the codebook is said to fit poorly.
/// (The seed thread, the codebook's own debate: 3 of 118; the five held-out pages, on other debates: 66-91%.)
pub const POOR_FIT_SHARE: f64 = 0.5;

/// Of the comments with text, how many there are and how many fit none of the named clusters
/// (their primary cluster is `catch_all`), and whether that is more than [`POOR_FIT_SHARE`].
pub fn outside_named_clusters(comments: &[crate::model::Comment], catch_all: Option<&str>) -> (usize, usize, bool) {
    let with_text: Vec<_> = comments.iter().filter(|c| !c.collapsed && !c.text.trim().is_empty()).collect();
    let outside =
        with_text.iter().filter(|c| c.clusters.as_ref().is_some_and(|a| Some(a.primary.as_str()) == catch_all)).count();
    let poor = catch_all.is_some() && !with_text.is_empty() && outside as f64 > POOR_FIT_SHARE * with_text.len() as f64;
    (with_text.len(), outside, poor)
}

fn codebook_fit(thread: &Thread, codebook: &Codebook) -> CodebookFit {
    let (comments, outside, poor) = outside_named_clusters(&thread.comments, crate::clusters::catch_all(codebook));
    CodebookFit { codebook: codebook.id.clone(), title: codebook.title.clone(), comments, outside, poor }
}

impl CodebookFit {
    /// A sentence for the report when the fit is poor.
    pub fn note(&self) -> Option<String> {
        self.poor.then(|| {
            format!(
                "The codebook '{}' ({}) fits this thread poorly: {} of {} comments ({:.0}%) fit none of its \
                 argument clusters, so its stance labels say little here. A codebook for this thread's own \
                 debate can be passed with --codebook.",
                self.codebook,
                self.title,
                self.outside,
                self.comments,
                100.0 * self.outside as f64 / self.comments as f64
            )
        })
    }
}

const EXCERPT_CHARS: usize = 160;

fn excerpt(text: &str) -> String {
    let t = single_spaced(text);
    let chars = if t.is_ascii() { t.len() } else { t.chars().count() };
    if chars <= EXCERPT_CHARS {
        return t;
    }
    let cut = match t.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => &t[..end],
        None => &t[..],
    };
    match cut.rfind(' ') {
        Some(i) if i > EXCERPT_CHARS / 2 => format!("{}…", &cut[..i]),
        _ => format!("{cut}…"),
    }
}

/// The words of a text joined by single spaces.
fn single_spaced(text: &str) -> String {
    if !text.is_ascii() {
        let mut t = String::with_capacity(text.len());
        for w in text.split_whitespace() {
            if !t.is_empty() {
                t.push(' ');
            }
            t.push_str(w);
        }
        return t;
    }
    // ASCII: the white space of `split_whitespace` is tab to carriage return and the space.
    let mut t = String::with_capacity(text.len());
    for w in text.split(|c: char| matches!(c, '\t'..='\r' | ' ')).filter(|w| !w.is_empty()) {
        if !t.is_empty() {
            t.push(' ');
        }
        t.push_str(w);
    }
    t
}

/// The excerpt of a collapsed reaction, which has no text.
const COLLAPSED_EXCERPT: &str = "(collapsed: no text)";

pub fn comment_ref(c: &Comment) -> CommentRef {
    CommentRef {
        id: c.id.clone(),
        index: c.index,
        author: c.author.clone(),
        span: c.span,
        excerpt: if c.collapsed && c.text.trim().is_empty() { COLLAPSED_EXCERPT.into() } else { excerpt(&c.text) },
        stance: c
            .stance
            .as_ref()
            .map(|s| s.iter().map(|(d, l)| (d.clone(), l.label.clone())).collect())
            .unwrap_or_default(),
    }
}

fn stance_counts(codebook: &Codebook, comments: &[&Comment]) -> StanceCounts {
    let mut out = StanceCounts::new();
    for d in &codebook.dimensions {
        let mut m: BTreeMap<String, usize> = d.label_ids().into_iter().map(|l| (l, 0)).collect();
        for c in comments {
            if let Some(l) = c.stance.as_ref().and_then(|s| s.get(&d.id)) {
                match m.get_mut(&l.label) {
                    Some(n) => *n += 1,
                    None => {
                        m.insert(l.label.clone(), 1);
                    }
                }
            }
        }
        out.insert(d.id.clone(), m);
    }
    out
}

fn label_of<'a>(c: &'a Comment, dim: &str) -> Option<&'a crate::model::Label> {
    c.stance.as_ref().and_then(|s| s.get(dim))
}

/// Are two labels opposite sides (both non-neutral and different)?
fn opposite(codebook: &Codebook, dim: &str, a: &str, b: &str) -> bool {
    codebook.dimension(dim).is_some_and(|d| a != d.neutral && b != d.neutral && a != b)
}

/// Summaries of the codebook clusters (largest first) and of discovered groups.
/// `vectors` are the TF-IDF vectors of the comments' stems ([`crate::clusters::stem_vectors`]), for
/// the centrality of the representatives.
pub fn cluster_summaries(
    thread: &Thread,
    codebook: &Codebook,
    discovered: &[DiscoveredGroup],
    vectors: &[crate::clusters::TermVector],
) -> Vec<ClusterSummary> {
    let n = thread.comments.len().max(1);
    let mut groups: Vec<(String, String, Vec<String>, Vec<usize>, usize)> = Vec::new();
    for cl in &codebook.clusters {
        let members: Vec<usize> = (0..thread.comments.len())
            .filter(|&i| thread.comments[i].clusters.as_ref().is_some_and(|a| a.primary == cl.id))
            .collect();
        let secondary = thread
            .comments
            .iter()
            .filter(|c| c.clusters.as_ref().is_some_and(|a| a.secondary.contains(&cl.id)))
            .count();
        groups.push((cl.id.clone(), cl.name.clone(), Vec::new(), members, secondary));
    }
    let pos: crate::textnorm::FastMap<&str, usize> =
        thread.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    for g in discovered {
        let members: Vec<usize> = g.members.iter().filter_map(|m| pos.get(m.as_str()).copied()).collect();
        groups.push((g.id.clone(), format!("New: {}", g.terms.join(", ")), g.terms.clone(), members, 0));
    }
    let mut out: Vec<ClusterSummary> = groups
        .into_iter()
        .filter(|g| !g.3.is_empty())
        .map(|(id, name, terms, members, secondary)| {
            let comments: Vec<&Comment> = members.iter().map(|&i| &thread.comments[i]).collect();
            // Centrality: similarity to the members' centroid; representatives are central and confident.
            // Each term's sum over the members, added in member order, in term order.
            let mut term_weights: Vec<(u32, f64)> = members.iter().flat_map(|&i| vectors[i].iter().copied()).collect();
            term_weights.sort_by_key(|t| t.0);
            let mut sums: Vec<(u32, f64)> = Vec::with_capacity(term_weights.len());
            for (t, x) in term_weights {
                match sums.last_mut() {
                    Some(last) if last.0 == t => last.1 += x,
                    _ => sums.push((t, 0.0 + x)),
                }
            }
            let norm = sums.iter().map(|(_, x)| x * x).sum::<f64>().sqrt().max(1e-12);
            let centroid: Vec<(u32, f64)> = sums.into_iter().map(|(t, x)| (t, x / norm)).collect();
            let weight = |i: usize| {
                let conf = thread.comments[i].clusters.as_ref().map_or(0.0, |a| a.confidence);
                cosine(&vectors[i], &centroid) * conf
            };
            let mut weighted: Vec<(usize, f64)> = members.iter().map(|&i| (i, weight(i))).collect();
            weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let ranked: Vec<usize> = weighted.into_iter().map(|(i, _)| i).collect();
            let take = if members.len() >= 6 { 3 } else { 2 };
            // The main side: the non-neutral label held most often in the cluster, on any dimension.
            let stance = stance_counts(codebook, &comments);
            let mut main: Option<(String, String, usize)> = None;
            for d in &codebook.dimensions {
                for (l, &count) in &stance[&d.id] {
                    if *l != d.neutral && count > 0 && main.as_ref().is_none_or(|m| count > m.2) {
                        main = Some((d.id.clone(), l.clone(), count));
                    }
                }
            }
            // The counter-argument: the best-placed comment on the other side. It is shown on its
            // own, so the representatives are the best-placed of the others.
            let counter = main.and_then(|(dim, label, _)| {
                ranked.iter().copied().find(|&i| {
                    label_of(&thread.comments[i], &dim).is_some_and(|l| opposite(codebook, &dim, &l.label, &label))
                })
            });
            let representatives: Vec<CommentRef> = ranked
                .iter()
                .filter(|&&i| Some(i) != counter)
                .take(take)
                .map(|&i| comment_ref(&thread.comments[i]))
                .collect();
            let counter_argument = counter.map(|i| comment_ref(&thread.comments[i]));
            ClusterSummary {
                id,
                name,
                size: members.len(),
                share: members.len() as f64 / n as f64,
                secondary,
                stance,
                representatives,
                counter_argument,
                terms,
            }
        })
        .collect();
    out.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    out
}

/// The thread-level summary.
pub fn summarise(thread: &Thread, codebook: &Codebook) -> Summary {
    let all: Vec<&Comment> = thread.comments.iter().collect();
    let parents = thread.parent_positions();
    let parent_of = |i: usize| parents[i];
    // Clashes: a reply on the opposite side of its parent.
    let mut clashes = Vec::new();
    for (i, c) in thread.comments.iter().enumerate() {
        let Some(p) = parent_of(i) else { continue };
        for d in &codebook.dimensions {
            if let (Some(a), Some(b)) = (label_of(c, &d.id), label_of(&thread.comments[p], &d.id))
                && opposite(codebook, &d.id, &a.label, &b.label)
            {
                clashes.push(Clash {
                    dimension: d.id.clone(),
                    reply: comment_ref(c),
                    parent: comment_ref(&thread.comments[p]),
                    parent_confidence: round3(c.parent_confidence),
                    strength: round3(a.confidence * b.confidence * c.parent_confidence),
                });
            }
        }
    }
    clashes.sort_by(|a, b| b.strength.total_cmp(&a.strength).then(a.reply.index.cmp(&b.reply.index)));
    // Chains: the deepest paths; each leaf gives its path up to the top level.
    let depths = crate::reply_graph::depths(thread);
    let mut has_child = vec![false; thread.comments.len()];
    let mut replies_below = vec![0usize; thread.comments.len()];
    // Display order is depth first: every reply comes after its parent, so one backward pass adds
    // each comment's replies to its parent's.
    for i in (0..thread.comments.len()).rev() {
        if let Some(p) = parent_of(i) {
            has_child[p] = true;
            if p < i {
                replies_below[p] += 1 + replies_below[i];
            }
        }
    }
    let mut leaves: Vec<usize> = (0..thread.comments.len()).filter(|&i| !has_child[i] && depths[i] >= 3).collect();
    leaves.sort_by(|&a, &b| depths[b].cmp(&depths[a]).then(a.cmp(&b)));
    let mut chains = Vec::new();
    let mut used_roots = Vec::new();
    for leaf in leaves {
        let mut path = vec![leaf];
        while let Some(p) = parent_of(*path.last().expect("non-empty")) {
            path.push(p);
        }
        path.reverse();
        if used_roots.contains(&path[0]) {
            continue;
        }
        used_roots.push(path[0]);
        let mut participants: Vec<String> = Vec::new();
        for &i in &path {
            if let Some(a) = &thread.comments[i].author
                && !participants.contains(a)
            {
                participants.push(a.clone());
            }
        }
        let clash_steps = path
            .windows(2)
            .filter(|w| {
                codebook.dimensions.iter().any(|d| {
                    match (label_of(&thread.comments[w[1]], &d.id), label_of(&thread.comments[w[0]], &d.id)) {
                        (Some(a), Some(b)) => opposite(codebook, &d.id, &a.label, &b.label),
                        _ => false,
                    }
                })
            })
            .count();
        let weakest_link = path[1..].iter().map(|&i| thread.comments[i].parent_confidence).fold(1.0, f64::min);
        chains.push(ReplyChain {
            comments: path.iter().map(|&i| comment_ref(&thread.comments[i])).collect(),
            participants,
            clashes: clash_steps,
            weakest_link: round3(weakest_link),
        });
        if chains.len() == 3 {
            break;
        }
    }
    // Where the structure was rebuilt, a comment put at the top with little confidence is most often
    // a reply cut off from its parent, and the replies counted below it belong to that parent.
    let structure = structure_note(thread);
    let (mut most_replied, left_out): (Vec<usize>, Vec<usize>) = (0..thread.comments.len())
        .filter(|&i| parent_of(i).is_none() && replies_below[i] > 0)
        .partition(|&i| !structure.inferred || thread.comments[i].parent_confidence >= SURE_TOP_LEVEL);
    most_replied.sort_by(|&a, &b| {
        replies_below[b].cmp(&replies_below[a]).then(thread.comments[a].index.cmp(&thread.comments[b].index))
    });
    most_replied.truncate(5);
    let most_replied: Vec<(CommentRef, usize)> =
        most_replied.into_iter().map(|i| (comment_ref(&thread.comments[i]), replies_below[i])).collect();
    let mut by_author: BTreeMap<String, usize> = BTreeMap::new();
    for c in &thread.comments {
        if let Some(a) = &c.author {
            match by_author.get_mut(a) {
                Some(n) => *n += 1,
                None => {
                    by_author.insert(a.clone(), 1);
                }
            }
        }
    }
    let known_authors = by_author.values().sum();
    let mut participants: Vec<(String, usize)> = by_author.into_iter().collect();
    participants.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    participants.truncate(8);
    Summary {
        labels: codebook.dimensions.iter().map(|d| (d.id.clone(), d.label_ids())).collect(),
        comments: thread.comments.len(),
        top_level: thread.comments.iter().filter(|c| c.parent.is_none()).count(),
        stance: stance_counts(codebook, &all),
        clashes,
        chains,
        most_replied,
        most_replied_left_out: left_out.len(),
        participants,
        known_authors,
        structure,
        codebook_fit: codebook_fit(thread, codebook),
    }
}

/// How sure a rebuilt top-level comment must be of its place to be listed among the most replied.
pub const SURE_TOP_LEVEL: f64 = 0.5;

fn structure_note(thread: &Thread) -> StructureNote {
    let mut confidences: Vec<f64> = thread.comments.iter().map(|c| c.parent_confidence).collect();
    confidences.sort_by(f64::total_cmp);
    let median = match confidences.len() {
        0 => 1.0,
        n if n % 2 == 1 => confidences[n / 2],
        n => (confidences[n / 2 - 1] + confidences[n / 2]) / 2.0,
    };
    // Copied text, unless the structure came from a table (`--structure`).
    let inferred = thread.source.format == crate::model::Format::Text
        && !thread.warnings.iter().any(|w| w.kind == crate::ingest::structure::STRUCTURE_GIVEN);
    let mut check_first: Vec<&Comment> =
        thread.comments.iter().filter(|c| inferred && c.parent_confidence < 0.8).collect();
    check_first.sort_by(|a, b| a.parent_confidence.total_cmp(&b.parent_confidence).then(a.index.cmp(&b.index)));
    StructureNote {
        inferred,
        replies: thread.comments.iter().filter(|c| c.parent.is_some()).count(),
        median_parent_confidence: round3(median),
        weak_parents: confidences.iter().filter(|&&c| c < 0.5).count(),
        parents_from_headers: thread
            .comments
            .iter()
            .filter(|c| c.parent_evidence.iter().any(|e| e.kind == "reply_to"))
            .count(),
        check_first: check_first
            .into_iter()
            .take(CHECK_FIRST)
            .map(|c| ParentToCheck {
                id: c.id.clone(),
                index: c.index,
                first_line: c.span.map(|s| s.first_line),
                parent_confidence: c.parent_confidence,
            })
            .collect(),
    }
}
