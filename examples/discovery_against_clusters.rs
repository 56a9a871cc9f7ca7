//! How well discovery's grouping matches the annotated argument clusters of the seed thread, when
//! every comment takes part: the adjusted Rand index between the discovered groups (a comment in no
//! group is a group of its own) and the annotated primary clusters, with the annotated parents and
//! with the parents draad rebuilds, for several likenesses of a reply to its parent
//! (`draad::clusters::REPLY_LIKENESS`).
//!
//!     cargo run --release --example discovery_against_clusters

use draad::codebook::Codebook;
use draad::model::ClusterAssignment;

fn ari(a: &[usize], b: &[usize]) -> f64 {
    use std::collections::HashMap;
    let n = a.len() as f64;
    let c2 = |x: f64| x * (x - 1.0) / 2.0;
    let mut cells: HashMap<(usize, usize), f64> = HashMap::new();
    let (mut ra, mut rb): (HashMap<usize, f64>, HashMap<usize, f64>) = (HashMap::new(), HashMap::new());
    for (&x, &y) in a.iter().zip(b) {
        *cells.entry((x, y)).or_default() += 1.0;
        *ra.entry(x).or_default() += 1.0;
        *rb.entry(y).or_default() += 1.0;
    }
    let index: f64 = cells.values().map(|&v| c2(v)).sum();
    let (sa, sb): (f64, f64) = (ra.values().map(|&v| c2(v)).sum(), rb.values().map(|&v| c2(v)).sum());
    let expected = sa * sb / c2(n);
    (index - expected) / (0.5 * (sa + sb) - expected)
}

fn main() {
    let codebook = Codebook::load(draad::codebook::DEFAULT_PATH).unwrap();
    let a = draad::annotated::load("threads/clearview-ap-2024", &codebook).unwrap();
    let names: Vec<&String> = {
        let mut v: Vec<&String> = a.primary_cluster.iter().collect();
        v.sort();
        v.dedup();
        v
    };
    let truth: Vec<usize> = a.primary_cluster.iter().map(|c| names.iter().position(|n| *n == c).unwrap()).collect();
    let catch = draad::clusters::catch_all(&codebook).unwrap().to_string();
    for (label, thread) in [("annotated parents", &a.thread), ("draad's parents", &a.reconstructed)] {
        let features = draad::stance::features_of(thread, &codebook, None);
        let vectors = draad::clusters::stem_vectors(&features);
        for link in [0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0] {
            let mut assigned: Vec<ClusterAssignment> = (0..thread.comments.len())
                .map(|_| ClusterAssignment {
                    primary: catch.clone(),
                    secondary: vec![],
                    confidence: 0.0,
                    evidence: vec![],
                    discovered: None,
                    probabilities: vec![],
                })
                .collect();
            let groups = draad::clusters::discover(thread, &codebook, &features, &mut assigned, &vectors, None, link);
            let n = thread.comments.len();
            let mut found: Vec<usize> = (0..n).map(|i| 1000 + i).collect();
            for (g, group) in groups.iter().enumerate() {
                for id in &group.members {
                    found[thread.comments.iter().position(|c| &c.id == id).unwrap()] = g;
                }
            }
            let sizes: Vec<usize> = groups.iter().map(|g| g.members.len()).collect();
            println!(
                "{label:18} link {link:.1}: ARI {:.3}, {} groups, {} comments in groups, largest {}",
                ari(&found, &truth),
                groups.len(),
                sizes.iter().sum::<usize>(),
                sizes.iter().max().unwrap_or(&0)
            );
        }
    }
}
