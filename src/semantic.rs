//! Sentence vectors as evidence. When the optional encoder ([`crate::encoder`]) is present, every
//! comment gets a vector that stands for its meaning; this stage turns those vectors into evidence
//! for the other stages:
//! - *probes*: a logistic regression per stance dimension and one for the primary cluster, trained
//!   by `draad train` on the annotated thread's vectors and stored in `models/semantic-CODEBOOK.json`
//!   (their scores are added to the word-based model's);
//! - *similarity* of two comments of one thread (reply reconstruction, discovery), measured on
//!   vectors centred on the thread's mean: e5's raw cosines all sit between 0.7 and 0.95, centring
//!   spreads them out so that "about the same thing" stands apart from "also Dutch, also a comment".
//!
//! Without the encoder none of this runs, and nothing else changes.

use crate::error::{Error, Result};
use crate::logreg::{LogReg, TrainOptions, softmax};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Below this many comments a thread's mean is no good centre: the raw vectors are used.
const CENTRE_FROM: usize = 8;

/// The vectors of a thread's comments (comment order), as the encoder made them and centred.
#[derive(Debug, Clone)]
pub struct SentenceVectors {
    /// Unit vectors from the encoder.
    pub raw: Vec<Vec<f32>>,
    /// The same, minus the thread's mean vector, normalised again.
    pub centred: Vec<Vec<f32>>,
    /// The thread's mean vector (none for a short thread: no centring).
    pub mean: Option<Vec<f32>>,
}

impl SentenceVectors {
    pub fn new(raw: Vec<Vec<f32>>) -> SentenceVectors {
        let mean = (raw.len() >= CENTRE_FROM).then(|| mean(&raw));
        let centred = match &mean {
            Some(m) => centre(&raw, m),
            None => raw.clone(),
        };
        SentenceVectors { raw, centred, mean }
    }

    /// Another text's vector (a cluster description), centred like the comments.
    pub fn centre_other(&self, v: &[f32]) -> Vec<f32> {
        match &self.mean {
            Some(m) => centre(&[v.to_vec()], m).remove(0),
            None => v.to_vec(),
        }
    }

    pub fn len(&self) -> usize {
        self.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Cosine of two comments' centred vectors: about 0 for unrelated comments, up to 1 for the
    /// same point made twice.
    pub fn similarity(&self, a: usize, b: usize) -> f64 {
        dot(&self.centred[a], &self.centred[b])
    }
}

fn mean(vectors: &[Vec<f32>]) -> Vec<f32> {
    let dim = vectors.first().map_or(0, Vec::len);
    let mut m = vec![0f32; dim];
    for v in vectors {
        for (a, x) in m.iter_mut().zip(v) {
            *a += x;
        }
    }
    let n = vectors.len().max(1) as f32;
    m.iter_mut().for_each(|a| *a /= n);
    m
}

fn centre(vectors: &[Vec<f32>], m: &[f32]) -> Vec<Vec<f32>> {
    vectors
        .iter()
        .map(|v| {
            let mut c: Vec<f32> = v.iter().zip(m).map(|(x, y)| x - y).collect();
            let norm = c.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            c.iter_mut().for_each(|x| *x /= norm);
            c
        })
        .collect()
}

/// Dot product (the cosine, for unit vectors).
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum()
}

/// A linear probe: a logistic regression on a sentence vector, each component standardised by the
/// training data's mean and spread.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Probe {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub model: LogReg,
}

/// Strength of the probes' L2 penalty: a few hundred dimensions on a hundred-odd comments.
const PROBE_L2: f64 = 0.3;

fn component(i: usize) -> String {
    format!("e{i:03}")
}

impl Probe {
    /// Train on vectors and label indices into `labels`.
    pub fn train(labels: &[String], examples: &[(&[f32], usize)]) -> Probe {
        let dim = examples.first().map_or(0, |e| e.0.len());
        let owned: Vec<Vec<f32>> = examples.iter().map(|e| e.0.to_vec()).collect();
        let mean = mean(&owned);
        let mut scale = vec![0f32; dim];
        for v in &owned {
            for ((s, x), m) in scale.iter_mut().zip(v).zip(&mean) {
                *s += (x - m) * (x - m);
            }
        }
        let n = owned.len().max(1) as f32;
        scale.iter_mut().for_each(|s| *s = (*s / n).sqrt().max(1e-6));
        let names: Vec<String> = (0..dim).map(component).collect();
        let data: Vec<(Vec<(String, f64)>, usize)> =
            examples.iter().map(|(v, y)| (features(v, &mean, &scale, &names), *y)).collect();
        let opts = TrainOptions { l2: PROBE_L2, ..TrainOptions::default() };
        Probe { model: LogReg::train(labels, &data, 1, opts), mean, scale }
    }

    /// Raw scores per label of `self.model.labels`, centred on their mean (a probe that cannot tell
    /// the labels apart adds nothing).
    pub fn scores(&self, v: &[f32]) -> Vec<f64> {
        let names: Vec<String> = (0..v.len()).map(component).collect();
        let x = features(v, &self.mean, &self.scale, &names);
        let index = self.model.index();
        let (mut s, _) = self.model.scores(x.iter().map(|(n, v)| (n.as_str(), *v)), &index);
        let m = s.iter().sum::<f64>() / s.len().max(1) as f64;
        s.iter_mut().for_each(|x| *x -= m);
        s
    }

    /// Probabilities per label of `self.model.labels`.
    pub fn probabilities(&self, v: &[f32]) -> Vec<f64> {
        softmax(&self.scores(v))
    }

    /// The probe's scores rearranged to `labels` (0 for a label the probe does not know).
    pub fn scores_for(&self, v: &[f32], labels: &[String]) -> Vec<f64> {
        let s = self.scores(v);
        labels.iter().map(|l| self.model.labels.iter().position(|x| x == l).map_or(0.0, |j| s[j])).collect()
    }
}

fn features(v: &[f32], mean: &[f32], scale: &[f32], names: &[String]) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::with_capacity(v.len() + 1);
    out.push(("bias".into(), 1.0));
    for (i, x) in v.iter().enumerate() {
        let z = (x - mean.get(i).copied().unwrap_or(0.0)) / scale.get(i).copied().unwrap_or(1.0);
        out.push((names[i].clone(), f64::from(z)));
    }
    out
}

/// The trained probes of one codebook for one encoder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SemanticModel {
    pub codebook: String,
    /// The encoder the vectors came from (hex of its identity): probes of another encoder are refused.
    pub encoder: String,
    /// Dimension id -> probe.
    pub stance: BTreeMap<String, Probe>,
    /// Probe of the primary cluster.
    pub clusters: Option<Probe>,
    /// How much the probes weigh beside the word models.
    #[serde(default)]
    pub weights: ProbeWeights,
}

/// Weights of the probes' scores, added to the word models' scores. `draad train` chooses them by
/// cross-validation on the annotated thread ([`crate::eval_stance::choose_probe_weights`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ProbeWeights {
    pub stance: f64,
    pub clusters: f64,
    /// Weight of the similarity of a comment's centred sentence vector to each cluster description's
    /// (model files written before it was chosen get the former fixed weight).
    #[serde(default = "default_description_weight")]
    pub descriptions: f64,
}

/// The description weight of a model file that does not give one: the fixed weight it had before
/// `draad train` chose it.
pub const DEFAULT_DESCRIPTION_WEIGHT: f64 = 4.0;

fn default_description_weight() -> f64 {
    DEFAULT_DESCRIPTION_WEIGHT
}

impl Default for ProbeWeights {
    fn default() -> Self {
        ProbeWeights { stance: 0.1, clusters: 0.25, descriptions: DEFAULT_DESCRIPTION_WEIGHT }
    }
}

/// The probe weights `draad train` tries.
pub const WEIGHT_GRID: &[f64] = &[0.0, 0.1, 0.25, 0.5, 1.0];
/// The description weights `draad train` tries.
pub const DESCRIPTION_WEIGHT_GRID: &[f64] = &[0.0, 1.0, 2.0, 4.0];

impl SemanticModel {
    pub fn path_for(codebook: &crate::codebook::Codebook) -> String {
        format!("models/semantic-{}.json", codebook.id)
    }

    pub fn load(path: &str) -> Result<SemanticModel> {
        crate::logreg::load_model(path, "semantic model")
    }

    pub fn save(&self, path: &str) -> Result<()> {
        crate::logreg::save_model(self, path)
    }

    /// Refuse probes trained on another encoder's vectors.
    pub fn check_encoder(&self, path: &str, encoder: &str) -> Result<()> {
        if self.encoder == encoder {
            Ok(())
        } else {
            Err(Error::new(
                path,
                None,
                format!(
                    "trained on vectors of another encoder ({}, this one is {encoder}); run `draad train` again",
                    self.encoder
                ),
            ))
        }
    }

    /// Train the probes from comments' vectors, gold stances and primary clusters (any may be
    /// missing for a comment: it is left out of that probe).
    pub fn train(
        codebook: &crate::codebook::Codebook,
        encoder: &str,
        vectors: &[&[f32]],
        gold: &[crate::stance::GoldLabels],
        primary: Option<&[String]>,
    ) -> SemanticModel {
        let mut stance = BTreeMap::new();
        for d in &codebook.dimensions {
            let labels = d.label_ids();
            let examples: Vec<(&[f32], usize)> = vectors
                .iter()
                .zip(gold)
                .filter_map(|(v, g)| Some((*v, labels.iter().position(|l| Some(l) == g.get(&d.id))?)))
                .collect();
            stance.insert(d.id.clone(), Probe::train(&labels, &examples));
        }
        let clusters = primary.map(|primary| {
            let labels: Vec<String> = codebook.clusters.iter().map(|c| c.id.clone()).collect();
            let examples: Vec<(&[f32], usize)> = vectors
                .iter()
                .zip(primary)
                .filter_map(|(v, p)| Some((*v, labels.iter().position(|l| l == p)?)))
                .collect();
            Probe::train(&labels, &examples)
        });
        SemanticModel {
            codebook: codebook.id.clone(),
            encoder: encoder.to_string(),
            stance,
            clusters,
            weights: ProbeWeights::default(),
        }
    }
}

/// What the stages get when the encoder ran: the thread's vectors and, if trained, the probes.
#[derive(Clone, Copy)]
pub struct Semantic<'a> {
    pub vectors: &'a SentenceVectors,
    pub model: Option<&'a SemanticModel>,
    /// The vectors of the codebook's cluster descriptions ([`description_texts`]), in codebook
    /// order, or empty.
    pub descriptions: &'a [Vec<f32>],
}

/// The text embedded for each cluster of a codebook: its name and description.
pub fn description_texts(codebook: &crate::codebook::Codebook) -> Vec<String> {
    codebook.clusters.iter().map(|c| format!("{}: {}", c.name, c.description)).collect()
}

/// Embed the codebook's cluster descriptions (through the cache).
pub fn embed_descriptions(
    encoder: &crate::encoder::Encoder,
    codebook: &crate::codebook::Codebook,
) -> Result<Vec<Vec<f32>>> {
    let texts = description_texts(codebook);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    encoder.embed_cached(&refs, crate::encoder::Prefix::Query)
}

/// Hex of an encoder identity.
pub fn encoder_id(encoder: &crate::encoder::Encoder) -> String {
    encoder.model_id().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn centring_spreads_similarities() {
        // Eight vectors sharing a large common part, in two groups.
        let raw: Vec<Vec<f32>> = (0..8)
            .map(|i| if i % 2 == 0 { unit(&[5.0, 1.0, 0.0 + i as f32 * 0.01]) } else { unit(&[5.0, 0.0, 1.0]) })
            .collect();
        let s = SentenceVectors::new(raw.clone());
        assert!(dot(&raw[0], &raw[1]) > 0.9);
        assert!(s.similarity(0, 1) < 0.0, "{}", s.similarity(0, 1));
        assert!(s.similarity(0, 2) > 0.9, "{}", s.similarity(0, 2));
    }

    #[test]
    fn a_probe_learns_two_directions() {
        let labels: Vec<String> = vec!["a".into(), "b".into()];
        let vs: Vec<Vec<f32>> = (0..20)
            .map(|i| if i % 2 == 0 { unit(&[1.0, 0.2, i as f32 * 0.01]) } else { unit(&[0.2, 1.0, i as f32 * 0.01]) })
            .collect();
        let examples: Vec<(&[f32], usize)> = vs.iter().enumerate().map(|(i, v)| (v.as_slice(), i % 2)).collect();
        let p = Probe::train(&labels, &examples);
        assert!(p.probabilities(&unit(&[1.0, 0.1, 0.0]))[0] > 0.8);
        assert!(p.probabilities(&unit(&[0.1, 1.0, 0.0]))[1] > 0.8);
        assert_eq!(p.scores_for(&unit(&[1.0, 0.1, 0.0]), &["b".to_string(), "x".to_string()])[1], 0.0);
    }
}
