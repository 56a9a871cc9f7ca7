//! Graph invariants on random threads (proptest): whatever the input, the reply graph is a tree
//! rooted at the article, every comment is reachable from it, and the display order is depth first.

use draad::ingest::{ReadOptions, read_bytes_as_thread};
use draad::model::{Format, Thread};
use draad::reply_graph::{Node, build_graph, check_structure, depths, is_depth_first};
use petgraph::visit::EdgeRef;
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "boete",
    "Clearview",
    "AVG",
    "deurwaarder",
    "rechter",
    "Amerika",
    "privacy",
    "verdrag",
    "foto's",
    "bedrijf",
    "toezichthouder",
    "betalen",
    "nooit",
    "wel",
    "niet",
    "klopt",
    "Nee,",
    "Precies.",
    "waarom?",
    "gewoon",
];

/// A random thread as (parent index or none, text) in posting order: any parent among earlier posts.
fn thread_strategy() -> impl Strategy<Value = Vec<(Option<usize>, String)>> {
    prop::collection::vec(
        (any::<prop::sample::Index>(), any::<bool>(), prop::collection::vec(0..WORDS.len(), 3..18)),
        1..60,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (pick, top, words))| {
                let parent = if i == 0 || top { None } else { Some(pick.index(i)) };
                let mut text: String = words.iter().map(|&w| WORDS[w]).collect::<Vec<_>>().join(" ");
                text.push('.');
                (parent, text)
            })
            .collect()
    })
}

fn jsonl_of(rows: &[(Option<usize>, String)]) -> String {
    rows.iter()
        .enumerate()
        .map(|(i, (p, text))| {
            serde_json::json!({"id": format!("n{i}"), "parent": p.map(|p| format!("n{p}")), "text": text}).to_string()
                + "\n"
        })
        .collect()
}

fn assert_tree(t: &Thread) {
    check_structure(t, "prop").expect("structure is valid");
    assert!(is_depth_first(t), "display order is depth first");
    let g = build_graph(t);
    assert_eq!(g.node_count(), t.comments.len() + 1);
    assert_eq!(g.edge_count(), t.comments.len());
    // Exactly one edge leaves every comment and none leaves the article.
    for n in g.node_indices() {
        let out = g.edges(n).count();
        match g[n] {
            Node::Article => assert_eq!(out, 0),
            Node::Comment(_) => assert_eq!(out, 1),
        }
    }
    // Every comment reaches the article by following parents (no cycle), within its depth.
    let d = depths(t);
    for n in g.node_indices() {
        if let Node::Comment(i) = g[n] {
            let mut cur = n;
            let mut steps = 0;
            while let Some(e) = g.edges(cur).next() {
                cur = e.target();
                steps += 1;
                assert!(steps <= t.comments.len());
            }
            assert_eq!(g[cur], Node::Article);
            assert_eq!(steps, d[i]);
        }
    }
    for (i, c) in t.comments.iter().enumerate() {
        assert_eq!(c.index, i + 1);
    }
}

/// Render `rows` to copied text and read it back with a structure table of its true reactions and
/// parents, the parents of the reactions `is_open` picks left open (`?`). Checks that the result is
/// a depth-first tree with the table's reactions; `None` when the copy holds no reaction.
fn read_with_true_table(
    rows: &[(Option<usize>, String)],
    is_open: &dyn Fn(usize) -> bool,
    tag: &str,
) -> Option<(Thread, Vec<draad::eval_graph::GoldComment>)> {
    let truth = read_bytes_as_thread(
        jsonl_of(rows).as_bytes(),
        "prop.jsonl",
        &ReadOptions { format: Some(Format::Jsonl), ..Default::default() },
    )
    .unwrap();
    let copy = draad::copy_text::render(&truth);
    let gold = draad::eval_graph::gold_from_rendered(&truth, &copy.spans);
    if gold.is_empty() {
        return None;
    }
    let number: std::collections::HashMap<usize, usize> =
        gold.iter().enumerate().map(|(i, g)| (g.first_line, i + 1)).collect();
    let mut table = String::from("comment\tfirst_line\tlast_line\tparent\n");
    for (i, g) in gold.iter().enumerate() {
        let parent =
            if is_open(i) { "?".to_string() } else { g.parent_first_line.map_or(0, |l| number[&l]).to_string() };
        table.push_str(&format!("{}\t{}\t{}\t{parent}\n", i + 1, g.first_line, g.last_line));
    }
    let dir = std::env::temp_dir().join(format!("draad-prop-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (text_path, table_path) = (dir.join("copy.txt"), dir.join("structure.tsv"));
    std::fs::write(&text_path, &copy.text).unwrap();
    std::fs::write(&table_path, &table).unwrap();
    let t = draad::ingest::structure::read_text_with_structure(
        text_path.to_str().unwrap(),
        &ReadOptions::default(),
        table_path.to_str().unwrap(),
    )
    .unwrap();
    assert_tree(&t);
    assert_eq!(t.comments.len(), gold.len());
    Some((t, gold))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn structured_input_becomes_a_depth_first_tree(rows in thread_strategy()) {
        let t = read_bytes_as_thread(jsonl_of(&rows).as_bytes(), "prop.jsonl", &ReadOptions { format: Some(Format::Jsonl), ..Default::default() }).unwrap();
        assert_tree(&t);
        // Parents are kept, only the order may change.
        for (i, (p, _)) in rows.iter().enumerate() {
            let c = t.comment(&format!("n{i}")).unwrap();
            prop_assert_eq!(c.parent.clone(), p.map(|p| format!("n{p}")));
        }
    }

    #[test]
    fn reconstruction_from_copied_text_is_a_depth_first_tree(rows in thread_strategy()) {
        let truth = read_bytes_as_thread(jsonl_of(&rows).as_bytes(), "prop.jsonl", &ReadOptions { format: Some(Format::Jsonl), ..Default::default() }).unwrap();
        let copy = draad::copy_text::render(&truth);
        let t = draad::ingest::copied_text::read(&copy.text, "prop.txt").unwrap();
        assert_tree(&t);
        for c in &t.comments {
            prop_assert!((0.0..=1.0).contains(&c.parent_confidence));
            prop_assert!(!c.parent_evidence.is_empty());
        }
    }

    #[test]
    fn the_true_structure_given_as_a_table_is_taken_exactly(rows in thread_strategy()) {
        let Some((t, gold)) = read_with_true_table(&rows, &|_| false, "structure") else { return Ok(()) };
        let first: std::collections::HashMap<&str, usize> = t.comments.iter().map(|c| (c.id.as_str(), c.span.unwrap().first_line)).collect();
        for (c, g) in t.comments.iter().zip(&gold) {
            prop_assert_eq!(c.span.unwrap().first_line, g.first_line);
            prop_assert_eq!(c.parent.as_deref().map(|p| first[p]), g.parent_first_line);
        }
    }

    /// A table that gives some of the true parents and leaves the others open (`?`): the given
    /// ones are kept, and the whole is still a depth-first tree rooted at the article.
    #[test]
    fn a_table_with_open_parents_keeps_the_given_ones(rows in thread_strategy(), open in prop::collection::vec(any::<bool>(), 0..64)) {
        let is_open = |i: usize| open.get(i).copied().unwrap_or(i % 2 == 1);
        let Some((t, gold)) = read_with_true_table(&rows, &is_open, "open") else { return Ok(()) };
        let first: std::collections::HashMap<&str, usize> = t.comments.iter().map(|c| (c.id.as_str(), c.span.unwrap().first_line)).collect();
        for (i, (c, g)) in t.comments.iter().zip(&gold).enumerate() {
            if !is_open(i) {
                prop_assert_eq!(c.parent.as_deref().map(|p| first[p]), g.parent_first_line);
                prop_assert_eq!(c.parent_confidence, 1.0);
            }
        }
    }

    #[test]
    fn readers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400), fmt in 0usize..6) {
        let format = [None, Some(Format::Text), Some(Format::Html), Some(Format::Json), Some(Format::Jsonl), Some(Format::Csv)][fmt];
        let _ = read_bytes_as_thread(&bytes, "fuzz", &ReadOptions { format, ..Default::default() });
    }

    /// A single-file web archive (MHTML) whose parts hold anything: an error or a thread, no panic.
    #[test]
    fn web_archives_with_arbitrary_parts_never_panic(
        parts in prop::collection::vec((0usize..4, 0usize..3, prop::collection::vec(any::<u8>(), 0..200)), 0..4),
        close in any::<bool>(),
    ) {
        let b = "----B";
        let mut s = format!("MIME-Version: 1.0\r\nDate: Fri, 28 Jul 2023 14:02:11 -0000\r\nContent-Type: multipart/related; boundary=\"{b}\"\r\n\r\n");
        for (kind, enc, body) in &parts {
            let kind = ["text/html", "text/html; charset=utf-8", "image/png", "text/html; charset=latin1"][*kind];
            let enc = ["quoted-printable", "base64", "8bit"][*enc];
            s.push_str(&format!("--{b}\r\nContent-Type: {kind}\r\nContent-Transfer-Encoding: {enc}\r\n\r\n"));
            s.push_str(&String::from_utf8_lossy(body));
            s.push_str("\r\n");
        }
        if close {
            s.push_str(&format!("--{b}--\r\n"));
        }
        let _ = read_bytes_as_thread(s.as_bytes(), "fuzz.mhtml", &ReadOptions::default());
    }
}

#[test]
fn a_hundred_thousand_deep_chain_is_fine() {
    let mut s = String::new();
    for i in 0..100_000 {
        let parent = if i == 0 { serde_json::Value::Null } else { format!("n{}", i - 1).into() };
        s.push_str(&serde_json::json!({"id": format!("n{i}"), "parent": parent, "text": "ja"}).to_string());
        s.push('\n');
    }
    let t = read_bytes_as_thread(s.as_bytes(), "deep.jsonl", &ReadOptions::default()).unwrap();
    assert_eq!(depths(&t)[99_999], 100_000);
    assert!(is_depth_first(&t));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A thread cut into saved pages anywhere (a page may start inside a branch, and neighbouring pages
    /// may overlap) reads back from its pages as the thread of the whole page.
    #[test]
    fn pages_of_a_split_thread_join_to_the_whole(
        seed in 0u64..1000,
        n in 8usize..70,
        cuts in prop::collection::vec((any::<prop::sample::Index>(), 0usize..3), 1..4),
    ) {
        let thread = draad::synth::thread(draad::synth::SynthOptions { comments: n, seed });
        let html = draad::synth::to_html(&thread);
        let opts = ReadOptions::default();
        let whole = read_bytes_as_thread(html.as_bytes(), "whole.html", &opts).unwrap();
        let shape = |t: &Thread| t.comments.iter().map(|c| (c.id.clone(), c.parent.clone())).collect::<Vec<_>>();
        let mut starts: Vec<usize> = cuts.iter().map(|(i, _)| 1 + i.index(whole.comments.len() - 1)).collect();
        starts.sort();
        starts.dedup();
        let dir = std::env::temp_dir().join(format!("draad-pages-prop-{}-{seed}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut paths = Vec::new();
        let bounds: Vec<usize> = std::iter::once(0).chain(starts.iter().copied()).chain([whole.comments.len()]).collect();
        for (k, w) in bounds.windows(2).enumerate() {
            // Overlap: a page may repeat the last reactions of the page before.
            let overlap = cuts.get(k.saturating_sub(1)).map_or(0, |c| c.1).min(w[0]);
            let mut part = whole.clone();
            part.comments = whole.comments[w[0] - overlap..w[1]].to_vec();
            let path = dir.join(format!("page{k}.html"));
            std::fs::write(&path, draad::synth::to_html(&part)).unwrap();
            paths.push(path.to_string_lossy().into_owned());
        }
        let joined = draad::ingest::pages::read_pages(&paths, &opts);
        std::fs::remove_dir_all(&dir).unwrap();
        let joined = joined.unwrap();
        prop_assert_eq!(shape(&joined), shape(&whole));
        prop_assert!(is_depth_first(&joined));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Copied text of a thread cut into pages before any reaction draad finds, the copies pasted one
    /// below the other (each repeating the article's header), reads as the whole copy: the same
    /// reactions, texts and parents.
    #[test]
    fn copies_of_pages_pasted_together_read_as_the_whole_copy(
        seed in 0u64..1000,
        n in 6usize..60,
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..3),
    ) {
        let text = draad::synth::to_text(&draad::synth::thread(draad::synth::SynthOptions { comments: n, seed }));
        let opts = ReadOptions { format: Some(Format::Text), ..Default::default() };
        let whole = read_bytes_as_thread(text.as_bytes(), "whole.txt", &opts).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let header_end = lines.iter().position(|l| l.trim() == "Wijzig sortering").unwrap() + 1;
        prop_assume!(whole.comments.len() > 1);
        let mut cuts: Vec<usize> = picks
            .iter()
            .map(|p| whole.comments[1 + p.index(whole.comments.len() - 1)].span.unwrap().first_line)
            .collect();
        cuts.sort();
        cuts.dedup();
        let mut joined = String::new();
        let mut from = header_end;
        for (k, &cut) in cuts.iter().chain([lines.len() + 1].iter()).enumerate() {
            if k > 0 {
                joined.push('\n');
            }
            joined += &[&lines[..header_end], &lines[from..cut - 1]].concat().join("\n");
            from = cut - 1;
        }
        let pages = read_bytes_as_thread(joined.as_bytes(), "pages.txt", &opts).unwrap();
        let shape = |t: &Thread| t.comments.iter().map(|c| (c.text.clone(), c.parent.clone())).collect::<Vec<_>>();
        prop_assert_eq!(shape(&pages), shape(&whole));
        prop_assert!(pages.warnings.iter().any(|w| w.kind == "pages_joined"));
    }

    /// A copy that keeps every reaction's header (glued, or the name above the time) reads back with
    /// every reaction where it is, by its author, at its time, as a depth-first tree; synthetic names
    /// end in digits (`Kees_45`), which glued to a day can be read two ways.
    #[test]
    fn copies_that_keep_every_header_read_back_exactly(seed in 0u64..1000, n in 4usize..60, two_lines in any::<bool>()) {
        use draad::copy_text::{HeaderStyle, render_with};
        let truth = draad::synth::thread(draad::synth::SynthOptions { comments: n, seed });
        let style = if two_lines { HeaderStyle::TwoLines } else { HeaderStyle::Glued };
        let copy = render_with(&truth, style);
        let opts = ReadOptions { format: Some(Format::Text), ..Default::default() };
        let t = read_bytes_as_thread(copy.text.as_bytes(), "headers.txt", &opts).unwrap();
        let visible: Vec<_> = truth.comments.iter().zip(&copy.spans).filter(|(c, _)| !c.collapsed).collect();
        prop_assume!(visible.len() >= draad::segment::HEADERS_FROM);
        prop_assert_eq!(t.comments.len(), visible.len());
        for (c, (v, span)) in t.comments.iter().zip(&visible) {
            prop_assert_eq!(c.span.map(|s| s.first_line), span.map(|s| s.first_line));
            prop_assert_eq!(&c.author, &v.author);
            prop_assert_eq!(&c.time_iso, &v.time_iso);
        }
        assert_tree(&t);
    }
}
