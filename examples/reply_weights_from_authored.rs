//! Experiment: tune the reply-reconstruction weights on the authored threads
//! (`threads/authored-clearview-ap/`, structure known, written blind to the seed thread) rendered to
//! copied text, then score the tuned weights on data that did not shape them: the seed thread with
//! its reference boundaries and the held-out pages (found boundaries), beside the default weights.
//!
//!     cargo run --release --example reply_weights_from_authored
//!
//! With `-- --encoder` (the sentence encoder's files in `models/e5-small`, see
//! `scripts/fetch-models.sh`) it tunes only the weight of the meaning evidence (`semantic`) on the
//! authored threads, with the other weights as they are, and reports the seed and held-out pages with
//! the encoder.

use draad::eval_graph::{evaluate, gold_from_rendered, read_annotation};
use draad::model::{Article, Thread};
use draad::reply_graph::ReplyWeights;

/// The authored comments as one small thread per `thread` prefix of their ids, each under a stub
/// article, rendered to copied text: (text, reference).
fn authored_copies(path: &str) -> Vec<(String, Vec<draad::eval_graph::GoldComment>)> {
    let codebook = draad::codebook::Codebook::load(draad::codebook::DEFAULT_PATH).expect("codebook");
    let set = draad::annotated::load_authored(path, &codebook).expect("authored set");
    let mut empty = set.thread.clone();
    empty.comments.clear();
    let mut groups: Vec<(String, Thread)> = Vec::new();
    for c in &set.thread.comments {
        let key = c.id.split('-').next().unwrap_or("").to_string();
        if groups.last().is_none_or(|g| g.0 != key) {
            let mut t = empty.clone();
            t.article = Article {
                title: Some(format!("Clearview AI en de boete ({key})")),
                body: vec!["Clearview AI heeft een boete gekregen van een Europese privacytoezichthouder.".into()],
                ..Article::default()
            };
            groups.push((key.clone(), t));
        }
        let mut c = c.clone();
        c.index = groups.last().map_or(0, |g| g.1.comments.len() + 1);
        groups.last_mut().expect("group").1.comments.push(c);
    }
    groups
        .into_iter()
        .map(|(_, t)| {
            let copy = draad::copy_text::render(&t);
            let gold = gold_from_rendered(&t, &copy.spans);
            (copy.text, gold)
        })
        .collect()
}

type Enc<'a> = Option<&'a draad::encoder::Encoder>;

fn accuracy_given_starts(
    text: &str,
    gold: &[draad::eval_graph::GoldComment],
    w: &ReplyWeights,
    encoder: Enc,
) -> (usize, usize) {
    let starts: Vec<usize> = gold.iter().map(|g| g.first_line).collect();
    let t = draad::ingest::copied_text::read_with(text, "tune", Some(&starts), w, encoder).expect("thread reads");
    let s = evaluate("tune", &t, gold);
    ((s.parent_accuracy * gold.len() as f64).round() as usize, gold.len())
}

fn pooled(copies: &[(String, Vec<draad::eval_graph::GoldComment>)], w: &ReplyWeights, encoder: Enc) -> f64 {
    let (right, all) =
        copies.iter().map(|(t, g)| accuracy_given_starts(t, g, w, encoder)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    right as f64 / all.max(1) as f64
}

fn heldout(path: &str, w: &ReplyWeights, encoder: Enc) -> (f64, f64) {
    let truth = draad::ingest::read_path(path, &draad::ingest::ReadOptions::default()).expect("page");
    let copy = draad::copy_text::render(&truth);
    let gold = gold_from_rendered(&truth, &copy.spans);
    let found = draad::ingest::copied_text::read_with(&copy.text, path, None, w, encoder).expect("reads");
    let given = accuracy_given_starts(&copy.text, &gold, w, encoder);
    (evaluate(path, &found, &gold).parent_accuracy, given.0 as f64 / given.1.max(1) as f64)
}

fn report(name: &str, w: &ReplyWeights, encoder: Enc) {
    let dir = "threads/clearview-ap-2024";
    let text = std::fs::read_to_string(format!("{dir}/thread.txt")).expect("thread.txt");
    let gold = read_annotation(&format!("{dir}/replies.tsv")).expect("replies.tsv");
    let (r, n) = accuracy_given_starts(&text, &gold, w, encoder);
    let seed_found = evaluate(
        "seed",
        &draad::ingest::copied_text::read_with(&text, "seed", None, w, encoder).expect("seed reads"),
        &gold,
    )
    .parent_accuracy;
    print!("{name}: seed parents {:.3} (reference boundaries), {seed_found:.3} (found)", r as f64 / n as f64);
    for page in ["kopernet-2024", "ov-chipkaart-2023", "thuisbatterij-2025"] {
        let (found, given) = heldout(&format!("threads/heldout/{page}.html"), w, encoder);
        print!("; {page} {found:.3} (found), {given:.3} (true starts)");
    }
    println!();
}

fn main() {
    let copies = authored_copies("threads/authored-clearview-ap/comments.jsonl");
    if std::env::args().any(|a| a == "--encoder") {
        return tune_semantic(&copies);
    }
    let start = ReplyWeights::default();
    println!(
        "authored threads: {}, default weights: parent accuracy {:.3} (true starts)",
        copies.len(),
        pooled(&copies, &start, None)
    );
    report("default weights", &start, None);
    let (w, best) = draad::reply_graph::tune_weights(
        start,
        &[-2.0, -1.0, -0.5, 0.5, 1.0, 2.0],
        3,
        |w| pooled(&copies, w, None),
        |round, name, delta, score| println!("round {round}: {name} {delta:+} -> {score:.3}"),
    );
    println!("tuned on the authored threads: {best:.3}\n{w:?}");
    report("tuned weights", &w, None);
}

/// With the encoder: the weight of the meaning evidence on a grid, the other weights as they are.
fn tune_semantic(copies: &[(String, Vec<draad::eval_graph::GoldComment>)]) {
    let dir = draad::encoder::Encoder::default_dir();
    let encoder = match draad::encoder::Encoder::load(&dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let without = pooled(copies, &ReplyWeights::default(), None);
    println!("authored threads: {}, without the encoder: parent accuracy {without:.3} (true starts)", copies.len());
    let mut best = (f64::NEG_INFINITY, 0.0);
    for semantic in [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0] {
        let w = ReplyWeights { semantic, ..ReplyWeights::default() };
        let score = pooled(copies, &w, Some(&encoder));
        println!("semantic {semantic}: {score:.3}");
        if score > best.0 + 1e-9 {
            best = (score, semantic);
        }
    }
    println!("best on the authored threads: semantic {} ({:.3})", best.1, best.0);
    report("default weights", &ReplyWeights::default(), Some(&encoder));
    report("tuned semantic", &ReplyWeights { semantic: best.1, ..ReplyWeights::default() }, Some(&encoder));
}
