//! Argument clusters: every comment gets a primary cluster of the codebook and any secondary ones,
//! from a model trained on the annotated thread, the codebook's cue phrases, TF-IDF similarity to each
//! cluster's description, and the reply graph (a short reply such as "Klopt", or one whose own words
//! do not settle its topic, leans on its parent's topic). Comments that fit no cluster well are
//! grouped by themselves (hierarchical clustering on their TF-IDF vectors) and the new groups are
//! named by their most distinctive terms.

use crate::codebook::Codebook;
use crate::error::Result;
use crate::features::{CommentFeatures, Opening, sparse};
use crate::logreg::{LogReg, TrainOptions, softmax};
use crate::model::{ClusterAssignment, LabelEvidence, Thread, add_scores};
use crate::semantic::{Semantic, SentenceVectors, dot};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Weight of one cluster cue phrase. Chosen on the seed thread's cross-validation (with the reply
/// graph steps below in place) from 0.75 to 2.5: 1.5 scores best both with the annotated parents and
/// with the parents draad rebuilds (the README shows the grid).
pub const CUE_WEIGHT: f64 = 1.5;
/// The cue weights `draad eval --nested` chooses from inside each training fold.
pub const CUE_WEIGHT_GRID: &[f64] = &[0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5];
/// Weight of the cosine similarity to a cluster's description.
const DESCRIPTION_WEIGHT: f64 = 2.0;
/// How much a reply leans on its parent's clusters (times the parent's probabilities), when it is
/// short or its own words do not settle its topic. Chosen by cross-validation on the seed thread:
/// 3 to 6 all lift primary-cluster accuracy from 0.61 to 0.70-0.74 (0.72-0.75 against the second
/// annotation); 8 and more with no settling threshold let whole branches drift.
const INHERIT_WEIGHT: f64 = 5.0;
/// How much a comment whose own words do not settle its topic leans on what its replies (those that
/// settle theirs) are about, times their mean probabilities. On the seed thread's cross-validation
/// 2 and 4 added at most one comment, 6 to 20 three or four (8 chosen; accuracy 0.726 -> 0.764).
const REPLIES_WEIGHT: f64 = 8.0;
/// A topic taken from the parent is at most this share as sure as the parent's.
const INHERITED_CONFIDENCE: f64 = 0.9;
/// A comment whose own best cluster reaches this probability has settled its topic by itself.
const SETTLED_AT: f64 = 0.5;
/// A reply shorter than this (in characters) without cues of its own is a short reply.
const SHORT_REPLY: usize = 90;
/// Below this probability, and without a cue, a comment fits no cluster.
const FIT_AT_LEAST: f64 = 0.2;
/// A secondary cluster needs at least this probability.
const SECONDARY_MIN: f64 = 0.2;
/// Below this confidence (or in the catch-all cluster) a comment is a candidate for discovery.
const DISCOVERY_BELOW: f64 = 0.35;
/// Hierarchical clustering cut: cosine distance at which groups stop merging.
const DISCOVERY_CUT: f64 = 0.85;
/// The same cut on centred sentence vectors ([`crate::semantic::SentenceVectors::similarity`]).
const SEMANTIC_DISCOVERY_CUT: f64 = 0.6;
/// At most this many comments are clustered by discovery (the least certain ones).
pub const DISCOVERY_MAX: usize = 300;
/// How alike discovery takes a reply and its parent to be, at least (times the edge's confidence):
/// a reply is about what it answers, as the named clusters assume too. Chosen on the seed thread
/// (`cargo run --release --example discovery_against_clusters`: the adjusted Rand index of the
/// groups against the annotated clusters, every comment taking part, rose from 0.02 without the
/// edges to 0.17 at 0.8 with the annotated parents and to 0.13 with draad's own).
pub const REPLY_LIKENESS: f64 = 0.8;

/// The trained cluster model of one codebook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClusterModel {
    pub codebook: String,
    pub primary: LogReg,
}

impl ClusterModel {
    pub fn path_for(codebook: &Codebook) -> String {
        format!("models/clusters-{}.json", codebook.id)
    }
    pub fn load(path: &str) -> Result<ClusterModel> {
        crate::logreg::load_model(path, "cluster model")
    }
    pub fn save(&self, path: &str) -> Result<()> {
        crate::logreg::save_model(self, path)
    }
}

/// The catch-all cluster: the last cluster of the codebook without cues (or none).
pub fn catch_all(codebook: &Codebook) -> Option<&str> {
    codebook.clusters.iter().rev().find(|c| c.cues.is_empty()).map(|c| c.id.as_str())
}

/// Features for the cluster model: words, subwords, cluster cues (not the stance cues).
fn cluster_features(f: &CommentFeatures) -> Vec<(String, f64)> {
    sparse(f, Some("cluster"))
}

pub fn train(codebook: &Codebook, features: &[CommentFeatures], primary: &[String]) -> ClusterModel {
    let labels: Vec<String> = codebook.clusters.iter().map(|c| c.id.clone()).collect();
    let examples: Vec<(Vec<(String, f64)>, usize)> = features
        .iter()
        .zip(primary)
        .filter_map(|(f, p)| labels.iter().position(|l| l == p).map(|y| (cluster_features(f), y)))
        .collect();
    let opts = TrainOptions { l2: 0.1, ..TrainOptions::default() };
    ClusterModel { codebook: codebook.id.clone(), primary: LogReg::train(&labels, &examples, 2, opts) }
}

/// A sparse vector over a vocabulary: (term id, weight), sorted by id. Ids follow the terms'
/// alphabetical order, so sums over a vector run in the same order for every run.
pub type TermVector = Vec<(u32, f64)>;

/// TF-IDF vectors (stems and subwords) of texts, L2-normalised, with IDF from the same texts.
pub fn tfidf<T: AsRef<str>, D: AsRef<[T]>>(docs: &[D]) -> Vec<TermVector> {
    let n = docs.len() as f64;
    // Number the distinct terms as they come, then renumber them in alphabetical order.
    let mut first_seen: crate::textnorm::FastMap<&str, u32> = crate::textnorm::FastMap::default();
    let mut vocabulary: Vec<&str> = Vec::new();
    let mut seen_ids: Vec<Vec<u32>> = Vec::with_capacity(docs.len());
    for d in docs {
        let mut ids = Vec::with_capacity(d.as_ref().len());
        for t in d.as_ref() {
            let next = vocabulary.len() as u32;
            let id = *first_seen.entry(t.as_ref()).or_insert(next);
            if id == next {
                vocabulary.push(t.as_ref());
            }
            ids.push(id);
        }
        seen_ids.push(ids);
    }
    let mut alphabetical: Vec<u32> = (0..vocabulary.len() as u32).collect();
    alphabetical.sort_unstable_by_key(|&i| vocabulary[i as usize]);
    let mut rank = vec![0u32; vocabulary.len()];
    for (r, &i) in alphabetical.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let counted: Vec<Vec<(u32, f64)>> = seen_ids
        .into_iter()
        .map(|mut ids| {
            ids.iter_mut().for_each(|t| *t = rank[*t as usize]);
            ids.sort_unstable();
            let mut v: Vec<(u32, f64)> = Vec::with_capacity(ids.len());
            for t in ids {
                match v.last_mut() {
                    Some(last) if last.0 == t => last.1 += 1.0,
                    _ => v.push((t, 1.0)),
                }
            }
            v
        })
        .collect();
    let mut df = vec![0usize; vocabulary.len()];
    for (t, _) in counted.iter().flatten() {
        df[*t as usize] += 1;
    }
    counted
        .into_iter()
        .map(|mut v| {
            for (t, x) in v.iter_mut() {
                *x = (1.0 + x.ln()) * ((1.0 + n) / (1.0 + df[*t as usize] as f64)).ln();
            }
            let norm = v.iter().map(|(_, x)| x * x).sum::<f64>().sqrt().max(1e-12);
            v.iter_mut().for_each(|(_, x)| *x /= norm);
            v
        })
        .collect()
}

/// Dot product of two sparse vectors (the cosine, for unit vectors).
pub fn cosine(a: &[(u32, f64)], b: &[(u32, f64)]) -> f64 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    dot
}

/// Words too common in any debate to name a group by ("mensen", "zien", "denken"): a discovered
/// group that shares nothing else is no argument of its own and is not reported.
const GENERIC_WORDS: &[&str] = &[
    "mensen",
    "mens",
    "iemand",
    "iedereen",
    "zien",
    "zie",
    "denken",
    "denk",
    "vinden",
    "vind",
    "zeggen",
    "zeg",
    "komen",
    "komt",
    "maken",
    "krijgen",
    "laten",
    "staan",
    "zitten",
    "goed",
    "beter",
    "jaar",
    "tijd",
    "ding",
    "dingen",
    "manier",
    "vraag",
    "punt",
    "keer",
    "soort",
    "idee",
    "eigenlijk",
    "waarschijnlijk",
    "volgens",
];

fn is_generic_stem(stem: &str) -> bool {
    static STEMS: std::sync::LazyLock<std::collections::HashSet<String>> =
        std::sync::LazyLock::new(|| GENERIC_WORDS.iter().map(|w| crate::textnorm::stem(w)).collect());
    STEMS.contains(stem)
}

fn terms(f: &CommentFeatures) -> &[std::sync::Arc<str>] {
    &f.stems
}

/// TF-IDF vectors of the comments' stems, shared by discovery and the summary.
pub fn stem_vectors(features: &[CommentFeatures]) -> Vec<TermVector> {
    tfidf(&features.iter().map(terms).collect::<Vec<_>>())
}

/// Assign clusters to every comment (display order, so parents come first).
pub fn assign(
    thread: &Thread,
    codebook: &Codebook,
    model: Option<&ClusterModel>,
    features: &[CommentFeatures],
    semantic: Option<Semantic>,
) -> Vec<ClusterAssignment> {
    assign_given(thread, codebook, model, features, semantic, CUE_WEIGHT, &[]).into_iter().map(|(a, _)| a).collect()
}

/// The cluster probabilities of a comment that are given rather than computed: what its own words
/// say, and its final probabilities after the reply graph.
#[derive(Debug, Clone)]
pub struct GivenClusters {
    pub own: Vec<f64>,
    pub probabilities: Vec<f64>,
}

/// [`assign`] with another weight for a cluster cue phrase (for choosing it by cross-validation), and
/// with the probabilities of some comments given (`given[i]`, where
/// present): their replies and parents read those instead of what this model computes for them.
/// Cross-validation gives a comment of another fold what that fold's own model said of it. Returns
/// every comment's assignment with the probabilities its own words gave.
pub fn assign_given(
    thread: &Thread,
    codebook: &Codebook,
    model: Option<&ClusterModel>,
    features: &[CommentFeatures],
    semantic: Option<Semantic>,
    cue_weight: f64,
    given: &[Option<GivenClusters>],
) -> Vec<(ClusterAssignment, Vec<f64>)> {
    let labels: Vec<String> = codebook.clusters.iter().map(|c| c.id.clone()).collect();
    let k = labels.len();
    if k == 0 {
        return Vec::new();
    }
    let given_at =
        |i: usize| given.get(i).and_then(Option::as_ref).filter(|g| g.own.len() == k && g.probabilities.len() == k);
    // Similarity to the cluster descriptions: TF-IDF over comments and descriptions together.
    let descriptions: Vec<Vec<std::sync::Arc<str>>> = codebook
        .clusters
        .iter()
        .map(|c| {
            let text = format!("{} {} {}", c.name, c.description, c.cues.join(" "));
            crate::textnorm::content_words(&text).iter().map(|w| crate::textnorm::shared_stem(w)).collect()
        })
        .collect();
    let docs: Vec<&[std::sync::Arc<str>]> =
        features.iter().map(terms).chain(descriptions.iter().map(Vec::as_slice)).collect();
    let vectors = tfidf(&docs);
    let (comment_vecs, desc_vecs) = vectors.split_at(features.len());
    let index = model.map(|m| m.primary.index());
    // The cluster descriptions' sentence vectors, centred like the comments' (once per thread).
    // Their weight is the one `draad train` chose (the former fixed weight without trained probes).
    let descriptions: Option<(&SentenceVectors, Vec<Vec<f32>>, f64)> =
        semantic.filter(|s| s.descriptions.len() == k).map(|s| {
            let weight = s.model.map_or(crate::semantic::DEFAULT_DESCRIPTION_WEIGHT, |m| m.weights.descriptions);
            (s.vectors, s.descriptions.iter().map(|d| s.vectors.centre_other(d)).collect(), weight)
        });
    let fallback = catch_all(codebook);
    let pos: crate::textnorm::FastMap<&str, usize> =
        thread.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    // The model's inputs, kept for the whole thread: its evidence is written after the reply graph
    // has had its say, for the chosen cluster only.
    let parts: Vec<_> =
        features.iter().map(|f| model.map(|_| crate::features::sparse_parts(f, Some("cluster")))).collect();
    // First what each comment's own words say.
    let mut own: Vec<OwnEvidence> = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let mut scores = vec![0.0; k];
        let mut evidence: Vec<Vec<LabelEvidence>> = vec![Vec::new(); k];
        let mut scored = None;
        if let (Some(m), Some(index), Some((base, cues))) = (model, &index, &parts[i]) {
            let s = m.primary.score(crate::features::merge_sorted(base, cues), index);
            for (c, l) in labels.iter().enumerate() {
                let Some(j) = m.primary.labels.iter().position(|x| x == l) else { continue };
                scores[c] += s.scores[j];
            }
            scored = Some(s);
        }
        if let Some((probe, vectors, weight)) = semantic
            .and_then(|s| Some((s.model?.clusters.as_ref()?, s.vectors, s.model?.weights.clusters)))
            .filter(|p| p.2 > 0.0)
        {
            let s = probe.scores_for(&vectors.raw[i], &labels);
            add_scores(&mut scores, &mut evidence, &s, weight, "encoder", |c, v| {
                format!("the sentence encoder places the whole comment in {} (+{:.2})", labels[c], weight * v)
            });
        }
        if let Some((vectors, centred, weight)) = descriptions.as_ref().filter(|d| d.2 > 0.0) {
            let sims: Vec<f64> = centred.iter().map(|d| dot(&vectors.centred[i], d).max(0.0)).collect();
            add_scores(&mut scores, &mut evidence, &sims, *weight, "encoder", |c, sim| {
                format!("close in meaning to the description of {} ({sim:.2})", labels[c])
            });
        }
        let mut cues = 0;
        for h in f.hits.iter().filter(|h| h.dimension == "cluster") {
            if let Some(c) = labels.iter().position(|l| *l == h.label) {
                scores[c] += cue_weight;
                cues += 1;
                evidence[c].push(LabelEvidence {
                    kind: "cue".into(),
                    detail: format!("cue '{}'", h.hit.phrase),
                    start: Some(h.hit.start),
                    end: Some(h.hit.end),
                });
            }
        }
        // The description evidence follows the cue evidence; it is written for the chosen cluster only.
        let after_cues: Vec<usize> = evidence.iter().map(Vec::len).collect();
        let mut sims = vec![0.0; k];
        for c in 0..k {
            let sim = cosine(&comment_vecs[i], &desc_vecs[c]);
            if sim > 0.0 {
                scores[c] += DESCRIPTION_WEIGHT * sim;
            }
            sims[c] = sim;
        }
        let probs = match given_at(i) {
            Some(g) => g.own.clone(),
            None => softmax(&scores),
        };
        own.push(OwnEvidence { scores, probs, evidence, cues, sims, after_cues, scored });
    }
    // What the replies say: the mean of the own probabilities of the replies whose words settle
    // their topic (replies that lean on this comment would only echo it).
    let settled = |o: &OwnEvidence| o.probs.iter().any(|&q| q >= SETTLED_AT);
    let mut replies: Vec<(usize, Vec<f64>)> = vec![(0, Vec::new()); features.len()];
    for (j, c) in thread.comments.iter().enumerate() {
        if let Some(&p) = c.parent.as_deref().and_then(|p| pos.get(p))
            && settled(&own[j])
        {
            let r = &mut replies[p];
            if r.1.is_empty() {
                r.1 = vec![0.0; k];
            }
            r.0 += 1;
            r.1.iter_mut().zip(&own[j].probs).for_each(|(a, b)| *a += b);
        }
    }
    // Then the reply graph, in display order so that parents are final before their replies.
    let mut probs: Vec<Vec<f64>> = Vec::with_capacity(features.len());
    let mut out = Vec::with_capacity(features.len());
    let mut owns: Vec<Vec<f64>> = Vec::with_capacity(features.len());
    for (i, (f, o)) in features.iter().zip(own).enumerate() {
        let unsettled = !settled(&o);
        owns.push(o.probs.clone());
        let OwnEvidence { mut scores, mut evidence, cues: own_cues, sims, after_cues, scored, .. } = o;
        // A comment that does not settle its topic itself is about what its replies are about.
        if unsettled && replies[i].0 > 0 {
            let (n, sum) = &replies[i];
            let support: Vec<f64> = sum.iter().map(|v| v / *n as f64).collect();
            let top = (0..k).max_by(|&a, &b| support[a].total_cmp(&support[b])).unwrap_or(0);
            for c in 0..k {
                scores[c] += REPLIES_WEIGHT * support[c];
            }
            evidence[top].push(LabelEvidence {
                kind: "graph".into(),
                detail: format!(
                    "its own words do not settle the topic; its replies speak of {} ({:.2} on average over {n})",
                    labels[top], support[top]
                ),
                start: Some(0),
                end: Some(f.text.chars().count()),
            });
        }
        // A reply takes its parent's topic when it is short without cues of its own, or when its own
        // words do not settle the topic (threads stay on topic along a branch).
        let short = f.text.chars().count() < SHORT_REPLY || matches!(f.opening, Opening::Agree | Opening::Disagree);
        let mut leaned_on: Option<f64> = None;
        if let Some(&p) = thread.comments[i].parent.as_deref().and_then(|p| pos.get(p))
            && ((short && own_cues == 0) || unsettled)
        {
            let parent = &thread.comments[p];
            leaned_on = Some(probs[p].iter().copied().fold(0.0, f64::max));
            for c in 0..k {
                scores[c] += INHERIT_WEIGHT * probs[p][c];
            }
            let top = (0..k).max_by(|&a, &b| probs[p][a].total_cmp(&probs[p][b])).unwrap_or(0);
            evidence[top].push(LabelEvidence {
                kind: "graph".into(),
                detail: format!(
                    "{}: leans on the topic of its parent {} ({})",
                    if short && own_cues == 0 { "a short reply" } else { "its own words do not settle the topic" },
                    parent.id,
                    labels[top]
                ),
                start: Some(0),
                end: Some(f.text.chars().count()),
            });
        }
        let mut p = softmax(&scores);
        // A topic taken from the parent is no surer than the parent's own: the probabilities are
        // flattened towards uniform until the best one is at most a share of the parent's, so that
        // confidence fades along a chain of replies that say little themselves.
        if let Some(parent_best) = leaned_on {
            let best = p.iter().copied().fold(0.0, f64::max);
            let cap = INHERITED_CONFIDENCE * parent_best;
            let uniform = 1.0 / k as f64;
            if best > cap && best > uniform {
                let keep = ((cap - uniform) / (best - uniform)).max(0.0);
                p.iter_mut().for_each(|q| *q = keep * *q + (1.0 - keep) * uniform);
            }
        }
        let mut best = (0..k).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a))).unwrap_or(0);
        // A cluster nothing in the text supports is not invented: weak guesses without cues go to the
        // catch-all cluster (where discovery looks at them), with its own, low, probability.
        if p[best] < FIT_AT_LEAST
            && own_cues == 0
            && let Some(c) = fallback.and_then(|f| labels.iter().position(|l| l == f))
        {
            evidence[c].push(LabelEvidence {
                kind: "no_fit".into(),
                detail: format!("no cluster fits well (best: {} at {:.2})", labels[best], p[best]),
                start: Some(0),
                end: Some(f.text.chars().count()),
            });
            best = c;
        }
        let mut secondary: Vec<(usize, f64)> =
            (0..k).filter(|&c| c != best && p[c] >= SECONDARY_MIN).map(|c| (c, p[c])).collect();
        secondary.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut ev = std::mem::take(&mut evidence[best]);
        if sims[best] > 0.08 {
            let sim = sims[best];
            let description = LabelEvidence {
                kind: "description".into(),
                detail: format!("similar to the description of {} ({sim:.2})", labels[best]),
                start: None,
                end: None,
            };
            ev.insert(after_cues[best], description);
        }
        if let Some(m) = model
            && let Some(j) = m.primary.labels.iter().position(|x| *x == labels[best])
            && let Some(scored) = &scored
        {
            let contrib = scored.contributions(j);
            let mut top: Vec<(&str, f64)> =
                contrib.iter().copied().filter(|(n, v)| *v > 0.05 && n.starts_with("s:")).collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
            let features = top.into_iter().take(3).map(|(name, v)| {
                let at = f.locate(name);
                LabelEvidence {
                    kind: "feature".into(),
                    detail: format!("word stem '{}' (+{v:.2})", &name[2..]),
                    start: at.map(|a| a.0),
                    end: at.map(|a| a.1),
                }
            });
            ev.splice(0..0, features);
        }
        if !ev.iter().any(|e| e.start.is_some()) {
            ev.push(LabelEvidence {
                kind: "text".into(),
                detail: "no single phrase decided the cluster; the text as a whole".into(),
                start: Some(0),
                end: Some(f.text.chars().count()),
            });
        }
        out.push(ClusterAssignment {
            primary: labels[best].clone(),
            secondary: secondary.into_iter().take(3).map(|(c, _)| labels[c].clone()).collect(),
            confidence: crate::model::round3(p[best]),
            evidence: ev,
            discovered: None,
            probabilities: p.clone(),
        });
        probs.push(given_at(i).map_or(p, |g| g.probabilities.clone()));
    }
    out.into_iter().zip(owns).collect()
}

/// What a comment's own words say about its cluster, before the reply graph is consulted.
struct OwnEvidence<'m, 'x> {
    scores: Vec<f64>,
    probs: Vec<f64>,
    evidence: Vec<Vec<LabelEvidence>>,
    /// How many cluster cue phrases the comment holds.
    cues: usize,
    /// TF-IDF cosine similarity to each cluster's description.
    sims: Vec<f64>,
    /// Where the description evidence goes in each cluster's evidence list (after the cues).
    after_cues: Vec<usize>,
    scored: Option<crate::logreg::Scored<'m, 'x>>,
}

/// A group of comments found by discovery.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DiscoveredGroup {
    pub id: String,
    /// The most distinctive terms (class-based TF-IDF), as they appear in the comments.
    pub terms: Vec<String>,
    pub members: Vec<String>,
}

/// Group the comments that fit no codebook cluster well, and name the groups.
/// `vectors` are the TF-IDF vectors of the comments' stems ([`stem_vectors`]); `reply_likeness` is
/// how alike a reply and its parent count at least ([`REPLY_LIKENESS`]).
pub fn discover(
    thread: &Thread,
    codebook: &Codebook,
    features: &[CommentFeatures],
    assigned: &mut [ClusterAssignment],
    vectors: &[TermVector],
    semantic: Option<Semantic>,
    reply_likeness: f64,
) -> Vec<DiscoveredGroup> {
    let fallback = catch_all(codebook);
    let mut candidates: Vec<usize> = (0..assigned.len())
        .filter(|&i| Some(assigned[i].primary.as_str()) == fallback || assigned[i].confidence < DISCOVERY_BELOW)
        .filter(|&i| features[i].stems.len() >= 3)
        .collect();
    // Clustering is quadratic: in a very long thread only the least certain comments take part.
    if candidates.len() > DISCOVERY_MAX {
        candidates.sort_by(|&a, &b| assigned[a].confidence.total_cmp(&assigned[b].confidence).then(a.cmp(&b)));
        candidates.truncate(DISCOVERY_MAX);
        candidates.sort_unstable();
    }
    if candidates.len() < 2 {
        return Vec::new();
    }
    let all_docs: Vec<&[std::sync::Arc<str>]> = features.iter().map(terms).collect();
    let n = candidates.len();
    let mut condensed = Vec::with_capacity(n * (n - 1) / 2);
    // Distance: of the sentence vectors when the encoder ran, else of the stem TF-IDF vectors.
    let cut = if semantic.is_some() { SEMANTIC_DISCOVERY_CUT } else { DISCOVERY_CUT };
    let parents = thread.parent_positions();
    for a in 0..n {
        for b in a + 1..n {
            let (x, y) = (candidates[a], candidates[b]);
            let mut sim = match semantic {
                Some(s) => s.vectors.similarity(x, y),
                None => cosine(&vectors[x], &vectors[y]),
            };
            // A reply is about what it answers: the edge counts as that much likeness, as sure as the
            // edge itself.
            if parents[y] == Some(x) {
                sim = sim.max(reply_likeness * thread.comments[y].parent_confidence);
            } else if parents[x] == Some(y) {
                sim = sim.max(reply_likeness * thread.comments[x].parent_confidence);
            }
            condensed.push(1.0 - sim.clamp(0.0, 1.0));
        }
    }
    let dendrogram = kodama::linkage(&mut condensed, n, kodama::Method::Average);
    // Cut: merge steps below the threshold (cluster labels: observations, then one per step).
    let mut group: Vec<usize> = (0..n).collect();
    let mut members: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    for step in dendrogram.steps() {
        let merged = [members[step.cluster1].clone(), members[step.cluster2].clone()].concat();
        if step.dissimilarity <= cut {
            for &m in &merged {
                group[m] = members.len();
            }
        }
        members.push(merged);
    }
    let mut by_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (m, g) in group.iter().enumerate() {
        by_group.entry(*g).or_default().push(candidates[m]);
    }
    let mut groups: Vec<Vec<usize>> = by_group.into_values().filter(|g| g.len() >= 2).collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    // Class-based TF-IDF: a group's term frequency against how many groups (and the rest) use it.
    let mut out = Vec::new();
    let mut everywhere: crate::textnorm::FastMap<&str, f64> = crate::textnorm::FastMap::default();
    for t in all_docs.iter().copied().flatten() {
        *everywhere.entry(&**t).or_default() += 1.0;
    }
    for (gi, g) in groups.iter().enumerate() {
        let mut tf: BTreeMap<&str, f64> = BTreeMap::new();
        for &i in g {
            for t in all_docs[i] {
                *tf.entry(&**t).or_default() += 1.0;
            }
        }
        let outside: crate::textnorm::FastMap<&str, f64> = tf.iter().map(|(t, c)| (*t, everywhere[t] - c)).collect();
        let total: f64 = tf.values().sum();
        let mut scored: Vec<(&str, f64)> = tf
            .iter()
            .filter(|(t, c)| **c >= 2.0 && !is_generic_stem(t))
            .map(|(t, c)| {
                (
                    *t,
                    (c / total)
                        * (1.0 + features.len() as f64 / (1.0 + outside.get(t).copied().unwrap_or(0.0) + c)).ln(),
                )
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        if scored.is_empty() {
            continue;
        }
        let id = format!("discovered-{}", gi + 1);
        let names: Vec<String> = scored.iter().take(3).map(|(t, _)| surface_form(t, g, features)).collect();
        for &i in g {
            assigned[i].discovered = Some(id.clone());
        }
        out.push(DiscoveredGroup {
            id,
            terms: names,
            members: g.iter().map(|&i| thread.comments[i].id.clone()).collect(),
        });
    }
    out
}

/// The most frequent word in the group's comments whose stem is `stem`.
fn surface_form(stem: &str, group: &[usize], features: &[CommentFeatures]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in group {
        for w in features[i].words.iter() {
            if crate::textnorm::is_content_word(w) && crate::textnorm::stem(w) == stem {
                *counts.entry(w).or_default() += 1;
            }
        }
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).map_or(stem.to_string(), |(w, _)| w.to_string())
}
