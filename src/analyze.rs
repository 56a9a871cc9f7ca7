//! The whole analysis of a thread: read models, label stances, assign clusters, discover new groups
//! and summarise. `draad analyze` prints the result in one of the report formats.

use crate::clusters::ClusterModel;
use crate::codebook::Codebook;
use crate::error::Result;
use crate::model::{Thread, Warning};
use crate::stance::StanceModel;
use crate::subwords::Subwords;
use crate::summary::{ClusterSummary, Summary, cluster_summaries, summarise};
use serde::Serialize;

/// The models an analysis uses; each may be missing.
pub struct Models {
    pub codebook: Codebook,
    pub codebook_path: String,
    pub stance: Option<StanceModel>,
    pub clusters: Option<ClusterModel>,
    pub subwords: Option<Subwords>,
}

fn load_if_there<T>(path: &str, load: impl Fn(&str) -> Result<T>) -> Result<Option<T>> {
    if std::path::Path::new(path).exists() { load(path).map(Some) } else { Ok(None) }
}

impl Models {
    /// Load the codebook and whatever trained models exist for it under `models/`.
    pub fn load(codebook_path: &str) -> Result<Models> {
        let codebook = Codebook::load(codebook_path)?;
        Ok(Models {
            stance: load_if_there(&StanceModel::path_for(&codebook), StanceModel::load)?,
            clusters: load_if_there(&ClusterModel::path_for(&codebook), ClusterModel::load)?,
            subwords: load_if_there(crate::subwords::DEFAULT_PATH, Subwords::load)?,
            codebook_path: codebook_path.to_string(),
            codebook,
        })
    }
}

/// Which models were used, so a reader of the report knows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelsUsed {
    pub codebook: String,
    pub stance_model: Option<String>,
    pub cluster_model: Option<String>,
    pub tokenizer: Option<String>,
    pub encoder: Option<String>,
}

/// The analysed thread: the thread contract plus clusters and summary at top level.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    #[serde(flatten)]
    pub thread: Thread,
    pub clusters: Vec<ClusterSummary>,
    pub summary: Summary,
    pub models: ModelsUsed,
}

pub fn analyze(mut thread: Thread, models: &Models) -> Analysis {
    let cb = &models.codebook;
    if models.stance.is_none() {
        thread.warnings.push(Warning::new(
            "no_model",
            format!(
                "no trained stance model at {}: stances come from the codebook's cue phrases alone (run `draad train`)",
                StanceModel::path_for(cb)
            ),
            None,
        ));
    }
    if models.clusters.is_none() {
        thread.warnings.push(Warning::new(
            "no_model",
            format!("no trained cluster model at {}: clusters come from cue phrases and descriptions alone (run `draad train`)", ClusterModel::path_for(cb)),
            None,
        ));
    }
    let features = crate::stance::label_thread(&mut thread, cb, models.stance.as_ref(), models.subwords.as_ref());
    let mut assigned = crate::clusters::assign(&thread, cb, models.clusters.as_ref(), &features);
    let vectors = crate::clusters::stem_vectors(&features);
    let discovered = crate::clusters::discover(&thread, cb, &features, &mut assigned, &vectors);
    for (c, a) in thread.comments.iter_mut().zip(assigned) {
        c.clusters = Some(a);
    }
    let clusters = cluster_summaries(&thread, cb, &discovered, &vectors);
    let summary = summarise(&thread, cb);
    let used = ModelsUsed {
        codebook: models.codebook_path.clone(),
        stance_model: models.stance.as_ref().map(|_| StanceModel::path_for(cb)),
        cluster_model: models.clusters.as_ref().map(|_| ClusterModel::path_for(cb)),
        tokenizer: models.subwords.as_ref().map(|_| crate::subwords::DEFAULT_PATH.to_string()),
        encoder: None,
    };
    Analysis { thread, clusters, summary, models: used }
}
