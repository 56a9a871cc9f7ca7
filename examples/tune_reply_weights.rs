//! Coordinate search over the reply-reconstruction weights on an annotated copied thread, scored
//! with the reference boundaries (so segmentation errors do not blur the picture). Prints the
//! accuracy of each step and the best weights. Tune on annotated data only; report held-out pages
//! with `draad eval-graph`, which this does not look at.
//!
//!     cargo run --release --example tune_reply_weights -- threads/clearview-ap-2024

use draad::eval_graph::{evaluate, read_annotation};
use draad::reply_graph::ReplyWeights;

fn accuracy(text: &str, starts: &[usize], gold: &[draad::eval_graph::GoldComment], w: &ReplyWeights) -> f64 {
    let t = draad::ingest::copied_text::read_with(text, "tune", Some(starts), w, None).expect("thread reads");
    evaluate("tune", &t, gold).parent_accuracy
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "threads/clearview-ap-2024".into());
    let text = std::fs::read_to_string(format!("{dir}/thread.txt")).expect("thread.txt");
    let gold = read_annotation(&format!("{dir}/replies.tsv")).expect("replies.tsv");
    let starts: Vec<usize> = gold.iter().map(|g| g.first_line).collect();
    let start = ReplyWeights::default();
    println!("default: {:.3}", accuracy(&text, &starts, &gold, &start));
    let (w, best) = draad::reply_graph::tune_weights(
        start,
        &[-1.0, -0.5, -0.25, 0.25, 0.5, 1.0],
        3,
        |w| accuracy(&text, &starts, &gold, w),
        |round, name, delta, score| println!("round {round}: {name} {delta:+} -> {score:.3}"),
    );
    println!("best {best:.3}: {w:#?}");
}
