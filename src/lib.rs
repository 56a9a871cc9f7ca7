//! draad: turns a reader-comment thread into a reply graph, stances and argument clusters.
//!
//! The pipeline, one module per stage: [`ingest`] (readers per format) → [`segment`] (reaction
//! boundaries in copied text) → [`reply_graph`] (who answers whom, with evidence) → exports
//! ([`graph_export`]) and evaluation ([`eval_graph`]). [`model`] holds the data every stage shares.

pub mod agreement;
pub mod analyze;
pub mod annotated;
pub mod batch;
pub mod clusters;
pub mod codebook;
pub mod compact_json;
pub mod copy_text;
pub mod encoder;
pub mod error;
pub mod eval_graph;
pub mod eval_stance;
pub mod features;
pub mod graph_export;
pub mod ingest;
pub mod logreg;
pub mod model;
pub mod quotes;
pub mod render;
pub mod reply_graph;
pub mod segment;
pub mod semantic;
pub mod stance;
pub mod subwords;
pub mod summary;
pub mod synth;
pub mod textnorm;

pub use error::{Error, Result};
pub use model::{Comment, Format, Thread};
