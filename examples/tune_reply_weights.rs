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
    let mut w = ReplyWeights::default();
    let mut best = accuracy(&text, &starts, &gold, &w);
    println!("default: {best:.3}");
    let fields: Vec<(&str, fn(&mut ReplyWeights) -> &mut f64)> = vec![
        ("prior_previous", |w| &mut w.prior_previous),
        ("prior_article", |w| &mut w.prior_article),
        ("prior_ancestor_step", |w| &mut w.prior_ancestor_step),
        ("prior_ancestor", |w| &mut w.prior_ancestor),
        ("opening_quote", |w| &mut w.opening_quote),
        ("opening_quote_of_article", |w| &mut w.opening_quote_of_article),
        ("inner_quote", |w| &mut w.inner_quote),
        ("mention", |w| &mut w.mention),
        ("echo", |w| &mut w.echo),
        ("reply_cue_against_article", |w| &mut w.reply_cue_against_article),
        ("answers_question", |w| &mut w.answers_question),
        ("article_echo", |w| &mut w.article_echo),
        ("deep_reply", |w| &mut w.deep_reply),
    ];
    for round in 0..3 {
        for (name, get) in &fields {
            for delta in [-1.0, -0.5, -0.25, 0.25, 0.5, 1.0] {
                let mut trial = w.clone();
                *get(&mut trial) += delta;
                let a = accuracy(&text, &starts, &gold, &trial);
                if a > best + 1e-9 {
                    best = a;
                    w = trial;
                    println!("round {round}: {name} {:+} -> {best:.3}", delta);
                }
            }
        }
    }
    println!("best {best:.3}: {w:#?}");
}
