//! Score the reconstruction on the held-out pages rendered as copies that keep every reaction's
//! header (glued, and on two lines): `cargo run --release --example header_copies`.
use draad::copy_text::HeaderStyle;
use draad::eval_graph::{evaluate_rendered_with, format_scores};

fn main() {
    let mut pages: Vec<String> = std::fs::read_dir("threads/heldout")
        .expect("threads/heldout")
        .filter_map(|e| e.ok().map(|e| e.path().to_string_lossy().into_owned()))
        .filter(|p| p.ends_with(".html"))
        .collect();
    pages.sort();
    let mut scores = Vec::new();
    for style in [HeaderStyle::Glued, HeaderStyle::TwoLines] {
        for p in &pages {
            scores.push(evaluate_rendered_with(p, None, style).expect("page reads"));
        }
    }
    print!("{}", format_scores(&scores, std::env::args().any(|a| a == "-v")));
}
