//! The reports: every format on the seed thread, untrusted comment text escaped everywhere, and the
//! HTML report in a real browser (headless Chromium) with a screenshot kept as an artefact.

use std::path::PathBuf;
use std::process::Command;

fn draad(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_draad")).args(args).output().expect("draad runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const SEED: &str = "threads/clearview-ap-2024/thread.txt";
const HOSTILE: &str = "tests/fixtures/hostile.jsonl";

fn artefacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn text_report_shows_the_named_clusters_with_their_balance() {
    let (code, out, err) = draad(&["analyze", SEED, "--width", "100"]);
    assert_eq!(code, 0, "{err}");
    for heading in
        ["Stance over the thread", "Argument clusters", "Where people clash", "Longest back-and-forth chains"]
    {
        assert!(out.contains(heading), "missing {heading}");
    }
    for cluster in ["Reach of EU law", "Executives personally liable", "Collecting the fine abroad"] {
        let at = out.find(cluster).unwrap_or_else(|| panic!("{cluster} missing"));
        let section = &out[at..];
        assert!(
            section.contains("jurisdiction: ") && section.contains("enforceability: "),
            "{cluster} has a stance balance"
        );
        assert!(section.contains("• “"), "{cluster} has representative comments");
    }
    assert!(out.lines().all(|l| l.chars().count() <= 100), "lines fit the width");
    assert!(!out.contains('\u{1b}'), "no colour when not on a terminal");
}

#[test]
fn json_report_keeps_the_contract_and_adds_clusters_and_summary() {
    let (code, out, err) = draad(&["analyze", SEED, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in ["schema", "source", "article", "comments", "warnings", "clusters", "summary", "models"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for c in v["comments"].as_array().unwrap() {
        let cl = &c["clusters"];
        assert!(cl["primary"].is_string() && cl["secondary"].is_array() && cl["confidence"].is_number());
        assert!(c["stance"]["jurisdiction"]["label"].is_string());
    }
    let ids: Vec<&str> = v["clusters"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    for id in ["extraterritoriality", "personal_liability", "collection"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    let total: u64 =
        v["summary"]["stance"]["jurisdiction"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(total as usize, v["comments"].as_array().unwrap().len());
}

#[test]
fn hostile_text_is_escaped_in_every_format() {
    for format in ["text", "md", "json", "html"] {
        let (code, out, err) = draad(&["analyze", HOSTILE, "--format", format]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(!out.contains('\u{1b}'), "{format}: terminal escape from a comment");
        if format == "text" {
            // A terminal runs no markup; control characters are what must not get through.
            continue;
        }
        assert!(!out.contains("<script>"), "{format}: raw <script>");
        assert!(!out.contains("<img src=x"), "{format}: raw <img>");
        assert!(!out.contains("href=\"javascript:"), "{format}: javascript: link");
        assert!(!out.contains("<b>mallory</b>"), "{format}: raw markup in an author name");
        if format == "html" {
            assert!(out.contains("&lt;script&gt;document.title="));
            assert!(!out.contains("\" onmouseover=\""), "attribute injection through the author");
        }
    }
}

/// Headless Chromium, if it is installed; `DRAAD_REQUIRE_BROWSER=1` (set by CI) makes it required.
fn chromium() -> Option<String> {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Some(c.to_string());
        }
    }
    assert!(std::env::var("DRAAD_REQUIRE_BROWSER").is_err(), "DRAAD_REQUIRE_BROWSER is set but no Chromium was found");
    eprintln!("Chromium is not installed: the browser checks are skipped (CI installs it)");
    None
}

fn headless(browser: &str, extra: &[&str], page: &std::path::Path) -> String {
    // A browser start can fail for reasons of the machine (shared memory, load): try twice.
    match try_headless(browser, extra, page) {
        Ok(out) => out,
        Err(first) => {
            eprintln!("chromium failed once, trying again: {first}");
            try_headless(browser, extra, page).unwrap_or_else(|e| panic!("chromium failed: {e}"))
        }
    }
}

fn try_headless(browser: &str, extra: &[&str], page: &std::path::Path) -> Result<String, String> {
    let profile = tempdir("chromium-profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
        ])
        .args(["--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn tempdir(name: &str) -> PathBuf {
    let d = artefacts().join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn html_report_opens_in_chromium_with_clusters_and_graph() {
    let Some(browser) = chromium() else { return };
    let page = artefacts().join("clearview-report.html");
    let (code, _, err) = draad(&["analyze", SEED, "--format", "html", "-o", page.to_str().unwrap(), "--force"]);
    assert_eq!(code, 0, "{err}");
    let dom = headless(&browser, &["--dump-dom"], &page);
    for id in ["extraterritoriality", "personal_liability", "collection"] {
        assert!(dom.contains(&format!("data-cluster=\"{id}\"")), "cluster {id} in the rendered page");
    }
    assert!(dom.contains("<svg id=\"reply-graph\""), "the reply graph is in the page");
    let (_, json, _) = draad(&["analyze", SEED, "--format", "json"]);
    let comments = serde_json::from_str::<serde_json::Value>(&json).unwrap()["comments"].as_array().unwrap().len();
    assert_eq!(dom.matches("class=\"node\"").count(), comments, "one graph node per comment");
    assert_eq!(dom.matches("<article class=\"comment\"").count(), comments, "every comment readable in place");
    let shot = artefacts().join("clearview-report.png");
    let _ = std::fs::remove_file(&shot);
    headless(&browser, &[&format!("--screenshot={}", shot.display()), "--window-size=1200,2400"], &page);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a real screenshot ({} bytes)", png.len());
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn hostile_comments_do_not_run_in_chromium() {
    let Some(browser) = chromium() else { return };
    let page = artefacts().join("hostile-report.html");
    let (code, _, err) = draad(&["analyze", HOSTILE, "--format", "html", "-o", page.to_str().unwrap(), "--force"]);
    assert_eq!(code, 0, "{err}");
    let dom = headless(&browser, &["--dump-dom"], &page);
    assert!(!dom.contains("pwned</title>"), "an injected script ran");
    assert!(dom.contains("<title>draad: "), "the title is draad's own");
    assert_eq!(dom.matches("<script").count(), 0, "no script element in the rendered page");
    assert!(!dom.contains("<img"), "no image element (and so no onerror handler)");
    assert!(!dom.contains("<a href=\"javascript:"), "no javascript: link");
    assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"), "the text is shown, as text");
}

#[test]
fn a_rebuilt_structure_says_how_far_it_can_be_trusted() {
    let (code, out, err) = draad(&["analyze", SEED, "--format", "json", "--encoder", "off"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let comments = v["comments"].as_array().unwrap();
    let confidence_of =
        |id: &str| comments.iter().find(|c| c["id"] == id).unwrap()["parent_confidence"].as_f64().unwrap();
    let s = &v["summary"];
    assert_eq!(s["structure"]["inferred"], true);
    let weak = comments.iter().filter(|c| c["parent_confidence"].as_f64().unwrap() < 0.5).count();
    assert_eq!(s["structure"]["weak_parents"].as_u64().unwrap() as usize, weak);
    // The seed copy keeps one header, the article author's, which names the one it answers.
    assert_eq!(s["structure"]["parents_from_headers"].as_u64(), Some(1));
    let (_, text, _) = draad(&["analyze", SEED, "--encoder", "off", "--width", "300"]);
    assert!(text.contains("where the nesting is lost:"), "{text}");
    // The parents to check first: the ten least sure, least sure first, each named in the report.
    let check: Vec<f64> = s["structure"]["check_first"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let p = c["parent_confidence"].as_f64().unwrap();
            assert_eq!(p, confidence_of(c["id"].as_str().unwrap()));
            let named = format!("#{} (line {}, {p:.2})", c["index"], c["first_line"]);
            // (Words only: the report wraps its lines.)
            let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(words.contains(&named), "{named} not in {text}");
            p
        })
        .collect();
    assert_eq!(check.len(), 10);
    assert!(check.windows(2).all(|w| w[0] <= w[1]), "{check:?}");
    let surest_left_out = check[9];
    let below = comments.iter().filter(|c| c["parent_confidence"].as_f64().unwrap() < surest_left_out).count();
    assert!(below <= 10, "{below} parents are less sure than the last one named");
    // A copy that keeps every reaction's header says its parents came from the headers.
    let page = draad::ingest::read_path("threads/heldout/ov-chipkaart-2023.html", &Default::default()).unwrap();
    let copy = draad::copy_text::render_with(&page, draad::copy_text::HeaderStyle::TwoLines);
    let file = tempdir("headers").join("copy.txt");
    std::fs::write(&file, &copy.text).unwrap();
    let (code, text, err) = draad(&["analyze", file.to_str().unwrap(), "--encoder", "off", "--width", "300"]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("where the nesting is lost (39 parent(s) read from the reaction headers)"), "{text}");
    // A structure the input states has nothing to check.
    let (code, out, err) =
        draad(&["analyze", "threads/heldout/ov-chipkaart-2023.html", "--format", "json", "--encoder", "off"]);
    assert_eq!(code, 0, "{err}");
    let stated: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stated["summary"]["structure"]["check_first"].as_array().map(Vec::len), Some(0));
    let median = s["structure"]["median_parent_confidence"].as_f64().unwrap();
    assert!(median > 0.0 && median <= 1.0);
    for c in s["clashes"].as_array().unwrap() {
        let edge = c["parent_confidence"].as_f64().unwrap();
        assert!((edge - confidence_of(c["reply"]["id"].as_str().unwrap())).abs() < 1e-3);
        assert!(c["strength"].as_f64().unwrap() <= edge + 1e-3);
    }
    for ch in s["chains"].as_array().unwrap() {
        let links: Vec<f64> =
            ch["comments"].as_array().unwrap()[1..].iter().map(|c| confidence_of(c["id"].as_str().unwrap())).collect();
        let weakest = links.iter().copied().fold(1.0, f64::min);
        assert!((ch["weakest_link"].as_f64().unwrap() - weakest).abs() < 1e-3);
    }
    let (_, text, _) = draad(&["analyze", SEED, "--encoder", "off", "--width", "100"]);
    assert!(text.contains("rebuilt from the copied text") && text.contains("weakest link"));
    // Every most-replied top-level comment says how sure its place at the top is.
    let top = s["most_replied"].as_array().unwrap();
    assert!(!top.is_empty());
    // (Words only: the report wraps its lines.)
    let section = text.split("drew the most replies").nth(1).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    for entry in top {
        let id = entry[0]["id"].as_str().unwrap();
        let note = format!("(top-level with confidence {:.2})", confidence_of(id));
        assert!(section.contains(&note), "{id}: {note}");
        // Only comments fairly sure of their place at the top are listed ...
        assert!(confidence_of(id) >= 0.5, "{id}");
    }
    // ... and the others are counted and named as guesses.
    let comments = v["comments"].as_array().unwrap();
    let guessed = comments
        .iter()
        .filter(|c| c["parent"].is_null() && c["parent_confidence"].as_f64().unwrap() < 0.5)
        .filter(|c| comments.iter().any(|r| r["parent"] == c["id"]))
        .count();
    assert!(guessed > 0);
    assert_eq!(s["most_replied_left_out"].as_u64(), Some(guessed as u64));
    assert!(section.contains(&format!("{guessed} more top-level comment(s) with replies left out")), "{section}");
    // The HTML report has the same list and note.
    let (code, page, err) = draad(&["analyze", SEED, "--format", "html", "--encoder", "off"]);
    assert_eq!(code, 0, "{err}");
    let list = page
        .split("drew the most replies</h3>")
        .nth(1)
        .expect("most-replied section")
        .split("</section>")
        .next()
        .unwrap();
    assert_eq!(list.matches("<li>").count(), top.len());
    assert!(list.contains(&format!("{guessed} more top-level comment(s) with replies left out")));
    // A page that states its nesting makes no such caveat.
    let (code, text, err) = draad(&["analyze", "threads/heldout/ov-chipkaart-2023.html", "--encoder", "off"]);
    assert_eq!(code, 0, "{err}");
    assert!(!text.contains("rebuilt from the copied text") && !text.contains("weakest link"));
    assert!(!text.contains("top-level with confidence") && !text.contains("left out"));
    // Nor does copied text read with a structure table.
    let table = "threads/clearview-ap-2024/replies.tsv";
    let (code, text, err) = draad(&["analyze", SEED, "--structure", table, "--encoder", "off"]);
    assert_eq!(code, 0, "{err}");
    assert!(!text.contains("rebuilt from the copied text") && !text.contains("weakest link"));
}

#[test]
fn a_counter_argument_is_shown_apart_from_the_representatives() {
    let (code, out, err) = draad(&["analyze", SEED, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut shown = 0;
    for cl in v["clusters"].as_array().unwrap() {
        let reps: Vec<&str> =
            cl["representatives"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert!(!reps.is_empty(), "{} has representatives", cl["id"]);
        let Some(counter) = cl["counter_argument"].as_object() else { continue };
        shown += 1;
        let id = counter["id"].as_str().unwrap();
        assert!(!reps.contains(&id), "{}: counter-argument {id} is also a representative", cl["id"]);
        // It holds a non-neutral label on some dimension, against the cluster's main side.
        let labels: Vec<&str> = counter["stance"].as_object().unwrap().values().map(|l| l.as_str().unwrap()).collect();
        assert!(labels.iter().any(|l| *l != "none"), "{}: counter-argument {id} takes a side", cl["id"]);
    }
    assert!(shown >= 3, "counter-arguments shown in {shown} clusters");
}

#[test]
fn discovered_groups_are_named_by_distinctive_words_only() {
    // Two off-topic comments share a subject (pizza delivery), two share only words any debate
    // has ("mensen", "zien", "denken"): only the first pair is reported as a group of its own.
    let (code, out, err) =
        draad(&["analyze", "tests/fixtures/discovery.jsonl", "--format", "json", "--encoder", "off"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let discovered: Vec<Vec<&str>> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("discovered-"))
        .map(|c| c["terms"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect())
        .collect();
    assert_eq!(discovered.len(), 1, "{discovered:?}");
    assert!(discovered[0].contains(&"pizza"), "{discovered:?}");
}

#[test]
fn a_thread_about_another_debate_is_flagged_as_a_poor_fit() {
    // A page about public charging tariffs, read with the Clearview codebook.
    let page = "threads/heldout/laadpaal-2024.html";
    let (code, out, err) = draad(&["analyze", page, "--format", "json", "--encoder", "off"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fit = &v["summary"]["codebook_fit"];
    let catch_all = v["comments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["collapsed"].as_bool().unwrap() && c["clusters"]["primary"] == "off_topic")
        .count();
    assert_eq!(fit["outside"].as_u64().unwrap() as usize, catch_all);
    assert!(fit["outside"].as_f64().unwrap() > 0.5 * fit["comments"].as_f64().unwrap());
    assert_eq!(fit["poor"], true);
    assert!(v["warnings"].as_array().unwrap().iter().any(|w| w["kind"] == "codebook_fit"));
    let (_, text, _) = draad(&["analyze", page, "--encoder", "off", "--width", "100"]);
    let head: String = text.lines().take(6).collect::<Vec<_>>().join(" ");
    assert!(head.contains("fits this thread poorly"), "{head}");
    // The codebook's own debate fits: no such note.
    let (_, out, _) = draad(&["analyze", SEED, "--format", "json", "--encoder", "off"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["codebook_fit"]["poor"], false);
    assert!(!v["warnings"].as_array().unwrap().iter().any(|w| w["kind"] == "codebook_fit"));
}
