//! Every bad input gets a clear error that names the file and the place, and exit status 2.

use std::process::Command;

fn draad(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_draad")).args(args).output().expect("draad runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// (file in tests/bad-input, words the error must contain)
const CASES: &[(&str, &[&str])] = &[
    ("empty.txt", &["empty"]),
    ("whitespace.txt", &["white space"]),
    ("binary.bin", &["line 1, column 5", "binary data"]),
    ("invalid-utf8.txt", &["line 5, column 20", "invalid UTF-8"]),
    ("truncated.html", &["line 39", "truncated HTML"]),
    ("truncated.json", &["line 4", "invalid JSON"]),
    ("cycle.json", &["reply cycle", "b -> c -> b"]),
    ("dangling.json", &["comment 2", "dangling parent", "zzz"]),
    ("duplicate-ids.jsonl", &["line 3", "duplicate comment id '2'"]),
    ("no-reactions.txt", &["line 13", "no reactions"]),
    ("not-a-thread.txt", &["line 1", "cannot tell the format"]),
    ("utf16-no-bom.txt", &["byte 1", "UTF-16 text without a byte-order mark"]),
    ("lone-surrogate-utf16.txt", &["line 3, column 3", "invalid UTF-16"]),
    ("cut.webarchive", &["binary property list (Safari web archive?)", "cut off or damaged"]),
    ("truncated.mhtml", &["part 1 of the MHTML archive", "cut off inside the saved page"]),
    ("no-page.mhtml", &["MHTML archive with 1 part(s)", "no text/html part"]),
];

#[test]
fn each_bad_input_gets_its_clear_error_and_status_2() {
    for (file, words) in CASES {
        let path = format!("tests/bad-input/{file}");
        let (code, stdout, stderr) = draad(&["parse", &path]);
        assert_eq!(code, 2, "{file}: exit status");
        assert!(stdout.is_empty(), "{file}: nothing on stdout");
        assert!(stderr.contains(&path), "{file}: error names the file: {stderr}");
        for w in *words {
            assert!(stderr.contains(w), "{file}: error should mention '{w}': {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{file}: no panic: {stderr}");
    }
}

#[test]
fn every_bad_input_file_has_a_case() {
    let mut files: Vec<String> = std::fs::read_dir("tests/bad-input")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut named: Vec<String> = CASES.iter().map(|(f, _)| f.to_string()).collect();
    named.sort();
    assert_eq!(files, named);
}

#[test]
fn missing_file_and_directory_are_clear_errors() {
    let (code, _, stderr) = draad(&["parse", "tests/bad-input/does-not-exist.txt"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("does-not-exist.txt") && stderr.contains("cannot open"), "{stderr}");
    let (code, _, stderr) = draad(&["parse", "tests/bad-input"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("directory"), "{stderr}");
}

#[test]
fn input_over_the_size_limit_is_refused() {
    let (code, _, stderr) = draad(&["parse", "tests/fixtures/small.html", "--max-bytes", "100"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("limit of 100 bytes") && stderr.contains("--max-bytes"), "{stderr}");
}

#[test]
fn an_existing_output_is_not_overwritten() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-overwrite");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.json");
    std::fs::write(&out, "precious").unwrap();
    let (code, _, stderr) = draad(&["parse", "tests/fixtures/small.html", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("exists"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    let (code, _, _) = draad(&["parse", "tests/fixtures/small.html", "-o", out.to_str().unwrap(), "--force"]);
    assert_eq!(code, 0);
    assert!(std::fs::read_to_string(&out).unwrap().contains("\"schema\""));
}

#[test]
fn a_wrong_format_flag_gives_an_error_not_a_panic() {
    for fmt in ["html", "json", "jsonl", "csv", "text"] {
        let (code, _, stderr) = draad(&["parse", "tests/bad-input/not-a-thread.txt", "--format", fmt]);
        assert_eq!(code, 2, "--format {fmt}: {stderr}");
        assert!(stderr.contains("not-a-thread.txt"), "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

/// Inputs too big to keep in the repository are written at test time.
fn generated(name: &str, content: &[u8]) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-input");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn huge_and_deep_inputs_get_clear_errors_and_limits_can_be_raised() {
    let reaction = |inner: &str| {
        format!(
            "<html><body><div id=\"reactieContainer\"><twk-reaction id=\"r_1\" class=\"reactie\" data-reaction-id=\"1\">\
             <div class=\"reactieBody\"><div class=\"reactieContent\">{inner}</div></div></twk-reaction></div></body></html>"
        )
    };
    let mut line = b"Titel\n\nReacties (1)\n\nWijzig sortering\n".to_vec();
    line.extend(std::iter::repeat_n(b'a', 200 * 1024 * 1024));
    line.push(b'\n');
    let chain = format!(
        "<html><body><div id=\"reactieContainer\">{}{}</div></body></html>",
        (0..100_000)
            .map(|i| format!("<twk-reaction id=\"r_{i}\" class=\"reactie\" data-reaction-id=\"{i}\"><div class=\"reactieBody\"><div class=\"reactieContent\">x</div></div>"))
            .collect::<String>(),
        "</twk-reaction>".repeat(100_000)
    );
    let cases: Vec<(String, Vec<&str>, &[&str])> = vec![
        (generated("line-200mb.txt", &line), vec![], &["line 6", "209715200 bytes", "--max-line-bytes"]),
        (
            generated(
                "nested-100k.html",
                reaction(&format!("{}x{}", "<div>".repeat(100_000), "</div>".repeat(100_000))).as_bytes(),
            ),
            vec![],
            &["line 1", "more than 512 elements", "--max-nesting"],
        ),
        (generated("reply-chain-100k.html", chain.as_bytes()), vec![], &["more than 512 elements", "--max-nesting"]),
        (
            generated(
                "nested-json.json",
                format!("{{\"comments\": [{{\"id\": {}}}]}}", "[".repeat(100_000)).as_bytes(),
            ),
            vec![],
            &["line 1, column", "not a draad thread"],
        ),
        (
            generated("big.txt", &vec![b'a'; 4096]),
            vec!["--max-bytes", "1000"],
            &["larger than the limit of 1000 bytes", "--max-bytes"],
        ),
        (
            generated("nested-600.html", reaction(&format!("{}x{}", "<b>".repeat(600), "</b>".repeat(600))).as_bytes()),
            vec![],
            &["more than 512"],
        ),
    ];
    for (path, flags, words) in &cases {
        let mut args = vec!["parse", path.as_str()];
        args.extend(flags);
        let started = std::time::Instant::now();
        let (code, stdout, stderr) = draad(&args);
        assert_eq!(code, 2, "{path}: {stderr}");
        assert!(stdout.is_empty() && stderr.contains(path.as_str()), "{path}: {stderr}");
        for w in *words {
            assert!(stderr.contains(w), "{path}: error should mention '{w}': {stderr}");
        }
        assert!(!stderr.contains("panicked") && !stderr.contains("overflow"), "{path}: {stderr}");
        assert!(started.elapsed().as_secs() < 30, "{path}: refused quickly");
    }
    // Raised limits let the same inputs through.
    let nested = &cases[5].0;
    let (code, _, stderr) = draad(&["parse", nested, "--max-nesting", "2000"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = draad(&["parse", nested, "--max-nesting", "100000"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("between 1 and 10000"), "{stderr}");
}

/// Inputs that once crashed a reader under scripts/fuzz.sh give a thread or a clear error now.
#[test]
fn fuzz_regressions_read_without_panicking() {
    use draad::model::Format;
    for entry in std::fs::read_dir("tests/fuzz-regressions").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            continue;
        }
        let format = match name.split('-').next().unwrap_or("") {
            "read_copied_text" => Some(Format::Text),
            "read_html" => Some(Format::Html),
            "read_json" => Some(Format::Json),
            "read_jsonl" => Some(Format::Jsonl),
            "read_csv" => Some(Format::Csv),
            _ => None,
        };
        let bytes = std::fs::read(&path).unwrap();
        let options = draad::ingest::ReadOptions { format, ..Default::default() };
        if let Ok(thread) = draad::ingest::read_bytes_as_thread(&bytes, &name, &options) {
            let models = draad::analyze::Models::load(draad::codebook::DEFAULT_PATH).unwrap();
            let _ = draad::analyze::analyze(thread, &models);
        }
    }
}

/// When the reader of draad's output goes away (`draad eval-graph | head`), draad stops quietly: no
/// panic message, exit status 0.
#[test]
fn a_closed_output_pipe_is_not_a_crash() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_draad"))
        .args(["eval-graph", "--encoder", "off"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before draad has scored anything, so its first line of output meets the closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{:?} {err}", out.status);
}
