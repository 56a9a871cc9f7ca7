//! The corpus run: 1,000 synthetic threads of 1,000 comments (a million comments) as a JSONL
//! stream through `draad::batch::run`, on all cores, as `draad batch` runs it. A single run of this
//! size is its own measurement (criterion's ten samples would take too long), so this bench prints
//! the figures itself: comments per second and the peak memory of the process.
//!
//! `cargo bench --bench corpus` (DRAAD_CORPUS_THREADS and DRAAD_CORPUS_COMMENTS change the size).

use draad::analyze::Models;
use draad::batch::{BatchOptions, Quiet, run};
use draad::synth::{SynthOptions, thread, to_json};
use std::io::Write;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Peak resident memory of this process in MiB (Linux), if it can be read.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and must stay quick.
    let benching = std::env::args().any(|a| a == "--bench");
    let threads = env_or("DRAAD_CORPUS_THREADS", if benching { 1000 } else { 3 });
    let comments = env_or("DRAAD_CORPUS_COMMENTS", if benching { 1000 } else { 50 });
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-bench");
    std::fs::create_dir_all(&dir).expect("bench folder");
    let input = dir.join(format!("corpus-{threads}x{comments}.jsonl"));
    if !input.exists() {
        let tmp = dir.join("corpus.jsonl.tmp");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).expect("corpus file"));
        for i in 0..threads {
            writeln!(f, "{}", to_json(&thread(SynthOptions { comments, seed: i as u64 }))).expect("write corpus");
        }
        f.flush().expect("write corpus");
        drop(f);
        std::fs::rename(&tmp, &input).expect("corpus file");
    }
    let before = peak_rss_mib();
    let models = Models::load(draad::codebook::DEFAULT_PATH).expect("models load");
    let out = dir.join("out.jsonl");
    let options = BatchOptions { force: true, ..Default::default() };
    let report = run(&[input.to_string_lossy().into_owned()], &out.to_string_lossy(), &models, &options, &Quiet)
        .expect("batch runs");
    let out_mib = std::fs::metadata(&out).map(|m| m.len() as f64 / 1048576.0).unwrap_or(0.0);
    println!(
        "corpus: {} threads x {comments} comments = {} comments in {:.1} s: {:.0} comments/s on {} worker threads; \
         {} failed; output {out_mib:.0} MiB",
        report.threads,
        report.comments,
        report.seconds,
        report.comments_per_second(),
        rayon::current_num_threads(),
        report.failed
    );
    match (before, peak_rss_mib()) {
        (Some(b), Some(p)) => println!("corpus: peak memory {p:.0} MiB (before the run {b:.0} MiB)"),
        _ => println!("corpus: peak memory not available on this system"),
    }
    let _ = std::fs::remove_file(&out);
}
