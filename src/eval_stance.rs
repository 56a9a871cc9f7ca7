//! Cross-validated evaluation of the stance and cluster models on an annotated thread.
//!
//! Folds are made of branches: a reply to a top-level comment with everything below it; a
//! top-level comment is a unit of its own. Units joined by a quote (a comment quoting another) are
//! kept together, so no comment is predicted by a model that saw it or the text it quotes. Each fold
//! also trains its own subword tokenizer, on the article, the news reports and the training
//! comments only. A reply whose parent sits in another fold (a reply to a top-level comment) reads
//! the parent's stance and clusters as the parent's own fold predicted them, not as a model trained
//! on the parent would. Everything is deterministic.

use crate::codebook::Codebook;
use crate::error::Result;
use crate::features::{CommentFeatures, CueSets, comment_features};
use crate::model::{Block, QuoteSource, Thread};
use crate::semantic::{DESCRIPTION_WEIGHT_GRID, ProbeWeights, Semantic, SemanticModel, SentenceVectors, WEIGHT_GRID};
use crate::stance::{GoldLabels, Regularisation, predict};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Vocabulary size of the subword tokenizer.
pub const VOCAB: usize = 2000;

/// Scores of one dimension.
#[derive(Debug, Clone, Serialize)]
pub struct DimensionScores {
    pub dimension: String,
    pub labels: Vec<String>,
    /// confusion[gold][predicted]
    pub confusion: Vec<Vec<usize>>,
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub f1: Vec<f64>,
    pub macro_f1: f64,
    pub accuracy: f64,
    /// Macro-F1 and accuracy of always predicting the most frequent label.
    pub majority_label: String,
    pub majority_macro_f1: f64,
    pub majority_accuracy: f64,
    /// How well the predicted probabilities fit (stance dimensions, when every prediction gives them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
}

/// How honest the predicted probabilities are: proper scores of the probability each comment's
/// gold label got, and the gap between confidence and accuracy.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Calibration {
    /// Mean negative natural log of the gold label's probability (probabilities as written, to three
    /// decimals, floored at 0.0005). Lower is better.
    pub log_loss: f64,
    /// The same for predicting the thread's label frequencies for every comment (a baseline that
    /// knows the gold distribution, so it is a little flattered).
    pub baseline_log_loss: f64,
    /// Mean Brier score: the squared distance between the probabilities and the gold label (0..2).
    pub brier: f64,
    /// Expected calibration error: the gap between the mean confidence and the accuracy in each
    /// confidence bin, weighted by the bin's share of the comments.
    pub ece: f64,
    /// The bins: confidence from, confidence to, comments, mean confidence, accuracy.
    pub bins: Vec<CalibrationBin>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub comments: usize,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

/// The confidence bins of [`calibrate`]: below 0.5, then tenths.
const CALIBRATION_EDGES: &[f64] = &[0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// Calibration of predicted label probabilities against gold labels. `predicted[i]` is the
/// probability of every label for comment `i`. None when a prediction has no probabilities.
pub fn calibrate(
    labels: &[String],
    gold: &[String],
    predicted: &[&std::collections::BTreeMap<String, f64>],
) -> Option<Calibration> {
    if gold.is_empty() || gold.len() != predicted.len() || predicted.iter().any(|p| p.is_empty()) {
        return None;
    }
    let n = gold.len() as f64;
    let prob = |p: &std::collections::BTreeMap<String, f64>, l: &str| p.get(l).copied().unwrap_or(0.0);
    let freq: Vec<f64> = labels.iter().map(|l| gold.iter().filter(|g| *g == l).count() as f64 / n).collect();
    let mut log_loss = 0.0;
    let mut baseline_log_loss = 0.0;
    let mut brier = 0.0;
    let mut bins: Vec<(usize, f64, usize)> = vec![(0, 0.0, 0); CALIBRATION_EDGES.len() - 1];
    for (g, p) in gold.iter().zip(predicted) {
        log_loss -= prob(p, g).max(0.0005).ln();
        let k = labels.iter().position(|l| l == g).unwrap_or(0);
        baseline_log_loss -= freq[k].max(0.0005).ln();
        brier += labels.iter().map(|l| (prob(p, l) - if l == g { 1.0 } else { 0.0 }).powi(2)).sum::<f64>();
        // The predicted label: the most probable, the first on a tie.
        let (best, confidence) = labels
            .iter()
            .map(|l| (l, prob(p, l)))
            .fold((&labels[0], f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        let bin = CALIBRATION_EDGES[1..].iter().position(|&to| confidence < to).unwrap_or(bins.len() - 1);
        bins[bin].0 += 1;
        bins[bin].1 += confidence;
        bins[bin].2 += usize::from(best == g);
    }
    let bins: Vec<CalibrationBin> = bins
        .into_iter()
        .enumerate()
        .filter(|(_, b)| b.0 > 0)
        .map(|(i, (count, conf, right))| CalibrationBin {
            from: CALIBRATION_EDGES[i],
            to: CALIBRATION_EDGES[i + 1],
            comments: count,
            mean_confidence: conf / count as f64,
            accuracy: right as f64 / count as f64,
        })
        .collect();
    let ece = bins.iter().map(|b| b.comments as f64 / n * (b.mean_confidence - b.accuracy).abs()).sum();
    Some(Calibration { log_loss: log_loss / n, baseline_log_loss: baseline_log_loss / n, brier: brier / n, ece, bins })
}

/// Score predictions against gold labels.
pub fn score(dimension: &str, labels: &[String], gold: &[String], predicted: &[String]) -> DimensionScores {
    let k = labels.len();
    let idx = |l: &String| labels.iter().position(|x| x == l).unwrap_or(0);
    let confusion_of = |pred: &dyn Fn(usize) -> usize| {
        let mut m = vec![vec![0usize; k]; k];
        for (i, g) in gold.iter().enumerate() {
            m[idx(g)][pred(i)] += 1;
        }
        m
    };
    let prf = |m: &Vec<Vec<usize>>| {
        let mut p = vec![0.0; k];
        let mut r = vec![0.0; k];
        let mut f = vec![0.0; k];
        for c in 0..k {
            let tp = m[c][c] as f64;
            let col: usize = (0..k).map(|g| m[g][c]).sum();
            let row: usize = m[c].iter().sum();
            p[c] = if col > 0 { tp / col as f64 } else { 0.0 };
            r[c] = if row > 0 { tp / row as f64 } else { 0.0 };
            f[c] = if p[c] + r[c] > 0.0 { 2.0 * p[c] * r[c] / (p[c] + r[c]) } else { 0.0 };
        }
        let present: Vec<usize> =
            (0..k).filter(|&c| m[c].iter().sum::<usize>() > 0 || (0..k).any(|g| m[g][c] > 0)).collect();
        let macro_f1 = present.iter().map(|&c| f[c]).sum::<f64>() / present.len().max(1) as f64;
        let acc = (0..k).map(|c| m[c][c]).sum::<usize>() as f64 / gold.len().max(1) as f64;
        (p, r, f, macro_f1, acc)
    };
    let confusion = confusion_of(&|i| idx(&predicted[i]));
    let (precision, recall, f1, macro_f1, accuracy) = prf(&confusion);
    let mut counts = vec![0usize; k];
    for g in gold {
        counts[idx(g)] += 1;
    }
    let majority = (0..k).max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a))).unwrap_or(0);
    let (_, _, _, majority_macro_f1, majority_accuracy) = prf(&confusion_of(&|_| majority));
    DimensionScores {
        dimension: dimension.to_string(),
        labels: labels.to_vec(),
        confusion,
        precision,
        recall,
        f1,
        macro_f1,
        accuracy,
        majority_label: labels[majority].clone(),
        majority_macro_f1,
        majority_accuracy,
        calibration: None,
    }
}

/// Fold of every comment: branches joined by quotes, assigned to `k` folds, largest first, each to
/// the fold with the fewest comments so far (ties to the lowest fold number).
pub fn branch_folds(thread: &Thread, k: usize) -> Vec<usize> {
    let n = thread.comments.len();
    let pos: HashMap<&str, usize> = thread.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    // Unit of each comment: the top-level comment itself, or the reply to it that heads its branch.
    let mut unit = vec![0usize; n];
    for i in 0..n {
        let mut cur = i;
        loop {
            match thread.comments[cur].parent.as_deref().and_then(|p| pos.get(p)) {
                None => break,
                Some(&p) if thread.comments[p].parent.is_none() => break,
                Some(&p) => cur = p,
            }
        }
        unit[i] = cur;
    }
    // Union units joined by quotes.
    let mut root: Vec<usize> = (0..n).collect();
    fn find(root: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while root[r] != r {
            r = root[r];
        }
        let mut y = x;
        while root[y] != r {
            let next = root[y];
            root[y] = r;
            y = next;
        }
        r
    }
    for (i, c) in thread.comments.iter().enumerate() {
        for b in &c.blocks {
            if let Block::Quote { source: QuoteSource::Comment { id }, .. } = b
                && let Some(&j) = pos.get(id.as_str())
            {
                let (a, b) = (find(&mut root, unit[i]), find(&mut root, unit[j]));
                if a != b {
                    root[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let group: Vec<usize> = (0..n).map(|i| find(&mut root, unit[i])).collect();
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    for &g in &group {
        *sizes.entry(g).or_default() += 1;
    }
    let mut groups: Vec<(usize, usize)> = sizes.into_iter().collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut load = vec![0usize; k];
    let mut fold_of_group = HashMap::new();
    for (g, size) in groups {
        let f = (0..k).min_by_key(|&f| (load[f], f)).unwrap_or(0);
        load[f] += size;
        fold_of_group.insert(g, f);
    }
    group.iter().map(|g| fold_of_group[g]).collect()
}

/// One setting tried by [`choose_probe_weights`]: the probes' weight, the description weight, the
/// mean stance macro-F1 and the primary-cluster macro-F1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightRow {
    pub probes: f64,
    pub descriptions: f64,
    pub stance: f64,
    pub clusters: f64,
}

/// What the sentence encoder gives a cross-validation: the comments' vectors, the vectors of the
/// codebook's cluster descriptions, and the weights of the probes (trained per fold).
#[derive(Clone, Copy)]
pub struct Encoded<'a> {
    pub vectors: &'a SentenceVectors,
    /// The vectors of the authored examples ([`CvData::extra`]), in their order, when they are used:
    /// the probes then learn from them too.
    pub extra_vectors: Option<&'a SentenceVectors>,
    pub descriptions: &'a [Vec<f32>],
    pub weights: ProbeWeights,
}

/// An annotated thread as cross-validation reads it: the thread, each comment's gold labels
/// (`gold[i]` for comment `i`), their primary clusters when annotated, the codebook, extra text for
/// the tokenizer (news reports), and the number of folds.
#[derive(Debug, Clone, Copy)]
pub struct CvData<'a> {
    pub thread: &'a Thread,
    pub gold: &'a [GoldLabels],
    pub primary: Option<&'a [String]>,
    pub codebook: &'a Codebook,
    pub context: &'a [String],
    pub k: usize,
    /// Authored examples added to every training fold and never scored (see
    /// [`crate::annotated::AuthoredSet`]).
    pub extra: Option<&'a crate::annotated::AuthoredSet>,
}

impl<'a> CvData<'a> {
    /// The annotated thread of a folder, with `k` folds.
    pub fn of(a: &'a crate::annotated::AnnotatedThread, codebook: &'a Codebook, k: usize) -> CvData<'a> {
        CvData {
            thread: &a.thread,
            gold: &a.gold,
            primary: Some(&a.primary_cluster),
            codebook,
            context: &a.context,
            k,
            extra: None,
        }
    }

    /// The same data with authored examples in every training fold.
    pub fn with_extra(self, extra: Option<&'a crate::annotated::AuthoredSet>) -> CvData<'a> {
        CvData { extra, ..self }
    }

    /// The primary clusters, which some evaluations need.
    fn primary_clusters(&self) -> Result<&'a [String]> {
        self.primary.ok_or_else(|| crate::Error::new("", None, "this evaluation needs annotated primary clusters"))
    }
}

/// Choose the encoder's weights by cross-validation: every description weight of
/// [`DESCRIPTION_WEIGHT_GRID`] times every probe weight of [`WEIGHT_GRID`] (the same for both
/// probes). For each description weight, the stance probe's weight is the one with the best mean
/// stance macro-F1 and the cluster probe's the one with the best primary-cluster macro-F1; the
/// description weight is the one whose two best figures sum highest (ties always to the smaller
/// weight). Returns the weights and every row tried.
pub fn choose_probe_weights(
    data: CvData,
    vectors: &SentenceVectors,
    extra_vectors: Option<&SentenceVectors>,
    descriptions: &[Vec<f32>],
    settings: &CvSettings,
) -> Result<(ProbeWeights, Vec<WeightRow>)> {
    let mut rows = Vec::new();
    for &d in DESCRIPTION_WEIGHT_GRID {
        for &w in WEIGHT_GRID {
            let weights = ProbeWeights { stance: w, clusters: w, descriptions: d };
            let encoded = Encoded { vectors, extra_vectors, descriptions, weights };
            let e = cross_validate_with(data, Some(encoded), settings)?;
            let stance = e.dimensions.iter().map(|d| d.macro_f1).sum::<f64>() / e.dimensions.len().max(1) as f64;
            let clusters = e.clusters.as_ref().map_or(0.0, |c| c.macro_f1);
            rows.push(WeightRow { probes: w, descriptions: d, stance, clusters });
        }
    }
    Ok((best_probe_weights(&rows), rows))
}

/// The choice of [`choose_probe_weights`] from its rows.
pub fn best_probe_weights(rows: &[WeightRow]) -> ProbeWeights {
    // The row with the highest figure `f` among `rows` (the first, so the smaller weight, on a tie).
    let best = |rows: &[&WeightRow], f: fn(&WeightRow) -> f64| {
        rows.iter().fold(*rows[0], |b, r| if f(r) > f(&b) + 1e-9 { **r } else { b })
    };
    let mut chosen: Option<(f64, ProbeWeights)> = None;
    for &d in DESCRIPTION_WEIGHT_GRID {
        let at: Vec<&WeightRow> = rows.iter().filter(|r| r.descriptions == d).collect();
        if at.is_empty() {
            continue;
        }
        let (stance, clusters) = (best(&at, |r| r.stance), best(&at, |r| r.clusters));
        let sum = stance.stance + clusters.clusters;
        if chosen.is_none_or(|(s, _)| sum > s + 1e-9) {
            chosen = Some((sum, ProbeWeights { stance: stance.probes, clusters: clusters.probes, descriptions: d }));
        }
    }
    chosen.map_or_else(ProbeWeights::default, |c| c.1)
}

/// The result of cross-validation: scores per dimension and the out-of-fold thread.
pub struct StanceEvaluation {
    pub folds: usize,
    pub dimensions: Vec<DimensionScores>,
    /// Primary-cluster scores (accuracy, and precision/recall/F1 per cluster).
    pub clusters: Option<DimensionScores>,
    /// `relation_to_parent` of the replies against the relation their annotated labels imply (see
    /// [`implied_relations`]).
    pub relation: DimensionScores,
    pub predictions: Thread,
}

/// The relation of every reply to its parent that the gold labels imply
/// ([`crate::stance::implied_relation`]). Returns (position, relation) for the replies whose parent
/// is in the thread.
pub fn implied_relations(thread: &Thread, gold: &[GoldLabels], codebook: &Codebook) -> Vec<(usize, String)> {
    let parents = thread.parent_positions();
    parents
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, crate::stance::implied_relation(codebook, &gold[i], &gold[(*p)?]).to_string())))
        .collect()
}

/// The parents of a training set's comments (`rows`, positions in the thread), as positions in the
/// training set: `None` where the parent is the article or not in the set.
pub fn training_parents(parents: &[Option<usize>], rows: &[usize]) -> Vec<Option<usize>> {
    let row_of: std::collections::HashMap<usize, usize> = rows.iter().enumerate().map(|(r, &i)| (i, r)).collect();
    rows.iter().map(|&i| parents[i].and_then(|p| row_of.get(&p).copied())).collect()
}

/// Cross-validate on a thread whose comments carry gold labels.
pub fn cross_validate(data: CvData, encoded: Option<Encoded>) -> Result<StanceEvaluation> {
    cross_validate_with(data, encoded, &CvSettings::default())
}

/// What cross-validation can vary: the weight of a cluster cue phrase
/// ([`crate::clusters::CUE_WEIGHT`]) and the regularisation of each stance dimension (absent:
/// [`crate::stance::DEFAULT_REGULARISATION`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CvSettings {
    pub cluster_cue_weight: f64,
    pub stance_regularisation: BTreeMap<String, Regularisation>,
}

impl Default for CvSettings {
    fn default() -> Self {
        CvSettings { cluster_cue_weight: crate::clusters::CUE_WEIGHT, stance_regularisation: BTreeMap::new() }
    }
}

/// [`cross_validate`] with other settings.
pub fn cross_validate_with(data: CvData, encoded: Option<Encoded>, settings: &CvSettings) -> Result<StanceEvaluation> {
    let CvData { thread, gold, primary, codebook, context, k, extra } = data;
    let vectors = encoded.map(|e| e.vectors);
    let extra_vectors = encoded.and_then(|e| e.extra_vectors).filter(|_| extra.is_some());
    let descriptions = encoded.map_or(&[][..], |e| e.descriptions);
    let fold = branch_folds(thread, k);
    let parents = thread.parent_positions();
    let cues = CueSets::new(codebook);
    let mut predictions = thread.clone();
    let article = crate::ingest::copied_text::article_text(&thread.article);
    // Each fold's model, features, probes and clusters; the stances are predicted after all folds
    // are trained.
    let mut trained: Vec<FoldState> = Vec::with_capacity(k);
    for f in 0..k {
        let train_idx: Vec<usize> = (0..thread.comments.len()).filter(|&i| fold[i] != f).collect();
        if train_idx.len() == thread.comments.len() {
            continue;
        }
        let mut texts: Vec<String> = context.to_vec();
        texts.push(article.clone());
        texts.extend(train_idx.iter().map(|&i| thread.comments[i].text.clone()));
        let subwords = crate::subwords::train_on_texts(&texts, VOCAB).map_err(|e| crate::Error::new("", None, e))?;
        let features: Vec<CommentFeatures> =
            thread.comments.iter().map(|c| comment_features(c, &cues, Some(&subwords))).collect();
        let mut train_features: Vec<CommentFeatures> = train_idx.iter().map(|&i| features[i].clone()).collect();
        let mut train_gold: Vec<GoldLabels> = train_idx.iter().map(|&i| gold[i].clone()).collect();
        let mut train_primary: Option<Vec<String>> = primary.map(|p| train_idx.iter().map(|&i| p[i].clone()).collect());
        let mut train_parents = training_parents(&parents, &train_idx);
        if let Some(x) = extra {
            x.append_to(
                &cues,
                Some(&subwords),
                &mut train_features,
                &mut train_gold,
                &mut train_parents,
                train_primary.as_mut(),
            );
        }
        let model = crate::stance::train_with_authored(
            codebook,
            &train_features,
            &train_gold,
            train_primary.as_deref(),
            &settings.stance_regularisation,
            train_idx.len(),
            &train_parents,
        );
        // Probes on the sentence vectors, trained on this fold's training comments, and on the
        // authored examples when their vectors are given.
        let n = if extra_vectors.is_some() { train_gold.len() } else { train_idx.len() };
        let semantic_model = vectors.map(|v| {
            let mut train_vectors: Vec<&[f32]> = train_idx.iter().map(|&i| v.raw[i].as_slice()).collect();
            train_vectors.extend(extra_vectors.iter().flat_map(|x| x.raw.iter().map(Vec::as_slice)));
            let mut m = SemanticModel::train(
                codebook,
                "cross-validation",
                &train_vectors,
                &train_gold[..n],
                // The cluster probe, like the cluster model, learns from the thread's comments only
                // (the first ones: the probe pairs vectors and clusters in order).
                train_primary.as_ref().map(|p| &p[..train_idx.len()]),
            );
            m.weights = encoded.map(|e| e.weights).unwrap_or_default();
            m
        });
        // The cluster model learns from the thread's comments only: the authored examples were
        // written to show stances, and their clusters are not spread as in a real thread (on the
        // seed thread's folds they lowered primary-cluster macro-F1 from 0.748 to 0.713).
        let cluster_model = train_primary.as_ref().map(|train_primary| {
            let n = train_idx.len();
            crate::clusters::train(codebook, &train_features[..n], &train_primary[..n])
        });
        trained.push(FoldState { fold: f, features, model, semantic_model, cluster_model, assigned: None });
    }
    // A reply's parent may sit in another fold (a top-level comment is a unit of its own). The
    // reply reads the parent's labels as the parent's own fold predicted them, never as predicted by
    // a model that was trained on the parent: first every fold predicts its own comments, then
    // every fold predicts again with the other folds' comments given.
    let n = thread.comments.len();
    // Clusters first: the stance leans on the cluster a comment is placed in. A top-level comment
    // reads what its replies' own words say, and a reply may take its parent's topic: three rounds
    // settle both with every other fold's comments as their own fold's models see them.
    let mut known: Vec<Option<crate::clusters::GivenClusters>> = vec![None; n];
    for round in 0..3 {
        let mut next = vec![None; n];
        for t in trained.iter_mut() {
            let Some(cluster_model) = &t.cluster_model else { continue };
            let semantic = vectors.map(|vectors| Semantic { vectors, model: t.semantic_model.as_ref(), descriptions });
            let given: Vec<Option<crate::clusters::GivenClusters>> =
                (0..n).map(|i| if round > 0 && fold[i] != t.fold { known[i].clone() } else { None }).collect();
            let assigned = crate::clusters::assign_given(
                thread,
                codebook,
                Some(cluster_model),
                &t.features,
                semantic,
                settings.cluster_cue_weight,
                &given,
            );
            for (i, (a, own)) in assigned.iter().enumerate().filter(|(i, _)| fold[*i] == t.fold) {
                next[i] =
                    Some(crate::clusters::GivenClusters { own: own.clone(), probabilities: a.probabilities.clone() });
            }
            t.assigned = Some(assigned.into_iter().map(|(a, _)| a).collect());
        }
        known = next;
    }
    let mut own_fold: Vec<Option<BTreeMap<String, crate::model::Label>>> = vec![None; n];
    for pass in 0..2 {
        for t in &trained {
            let semantic = vectors.map(|vectors| Semantic { vectors, model: t.semantic_model.as_ref(), descriptions });
            let given: Vec<Option<BTreeMap<String, crate::model::Label>>> =
                (0..n).map(|i| if pass == 1 && fold[i] != t.fold { own_fold[i].clone() } else { None }).collect();
            let predicted =
                predict(thread, codebook, Some(&t.model), &t.features, semantic, t.assigned.as_deref(), &given);
            for (i, (stance, relation)) in predicted.into_iter().enumerate().filter(|(i, _)| fold[*i] == t.fold) {
                if pass == 0 {
                    own_fold[i] = Some(stance);
                } else {
                    predictions.comments[i].stance = Some(stance);
                    predictions.comments[i].relation_to_parent = relation;
                }
            }
        }
    }
    for t in trained {
        for (i, a) in t.assigned.into_iter().flatten().enumerate() {
            if fold[i] == t.fold {
                predictions.comments[i].clusters = Some(a);
            }
        }
    }
    let (dimensions, clusters) = score_predictions(&predictions, gold, primary, codebook);
    let implied = implied_relations(thread, gold, codebook);
    let relation_labels: Vec<String> = ["neutral", "agree", "disagree"].map(String::from).to_vec();
    let predicted_relation: Vec<String> = implied
        .iter()
        .map(|(i, _)| {
            predictions.comments[*i].relation_to_parent.as_ref().map_or_else(|| "neutral".into(), |r| r.label.clone())
        })
        .collect();
    let implied: Vec<String> = implied.into_iter().map(|(_, r)| r).collect();
    let relation = score("relation_to_parent", &relation_labels, &implied, &predicted_relation);
    Ok(StanceEvaluation { folds: k, dimensions, clusters, relation, predictions })
}

/// What one fold of [`cross_validate_with`] trained: the features of every comment (with the fold's
/// own subword tokenizer), the stance model, the sentence-vector probes and the clusters it assigned.
struct FoldState {
    fold: usize,
    features: Vec<CommentFeatures>,
    model: crate::stance::StanceModel,
    semantic_model: Option<SemanticModel>,
    cluster_model: Option<crate::clusters::ClusterModel>,
    assigned: Option<Vec<crate::model::ClusterAssignment>>,
}

/// Per-dimension scores of out-of-fold predictions, and primary-cluster scores when gold clusters
/// are given.
fn score_predictions(
    predictions: &Thread,
    gold: &[GoldLabels],
    primary: Option<&[String]>,
    codebook: &Codebook,
) -> (Vec<DimensionScores>, Option<DimensionScores>) {
    let mut dimensions = Vec::new();
    for d in &codebook.dimensions {
        let g: Vec<String> = gold.iter().map(|x| x.get(&d.id).cloned().unwrap_or_else(|| d.neutral.clone())).collect();
        let p: Vec<String> = predictions
            .comments
            .iter()
            .map(|c| c.stance.as_ref().and_then(|s| s.get(&d.id)).map_or(d.neutral.clone(), |l| l.label.clone()))
            .collect();
        let mut scores = score(&d.id, &d.label_ids(), &g, &p);
        let empty = BTreeMap::new();
        let probabilities: Vec<&BTreeMap<String, f64>> = predictions
            .comments
            .iter()
            .map(|c| c.stance.as_ref().and_then(|s| s.get(&d.id)).map_or(&empty, |l| &l.probabilities))
            .collect();
        scores.calibration = calibrate(&d.label_ids(), &g, &probabilities);
        dimensions.push(scores);
    }
    let clusters = primary.map(|gold_primary| {
        let labels: Vec<String> = codebook.clusters.iter().map(|c| c.id.clone()).collect();
        let p: Vec<String> = predictions
            .comments
            .iter()
            .map(|c| c.clusters.as_ref().map_or_else(|| labels[0].clone(), |a| a.primary.clone()))
            .collect();
        let mut scores = score("primary_cluster", &labels, gold_primary, &p);
        // The cluster probabilities (in codebook order) as a map, to score them like the stances'.
        let probabilities: Vec<BTreeMap<String, f64>> = predictions
            .comments
            .iter()
            .map(|c| {
                c.clusters
                    .as_ref()
                    .filter(|a| a.probabilities.len() == labels.len())
                    .map(|a| labels.iter().cloned().zip(a.probabilities.iter().copied()).collect())
                    .unwrap_or_default()
            })
            .collect();
        scores.calibration = calibrate(&labels, gold_primary, &probabilities.iter().collect::<Vec<_>>());
        scores
    });
    (dimensions, clusters)
}

/// The regularisation of every stance dimension, chosen from [`crate::stance::MIN_COUNT_GRID`] times
/// [`crate::stance::L2_GRID`] (times [`crate::stance::AUTHORED_WEIGHT_GRID`] when the data has
/// authored examples) by cross-validation on the given comments: per dimension the lowest log-loss
/// of the out-of-fold label probabilities (the stronger regularisation on a tie). The log-loss, a
/// proper score of every comment's probabilities, moves less between neighbouring settings than
/// macro-F1, which turns on a few comments near a decision: chosen by macro-F1 the settings varied
/// from fold to fold and nested cross-validation scored lower (see the README). The dimensions'
/// models are trained apart, so each dimension's choice is its own.
pub fn choose_regularisation(data: CvData, base: &CvSettings) -> Result<BTreeMap<String, Regularisation>> {
    let codebook = data.codebook;
    let mut best: BTreeMap<String, (f64, Regularisation)> = BTreeMap::new();
    let authored_weights = if data.extra.is_some() { crate::stance::AUTHORED_WEIGHT_GRID } else { &[1.0] };
    // Ties go to the first tried: stronger regularisation, and authored examples at full weight.
    let grid = crate::stance::MIN_COUNT_GRID.iter().rev().flat_map(|&min_count| {
        crate::stance::L2_GRID.iter().rev().flat_map(move |&l2| {
            authored_weights.iter().rev().map(move |&authored_weight| Regularisation { l2, min_count, authored_weight })
        })
    });
    for r in grid {
        let stance_regularisation = codebook.dimensions.iter().map(|d| (d.id.clone(), r)).collect();
        let settings = CvSettings { stance_regularisation, ..base.clone() };
        let e = cross_validate_with(data, None, &settings)?;
        for d in &e.dimensions {
            let b = best.entry(d.dimension.clone()).or_insert((f64::NEG_INFINITY, r));
            // The lowest log-loss of the out-of-fold probabilities (macro-F1 if there are none).
            let v = d.calibration.as_ref().map_or(d.macro_f1, |c| -c.log_loss);
            if v > b.0 + 1e-9 {
                *b = (v, r);
            }
        }
    }
    Ok(best.into_iter().map(|(d, (_, r))| (d, r)).collect())
}

/// The grid [`choose_regularisation`] chooses from, in words.
pub fn describe_grid(with_authored: bool) -> String {
    let base = format!("L2 {:?}, minimum feature counts {:?}", crate::stance::L2_GRID, crate::stance::MIN_COUNT_GRID);
    if with_authored {
        format!("{base} and the weight of an authored example {:?}", crate::stance::AUTHORED_WEIGHT_GRID)
    } else {
        base
    }
}

/// A regularisation in words: "L2 0.03, features seen at least once".
pub fn describe_regularisation(r: &BTreeMap<String, Regularisation>, with_authored: bool) -> String {
    let parts: Vec<String> = r
        .iter()
        .map(|(d, r)| {
            let authored = if with_authored {
                format!(", an authored example counts {}", r.authored_weight)
            } else {
                String::new()
            };
            format!("{d}: L2 {}, features in at least {} comment(s){authored}", r.l2, r.min_count)
        })
        .collect();
    parts.join("; ")
}

/// Scores by nested cross-validation: for each outer fold a setting is chosen by an inner
/// cross-validation on the outer training comments only, and the outer fold is then predicted with
/// it. So no figure rests on a setting chosen with the comments it scores.
pub struct NestedScores {
    /// The scores of the outer predictions: the stance dimensions, then the primary cluster.
    pub scores: Vec<DimensionScores>,
    /// The setting chosen in each outer fold, in words: the cluster cue weight or the
    /// regularisation per stance dimension (as [`describe_regularisation`] words it).
    pub chosen: Vec<String>,
}

/// Which setting a nested cross-validation chooses, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NestedChoice {
    /// The cluster cue weight from [`crate::clusters::CUE_WEIGHT_GRID`], by primary-cluster accuracy
    /// (the smaller weight on a tie).
    ClusterCueWeight,
    /// The regularisation of each stance dimension, by [`choose_regularisation`].
    StanceRegularisation,
}

fn choose(choice: NestedChoice, data: CvData) -> Result<CvSettings> {
    let base = CvSettings::default();
    match choice {
        NestedChoice::StanceRegularisation => {
            let stance_regularisation = choose_regularisation(data, &base)?;
            Ok(CvSettings { stance_regularisation, ..base })
        }
        NestedChoice::ClusterCueWeight => {
            let mut best = (f64::NEG_INFINITY, crate::clusters::CUE_WEIGHT);
            for &w in crate::clusters::CUE_WEIGHT_GRID {
                let settings = CvSettings { cluster_cue_weight: w, ..base.clone() };
                let e = cross_validate_with(data, None, &settings)?;
                let accuracy = e.clusters.as_ref().map_or(0.0, |c| c.accuracy);
                if accuracy > best.0 + 1e-9 {
                    best = (accuracy, w);
                }
            }
            Ok(CvSettings { cluster_cue_weight: best.1, ..base })
        }
    }
}

pub fn nested_scores(data: CvData, choice: NestedChoice) -> Result<NestedScores> {
    let CvData { thread, gold, codebook, k, .. } = data;
    let primary = data.primary_clusters()?;
    let fold = branch_folds(thread, k);
    let mut predictions = thread.clone();
    // Outer predictions per setting: the outer folds are the same whatever the setting.
    let mut outer: Vec<(CvSettings, Thread)> = Vec::new();
    let mut chosen = Vec::new();
    for f in 0..k {
        let train_idx: Vec<usize> = (0..thread.comments.len()).filter(|&i| fold[i] != f).collect();
        if train_idx.len() == thread.comments.len() {
            continue;
        }
        // The outer training comments are whole branches, so every parent among them is there too.
        let mut inner = thread.clone();
        inner.comments = train_idx.iter().map(|&i| thread.comments[i].clone()).collect();
        let inner_gold: Vec<GoldLabels> = train_idx.iter().map(|&i| gold[i].clone()).collect();
        let inner_primary: Vec<String> = train_idx.iter().map(|&i| primary[i].clone()).collect();
        let inner_data = CvData { thread: &inner, gold: &inner_gold, primary: Some(&inner_primary), ..data };
        let settings = choose(choice, inner_data)?;
        chosen.push(match choice {
            NestedChoice::ClusterCueWeight => format!("cluster cue weight {}", settings.cluster_cue_weight),
            NestedChoice::StanceRegularisation => {
                describe_regularisation(&settings.stance_regularisation, data.extra.is_some())
            }
        });
        if !outer.iter().any(|(x, _)| *x == settings) {
            let e = cross_validate_with(data, None, &settings)?;
            outer.push((settings.clone(), e.predictions));
        }
        let from = &outer.iter().find(|(x, _)| *x == settings).expect("just computed").1;
        for i in (0..thread.comments.len()).filter(|&i| fold[i] == f) {
            predictions.comments[i] = from.comments[i].clone();
        }
    }
    let (dimensions, clusters) = score_predictions(&predictions, gold, Some(primary), codebook);
    Ok(NestedScores { scores: dimensions.into_iter().chain(clusters).collect(), chosen })
}

pub fn format_scores(e: &StanceEvaluation) -> String {
    let mut out = format!(
        "{}-fold cross-validation by branch (no comment is predicted by a model that saw it or what it quotes)\n",
        e.folds
    );
    for d in e.dimensions.iter().chain(&e.clusters) {
        out.push('\n');
        out.push_str(&format_dimension(d));
    }
    out.push_str("\nrelation to the parent, against the relation the annotated labels imply (opposite sides: disagree; the same side: agree)\n");
    out.push_str(&format_dimension(&e.relation));
    out
}

/// One dimension's scores as text: per-class precision, recall and F1, macro-F1, accuracy, the
/// majority baseline and the confusion matrix.
pub fn format_dimension(d: &DimensionScores) -> String {
    let mut out = String::new();
    out.push_str(&format!("{}\n", d.dimension));
    let w = d.labels.iter().map(|l| l.len() + 3).max().unwrap_or(8).max(8);
    out.push_str(&format!("  {:<w$} {:>9} {:>7} {:>6} {:>8}\n", "label", "precision", "recall", "F1", "support"));
    for (i, l) in d.labels.iter().enumerate() {
        let support: usize = d.confusion[i].iter().sum();
        let name = format!("{} {l}", i + 1);
        out.push_str(&format!(
            "  {name:<w$} {:>9.3} {:>7.3} {:>6.3} {:>8}\n",
            d.precision[i], d.recall[i], d.f1[i], support
        ));
    }
    out.push_str(&format!(
        "  macro-F1 {:.3}  accuracy {:.3}   majority baseline ('{}'): macro-F1 {:.3}  accuracy {:.3}\n",
        d.macro_f1, d.accuracy, d.majority_label, d.majority_macro_f1, d.majority_accuracy
    ));
    if let Some(c) = &d.calibration {
        out.push_str(&format_calibration(c));
    }
    // Columns are numbered like the rows, so that long label names stay readable.
    out.push_str("  confusion (rows gold, columns predicted):\n");
    out.push_str(&format_confusion(&d.labels, &d.confusion, w));
    out
}

/// Calibration as text: the proper scores, then a small table of the confidence bins (how many
/// comments, their mean confidence, and the share of them whose label was right).
pub fn format_calibration(c: &Calibration) -> String {
    let mut out = format!(
        "  probabilities: log-loss {:.3} (label frequencies: {:.3}), Brier {:.3}, expected calibration error {:.3}\n",
        c.log_loss, c.baseline_log_loss, c.brier, c.ece
    );
    let row = |name: &str, cell: &dyn Fn(&CalibrationBin) -> String| {
        format!("    {name:<16}{}\n", c.bins.iter().map(|b| format!("{:>9}", cell(b))).collect::<String>())
    };
    out.push_str(&row("confidence", &|b| format!("{:.1}-{:.1}", b.from, b.to)));
    out.push_str(&row("comments", &|b| b.comments.to_string()));
    out.push_str(&row("mean confidence", &|b| format!("{:.2}", b.mean_confidence)));
    out.push_str(&row("share right", &|b| format!("{:.2}", b.accuracy)));
    out
}

/// A confusion matrix as text: rows numbered and named, columns numbered alike (so long label
/// names stay readable), the name column `w` wide.
pub fn format_confusion(labels: &[String], confusion: &[Vec<usize>], w: usize) -> String {
    let mut out = format!("  {:<w$} {}\n", "", (1..=labels.len()).map(|c| format!("{c:>5}")).collect::<String>());
    for (i, l) in labels.iter().enumerate() {
        let row: String = confusion[i].iter().map(|v| format!("{v:>5}")).collect();
        out.push_str(&format!("  {:<w$} {row}\n", format!("{} {l}", i + 1)));
    }
    out
}

/// Score the out-of-fold predictions of an evaluation against another annotation of the same thread
/// (a `labels.tsv` file, matched by first line): how the model fares against labels it never learnt from.
pub fn score_against(e: &StanceEvaluation, path: &str, codebook: &Codebook) -> Result<Vec<DimensionScores>> {
    let labels = crate::stance::read_labels(path, codebook)?;
    let by_line: HashMap<usize, usize> = labels.iter().enumerate().map(|(i, l)| (l.0, i)).collect();
    let mut rows = Vec::with_capacity(e.predictions.comments.len());
    for c in &e.predictions.comments {
        let first = c.span.map_or(0, |s| s.first_line);
        let i = *by_line.get(&first).ok_or_else(|| {
            crate::Error::new(path, None, format!("no labels for the comment starting at line {first}"))
        })?;
        rows.push((c, &labels[i]));
    }
    let mut out = Vec::new();
    for d in &codebook.dimensions {
        let gold: Vec<String> = rows.iter().map(|(_, l)| l.1[&d.id].clone()).collect();
        let predicted: Vec<String> = rows
            .iter()
            .map(|(c, _)| c.stance.as_ref().and_then(|s| s.get(&d.id)).map_or(d.neutral.clone(), |l| l.label.clone()))
            .collect();
        out.push(score(&d.id, &d.label_ids(), &gold, &predicted));
    }
    if e.clusters.is_some() {
        let clusters: Vec<String> = codebook.clusters.iter().map(|c| c.id.clone()).collect();
        let gold: Vec<String> = rows.iter().map(|(_, l)| l.2.clone()).collect();
        let predicted: Vec<String> = rows
            .iter()
            .map(|(c, _)| c.clusters.as_ref().map_or_else(|| clusters[0].clone(), |a| a.primary.clone()))
            .collect();
        out.push(score("primary_cluster", &clusters, &gold, &predicted));
    }
    Ok(out)
}

/// Macro-F1 and accuracy per dimension without and with the sentence encoder, side by side.
pub fn format_comparison(without: &StanceEvaluation, with: &StanceEvaluation) -> String {
    let mut out = String::from("the sentence encoder's effect (same folds):\n");
    out.push_str(&format!(
        "  {:<18} {:>16} {:>16} {:>16} {:>16}\n",
        "", "macro-F1 without", "macro-F1 with", "accuracy without", "accuracy with"
    ));
    let a = without.dimensions.iter().chain(&without.clusters);
    let b = with.dimensions.iter().chain(&with.clusters);
    for (x, y) in a.zip(b) {
        out.push_str(&format!(
            "  {:<18} {:>16.3} {:>16.3} {:>16.3} {:>16.3}\n",
            x.dimension, x.macro_f1, y.macro_f1, x.accuracy, y.accuracy
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_weights_are_chosen_per_description_weight() {
        let row = |descriptions, probes, stance, clusters| WeightRow { probes, descriptions, stance, clusters };
        // At description weight 1 the best stance (0.72, probe 0.1) and the best clusters (0.80,
        // probe 0.5) sum to 1.52, above weight 0 (0.70 + 0.78) and weight 2 (0.75 + 0.70).
        let rows = [
            row(0.0, 0.0, 0.70, 0.78),
            row(0.0, 0.1, 0.69, 0.70),
            row(1.0, 0.0, 0.71, 0.75),
            row(1.0, 0.1, 0.72, 0.74),
            row(1.0, 0.5, 0.60, 0.80),
            row(2.0, 0.0, 0.75, 0.70),
        ];
        assert_eq!(best_probe_weights(&rows), ProbeWeights { stance: 0.1, clusters: 0.5, descriptions: 1.0 });
        // Ties go to the smaller weights.
        let ties = [row(0.0, 0.0, 0.7, 0.7), row(0.0, 0.1, 0.7, 0.7), row(1.0, 0.0, 0.7, 0.7)];
        assert_eq!(best_probe_weights(&ties), ProbeWeights { stance: 0.0, clusters: 0.0, descriptions: 0.0 });
        assert_eq!(best_probe_weights(&[]), ProbeWeights::default());
    }

    #[test]
    fn scores_match_hand_computation() {
        let labels: Vec<String> = ["none", "a", "b"].iter().map(|s| s.to_string()).collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let d = score("x", &labels, &s(&["none", "a", "a", "b"]), &s(&["none", "a", "b", "b"]));
        assert_eq!(d.confusion, vec![vec![1, 0, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        assert!((d.f1[1] - 2.0 / 3.0).abs() < 1e-9);
        assert!((d.macro_f1 - (1.0 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0).abs() < 1e-9);
        assert_eq!(d.majority_label, "a");
        assert!((d.majority_accuracy - 0.5).abs() < 1e-9);
    }

    #[test]
    fn calibration_matches_hand_computation() {
        let labels: Vec<String> = ["none", "a"].iter().map(|s| s.to_string()).collect();
        let p = |none: f64, a: f64| BTreeMap::from([("none".to_string(), none), ("a".to_string(), a)]);
        let (p1, p2, p3, p4) = (p(0.9, 0.1), p(0.4, 0.6), p(0.7, 0.3), p(0.55, 0.45));
        let gold: Vec<String> = ["none", "a", "a", "none"].iter().map(|s| s.to_string()).collect();
        let c = calibrate(&labels, &gold, &[&p1, &p2, &p3, &p4]).unwrap();
        let log_loss = -(0.9f64.ln() + 0.6f64.ln() + 0.3f64.ln() + 0.55f64.ln()) / 4.0;
        assert!((c.log_loss - log_loss).abs() < 1e-9);
        assert!((c.baseline_log_loss - 0.5f64.ln().abs()).abs() < 1e-9);
        let brier = (2.0 * 0.01 + 2.0 * 0.16 + 2.0 * 0.49 + 2.0 * 0.2025) / 4.0;
        assert!((c.brier - brier).abs() < 1e-9);
        // Bins: 0.5-0.6 holds 0.55 (right), 0.6-0.7 holds 0.6 (right), 0.7-0.8 holds 0.7 (wrong),
        // 0.9-1.0 holds 0.9 (right).
        let bins: Vec<(f64, usize, f64)> = c.bins.iter().map(|b| (b.from, b.comments, b.accuracy)).collect();
        assert_eq!(bins, vec![(0.5, 1, 1.0), (0.6, 1, 1.0), (0.7, 1, 0.0), (0.9, 1, 1.0)]);
        let ece = (0.45 + 0.4 + 0.7 + 0.1) / 4.0;
        assert!((c.ece - ece).abs() < 1e-9, "{}", c.ece);
        // A prediction without probabilities gives no calibration.
        let empty = BTreeMap::new();
        assert!(calibrate(&labels, &gold, &[&p1, &p2, &p3, &empty]).is_none());
    }
}
