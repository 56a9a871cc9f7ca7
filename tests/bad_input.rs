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
