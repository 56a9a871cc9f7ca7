//! `draad synth` and `draad batch`: synthetic threads read back with their known structure; a batch
//! with broken threads in it still writes every good thread, in input order; --fail-fast, --resume,
//! the summary and the CSV table.

use draad::synth::{SynthOptions, thread, to_html, to_json, to_text};
use std::path::{Path, PathBuf};
use std::process::Command;

fn draad(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_draad")).args(args).output().expect("draad runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A fresh folder under target/tmp for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("batch-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn synthetic_html_and_json_read_back_with_their_structure() {
    let t = thread(SynthOptions { comments: 400, seed: 7 });
    assert_eq!(t.comments.len(), 400);
    assert!(t.comments.iter().any(|c| c.collapsed), "some reactions are collapsed");
    assert!(t.comments.iter().any(|c| c.edit.is_some()), "some reactions are edited");
    assert!(t.comments.iter().any(|c| !c.mentions.is_empty()), "some reactions mention someone");
    let depth = draad::reply_graph::depths(&t).into_iter().max().unwrap();
    assert!(depth >= 4, "replies nest: max depth {depth}");
    let opts = draad::ingest::ReadOptions::default();
    for (form, text) in [("html", to_html(&t)), ("json", to_json(&t))] {
        let back = draad::ingest::read_bytes_as_thread(text.as_bytes(), form, &opts).unwrap();
        assert_eq!(back.comments.len(), t.comments.len(), "{form}");
        for (a, b) in t.comments.iter().zip(&back.comments) {
            assert_eq!((&a.id, &a.parent, &a.author, &a.time), (&b.id, &b.parent, &b.author, &b.time), "{form}");
            assert_eq!((a.score, a.collapsed, &a.text, &a.edit), (b.score, b.collapsed, &b.text, &b.edit), "{form}");
        }
    }
    // The same seed gives the same thread; another seed another.
    assert_eq!(to_json(&thread(SynthOptions { comments: 400, seed: 7 })), to_json(&t));
    assert_ne!(to_json(&thread(SynthOptions { comments: 400, seed: 8 })), to_json(&t));
}

#[test]
fn synthetic_copied_text_is_segmented_close_to_its_truth() {
    let t = thread(SynthOptions { comments: 300, seed: 3 });
    let visible = t.comments.iter().filter(|c| !c.collapsed).count();
    let text = to_text(&t);
    let back = draad::ingest::read_bytes_as_thread(text.as_bytes(), "synth.txt", &Default::default()).unwrap();
    let found = back.comments.len() as f64;
    assert!((found - visible as f64).abs() / (visible as f64) < 0.1, "found {found} of {visible} reactions");
}

#[test]
fn synth_cli_writes_a_corpus_folder_and_refuses_to_overwrite() {
    let dir = scratch("synth");
    let out = dir.join("corpus");
    let (code, _, err) = draad(&["synth", "-n", "30", "--threads", "3", "--format", "html", "-o", p(&out)]);
    assert_eq!(code, 0, "{err}");
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.contains(&"synth-0000.html".to_string()) && names.contains(&"synth-0000.html.truth.tsv".to_string()));
    let (code, _, err) = draad(&["synth", "-n", "30", "--threads", "3", "--format", "html", "-o", p(&out)]);
    assert_eq!(code, 2);
    assert!(err.contains("not empty") && err.contains("--force"), "{err}");
}

/// A corpus folder: three good threads (text, HTML, a stream of two JSON threads) and broken ones.
fn corpus(dir: &Path) -> PathBuf {
    let c = dir.join("corpus");
    std::fs::create_dir_all(&c).unwrap();
    let t = |n, seed| thread(SynthOptions { comments: n, seed });
    std::fs::write(c.join("a-text.txt"), to_text(&t(40, 1))).unwrap();
    std::fs::write(c.join("b-page.html"), to_html(&t(30, 2))).unwrap();
    std::fs::write(c.join("c-binary.txt"), b"\x00\x01\x02 not a thread").unwrap();
    let stream = format!(
        "{}\n{{\"schema\":\"draad.thread/1\",\"comments\": [oops\n{}\n",
        to_json(&t(20, 3)),
        to_json(&t(25, 4))
    );
    std::fs::write(c.join("d-stream.jsonl"), stream).unwrap();
    std::fs::copy("tests/bad-input/cycle.json", c.join("e-cycle.json")).unwrap();
    std::fs::write(c.join("notes.md"), "not picked up").unwrap();
    c
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_batch_with_broken_threads_writes_every_good_thread_in_input_order() {
    let dir = scratch("mixed");
    let c = corpus(&dir);
    let out = dir.join("out.jsonl");
    let csv = dir.join("comments.csv");
    let summary = dir.join("summary.json");
    let (code, stdout, err) = draad(&["batch", p(&c), "-o", p(&out), "--csv", p(&csv), "--summary", p(&summary)]);
    assert_eq!(code, 0, "{err}");
    let got = lines(&out);
    let inputs: Vec<&str> = got.iter().map(|l| l["input"].as_str().unwrap()).collect();
    let ends: Vec<&str> = inputs.iter().map(|i| i.rsplit('/').next().unwrap()).collect();
    assert_eq!(
        ends,
        [
            "a-text.txt",
            "b-page.html",
            "c-binary.txt",
            "d-stream.jsonl:1",
            "d-stream.jsonl:2",
            "d-stream.jsonl:3",
            "e-cycle.json"
        ]
    );
    let ok: Vec<bool> = got.iter().map(|l| l["ok"].as_bool().unwrap()).collect();
    assert_eq!(ok, [true, true, false, true, false, true, false]);
    assert!(got[2]["error"].as_str().unwrap().contains("binary"), "{}", got[2]);
    assert!(got[4]["error"].as_str().unwrap().contains("d-stream.jsonl:2"), "{}", got[4]);
    assert!(got[6]["error"].as_str().unwrap().contains("reply cycle"), "{}", got[6]);
    // Good threads carry the full analysis: stances and clusters on every comment.
    let b = &got[1]["analysis"];
    assert_eq!(b["comments"].as_array().unwrap().len(), 30);
    assert!(b["comments"][0]["stance"]["jurisdiction"]["label"].is_string());
    assert!(b["comments"][0]["clusters"]["primary"].is_string());
    assert!(b["summary"].is_object() && b["clusters"].is_array());
    // The CSV has one row per comment of the good threads.
    let good_comments: u64 = got.iter().filter_map(|l| l["comments"].as_u64()).sum();
    let rows = std::fs::read_to_string(&csv).unwrap().lines().count() as u64 - 1;
    assert_eq!(rows, good_comments);
    // The summary counts them all and names the failures.
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(s["threads"], 7);
    assert_eq!(s["failed"], 3);
    assert_eq!(s["total"]["comments"].as_u64().unwrap(), good_comments);
    let stance_total: u64 =
        s["total"]["stance"]["jurisdiction"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(stance_total, good_comments);
    assert!(stdout.contains("7 threads (3 failed)"), "{stdout}");
    assert!(err.contains("4 threads analysed") || err.contains("7 threads analysed"), "{err}");
    assert!(!dir.join("out.jsonl.draad-tmp").exists(), "no temporary file left");
    // Running again does not overwrite without --force or --resume.
    let (code, _, err) = draad(&["batch", p(&c), "-o", p(&out)]);
    assert_eq!(code, 2);
    assert!(err.contains("exists") && err.contains("--resume"), "{err}");
}

#[test]
fn fail_fast_stops_and_resume_finishes_the_run() {
    let dir = scratch("resume");
    let c = corpus(&dir);
    let out = dir.join("out.jsonl");
    let tmp = dir.join("out.jsonl.draad-tmp");
    let (code, _, err) = draad(&["batch", p(&c), "-o", p(&out), "--fail-fast"]);
    assert_eq!(code, 2);
    assert!(err.contains("c-binary.txt") && err.contains("--fail-fast"), "{err}");
    assert!(!out.exists(), "no output file on a stopped run");
    let partial = lines(&tmp);
    assert_eq!(partial.len(), 2, "the two threads before the failure are kept");
    // A new run without --resume refuses to throw the partial work away.
    let (code, _, err) = draad(&["batch", p(&c), "-o", p(&out)]);
    assert_eq!(code, 2);
    assert!(err.contains("interrupted") && err.contains("--resume"), "{err}");
    // Simulate an interruption in the middle of a line: the cut line is dropped on resume.
    let mut text = std::fs::read_to_string(&tmp).unwrap();
    text.push_str("{\"input\":\"half a line");
    std::fs::write(&tmp, text).unwrap();
    let (code, _, err) = draad(&["batch", p(&c), "-o", p(&out), "--resume"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 kept from an earlier run"), "{err}");
    let got = lines(&out);
    assert_eq!(got.len(), 7);
    assert_eq!(got.iter().filter(|l| l["ok"] == true).count(), 4);
    assert!(!tmp.exists());
}

#[test]
fn the_summary_names_threads_the_codebook_fits_poorly() {
    let dir = scratch("fit");
    let (out, summary) = (dir.join("out.jsonl"), dir.join("summary.json"));
    let (code, stdout, err) = draad(&[
        "batch",
        "threads/heldout/laadpaal-2024.html",
        "threads/clearview-ap-2024/thread.txt",
        "-o",
        p(&out),
        "--summary",
        p(&summary),
    ]);
    assert_eq!(code, 0, "{err}");
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let per: Vec<(&str, bool)> = s["per_thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["input"].as_str().unwrap(), t["poor_codebook_fit"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        per,
        vec![("threads/heldout/laadpaal-2024.html", true), ("threads/clearview-ap-2024/thread.txt", false)]
    );
    // The flag agrees with the thread's own analysis.
    for line in lines(&out) {
        let fit = &line["analysis"]["summary"]["codebook_fit"]["poor"];
        let input = line["input"].as_str().unwrap();
        assert_eq!(fit.as_bool(), per.iter().find(|x| x.0 == input).map(|x| x.1), "{input}");
    }
    assert!(
        stdout.contains("1 thread(s) fit the codebook poorly") && stdout.contains("laadpaal-2024.html"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
