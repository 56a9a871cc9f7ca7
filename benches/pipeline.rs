//! Criterion benchmarks of draad's stages and the whole pipeline, on the seed thread and on
//! synthetic threads (`draad::synth`) of 100 and 10,000 comments, and the reply reconstruction's
//! growth with thread length. `cargo bench --bench pipeline`; the corpus run (a million comments
//! through `batch`) is `cargo bench --bench corpus`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use draad::analyze::{Models, analyze};
use draad::ingest::{ReadOptions, read_bytes_as_thread};
use draad::model::Thread;
use draad::synth::{SynthOptions, thread, to_html, to_json, to_text};
use std::hint::black_box;
use std::time::Duration;

const SEED: &str = "threads/clearview-ap-2024/thread.txt";

/// `cargo bench` passes `--bench`; `cargo test --benches` runs each benchmark once, on smaller
/// threads, to check that it works.
fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn models() -> Models {
    Models::load(draad::codebook::DEFAULT_PATH).expect("models load")
}

fn read(text: &str, name: &str) -> Thread {
    read_bytes_as_thread(text.as_bytes(), name, &ReadOptions::default()).expect("thread reads")
}

fn seed(c: &mut Criterion) {
    let text = std::fs::read_to_string(SEED).expect("seed thread");
    let m = models();
    let mut g = c.benchmark_group("seed");
    g.throughput(Throughput::Elements(read(&text, SEED).comments.len() as u64));
    g.bench_function("read", |b| b.iter(|| read(black_box(&text), SEED)));
    g.bench_function("analyze", |b| b.iter(|| analyze(read(black_box(&text), SEED), &m)));
    g.bench_function("analyze_with_model_loading", |b| b.iter(|| analyze(read(black_box(&text), SEED), &models())));
    g.finish();
}

fn stages(c: &mut Criterion) {
    let m = models();
    let sizes: &[usize] = if benching() { &[100, 10_000] } else { &[100, 1_000] };
    for &n in sizes {
        let t = thread(SynthOptions { comments: n, seed: 1 });
        let (text, html, json) = (to_text(&t), to_html(&t), to_json(&t));
        let mut g = c.benchmark_group(format!("stages_{n}"));
        g.throughput(Throughput::Elements(n as u64));
        if n > 1000 {
            g.sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
        }
        g.bench_function("read_copied_text", |b| b.iter(|| read(black_box(&text), "t.txt")));
        g.bench_function("read_html", |b| b.iter(|| read(black_box(&html), "t.html")));
        g.bench_function("read_json", |b| b.iter(|| read(black_box(&json), "t.json")));
        let parsed = read(&json, "t.json");
        let cb = &m.codebook;
        g.bench_function("stance", |b| {
            b.iter(|| {
                let mut t = parsed.clone();
                draad::stance::label_thread(&mut t, cb, m.stance.as_ref(), m.subwords.as_ref(), None)
            })
        });
        let mut labelled = parsed.clone();
        let features = draad::stance::label_thread(&mut labelled, cb, m.stance.as_ref(), m.subwords.as_ref(), None);
        g.bench_function("clusters", |b| {
            b.iter(|| {
                let mut a = draad::clusters::assign(&labelled, cb, m.clusters.as_ref(), &features, None);
                let v = draad::clusters::stem_vectors(&features);
                draad::clusters::discover(&labelled, cb, &features, &mut a, &v, None, draad::clusters::REPLY_LIKENESS)
            })
        });
        let analysed = analyze(parsed.clone(), &m);
        g.bench_function("summary", |b| b.iter(|| draad::summary::summarise(black_box(&analysed.thread), cb)));
        g.bench_function("render_json", |b| {
            b.iter(|| {
                draad::render::render(
                    &analysed,
                    draad::render::ReportFormat::Json,
                    draad::render::TextStyle { width: 100, colour: false },
                )
            })
        });
        g.bench_function("pipeline_json", |b| b.iter(|| analyze(read(black_box(&json), "t.json"), &m)));
        g.bench_function("pipeline_copied_text", |b| b.iter(|| analyze(read(black_box(&text), "t.txt"), &m)));
        g.finish();
    }
}

/// Reconstruction from copied text must grow near linearly with the thread's length.
fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("reconstruction_scaling");
    g.sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    let sizes: &[usize] = if benching() { &[1_000, 10_000, 50_000] } else { &[1_000, 2_000] };
    for &n in sizes {
        let text = to_text(&thread(SynthOptions { comments: n, seed: 2 }));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| b.iter(|| read(text, "t.txt")));
    }
    g.finish();
}

criterion_group!(benches, seed, stages, scaling);
criterion_main!(benches);
