//! Agreement between two annotations of the same thread (`labels.tsv` files by the codebook): per
//! dimension and for the primary cluster, the share of comments labelled alike, Cohen's kappa
//! (agreement corrected for chance) and the confusion between the two annotators. Tells how hard a
//! dimension is for people, which is the ceiling to read a model's figures against.

use crate::codebook::Codebook;
use crate::error::{Error, Result};
use crate::stance::read_labels;
use serde::Serialize;
use std::collections::HashMap;

/// Agreement on one dimension.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Agreement {
    pub dimension: String,
    pub labels: Vec<String>,
    /// Comments both annotations label.
    pub comments: usize,
    /// Share labelled alike.
    pub observed: f64,
    /// Share expected alike by chance, from each annotator's label frequencies.
    pub expected: f64,
    /// Cohen's kappa: (observed - expected) / (1 - expected).
    pub kappa: f64,
    /// confusion[first annotator][second annotator]
    pub confusion: Vec<Vec<usize>>,
}

/// Cohen's kappa of two label sequences of equal length over `labels`.
pub fn cohen_kappa(dimension: &str, labels: &[String], a: &[String], b: &[String]) -> Agreement {
    let k = labels.len();
    let idx = |l: &String| labels.iter().position(|x| x == l).unwrap_or(0);
    let mut confusion = vec![vec![0usize; k]; k];
    for (x, y) in a.iter().zip(b) {
        confusion[idx(x)][idx(y)] += 1;
    }
    let n = a.len().min(b.len());
    let nf = n.max(1) as f64;
    let observed = (0..k).map(|c| confusion[c][c]).sum::<usize>() as f64 / nf;
    let expected = (0..k)
        .map(|c| {
            let row: usize = confusion[c].iter().sum();
            let col: usize = (0..k).map(|r| confusion[r][c]).sum();
            (row as f64 / nf) * (col as f64 / nf)
        })
        .sum::<f64>();
    let kappa = if (1.0 - expected).abs() < 1e-12 { 1.0 } else { (observed - expected) / (1.0 - expected) };
    Agreement {
        dimension: dimension.to_string(),
        labels: labels.to_vec(),
        comments: n,
        observed,
        expected,
        kappa,
        confusion,
    }
}

/// Compare two label files of the same thread, matched by `first_line`. Every comment of the first
/// must be in the second (and the other way round), or the comparison would quietly shrink.
pub fn compare_files(first: &str, second: &str, codebook: &Codebook) -> Result<Vec<Agreement>> {
    let a = read_labels(first, codebook)?;
    let b = read_labels(second, codebook)?;
    let by_line: HashMap<usize, usize> = b.iter().enumerate().map(|(i, r)| (r.0, i)).collect();
    let mut pairs = Vec::with_capacity(a.len());
    for r in &a {
        let j = *by_line
            .get(&r.0)
            .ok_or_else(|| Error::new(second, None, format!("no labels for the comment starting at line {}", r.0)))?;
        pairs.push((r, &b[j]));
    }
    if b.len() != a.len() {
        let known: std::collections::HashSet<usize> = a.iter().map(|r| r.0).collect();
        let extra = b.iter().find(|r| !known.contains(&r.0)).map_or(0, |r| r.0);
        return Err(Error::new(
            first,
            None,
            format!("no labels for the comment starting at line {extra} (it is in {second})"),
        ));
    }
    let mut out = Vec::new();
    for d in &codebook.dimensions {
        let x: Vec<String> = pairs.iter().map(|(p, _)| p.1[&d.id].clone()).collect();
        let y: Vec<String> = pairs.iter().map(|(_, q)| q.1[&d.id].clone()).collect();
        out.push(cohen_kappa(&d.id, &d.label_ids(), &x, &y));
    }
    let clusters: Vec<String> = codebook.clusters.iter().map(|c| c.id.clone()).collect();
    let x: Vec<String> = pairs.iter().map(|(p, _)| p.2.clone()).collect();
    let y: Vec<String> = pairs.iter().map(|(_, q)| q.2.clone()).collect();
    out.push(cohen_kappa("primary_cluster", &clusters, &x, &y));
    Ok(out)
}

/// A plain-text table of agreements with each confusion matrix.
pub fn format_agreements(first: &str, second: &str, agreements: &[Agreement]) -> String {
    let mut out = format!("agreement between {first} (rows) and {second} (columns)\n");
    for a in agreements {
        out.push_str(&format!(
            "\n{}: {} comments, observed {:.3}, expected by chance {:.3}, Cohen's kappa {:.3}\n",
            a.dimension, a.comments, a.observed, a.expected, a.kappa
        ));
        let w = a.labels.iter().map(|l| l.len() + 4).max().unwrap_or(8);
        out.push_str(&crate::eval_stance::format_confusion(&a.labels, &a.confusion, w));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn kappa_matches_a_hand_computation() {
        // 10 items: 7 agree; first says a 5 times, second a 6 times.
        let labels = s(&["a", "b"]);
        let x = s(&["a", "a", "a", "a", "a", "b", "b", "b", "b", "b"]);
        let y = s(&["a", "a", "a", "a", "b", "a", "a", "b", "b", "b"]);
        let k = cohen_kappa("d", &labels, &x, &y);
        assert_eq!(k.confusion, vec![vec![4, 1], vec![2, 3]]);
        assert!((k.observed - 0.7).abs() < 1e-12);
        assert!((k.expected - (0.5 * 0.6 + 0.5 * 0.4)).abs() < 1e-12);
        assert!((k.kappa - (0.7 - 0.5) / 0.5).abs() < 1e-12);
        // Perfect agreement is 1; agreement no better than chance is about 0.
        assert_eq!(cohen_kappa("d", &labels, &x, &x).kappa, 1.0);
        let z = s(&["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"]);
        assert!(cohen_kappa("d", &labels, &x, &z).kappa.abs() < 0.21);
    }
}
