//! An annotated thread folder: `thread.txt` (copied text), `replies.tsv` (reactions and parents),
//! `labels.tsv` (stance and clusters by the codebook), and `context/*.txt` (news reports).

use crate::codebook::Codebook;
use crate::error::{Error, Result};
use crate::model::Thread;
use crate::stance::{GoldLabels, read_labels};

pub struct AnnotatedThread {
    /// The thread, cut and linked as the annotation says.
    pub thread: Thread,
    /// The same reactions with the parents draad reconstructs from the text (given the annotated
    /// boundaries): what the labels see when a user analyses the copied text.
    pub reconstructed: Thread,
    pub gold: Vec<GoldLabels>,
    pub primary_cluster: Vec<String>,
    pub secondary_clusters: Vec<Vec<String>>,
    /// Other Dutch text of the folder (news reports), for the tokenizer.
    pub context: Vec<String>,
}

/// Load a folder. The reactions start and hang where `replies.tsv` says, so that labels and
/// structure are the annotator's own.
pub fn load(dir: &str, codebook: &Codebook) -> Result<AnnotatedThread> {
    let dir = dir.trim_end_matches('/');
    let thread_path = format!("{dir}/thread.txt");
    let replies = crate::eval_graph::read_annotation(&format!("{dir}/replies.tsv"))?;
    let bytes = crate::ingest::read_bytes(&thread_path, crate::ingest::ReadOptions::default().max_bytes)?;
    let text = crate::ingest::check_text(&bytes, &thread_path)?;
    let starts: Vec<usize> = replies.iter().map(|g| g.first_line).collect();
    let mut thread = crate::ingest::copied_text::read_with_starts(text, &thread_path, Some(&starts))?;
    let reconstructed = thread.clone();
    crate::eval_graph::apply_annotation(&mut thread, &replies, "replies.tsv");
    let labels_path = format!("{dir}/labels.tsv");
    let labels = read_labels(&labels_path, codebook)?;
    let by_line: std::collections::HashMap<usize, usize> = labels.iter().enumerate().map(|(i, l)| (l.0, i)).collect();
    let mut gold = Vec::new();
    let mut primary_cluster = Vec::new();
    let mut secondary_clusters = Vec::new();
    for c in &thread.comments {
        let first = c.span.map_or(0, |s| s.first_line);
        let i = *by_line.get(&first).ok_or_else(|| {
            Error::new(&labels_path, None, format!("no labels for the reaction starting at line {first} of thread.txt"))
        })?;
        gold.push(labels[i].1.clone());
        primary_cluster.push(labels[i].2.clone());
        secondary_clusters.push(labels[i].3.clone());
    }
    let mut context = Vec::new();
    if let Ok(files) = crate::subwords::training_files(&format!("{dir}/context")) {
        for f in files {
            context.push(std::fs::read_to_string(&f).map_err(|e| Error::new(&f, None, format!("cannot read: {e}")))?);
        }
    }
    Ok(AnnotatedThread { thread, reconstructed, gold, primary_cluster, secondary_clusters, context })
}

/// Where `draad train` and `draad eval` look for a codebook's authored examples by default.
pub fn authored_path_for(codebook: &Codebook) -> String {
    format!("threads/authored-{}/comments.jsonl", codebook.id)
}

/// Comments written to show the codebook's labels, not collected from a site: extra training
/// examples for the stance models (the cluster model learns from real comments only).
/// Cross-validation adds them to every training fold and never scores them; they were written
/// without seeing the annotated thread (see the folder's README).
#[derive(Debug, Clone)]
pub struct AuthoredSet {
    pub path: String,
    /// The comments, read as a generic JSONL comment table (id, parent, text; `>` lines are quotes).
    pub thread: Thread,
    pub gold: Vec<GoldLabels>,
    pub primary_cluster: Vec<String>,
}

impl AuthoredSet {
    /// Append the authored examples to a training set (after its collected comments): their
    /// features by `cues` and `subwords`, their labels, the positions of their parents in the
    /// training set and, when `primary` is given, their clusters.
    pub fn append_to(
        &self,
        cues: &crate::features::CueSets,
        subwords: Option<&crate::subwords::Subwords>,
        features: &mut Vec<crate::features::CommentFeatures>,
        gold: &mut Vec<GoldLabels>,
        parents: &mut Vec<Option<usize>>,
        primary: Option<&mut Vec<String>>,
    ) {
        let offset = features.len();
        parents.resize(offset, None);
        parents.extend(self.thread.parent_positions().into_iter().map(|p| p.map(|p| offset + p)));
        features.extend(self.thread.comments.iter().map(|c| crate::features::comment_features(c, cues, subwords)));
        gold.extend(self.gold.iter().cloned());
        if let Some(p) = primary {
            p.extend(self.primary_cluster.iter().cloned());
        }
    }
}

/// Read an authored set: a JSONL comment table whose records also carry one label per stance
/// dimension of the codebook (a field named after the dimension) and `primary_cluster`.
pub fn load_authored(path: &str, codebook: &Codebook) -> Result<AuthoredSet> {
    let bytes = crate::ingest::read_bytes(path, crate::ingest::ReadOptions::default().max_bytes)?;
    let text = crate::ingest::check_text(&bytes, path)?;
    let thread = crate::ingest::table::read_jsonl(text, path, &crate::ingest::ColumnMap::default())?;
    let clusters: Vec<&str> = codebook.clusters.iter().map(|c| c.id.as_str()).collect();
    let mut labels: std::collections::HashMap<String, (GoldLabels, String)> = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let n = i + 1;
        // The table reader has parsed every line already; only the labels are read here.
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| Error::at_line(path, n, e.to_string()))?;
        let field = |name: &str| v.get(name).and_then(|x| x.as_str()).map(str::trim);
        let id = field("id").ok_or_else(|| Error::at_line(path, n, "no 'id' field"))?.to_string();
        let mut gold = GoldLabels::new();
        for d in &codebook.dimensions {
            let label = field(&d.id).ok_or_else(|| Error::at_line(path, n, format!("no '{}' label", d.id)))?;
            if !d.label_ids().iter().any(|l| l == label) {
                return Err(Error::at_line(
                    path,
                    n,
                    format!("'{label}' is not a label of {} (labels: {})", d.id, d.label_ids().join(", ")),
                ));
            }
            gold.insert(d.id.clone(), label.to_string());
        }
        let primary = field("primary_cluster").ok_or_else(|| Error::at_line(path, n, "no 'primary_cluster'"))?;
        if !clusters.contains(&primary) {
            return Err(Error::at_line(
                path,
                n,
                format!("'{primary}' is not a cluster of the codebook (clusters: {})", clusters.join(", ")),
            ));
        }
        labels.insert(id, (gold, primary.to_string()));
    }
    let mut gold = Vec::new();
    let mut primary_cluster = Vec::new();
    for c in &thread.comments {
        let (g, p) =
            labels.remove(&c.id).ok_or_else(|| Error::new(path, None, format!("no labels for comment {}", c.id)))?;
        gold.push(g);
        primary_cluster.push(p);
    }
    Ok(AuthoredSet { path: path.to_string(), thread, gold, primary_cluster })
}
