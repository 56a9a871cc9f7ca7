//! Multinomial logistic regression with L2 regularisation and class-balanced loss, trained by
//! full-batch gradient descent from zero weights: no randomness, so the same data give the same
//! model.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Read a trained model file (JSON); `what` names the kind of model in errors.
pub fn load_model<T: serde::de::DeserializeOwned>(path: &str, what: &str) -> crate::Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| crate::Error::new(path, None, format!("cannot read model: {e}")))?;
    serde_json::from_str(&text)
        .map_err(|e| crate::Error::new(path, Some(format!("line {}", e.line())), format!("not a {what}: {e}")))
}

/// Write a trained model file (JSON).
pub fn save_model<T: Serialize>(model: &T, path: &str) -> crate::Result<()> {
    std::fs::write(path, serde_json::to_string(model).expect("model serialises"))
        .map_err(|e| crate::Error::new(path, None, format!("cannot write: {e}")))
}

/// A sparse example: (feature index, value) pairs.
pub type Sparse = Vec<(usize, f64)>;

/// Feature name → column, with a hasher made for short keys.
pub type FeatureIndex<'a> = crate::textnorm::FastMap<&'a str, usize>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogReg {
    pub labels: Vec<String>,
    pub features: Vec<String>,
    /// weights[label][feature]
    pub weights: Vec<Vec<f64>>,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    pub l2: f64,
    pub iterations: usize,
    pub learning_rate: f64,
    /// Weigh each class by the inverse of its frequency, so rare labels count.
    pub balanced: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { l2: 0.1, iterations: 400, learning_rate: 0.5, balanced: true }
    }
}

impl LogReg {
    /// Train on named features. `examples` are (features by name, label index into `labels`).
    /// Features seen in fewer than `min_count` examples are dropped.
    pub fn train(
        labels: &[String],
        examples: &[(Vec<(String, f64)>, usize)],
        min_count: usize,
        opt: TrainOptions,
    ) -> LogReg {
        LogReg::train_weighted(labels, examples, &[], min_count, opt)
    }

    /// [`LogReg::train`] with a weight per example (`example_weight[i]`, 1 where the slice is
    /// shorter): how much the example counts in the loss and in its class's share for balancing.
    /// A feature's count for `min_count` is the summed weight of the examples that hold it.
    pub fn train_weighted(
        labels: &[String],
        examples: &[(Vec<(String, f64)>, usize)],
        example_weight: &[f64],
        min_count: usize,
        opt: TrainOptions,
    ) -> LogReg {
        let weight_of = |i: usize| example_weight.get(i).copied().unwrap_or(1.0);
        let mut counts: HashMap<&str, f64> = HashMap::new();
        for (i, (f, _)) in examples.iter().enumerate() {
            for (name, _) in f {
                *counts.entry(name.as_str()).or_default() += weight_of(i);
            }
        }
        let mut features: Vec<String> = counts
            .into_iter()
            .filter(|(n, c)| *c >= min_count as f64 - 1e-9 || n.starts_with("cue:") || *n == "bias")
            .map(|(n, _)| n.to_string())
            .collect();
        features.sort();
        let index: HashMap<&str, usize> = features.iter().enumerate().map(|(i, f)| (f.as_str(), i)).collect();
        let data: Vec<(Sparse, usize)> = examples
            .iter()
            .map(|(f, y)| (f.iter().filter_map(|(n, v)| index.get(n.as_str()).map(|&i| (i, *v))).collect(), *y))
            .collect();
        let k = labels.len();
        let mut class_count = vec![0.0f64; k];
        for (i, (_, y)) in data.iter().enumerate() {
            class_count[*y] += weight_of(i);
        }
        let n: f64 = class_count.iter().sum::<f64>().max(1e-9);
        let class_weight: Vec<f64> =
            class_count.iter().map(|&c| if !opt.balanced || c <= 0.0 { 1.0 } else { n / (k as f64 * c) }).collect();
        let total_weight: f64 =
            data.iter().enumerate().map(|(i, (_, y))| class_weight[*y] * weight_of(i)).sum::<f64>().max(1e-9);
        let mut w = vec![vec![0.0; features.len()]; k];
        for _ in 0..opt.iterations {
            let mut grad = vec![vec![0.0; features.len()]; k];
            for (j, (x, y)) in data.iter().enumerate() {
                let p = softmax(&logits(&w, x));
                let cw = class_weight[*y] * weight_of(j) / total_weight;
                for (c, pc) in p.iter().enumerate() {
                    let g = (pc - if c == *y { 1.0 } else { 0.0 }) * cw;
                    for &(i, v) in x {
                        grad[c][i] += g * v;
                    }
                }
            }
            for c in 0..k {
                for i in 0..features.len() {
                    w[c][i] -= opt.learning_rate * (grad[c][i] + opt.l2 * w[c][i]);
                }
            }
        }
        LogReg { labels: labels.to_vec(), features, weights: w }
    }

    /// Index of features by name.
    pub fn index(&self) -> FeatureIndex<'_> {
        self.features.iter().enumerate().map(|(i, f)| (f.as_str(), i)).collect()
    }

    /// Raw scores per label for named features, and each feature's contribution to each label.
    pub fn scores<'x>(
        &self,
        x: impl IntoIterator<Item = (&'x str, f64)>,
        index: &FeatureIndex,
    ) -> (Vec<f64>, Vec<Vec<(&'x str, f64)>>) {
        let scored = self.score(x, index);
        let contrib = (0..self.labels.len()).map(|c| scored.contributions(c)).collect();
        (scored.scores, contrib)
    }

    /// Raw scores per label for named features; the contributions to a label are worked out when
    /// asked for ([`Scored::contributions`]), as [`LogReg::scores`] gives them.
    pub fn score<'m, 'x>(
        &'m self,
        x: impl IntoIterator<Item = (&'x str, f64)>,
        index: &FeatureIndex,
    ) -> Scored<'m, 'x> {
        let x = x.into_iter();
        let mut sparse: Vec<(usize, f64, &str)> = Vec::with_capacity(x.size_hint().0);
        sparse.extend(x.filter_map(|(n, v)| index.get(n).map(|&i| (i, v, n))));
        let mut scores = vec![0.0; self.labels.len()];
        for (c, wc) in self.weights.iter().enumerate() {
            for &(i, v, _) in &sparse {
                scores[c] += wc[i] * v;
            }
        }
        Scored { model: self, sparse, scores }
    }
}

/// The scores of one example ([`LogReg::score`]).
pub struct Scored<'m, 'x> {
    model: &'m LogReg,
    /// (feature column, value, name) of the example's features the model knows, in input order.
    sparse: Vec<(usize, f64, &'x str)>,
    /// Raw score per label.
    pub scores: Vec<f64>,
}

impl<'x> Scored<'_, 'x> {
    /// Each feature's contribution to label `c` (the bias left out), in input order.
    pub fn contributions(&self, c: usize) -> Vec<(&'x str, f64)> {
        let wc = &self.model.weights[c];
        let mut out = Vec::with_capacity(self.sparse.len());
        out.extend(self.sparse.iter().filter(|(_, _, name)| *name != "bias").map(|&(i, v, name)| (name, wc[i] * v)));
        out
    }
}

fn logits(w: &[Vec<f64>], x: &Sparse) -> Vec<f64> {
    w.iter().map(|wc| x.iter().map(|&(i, v)| wc[i] * v).sum()).collect()
}

/// Softmax of scores.
pub fn softmax(z: &[f64]) -> Vec<f64> {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_separable_problem_deterministically() {
        let labels: Vec<String> = vec!["a".into(), "b".into()];
        let ex = |f: &str, y: usize| (vec![(f.to_string(), 1.0), ("bias".to_string(), 1.0)], y);
        let data = vec![ex("x", 0), ex("x", 0), ex("y", 1), ex("y", 1), ex("y", 1)];
        let m1 = LogReg::train(&labels, &data, 1, TrainOptions::default());
        let m2 = LogReg::train(&labels, &data, 1, TrainOptions::default());
        assert_eq!(m1, m2);
        let idx = m1.index();
        let p = softmax(&m1.scores([("x", 1.0), ("bias", 1.0)], &idx).0);
        assert!(p[0] > 0.8, "{p:?}");
        let p = softmax(&m1.scores([("y", 1.0), ("bias", 1.0)], &idx).0);
        assert!(p[1] > 0.8, "{p:?}");
    }

    #[test]
    fn an_example_of_weight_two_counts_as_two_and_weight_zero_as_none() {
        let labels: Vec<String> = vec!["a".into(), "b".into()];
        let ex = |f: &str, y: usize| (vec![(f.to_string(), 1.0), ("bias".to_string(), 1.0)], y);
        let close = |m1: &LogReg, m2: &LogReg| {
            assert_eq!(m1.features, m2.features);
            for (r1, r2) in m1.weights.iter().zip(&m2.weights) {
                for (x, y) in r1.iter().zip(r2) {
                    assert!((x - y).abs() < 1e-9, "{x} against {y}");
                }
            }
        };
        let twice = vec![ex("x", 0), ex("x", 0), ex("y", 1), ex("z", 1)];
        let weighted = vec![ex("x", 0), ex("y", 1), ex("z", 1)];
        let opt = TrainOptions::default();
        close(&LogReg::train(&labels, &twice, 2, opt), &LogReg::train_weighted(&labels, &weighted, &[2.0], 2, opt));
        // Weight zero: the example neither counts nor brings its features in.
        let with_ignored = vec![ex("x", 0), ex("y", 1), ex("w", 0)];
        close(
            &LogReg::train(&labels, &with_ignored[..2], 1, opt),
            &LogReg::train_weighted(&labels, &with_ignored, &[1.0, 1.0, 0.0], 1, opt),
        );
    }
}
