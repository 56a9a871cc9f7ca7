//! Stance: for every comment and every dimension of the codebook, a label with a confidence and the
//! evidence behind it. A logistic regression per dimension (trained by `draad train` from an
//! annotated thread) is combined with the codebook's cue phrases, so that it still says something
//! where training data is thin; then the labels of a thread are inferred jointly with the reply
//! graph: a reply that disagrees with its parent leans to the opposite side, one that agrees to the
//! same side. Whether a reply agrees or disagrees is read by a third logistic regression, trained on
//! the relations the annotated labels imply (see [`implied_relation`]), with its opening ("Nee,",
//! "Klopt") among its features; without it, the opening alone decides.

use crate::codebook::Codebook;
use crate::error::{Error, Result};
use crate::features::{CommentFeatures, CueSets, Opening, comment_features, merge_sorted, sparse, sparse_parts};
use crate::logreg::{LogReg, TrainOptions, softmax};
use crate::model::{ClusterAssignment, Label, LabelEvidence, Thread, add_scores, round3};
use crate::semantic::Semantic;
use crate::subwords::Subwords;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Weight of one cue phrase for its label, added to the model's score.
const CUE_WEIGHT: f64 = 2.0;
/// How strongly agreement or disagreement with the parent moves the label, times the parent's
/// confidence.
const GRAPH_WEIGHT: f64 = 1.5;
/// How much the argument cluster a comment is placed in shifts its stance (times the cluster's
/// lift, see [`ClusterPrior`]). On the seed thread's cross-validation 0.5 and 1 lift both macro-F1
/// by 0.01-0.04; 1.5 and more hurt jurisdiction.
const CLUSTER_PRIOR_WEIGHT: f64 = 1.0;
/// How a dimension's logistic regression is regularised: the L2 penalty, and how many training
/// comments a feature must occur in to be used.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Regularisation {
    pub l2: f64,
    pub min_count: usize,
    /// How much an authored example counts against a collected comment (see
    /// [`crate::annotated::AuthoredSet`]).
    #[serde(default = "one")]
    pub authored_weight: f64,
}

fn one() -> f64 {
    1.0
}

/// The regularisation of a dimension when none was chosen for it.
pub const DEFAULT_REGULARISATION: Regularisation = Regularisation { l2: 0.1, min_count: 2, authored_weight: 1.0 };
/// The L2 penalties and minimum feature counts `draad train` and `draad eval` choose from, per
/// dimension, by cross-validation (see [`crate::eval_stance::choose_regularisation`]).
pub const L2_GRID: &[f64] = &[0.003, 0.01, 0.03, 0.1, 0.3];
pub const MIN_COUNT_GRID: &[usize] = &[1, 2];
/// The weights of an authored example chosen from with them, when there are authored examples.
pub const AUTHORED_WEIGHT_GRID: &[f64] = &[0.25, 0.5, 1.0];
/// Confidence of a relation read from an explicit opening ("Nee,", "Klopt").
const OPENING_CONFIDENCE: f64 = 0.8;
/// The `dimension` of the cue hits that name argument clusters ([`crate::features`]).
const CLUSTER_CUES: &str = "cluster";
/// The relations of a reply to its parent.
pub const RELATION_LABELS: [&str; 3] = ["neutral", "agree", "disagree"];
/// How the relation model is regularised (the logistic regression's default L2, features in at least
/// two replies), and how much an authored reply counts: as much as a collected one. Not chosen by a
/// grid: on the seed thread's cross-validation (with the first version of the features, cluster cues
/// included) L2 0.01-0.1 and authored weights 0.25 and 1 gave the same stance figures within 0.003
/// (jurisdiction) and 0.023 (enforceability); L2 0.3 lowered jurisdiction.
const RELATION_REGULARISATION: Regularisation = Regularisation { l2: 0.1, min_count: 2, authored_weight: 1.0 };

/// Trained models of one codebook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StanceModel {
    pub codebook: String,
    pub dimensions: BTreeMap<String, LogReg>,
    /// Per dimension, how each argument cluster shifts the labels (from the annotated thread).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cluster_prior: BTreeMap<String, ClusterPrior>,
    /// The regularisation each dimension's model was trained with (absent:
    /// [`DEFAULT_REGULARISATION`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regularisation: BTreeMap<String, Regularisation>,
    /// Whether a reply agrees with its parent, disagrees or neither ([`RELATION_LABELS`]), from the
    /// reply's features and a few of the pair ([`relation_features`]). Absent: the opening decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<LogReg>,
}

/// How a comment's argument cluster shifts its stance on one dimension: for every cluster and label,
/// log P(label | cluster) - log P(label), counted on the annotated comments with add-one smoothing.
/// The jurisdiction question is argued in the extraterritoriality cluster, so a comment placed there
/// is likely to take a side on it, and one about collecting the fine is not.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClusterPrior {
    pub clusters: Vec<String>,
    pub labels: Vec<String>,
    /// `lift[c][l]`, clusters and labels in the orders above.
    pub lift: Vec<Vec<f64>>,
}

impl ClusterPrior {
    fn count(clusters: &[String], labels: &[String], pairs: &[(&str, &str)]) -> ClusterPrior {
        let (nc, nl) = (clusters.len(), labels.len());
        let mut joint = vec![vec![1.0; nl]; nc];
        let mut marginal = vec![1.0; nl];
        for (c, l) in pairs {
            let (Some(c), Some(l)) = (clusters.iter().position(|x| x == c), labels.iter().position(|x| x == l)) else {
                continue;
            };
            joint[c][l] += 1.0;
            marginal[l] += 1.0;
        }
        let total: f64 = marginal.iter().sum();
        let lift = joint
            .iter()
            .map(|row| {
                let n: f64 = row.iter().sum();
                row.iter().zip(&marginal).map(|(j, m)| (j / n).ln() - (m / total).ln()).collect()
            })
            .collect();
        ClusterPrior { clusters: clusters.to_vec(), labels: labels.to_vec(), lift }
    }

    /// The lift table aligned to the codebook's cluster order `order` (rows) and to `labels`
    /// (columns); a cluster or label the prior does not know gets no shift.
    fn aligned(&self, order: &[String], labels: &[String]) -> Vec<Vec<f64>> {
        let label_at: Vec<Option<usize>> = labels.iter().map(|l| self.labels.iter().position(|x| x == l)).collect();
        order
            .iter()
            .map(|c| match self.clusters.iter().position(|x| x == c) {
                Some(ci) => label_at.iter().map(|li| li.map_or(0.0, |li| self.lift[ci][li])).collect(),
                None => vec![0.0; labels.len()],
            })
            .collect()
    }
}

impl StanceModel {
    pub fn path_for(codebook: &Codebook) -> String {
        format!("models/stance-{}.json", codebook.id)
    }
    pub fn load(path: &str) -> Result<StanceModel> {
        crate::logreg::load_model(path, "stance model")
    }
    pub fn save(&self, path: &str) -> Result<()> {
        crate::logreg::save_model(self, path)
    }
}

/// Gold labels of one comment: dimension -> label.
pub type GoldLabels = BTreeMap<String, String>;

/// Train one model per dimension from comments' features and gold labels, regularised as
/// `regularisation` says for the dimension ([`DEFAULT_REGULARISATION`] where it says nothing), and,
/// given the comments' primary clusters, the shift each cluster gives the labels.
pub fn train(
    codebook: &Codebook,
    features: &[CommentFeatures],
    gold: &[GoldLabels],
    primary: Option<&[String]>,
    regularisation: &BTreeMap<String, Regularisation>,
) -> StanceModel {
    train_with_authored(codebook, features, gold, primary, regularisation, features.len(), &[])
}

/// [`train`] where the comments from position `collected` on are authored examples, which count
/// as much as the dimension's [`Regularisation::authored_weight`] says, and `parents[i]` is the
/// position of comment `i`'s parent among them (when it is one of them): the replies train the
/// relation model. Without parents there is no relation model.
pub fn train_with_authored(
    codebook: &Codebook,
    features: &[CommentFeatures],
    gold: &[GoldLabels],
    primary: Option<&[String]>,
    regularisation: &BTreeMap<String, Regularisation>,
    collected: usize,
    parents: &[Option<usize>],
) -> StanceModel {
    let mut dimensions = BTreeMap::new();
    let mut cluster_prior = BTreeMap::new();
    let clusters: Vec<String> = codebook.clusters.iter().map(|c| c.id.clone()).collect();
    for d in &codebook.dimensions {
        let labels = d.label_ids();
        let r = regularisation.get(&d.id).copied().unwrap_or(DEFAULT_REGULARISATION);
        let weight = |i: usize| if i < collected { 1.0 } else { r.authored_weight };
        let (examples, example_weights): (Vec<(Vec<(String, f64)>, usize)>, Vec<f64>) = features
            .iter()
            .zip(gold)
            .enumerate()
            .filter_map(|(i, (f, g))| {
                let y = labels.iter().position(|l| Some(l) == g.get(&d.id))?;
                Some(((sparse(f, Some(&d.id)), y), weight(i)))
            })
            .unzip();
        let options = TrainOptions { l2: r.l2, ..TrainOptions::default() };
        dimensions
            .insert(d.id.clone(), LogReg::train_weighted(&labels, &examples, &example_weights, r.min_count, options));
        if let Some(primary) = primary {
            let pairs: Vec<(&str, &str)> =
                primary.iter().zip(gold).filter_map(|(c, g)| Some((c.as_str(), g.get(&d.id)?.as_str()))).collect();
            cluster_prior.insert(d.id.clone(), ClusterPrior::count(&clusters, &labels, &pairs));
        }
    }
    let regularisation = codebook
        .dimensions
        .iter()
        .map(|d| (d.id.clone(), regularisation.get(&d.id).copied().unwrap_or(DEFAULT_REGULARISATION)))
        .collect();
    let relation = train_relation(codebook, features, gold, collected, parents);
    StanceModel { codebook: codebook.id.clone(), dimensions, cluster_prior, regularisation, relation }
}

/// The relation of a reply to its parent that their labels imply: `disagree` when the two take
/// opposite sides on some dimension, else `agree` when they take the same side on one, else
/// `neutral` (a reply that takes no side, or speaks of another question, neither agrees nor
/// disagrees on the questions of the codebook).
pub fn implied_relation(codebook: &Codebook, reply: &GoldLabels, parent: &GoldLabels) -> &'static str {
    let mut relation = RELATION_LABELS[0];
    for d in &codebook.dimensions {
        let (Some(a), Some(b)) = (reply.get(&d.id), parent.get(&d.id)) else { continue };
        if *a == d.neutral || *b == d.neutral {
            continue;
        }
        if a != b {
            return RELATION_LABELS[2];
        }
        relation = RELATION_LABELS[1];
    }
    relation
}

/// The features of a reply for its relation to its parent: the reply's own (words, stems, opening,
/// questions, cue phrases of the stance dimensions) and three of the pair: how many word stems they
/// share (`pair:echo`), whether the reply quotes (`pair:quotes`), and for each stance dimension
/// whether the two hold cue phrases for the same or for different labels (`pair:cue_same:D`,
/// `pair:cue_opposite:D`).
pub fn relation_features(reply: &CommentFeatures, parent: &CommentFeatures) -> Vec<(String, f64)> {
    // The words and the stance cue phrases, not the cluster cues: what a reply is about says little
    // about whether it agrees.
    let mut x: Vec<(String, f64)> = sparse(reply, None)
        .into_iter()
        .filter(|(n, _)| !n.split(':').nth(1).is_some_and(|d| d == CLUSTER_CUES))
        .collect();
    fn stems(f: &CommentFeatures) -> std::collections::HashSet<&str> {
        f.stems.iter().map(|s| &**s).collect()
    }
    let (a, b) = (stems(reply), stems(parent));
    if !a.is_empty() && !b.is_empty() {
        let shared = a.intersection(&b).count() as f64;
        x.push(("pair:echo".into(), shared / ((a.len() * b.len()) as f64).sqrt()));
    }
    if !reply.quoted.trim().is_empty() {
        x.push(("pair:quotes".into(), 1.0));
    }
    let sides = |f: &CommentFeatures| -> Vec<(String, String)> {
        f.hits
            .iter()
            .filter(|h| h.dimension != CLUSTER_CUES)
            .filter_map(|h| Some((h.dimension.clone(), h.counts_for.clone()?)))
            .collect()
    };
    let (mine, theirs) = (sides(reply), sides(parent));
    let mut pairs = std::collections::BTreeSet::new();
    for (d, l) in &mine {
        for (_, l2) in theirs.iter().filter(|(d2, _)| d2 == d) {
            pairs.insert(format!("pair:cue_{}:{d}", if l == l2 { "same" } else { "opposite" }));
        }
    }
    x.extend(pairs.into_iter().map(|n| (n, 1.0)));
    x.sort_by(|p, q| p.0.cmp(&q.0));
    x
}

/// The relation model: one example per reply whose parent is in the training set, labelled with the
/// relation the two's labels imply. `None` when there are no such replies.
fn train_relation(
    codebook: &Codebook,
    features: &[CommentFeatures],
    gold: &[GoldLabels],
    collected: usize,
    parents: &[Option<usize>],
) -> Option<LogReg> {
    let r = RELATION_REGULARISATION;
    let (examples, weights): (Vec<(Vec<(String, f64)>, usize)>, Vec<f64>) = parents
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let p = (*p).filter(|&p| p < features.len() && i < features.len())?;
            let y = implied_relation(codebook, &gold[i], &gold[p]);
            let y = RELATION_LABELS.iter().position(|l| *l == y)?;
            Some((
                (relation_features(&features[i], &features[p]), y),
                if i < collected { 1.0 } else { r.authored_weight },
            ))
        })
        .unzip();
    if examples.is_empty() {
        return None;
    }
    let labels: Vec<String> = RELATION_LABELS.map(String::from).to_vec();
    let options = TrainOptions { l2: r.l2, ..TrainOptions::default() };
    Some(LogReg::train_weighted(&labels, &examples, &weights, r.min_count, options))
}

fn describe(feature: &str) -> String {
    match feature.split_once(':') {
        Some(("s", v)) => format!("word stem '{v}'"),
        Some(("w", v)) => format!("subword '{v}'"),
        Some(("cue", v)) => format!("cue phrases for {v}"),
        Some(("negcue", v)) => format!("negated cue phrases of {v}"),
        Some(("open", v)) => format!("the reply opens: {v}"),
        Some(("pair", "echo")) => "shares word stems with its parent".into(),
        Some(("pair", "quotes")) => "quotes".into(),
        Some(("pair", v)) => match v.split_once(':') {
            Some(("cue_same", d)) => format!("its cue phrases on {d} side with its parent's"),
            Some(("cue_opposite", d)) => format!("its cue phrases on {d} take the other side from its parent's"),
            _ => v.replace('_', " "),
        },
        _ => feature.replace('_', " "),
    }
}

/// The opposite of a label: the other non-neutral label of a dimension with exactly two.
fn opposite(labels: &[String], neutral: &str, label: &str) -> Option<String> {
    let polar: Vec<&String> = labels.iter().filter(|l| *l != neutral).collect();
    match polar.as_slice() {
        [a, b] if *a == label => Some((*b).clone()),
        [a, b] if *b == label => Some((*a).clone()),
        _ => None,
    }
}

/// Label every comment of a thread. `model` may be `None` (no trained model): the cues alone decide.
/// Returns the features it computed, for the stages after it.
pub fn label_thread(
    thread: &mut Thread,
    codebook: &Codebook,
    model: Option<&StanceModel>,
    subwords: Option<&Subwords>,
    semantic: Option<Semantic>,
) -> Vec<CommentFeatures> {
    let features = features_of(thread, codebook, subwords);
    write_labels(thread, codebook, model, &features, semantic, None);
    features
}

/// The features of every comment of a thread.
pub fn features_of(thread: &Thread, codebook: &Codebook, subwords: Option<&Subwords>) -> Vec<CommentFeatures> {
    let cues = CueSets::new(codebook);
    thread.comments.iter().map(|c| comment_features(c, &cues, subwords)).collect()
}

/// Label every comment of a thread from features computed before, with the comments' argument
/// clusters when they are known (`clusters[i]` for comment `i`).
pub fn write_labels(
    thread: &mut Thread,
    codebook: &Codebook,
    model: Option<&StanceModel>,
    features: &[CommentFeatures],
    semantic: Option<Semantic>,
    clusters: Option<&[ClusterAssignment]>,
) {
    let labels = predict(thread, codebook, model, features, semantic, clusters, &[]);
    for (c, (stance, relation)) in thread.comments.iter_mut().zip(labels) {
        c.stance = Some(stance);
        c.relation_to_parent = relation;
    }
}

/// Predict stances and relations for the comments of a thread (in display order), given features.
/// The labels of some comments may be given (`given[i]`, where present; pass `&[]` for none): those
/// are kept as they are, and their replies read them as their parent's labels. Cross-validation
/// gives a comment of another fold the labels that fold's own model predicted for it, so that no
/// reply leans on a label predicted by a model that saw its parent.
pub fn predict(
    thread: &Thread,
    codebook: &Codebook,
    model: Option<&StanceModel>,
    features: &[CommentFeatures],
    semantic: Option<Semantic>,
    clusters: Option<&[ClusterAssignment]>,
    given: &[Option<BTreeMap<String, Label>>],
) -> Vec<(BTreeMap<String, Label>, Option<Label>)> {
    let cluster_order: Vec<String> = codebook.clusters.iter().map(|c| c.id.clone()).collect();
    let catch_all = crate::clusters::catch_all(codebook).and_then(|id| cluster_order.iter().position(|c| c == id));
    let prior_weight = CLUSTER_PRIOR_WEIGHT;
    let parents = thread.parent_positions();
    let relation_model = model.and_then(|m| m.relation.as_ref());
    let relation_index = relation_model.map(|m| m.index());
    let relations: Vec<Option<Label>> = thread
        .comments
        .iter()
        .zip(features)
        .enumerate()
        .map(|(i, (c, f))| {
            c.parent.as_ref()?;
            Some(match (relation_model, &relation_index, parents[i]) {
                (Some(m), Some(index), Some(p)) => model_relation(m, index, f, &features[p]),
                _ => opening_relation(f),
            })
        })
        .collect();
    let mut out: Vec<BTreeMap<String, Label>> = vec![BTreeMap::new(); thread.comments.len()];
    for d in &codebook.dimensions {
        let labels = d.label_ids();
        let lr = model.and_then(|m| m.dimensions.get(&d.id));
        let index = lr.map(|m| m.index());
        let probe = semantic.and_then(|s| Some((s.model?.stance.get(&d.id)?, s.vectors, s.model?.weights.stance)));
        let prior = model
            .and_then(|m| m.cluster_prior.get(&d.id))
            .filter(|_| prior_weight > 0.0)
            .map(|p| p.aligned(&cluster_order, &labels));
        for (i, f) in features.iter().enumerate() {
            let mut scores = vec![0.0; labels.len()];
            let mut evidence: Vec<Vec<LabelEvidence>> = vec![Vec::new(); labels.len()];
            // The model's contributions; its evidence is written for the chosen label only.
            let parts = lr.map(|_| sparse_parts(f, Some(&d.id)));
            let mut scored = None;
            if let (Some(lr), Some(index), Some((base, cues))) = (lr, &index, &parts) {
                let s = lr.score(merge_sorted(base, cues), index);
                for (k, l) in labels.iter().enumerate() {
                    let Some(m) = lr.labels.iter().position(|x| x == l) else { continue };
                    scores[k] += s.scores[m];
                }
                scored = Some(s);
            } else {
                // No model: a small preference for "no position" unless cues speak.
                scores[0] += CUE_WEIGHT;
            }
            if let Some((probe, vectors, weight)) = probe.filter(|p| p.2 > 0.0) {
                let s = probe.scores_for(&vectors.raw[i], &labels);
                add_scores(&mut scores, &mut evidence, &s, weight, "encoder", |k, v| {
                    format!("the sentence encoder reads the whole comment as {} (+{:.2})", labels[k], weight * v)
                });
            }
            if let (Some(prior), Some(a)) = (&prior, clusters.and_then(|c| c.get(i)))
                && a.probabilities.len() == cluster_order.len()
            {
                // The comment's cluster probabilities times each cluster's shift of the labels.
                let mut shift = vec![0.0; labels.len()];
                for (p, row) in a.probabilities.iter().zip(prior) {
                    shift.iter_mut().zip(row).for_each(|(s, v)| *s += p * v);
                }
                add_scores(&mut scores, &mut evidence, &shift, prior_weight, "cluster", |_, v| {
                    format!(
                        "in the argument cluster {} ({:.2}), where this position is more usual (+{:.2})",
                        a.primary,
                        a.confidence,
                        prior_weight * v
                    )
                });
            }
            for h in f.hits.iter().filter(|h| h.dimension == d.id) {
                let Some(target) = &h.counts_for else { continue };
                let Some(k) = labels.iter().position(|l| l == target) else { continue };
                scores[k] += CUE_WEIGHT;
                evidence[k].push(LabelEvidence {
                    kind: "cue".into(),
                    detail: if h.hit.negated {
                        format!("negated cue '{}' of {}", h.hit.phrase, h.label)
                    } else {
                        format!("cue '{}'", h.hit.phrase)
                    },
                    start: Some(h.hit.start),
                    end: Some(h.hit.end),
                });
            }
            // The reply graph: parents come before children, so the parent's label is final.
            if let (Some(rel), Some(p)) = (&relations[i], parents[i].as_ref())
                && let Some(pl) = out[*p].get(&d.id)
                && pl.label != d.neutral
                && rel.label != "neutral"
            {
                // Weighed by the chance that this is the parent at all: a rebuilt parent is often a
                // guess, and a push from the wrong comment is worse than none.
                let parent_confidence = thread.comments[i].parent_confidence;
                let push = GRAPH_WEIGHT * parent_confidence * pl.confidence * rel.confidence;
                let target = if rel.label == "agree" {
                    Some(pl.label.clone())
                } else {
                    opposite(&labels, &d.neutral, &pl.label)
                };
                if let Some(k) = target.and_then(|t| labels.iter().position(|l| *l == t)) {
                    scores[k] += push;
                    evidence[k].push(LabelEvidence {
                        kind: "graph".into(),
                        detail: format!(
                            "{}s with its parent {}, which holds {} ({:.2}){}",
                            rel.label,
                            thread.comments[*p].id,
                            pl.label,
                            pl.confidence,
                            if parent_confidence < 0.9995 {
                                format!("; that it is the parent is {parent_confidence:.2} sure")
                            } else {
                                String::new()
                            }
                        ),
                        start: rel.evidence.first().and_then(|e| e.start),
                        end: rel.evidence.first().and_then(|e| e.end),
                    });
                }
            }
            let mut p = softmax(&scores);
            // A comment that fits none of the codebook's argument clusters (the cluster stage put it
            // in the catch-all cluster: no cluster cue, no cluster fits well) is about another
            // debate, and unless a cue phrase of this question speaks, it takes no side on it: the
            // side labels keep only the chance that it belongs to the debate after all, the
            // probability of its best-fitting cluster.
            if let (Some(catch), Some(a)) = (catch_all, clusters.and_then(|c| c.get(i)))
                && a.primary == cluster_order[catch]
                && !f.hits.iter().any(|h| h.dimension == d.id)
            {
                let inside = a
                    .probabilities
                    .iter()
                    .enumerate()
                    .filter(|&(c, _)| c != catch)
                    .map(|(_, &v)| v)
                    .fold(0.0, f64::max);
                for (k, v) in p.iter_mut().enumerate() {
                    *v = if k == 0 { (1.0 - inside) + inside * *v } else { inside * *v };
                }
                evidence[0].push(LabelEvidence {
                    kind: "topic".into(),
                    detail: format!(
                        "fits none of the codebook's argument clusters (best {inside:.2}) and no cue phrase of this question speaks, so it takes no side on it"
                    ),
                    start: None,
                    end: None,
                });
            }
            let best = (0..labels.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a))).unwrap_or(0);
            let mut ev = std::mem::take(&mut evidence[best]);
            if let Some(m) = lr.and_then(|lr| lr.labels.iter().position(|x| *x == labels[best]))
                && let Some(scored) = &scored
            {
                // (Cue hits are named with their offsets by the cue evidence itself.)
                ev.splice(0..0, strongest_features(scored, m, f, |n| !n.starts_with("cue:")));
            }
            if !ev.iter().any(|e| e.start.is_some()) {
                // No phrase decided it: point at the whole text that was read.
                ev.push(LabelEvidence {
                    kind: "text".into(),
                    detail: if best == 0 {
                        "no cue phrase in the text speaks for a position on this question".into()
                    } else {
                        "the text as a whole, without a single deciding phrase".into()
                    },
                    start: Some(0),
                    end: Some(f.text.chars().count()),
                });
            }
            let label = match given.get(i).and_then(Option::as_ref).and_then(|g| g.get(&d.id)) {
                Some(g) => g.clone(),
                None => Label {
                    label: labels[best].clone(),
                    confidence: round3(p[best]),
                    evidence: ev,
                    probabilities: Label::probabilities_of(&labels, &p),
                },
            };
            out[i].insert(d.id.clone(), label);
        }
    }
    let relations = relations_from_labels(thread, codebook, &out, relations, &parents);
    out.into_iter().zip(relations).collect()
}

/// The (at most four) features that weighed most for label `label` of a scored comment, kept by
/// `keep`, as evidence with their offsets in the comment where they are its words.
fn strongest_features(
    scored: &crate::logreg::Scored,
    label: usize,
    f: &CommentFeatures,
    keep: impl Fn(&str) -> bool,
) -> Vec<LabelEvidence> {
    let mut top: Vec<(&str, f64)> =
        scored.contributions(label).into_iter().filter(|(n, v)| *v > 0.05 && keep(n)).collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    top.into_iter()
        .take(4)
        .map(|(name, v)| {
            let at = f.locate(name);
            let mut detail = String::with_capacity(64);
            let _ = write!(detail, "{} (+{v:.2})", describe(name));
            LabelEvidence { kind: "feature".into(), detail, start: at.map(|a| a.0), end: at.map(|a| a.1) }
        })
        .collect()
}

/// The relation an explicit opening says ("Nee," disagrees, "Klopt" agrees), else neutral.
fn opening_relation(f: &CommentFeatures) -> Label {
    let (label, confidence) = match f.opening {
        Opening::Agree => ("agree", OPENING_CONFIDENCE),
        Opening::Disagree => ("disagree", OPENING_CONFIDENCE),
        _ => ("neutral", 0.6),
    };
    let evidence = match opening_evidence(f) {
        Some(e) => vec![e],
        None => vec![LabelEvidence {
            kind: "opening".into(),
            detail: "no agreeing or disagreeing opening".into(),
            start: None,
            end: None,
        }],
    };
    Label { label: label.into(), confidence, evidence, probabilities: BTreeMap::new() }
}

/// The agreeing or disagreeing opening of a reply, as evidence.
fn opening_evidence(f: &CommentFeatures) -> Option<LabelEvidence> {
    let w = f.opening_words.as_ref().filter(|_| matches!(f.opening, Opening::Agree | Opening::Disagree))?;
    Some(LabelEvidence {
        kind: "opening".into(),
        detail: format!("opens with '{w}'"),
        start: Some(0),
        end: Some(w.chars().count().min(f.text.chars().count())),
    })
}

/// The relation the relation model reads from a reply and its parent, with the opening and the
/// features that weighed most for it as evidence.
fn model_relation(
    m: &LogReg,
    index: &crate::logreg::FeatureIndex,
    f: &CommentFeatures,
    parent: &CommentFeatures,
) -> Label {
    let x = relation_features(f, parent);
    let scored = m.score(x.iter().map(|(n, v)| (n.as_str(), *v)), index);
    let p = softmax(&scored.scores);
    let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a))).unwrap_or(0);
    let mut evidence: Vec<LabelEvidence> = opening_evidence(f).into_iter().collect();
    // ("No telling opening" and the length are no evidence a reader can check.)
    evidence.extend(strongest_features(&scored, best, f, |n| n != "open:none" && n != "len"));
    if !evidence.iter().any(|e| e.start.is_some()) {
        evidence.push(LabelEvidence {
            kind: "text".into(),
            detail: "the reply as a whole, without a single deciding phrase".into(),
            start: Some(0),
            end: Some(f.text.chars().count()),
        });
    }
    Label {
        label: m.labels[best].clone(),
        confidence: round3(p[best]),
        evidence,
        probabilities: Label::probabilities_of(&m.labels, &p),
    }
}

/// Below this product of the two labels' confidences a pair of labels says nothing about the relation.
const RELATION_FROM_LABELS: f64 = 0.25;

/// A reply without an agreeing or disagreeing opening disagrees with its parent when the two take
/// opposite sides on a dimension, with the product of the two confidences (the strongest such pair
/// decides). `draad eval` scores the result against the relation the annotated labels imply. The
/// same side is not read as agreement: tried on the seed thread's cross-validated labels, it was
/// right 2 times in 28 (a reply and its parent share a topic, so the model often gives both one side).
fn relations_from_labels(
    thread: &Thread,
    codebook: &Codebook,
    labels: &[BTreeMap<String, Label>],
    relations: Vec<Option<Label>>,
    parents: &[Option<usize>],
) -> Vec<Option<Label>> {
    relations
        .into_iter()
        .enumerate()
        .map(|(i, rel)| {
            let rel = rel?;
            if rel.label != "neutral" {
                return Some(rel);
            }
            let Some(p) = parents[i] else { return Some(rel) };
            let mut best: Option<(f64, &str, &Label, &Label)> = None;
            for d in &codebook.dimensions {
                let (Some(mine), Some(theirs)) = (labels[i].get(&d.id), labels[p].get(&d.id)) else { continue };
                if mine.label == d.neutral || theirs.label == d.neutral || mine.label == theirs.label {
                    continue;
                }
                let strength = mine.confidence * theirs.confidence;
                if strength >= RELATION_FROM_LABELS && best.is_none_or(|b| strength > b.0) {
                    best = Some((strength, d.id.as_str(), mine, theirs));
                }
            }
            let Some((strength, dimension, mine, theirs)) = best else { return Some(rel) };
            let at = mine
                .evidence
                .iter()
                .find(|e| e.kind == "cue")
                .or_else(|| mine.evidence.iter().find(|e| e.start.is_some()));
            Some(Label {
                label: "disagree".into(),
                confidence: round3(strength),
                probabilities: BTreeMap::new(),
                evidence: vec![LabelEvidence {
                    kind: "stance".into(),
                    detail: format!(
                        "holds {} on {dimension} ({:.2}) where its parent {} holds {} ({:.2})",
                        mine.label, mine.confidence, thread.comments[p].id, theirs.label, theirs.confidence
                    ),
                    start: at.and_then(|e| e.start),
                    end: at.and_then(|e| e.end),
                }],
            })
        })
        .collect()
}

/// Read `labels.tsv`: `comment first_line jurisdiction enforceability primary_cluster
/// secondary_clusters confidence note`. Returns first line -> (dimension -> label) and the clusters.
pub fn read_labels(path: &str, codebook: &Codebook) -> Result<Vec<(usize, GoldLabels, String, Vec<String>)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::new(path, None, format!("cannot read: {e}")))?;
    let mut out = Vec::new();
    let dims: Vec<&crate::codebook::Dimension> = codebook.dimensions.iter().collect();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("comment\t") {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 2 + dims.len() + 2 {
            return Err(Error::at_line(path, n, format!("expected at least {} tab-separated columns", 4 + dims.len())));
        }
        let first: usize = f[1]
            .trim()
            .parse()
            .map_err(|_| Error::at_line(path, n, format!("first_line is not a number: '{}'", f[1])))?;
        let mut g = GoldLabels::new();
        for (k, d) in dims.iter().enumerate() {
            let l = f[2 + k].trim();
            if !d.label_ids().iter().any(|x| x == l) {
                return Err(Error::at_line(
                    path,
                    n,
                    format!("'{l}' is not a label of {} ({})", d.id, d.label_ids().join(", ")),
                ));
            }
            g.insert(d.id.clone(), l.to_string());
        }
        let primary = f[2 + dims.len()].trim().to_string();
        let secondary: Vec<String> =
            f[3 + dims.len()].split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && s != "-").collect();
        for c in std::iter::once(&primary).chain(&secondary) {
            if !codebook.clusters.iter().any(|x| &x.id == c) {
                return Err(Error::at_line(path, n, format!("'{c}' is not a cluster of the codebook")));
            }
        }
        out.push((first, g, primary, secondary));
    }
    Ok(out)
}
