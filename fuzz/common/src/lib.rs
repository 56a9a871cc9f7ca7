//! What every fuzz target checks: reading arbitrary bytes never panics, and a thread that reads
//! goes through the analysis and the graph exports without panicking either.

use draad::ingest::{ReadOptions, read_bytes_as_thread};
use draad::model::Format;
use std::sync::LazyLock;

static MODELS: LazyLock<Option<draad::analyze::Models>> = LazyLock::new(|| {
    // The fuzz targets run from fuzz/; the models live in the crate root.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    std::env::set_current_dir(root).ok()?;
    draad::analyze::Models::load(draad::codebook::DEFAULT_PATH).ok()
});

pub fn check(data: &[u8], format: Option<Format>) {
    let options = ReadOptions { format, ..Default::default() };
    let Ok(thread) = read_bytes_as_thread(data, "fuzz-input", &options) else { return };
    for to in [draad::graph_export::GraphFormat::Dot, draad::graph_export::GraphFormat::Graphml] {
        let _ = draad::graph_export::export(&thread, to);
    }
    if let Some(models) = MODELS.as_ref() {
        let analysis = draad::analyze::analyze(thread, models);
        let _ = draad::render::render(
            &analysis,
            draad::render::ReportFormat::Html,
            draad::render::TextStyle { width: 80, colour: false },
        );
    }
}
