//! The whole analysis of a thread: read models, label stances, assign clusters, discover new groups
//! and summarise. `draad analyze` prints the result in one of the report formats.

use crate::clusters::ClusterModel;
use crate::codebook::Codebook;
use crate::encoder::Encoder;
use crate::error::Result;
use crate::model::{Thread, Warning};
use crate::semantic::{Semantic, SemanticModel, SentenceVectors};
use crate::stance::StanceModel;
use crate::subwords::Subwords;
use crate::summary::{ClusterSummary, Summary, cluster_summaries, summarise};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// The models an analysis uses; each may be missing.
pub struct Models {
    pub codebook: Codebook,
    pub codebook_path: String,
    pub stance: Option<StanceModel>,
    pub clusters: Option<ClusterModel>,
    pub subwords: Option<Subwords>,
    /// The optional sentence encoder, shared with the readers (reply reconstruction).
    pub encoder: Option<Arc<Encoder>>,
    /// Probes on the encoder's vectors (`draad train` with the encoder present).
    pub semantic: Option<SemanticModel>,
    /// The encoder's vectors of the codebook's cluster descriptions (empty without the encoder).
    pub descriptions: Vec<Vec<f32>>,
    /// Why the encoder or its probes are not used although they were not turned off: said in
    /// every report.
    pub encoder_note: Option<String>,
}

/// Load the sentence encoder as chosen: `None` when it is off, with the reason when it was not
/// turned off (`auto` without its files); `e5` without its files is an error naming the file.
pub fn load_encoder(choice: EncoderChoice, dir: &Path) -> Result<(Option<Encoder>, Option<String>)> {
    match choice {
        EncoderChoice::Off => Ok((None, None)),
        EncoderChoice::Auto => match Encoder::load_if_present(dir)? {
            Some(e) => Ok((Some(e), None)),
            None => Ok((None, Some(Encoder::off_message(dir)))),
        },
        EncoderChoice::E5 => match Encoder::load_if_present(dir)? {
            Some(e) => Ok((Some(e), None)),
            None => Err(crate::Error::new("", None, Encoder::off_message(dir))),
        },
    }
}

/// Whether to use the sentence encoder: `auto` uses it when its files are in place, `e5` requires
/// it, `off` never uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EncoderChoice {
    #[default]
    Auto,
    E5,
    Off,
}

fn load_if_there<T>(path: &str, load: impl Fn(&str) -> Result<T>) -> Result<Option<T>> {
    if std::path::Path::new(path).exists() { load(path).map(Some) } else { Ok(None) }
}

impl Models {
    /// Load the codebook and whatever trained models exist for it under `models/`, without the
    /// sentence encoder.
    pub fn load(codebook_path: &str) -> Result<Models> {
        Models::load_with(codebook_path, EncoderChoice::Off, &Encoder::default_dir())
    }

    /// [`Models::load`] with the sentence encoder as chosen, from `encoder_dir`.
    pub fn load_with(codebook_path: &str, choice: EncoderChoice, encoder_dir: &Path) -> Result<Models> {
        let codebook = Codebook::load(codebook_path)?;
        let (encoder, mut encoder_note) = load_encoder(choice, encoder_dir)?;
        let semantic_path = SemanticModel::path_for(&codebook);
        let mut semantic = None;
        if let Some(e) = &encoder {
            match load_if_there(&semantic_path, SemanticModel::load)? {
                None => {
                    encoder_note = Some(format!(
                        "no probes for the encoder's vectors at {semantic_path}: the encoder serves the reply graph and discovery only (run `draad train`)"
                    ))
                }
                Some(m) => match m.check_encoder(&semantic_path, &crate::semantic::encoder_id(e)) {
                    Ok(()) => semantic = Some(m),
                    Err(why) => encoder_note = Some(format!("{why}: the probes are not used")),
                },
            }
        }
        let descriptions = match &encoder {
            Some(e) => crate::semantic::embed_descriptions(e, &codebook)?,
            None => Vec::new(),
        };
        Ok(Models {
            descriptions,
            stance: load_if_there(&StanceModel::path_for(&codebook), StanceModel::load)?,
            clusters: load_if_there(&ClusterModel::path_for(&codebook), ClusterModel::load)?,
            subwords: load_if_there(crate::subwords::DEFAULT_PATH, Subwords::load)?,
            encoder: encoder.map(Arc::new),
            semantic,
            encoder_note,
            codebook_path: codebook_path.to_string(),
            codebook,
        })
    }

    /// Read options that let the copied-text reader use the encoder for the reply graph.
    pub fn read_options(&self, options: crate::ingest::ReadOptions) -> crate::ingest::ReadOptions {
        crate::ingest::ReadOptions { encoder: self.encoder.clone(), ..options }
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
    /// Why the encoder (or its probes) was not used, unless it was turned off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoder_note: Option<String>,
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
    let sentence_vectors = models.encoder.as_ref().and_then(|e| match e.embed_thread(&thread) {
        Ok(v) => Some(SentenceVectors::new(v.vectors)),
        Err(why) => {
            thread.warnings.push(Warning::new("encoder_failed", format!("the sentence encoder failed: {why}"), None));
            None
        }
    });
    let semantic = sentence_vectors.as_ref().map(|vectors| Semantic {
        vectors,
        model: models.semantic.as_ref(),
        descriptions: &models.descriptions,
    });
    // Clusters first: the stance leans on the argument cluster a comment is placed in.
    let features = crate::stance::features_of(&thread, cb, models.subwords.as_ref());
    let mut assigned = crate::clusters::assign(&thread, cb, models.clusters.as_ref(), &features, semantic);
    crate::stance::write_labels(&mut thread, cb, models.stance.as_ref(), &features, semantic, Some(&assigned));
    let vectors = crate::clusters::stem_vectors(&features);
    let discovered = crate::clusters::discover(
        &thread,
        cb,
        &features,
        &mut assigned,
        &vectors,
        semantic,
        crate::clusters::REPLY_LIKENESS,
    );
    for (c, a) in thread.comments.iter_mut().zip(assigned) {
        c.clusters = Some(a);
    }
    let clusters = cluster_summaries(&thread, cb, &discovered, &vectors);
    let summary = summarise(&thread, cb);
    if let Some(note) = summary.codebook_fit.note() {
        thread.warnings.push(Warning::new("codebook_fit", note, None));
    }
    let used = ModelsUsed {
        codebook: models.codebook_path.clone(),
        stance_model: models.stance.as_ref().map(|_| StanceModel::path_for(cb)),
        cluster_model: models.clusters.as_ref().map(|_| ClusterModel::path_for(cb)),
        tokenizer: models.subwords.as_ref().map(|_| crate::subwords::DEFAULT_PATH.to_string()),
        encoder: sentence_vectors.as_ref().zip(models.encoder.as_ref()).map(|(_, e)| {
            let probes = if let Some(m) = &models.semantic {
                let w = m.weights;
                let silent = if w.stance == 0.0 && w.clusters == 0.0 && w.descriptions == 0.0 {
                    ": `draad train` found no gain from the encoder, so it changes no label"
                } else {
                    ""
                };
                format!(
                    "probes {} with weights stance {}, clusters {}, cluster descriptions {}{silent}",
                    SemanticModel::path_for(cb),
                    w.stance,
                    w.clusters,
                    w.descriptions
                )
            } else {
                format!("no probes; cluster descriptions weigh {}", crate::semantic::DEFAULT_DESCRIPTION_WEIGHT)
            };
            format!("{} (kernel {}; {probes})", crate::encoder::MODEL_NAME, e.kernel_name())
        }),
        encoder_note: models.encoder_note.clone(),
    };
    Analysis { thread, clusters, summary, models: used }
}
