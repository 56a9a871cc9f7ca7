//! Each reader on real or hand-made input, the JSON round trip, standard input and the graph exports.

use draad::ingest::{ColumnMap, ReadOptions, read_bytes_as_thread, read_path};
use draad::model::{Block, Format, QuoteSource};
use std::io::Write;
use std::process::{Command, Stdio};

const SEED: &str = "threads/clearview-ap-2024/thread.txt";

fn opts(format: Option<Format>) -> ReadOptions {
    ReadOptions { format, ..Default::default() }
}

#[test]
fn html_page_gives_every_reaction_author_time_score_and_parent() {
    let t = read_path("tests/fixtures/small.html", &opts(None)).unwrap();
    // The page states every parent: nothing was weighed.
    assert!(t.comments.iter().all(|c| c.parent_candidates.is_empty()));
    assert_eq!(t.source.format, Format::Html);
    let got: Vec<(&str, Option<&str>, Option<&str>, Option<&str>, Option<i32>, bool)> = t
        .comments
        .iter()
        .map(|c| (c.id.as_str(), c.parent.as_deref(), c.author.as_deref(), c.time.as_deref(), c.score, c.collapsed))
        .collect();
    assert_eq!(
        got,
        vec![
            ("100", None, Some("Hans C"), Some("28 juli 2023 11:38"), Some(2), false),
            ("105", Some("100"), Some("wells.p"), Some("28 juli 2023 12:01"), Some(1), false),
            ("110", Some("105"), Some("Mit-46"), Some("28 juli 2023 12:30"), Some(-1), true),
            ("111", Some("110"), Some("wells.p"), Some("28 juli 2023 12:45"), None, false),
            ("102", None, Some("de_ridder"), Some("28 juli 2023 11:50"), Some(1), false),
        ]
    );
    let a = &t.article;
    assert_eq!(a.title.as_deref(), Some("Gemeente stopt met parkeerautomaten"));
    assert_eq!(a.author.as_deref(), Some("Jan Jansen"));
    assert_eq!(a.author_function.as_deref(), Some("Redacteur"));
    assert_eq!(a.declared_reactions, Some(5));
    assert_eq!(a.filter_counts.unwrap().collapsed(), 1);
    assert_eq!(a.date_iso.as_deref(), Some("2023-07-28T11:18:00+02:00"));
    assert!(a.closed);
    let first = &t.comments[0];
    assert!(matches!(&first.blocks[0], Block::Quote { source: QuoteSource::Article, .. }));
    assert_eq!(
        first.text,
        "En wie geen smartphone heeft?\nDie mag het zelf uitzoeken.\n\nZie https://www.nu.nl/tech/6...aantal.html :("
    );
    assert_eq!(first.edit.as_ref().unwrap().name, "Hans C");
    assert!(first.links[0].truncated);
    assert_eq!(first.links[0].url.as_deref(), Some("https://www.nu.nl/tech/6123456/gemeente-parkeren-app-aantal.html"));
    assert_eq!(t.comments[1].mentions, vec!["Hans C"]);
    assert_eq!(t.comments[3].text, "Doe eens normaal & blijf bij het onderwerp. <script>alert(1)</script>");
    let list: Vec<&str> = t.comments[4]
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::ListItem { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(list, vec!["minder onderhoud", "minder storingen"]);
    assert!(t.warnings.iter().all(|w| w.kind != "reaction_count"), "{:?}", t.warnings);
}

#[test]
fn seed_thread_reads_article_footer_and_certain_cues() {
    let t = read_path(SEED, &opts(None)).unwrap();
    assert_eq!(t.source.format, Format::Text);
    let a = &t.article;
    assert_eq!(
        a.title.as_deref(),
        Some("Clearview AI krijgt van AP 30,5 miljoen euro boete vanwege illegale fotodatabase")
    );
    assert_eq!(a.author.as_deref(), Some("Tijs Hofmans"));
    assert_eq!(a.author_function.as_deref(), Some("Nieuwscoördinator"));
    assert_eq!(a.submitter.as_deref(), Some("Schuurdeur"));
    assert_eq!(a.declared_reactions, Some(125));
    assert_eq!(a.date_iso.as_deref(), Some("2024-09-03T10:38:00+02:00"));
    assert!(a.closed);
    // The first reaction starts right after "Wijzig sortering" with a quote of the article.
    let c1 = &t.comments[0];
    assert_eq!(c1.span.unwrap().first_line, 52);
    assert!(matches!(&c1.blocks[0], Block::Quote { source: QuoteSource::Article, .. }));
    assert_eq!(c1.parent, None);
    // Every edit line ends its reaction and names the author.
    let edited: Vec<(&str, usize)> = t
        .comments
        .iter()
        .filter_map(|c| c.edit.as_ref().map(|e| (e.name.as_str(), c.span.unwrap().last_line)))
        .collect();
    assert_eq!(edited.len(), 10);
    assert!(edited.contains(&("StrongArmLance", 78)) && edited.contains(&("Polderviking", 271)));
    // The article author's reaction keeps its header and answers SeenD.
    let tijs = t.comments.iter().find(|c| c.author.as_deref() == Some("TijsZonderH")).unwrap();
    assert!(tijs.by_article_author);
    assert_eq!(tijs.span.unwrap().first_line, 212);
    assert_eq!(tijs.time_iso.as_deref(), Some("2024-09-03T10:56:00+02:00"));
    let parent = t.comment(tijs.parent.as_deref().unwrap()).unwrap();
    assert_eq!(parent.author.as_deref(), Some("SeenD"));
    assert!(tijs.parent_evidence.iter().any(|e| e.kind == "reply_to"));
    // Every comment covers lines of the reaction area, in order, without overlap.
    let mut last = 51;
    for c in &t.comments {
        let s = c.span.unwrap();
        assert!(s.first_line > last && s.last_line >= s.first_line, "{:?}", c.span);
        last = s.last_line;
        assert!((0.0..=1.0).contains(&c.parent_confidence));
        assert!(!c.parent_evidence.is_empty());
        // The parents the reader weighed: the chosen one, the others from 0.05, most likely first,
        // together no more than certain. The confidence is the chosen one's probability times the
        // chance that the parent starts where the segmenter put it.
        let chosen = c.parent_candidates.iter().find(|x| x.parent == c.parent).expect("the chosen parent is listed");
        let start = c.parent.as_deref().map_or(1.0, |p| t.comment(p).unwrap().provenance.boundary_confidence);
        assert!((chosen.probability * start - c.parent_confidence).abs() < 0.002, "{}: {chosen:?}", c.id);
        assert!(c.parent_candidates.iter().all(|x| x.parent == c.parent || x.probability >= 0.05));
        assert!(c.parent_candidates.windows(2).all(|w| w[0].probability >= w[1].probability));
        assert!(c.parent_candidates.iter().map(|x| x.probability).sum::<f64>() <= 1.002);
    }
    assert!(t.comments.iter().any(|c| c.parent_candidates.len() > 1), "some parent is in doubt");
    // The declared count differs from what a copy can show: say so.
    assert!(t.warnings.iter().any(|w| w.kind == "reaction_count"));
}

#[test]
fn quotes_of_outside_sources_are_not_own_words() {
    let t = read_path(SEED, &opts(None)).unwrap();
    let outside = |c: &draad::model::Comment| -> Vec<String> {
        c.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Quote { text, source: QuoteSource::Outside } => Some(text.clone()),
                _ => None,
            })
            .collect()
    };
    // Lines 65-66: the AP's statement, then "Aldus de AP"; the writer's own words follow on line 67.
    let ap = t.comments.iter().find(|c| c.span.unwrap().first_line == 65).expect("a reaction opens at line 65");
    let quoted = outside(ap);
    assert_eq!(quoted.len(), 1, "{:?}", ap.blocks);
    assert!(quoted[0].starts_with("‘Zo’n bedrijf mag niet straffeloos") && quoted[0].ends_with("Aldus de AP"));
    assert!(ap.text.starts_with("Dat is de volgende stap van de AP."), "{}", ap.text);
    // Lines 274-276: "aldus de NOS:" introduces the quote; the reaction opens there and its own words
    // are the line after the quote.
    let nos = t.comments.iter().find(|c| c.span.unwrap().first_line == 274).expect("a reaction opens at line 274");
    assert_eq!(outside(nos), vec!["aldus de NOS:\nDe AP wil daarom ook onderzoeken of de leiding van het bedrijf persoonlijk aansprakelijk gesteld kan worden voor de overtredingen.".to_string()]);
    assert!(nos.text.starts_with("Dat geeft iets meer gewicht hieraan"), "{}", nos.text);
}

#[test]
fn copied_text_with_nonbreaking_spaces_and_soft_hyphens_reads_the_same() {
    // A browser copy can carry `&nbsp;` as U+00A0 (also in edit lines and the 'Reacties (N)'
    // heading), soft hyphens and zero-width spaces; none of it may change what is found.
    let plain = std::fs::read_to_string(SEED).unwrap();
    let odd: String = plain
        .lines()
        .map(|l| {
            l.replacen(' ', "\u{a0}", 3)
                .replace("gewijzigd", "gewij\u{200b}zigd")
                .replace("Clearview", "Clear\u{ad}view")
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(odd, plain);
    let a = read_path(SEED, &opts(None)).unwrap();
    let b = read_bytes_as_thread(odd.as_bytes(), "odd.txt", &opts(None)).unwrap();
    assert_eq!(b.source.format, Format::Text);
    assert_eq!(a.article.declared_reactions, b.article.declared_reactions);
    assert_eq!(a.comments.len(), b.comments.len());
    for (x, y) in a.comments.iter().zip(&b.comments) {
        assert_eq!((x.span, &x.parent, &x.edit), (y.span, &y.parent, &y.edit), "comment {}", x.id);
        assert!(!y.text.contains(['\u{a0}', '\u{ad}', '\u{200b}']));
    }
}

#[test]
fn text_saved_as_utf16_reads_the_same() {
    // Windows Notepad saves "Unicode" as UTF-16 with a byte-order mark.
    let seed = std::fs::read_to_string(SEED).unwrap();
    let plain = read_bytes_as_thread(seed.as_bytes(), "seed.txt", &opts(None)).unwrap();
    let units: Vec<u16> = seed.encode_utf16().collect();
    let little: Vec<u8> = [0xFF, 0xFE].into_iter().chain(units.iter().flat_map(|u| u.to_le_bytes())).collect();
    let big: Vec<u8> = [0xFE, 0xFF].into_iter().chain(units.iter().flat_map(|u| u.to_be_bytes())).collect();
    let dir = std::env::temp_dir().join(format!("draad-utf16-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in [("le.txt", little), ("be.txt", big)] {
        let from_bytes = read_bytes_as_thread(&bytes, name, &opts(None)).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let from_file = read_path(path.to_str().unwrap(), &opts(None)).unwrap();
        for t in [&from_bytes, &from_file] {
            assert_eq!(t.comments, plain.comments, "{name}");
            assert_eq!(t.article, plain.article, "{name}");
        }
        // Half a character at the end is an error, not a guess.
        let mut cut = bytes.clone();
        cut.pop();
        let err = read_bytes_as_thread(&cut, name, &opts(None)).unwrap_err().to_string();
        assert!(err.contains("ends in half a character"), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn copied_text_with_windows_line_ends_reads_the_same() {
    let plain = std::fs::read_to_string(SEED).unwrap();
    let crlf = plain.replace('\n', "\r\n");
    let a = read_path(SEED, &opts(None)).unwrap();
    let b = read_bytes_as_thread(crlf.as_bytes(), "crlf.txt", &opts(None)).unwrap();
    assert_eq!((&a.article.title, a.article.closed), (&b.article.title, b.article.closed));
    assert_eq!(a.comments.len(), b.comments.len());
    for (x, y) in a.comments.iter().zip(&b.comments) {
        assert_eq!((x.span, &x.parent, &x.text, &x.edit), (y.span, &y.parent, &y.text, &y.edit), "comment {}", x.id);
    }
}

#[test]
fn a_copy_of_the_whole_page_leaves_the_site_menu_out_of_the_article() {
    // Ctrl+A on the page takes the site's menu along above the title.
    let plain = std::fs::read_to_string(SEED).unwrap();
    let menu = "Ga naar content\nTweakers\nNieuws\nReviews\nPricewatch\nForum\nInloggen\n";
    let page = format!("{menu}{plain}");
    let a = read_path(SEED, &opts(None)).unwrap();
    let b = read_bytes_as_thread(page.as_bytes(), "page.txt", &opts(None)).unwrap();
    assert_eq!(b.article.title, a.article.title);
    assert_eq!(b.article.body, a.article.body);
    let w = b.warnings.iter().find(|w| w.kind == "page_chrome").expect("the menu is named");
    assert_eq!(w.place.as_deref(), Some("lines 1-7"));
    assert!(w.message.contains("Pricewatch"));
    assert!(!a.warnings.iter().any(|w| w.kind == "page_chrome"));
    // The reactions are the same, seven lines further down.
    assert_eq!(a.comments.len(), b.comments.len());
    for (x, y) in a.comments.iter().zip(&b.comments) {
        let (sx, sy) = (x.span.unwrap(), y.span.unwrap());
        assert_eq!((sx.first_line + 7, sx.last_line + 7, &x.text), (sy.first_line, sy.last_line, &y.text));
    }
    // A title right above the lead paragraph, with no menu, stays the title.
    let short = "Korte titel\nEen eerste alinea die direct onder de titel staat.\n\nReacties (1)\n1\n1\n0\n0\n0\n0\nWijzig sortering\nEen reactie.";
    let t = read_bytes_as_thread(short.as_bytes(), "short.txt", &opts(None)).unwrap();
    assert_eq!(t.article.title.as_deref(), Some("Korte titel"));
    assert!(!t.warnings.iter().any(|w| w.kind == "page_chrome"));
}

#[test]
fn a_copy_of_an_open_thread_ends_every_reaction_at_its_reply_button() {
    // An open thread shows a "Reageer" button under every reaction, also under a collapsed one.
    let text = "Titel van het artikel\n\nEen alinea van het artikel over laadpalen.\n\nReacties (4)\n\n4\n4\n2\n0\n0\n1\nWijzig sortering\n\
                Eerste reactie, die over twee regels gaat.\nDit is nog steeds de eerste reactie.\nReageer\n\
                Nee, dat klopt niet.\nReageer\nReageer\nVierde reactie na een ingeklapte.\nReageer\n";
    let t = read_bytes_as_thread(text.as_bytes(), "open.txt", &opts(None)).unwrap();
    let got: Vec<(usize, usize, &str)> =
        t.comments.iter().map(|c| (c.span.unwrap().first_line, c.span.unwrap().last_line, c.text.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (14, 16, "Eerste reactie, die over twee regels gaat.\nDit is nog steeds de eerste reactie."),
            (17, 18, "Nee, dat klopt niet."),
            (20, 21, "Vierde reactie na een ingeklapte."),
        ]
    );
    assert!(t.comments.iter().all(|c| c.provenance.boundary_confidence == 1.0));
    let w = t.warnings.iter().find(|w| w.kind == "collapsed_reactions").expect("the bare button is named");
    assert_eq!(w.place.as_deref(), Some("line 19"));
    // Without buttons the same reactions are split by cues, and the second line reads as a new one.
    let plain = text.replace("Reageer\nReageer\n", "").replace("Reageer\n", "");
    let t = read_bytes_as_thread(plain.as_bytes(), "closed.txt", &opts(None)).unwrap();
    assert_eq!(t.comments.len(), 4);
}

#[test]
fn a_copy_of_the_reactions_alone_reads_with_a_warning() {
    // A reader who selects only the reactions (from the heading, or from the first reaction on).
    let plain = std::fs::read_to_string(SEED).unwrap();
    let lines: Vec<&str> = plain.lines().collect();
    let whole = read_path(SEED, &opts(None)).unwrap();
    let heading = lines.iter().position(|l| l.starts_with("Reacties (")).unwrap();
    let first = whole.comments[0].span.unwrap().first_line;
    for from in [heading, first - 1] {
        let part = lines[from..].join("\n");
        let t = read_bytes_as_thread(part.as_bytes(), "part.txt", &opts(None)).unwrap();
        assert_eq!(t.source.format, Format::Text);
        assert!(t.warnings.iter().any(|w| w.kind == "no_article"), "from line {}", from + 1);
        assert!(t.article.title.is_none());
        // Without the article its quotes are not recognised, so a few more starts are found.
        assert!((whole.comments.len()..whole.comments.len() + 8).contains(&t.comments.len()));
        // Spans are lines of the part, and still point at the same text.
        let c = &t.comments[0];
        assert_eq!(c.span.unwrap().first_line + from, first);
        let last = t.comments.last().unwrap();
        assert_eq!(last.span.unwrap().last_line + from, whole.comments.last().unwrap().span.unwrap().last_line);
    }
    // Text without any sign of a Tweakers thread is still refused, also with --format text.
    let e = read_bytes_as_thread(b"Gewoon een tekst.\nZonder draad.\n", "plain.txt", &opts(Some(Format::Text)))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("plain.txt") && e.contains("line 1") && e.contains("not text copied from a Tweakers page"),
        "{e}"
    );
}

#[test]
fn text_after_the_closing_notice_is_left_out_with_a_warning() {
    // A copy of the whole page takes the site's footer along after the closing notice.
    let plain = std::fs::read_to_string(SEED).unwrap();
    let footer = "\nTweakers is onderdeel van DPG Media\nColofon\nCookies\n\n© 1998 - 2024 Tweakers\n";
    let with_footer = format!("{plain}{footer}");
    let a = read_path(SEED, &opts(None)).unwrap();
    let b = read_bytes_as_thread(with_footer.as_bytes(), "page.txt", &opts(None)).unwrap();
    assert!(b.article.closed);
    assert_eq!(a.comments.len(), b.comments.len());
    for (x, y) in a.comments.iter().zip(&b.comments) {
        assert_eq!((x.span, &x.parent, &x.text), (y.span, &y.parent, &y.text), "comment {}", x.id);
    }
    let w = b.warnings.iter().find(|w| w.kind == "text_after_thread").expect("warned");
    let line_of = |text: &str| with_footer.lines().position(|l| l.starts_with(text)).unwrap() + 1;
    let place = format!("lines {}-{}", line_of("Tweakers is onderdeel"), line_of("© 1998"));
    assert_eq!(w.place.as_deref(), Some(place.as_str()), "{w:?}");
    assert!(w.message.contains("4 line(s)"), "{}", w.message);
    assert!(!a.warnings.iter().any(|w| w.kind == "text_after_thread"));
}

#[test]
fn json_round_trip_keeps_everything() {
    for path in [SEED, "tests/fixtures/small.html"] {
        let t = read_path(path, &opts(None)).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        let back = read_bytes_as_thread(json.as_bytes(), "roundtrip.json", &opts(None)).unwrap();
        assert_eq!(back.source.format, Format::Json);
        assert_eq!(back.article, t.article);
        assert_eq!(back.comments, t.comments, "{path}");
    }
}

#[test]
fn jsonl_and_csv_tables_with_mapped_columns() {
    let jsonl = r#"{"cid": "a1", "reply_to": null, "user": "anna", "when": "3 september 2024 10:00", "body": "Eerste reactie over de boete."}
{"cid": "a3", "reply_to": "a2", "user": "anna", "body": "Nee, dat klopt niet."}
{"cid": "a2", "reply_to": "a1", "user": "bert", "body": "> Eerste reactie over de boete.\nDaar ben ik het mee eens."}
"#;
    let cols = ColumnMap {
        id: "cid".into(),
        parent: "reply_to".into(),
        author: "user".into(),
        time: "when".into(),
        text: "body".into(),
    };
    let t =
        read_bytes_as_thread(jsonl.as_bytes(), "t.jsonl", &ReadOptions { columns: cols.clone(), ..Default::default() })
            .unwrap();
    assert_eq!(t.source.format, Format::Jsonl);
    // Put in depth-first order, with a warning.
    let ids: Vec<&str> = t.comments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, vec!["a1", "a2", "a3"]);
    assert!(t.warnings.iter().any(|w| w.kind == "reordered"));
    assert_eq!(t.comments[0].time_iso.as_deref(), Some("2024-09-03T10:00:00+02:00"));
    assert!(matches!(&t.comments[1].blocks[0], Block::Quote { source: QuoteSource::Comment { id }, .. } if id == "a1"));
    assert_eq!(t.comments[1].text, "Daar ben ik het mee eens.");
    assert_eq!(t.comments[2].span.unwrap().first_line, 2);

    let csv =
        "cid,reply_to,user,when,body\nx,,anna,,\"Een reactie, met komma.\"\ny,x,bert,,\"Twee regels\nin een veld.\"\n";
    let t =
        read_bytes_as_thread(csv.as_bytes(), "t.csv", &ReadOptions { columns: cols, ..Default::default() }).unwrap();
    assert_eq!(t.source.format, Format::Csv);
    assert_eq!(t.comments[1].parent.as_deref(), Some("x"));
    assert_eq!(t.comments[1].text, "Twee regels\nin een veld.");
    // A missing column is named.
    let err = read_bytes_as_thread(b"id,body\n1,hoi\n", "t.csv", &opts(Some(Format::Csv))).unwrap_err();
    assert!(err.to_string().contains("no 'text' column"), "{err}");
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_draad"))
        .args(["parse", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let seed = std::fs::read(SEED).unwrap();
    child.stdin.take().unwrap().write_all(&seed).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"]["path"], "-");
    assert!(v["comments"].as_array().unwrap().len() > 100);
    // The output contract: required fields on every comment.
    for c in v["comments"].as_array().unwrap() {
        for key in ["id", "index", "parent", "parent_confidence", "parent_evidence", "author", "text", "blocks", "span"]
        {
            assert!(c.get(key).is_some(), "missing {key}");
        }
        assert!(c["span"]["first_line"].as_u64().unwrap() <= c["span"]["last_line"].as_u64().unwrap());
    }
    for key in ["schema", "source", "article", "comments", "warnings"] {
        assert!(v.get(key).is_some(), "missing top-level {key}");
    }
}

#[test]
fn graph_exports_are_well_formed_and_escaped() {
    let t = read_path("tests/fixtures/small.html", &opts(None)).unwrap();
    let gml = draad::graph_export::to_graphml(&t);
    assert!(gml.contains("<edge source=\"105\" target=\"100\">"));
    assert!(gml.contains("<edge source=\"100\" target=\"article\">"));
    assert!(gml.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !gml.contains("<script>"));
    assert_eq!(gml.matches("<node ").count(), 6);
    assert_eq!(gml.matches("<edge ").count(), 5);
    let dot = draad::graph_export::to_dot(&t);
    assert!(dot.contains("\"111\" -> \"110\""));
    let json: serde_json::Value = serde_json::from_str(&draad::graph_export::to_json(&t)).unwrap();
    assert_eq!(json["edges"].as_array().unwrap().len(), 5);
    assert_eq!(json["nodes"][0]["kind"], "article");
}

#[test]
fn graph_command_writes_graphml() {
    let out = Command::new(env!("CARGO_BIN_EXE_draad")).args(["graph", SEED, "--to", "graphml"]).output().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("<?xml") && s.trim_end().ends_with("</graphml>"));
}

#[test]
fn copied_text_render_of_a_page_reads_back() {
    let truth = read_path("tests/fixtures/small.html", &opts(None)).unwrap();
    let copy = draad::copy_text::render(&truth);
    // The collapsed reaction is absent, the edit line stands between blank lines.
    assert!(copy.spans[2].is_none());
    assert!(copy.text.contains("\n\n[Reactie gewijzigd door Hans C op 28 juli 2023 13:06]\n\n"));
    let back = draad::ingest::copied_text::read(&copy.text, "copy.txt").unwrap();
    // The edit line is a certain end: the next reaction starts right after its blank line.
    let after_edit = back.comments.iter().find(|c| c.text.starts_with("Nee, er blijft")).unwrap();
    assert_eq!(after_edit.provenance.start, draad::model::Certainty::Certain);
    assert_eq!(back.comments.iter().filter(|c| c.text.contains("minder onderhoud")).count(), 1);
    assert!(back.warnings.iter().any(|w| w.kind == "reaction_count" && w.message.contains("declares 5")));
}

/// The held-out pages against their truth tables, which were read from the same HTML by an
/// independent parser (Python's html.parser): every reaction, author, time, score and parent.
#[test]
fn heldout_pages_parse_exactly() {
    for name in [
        "ov-chipkaart-2023",
        "thuisbatterij-2025",
        "kopernet-2024",
        "trajectcontrole-2023",
        "laadpaal-2024",
        "roborix-boete-2023",
        "spotify-prijsverhoging-2025",
    ] {
        let t = read_path(&format!("threads/heldout/{name}.html"), &opts(None)).unwrap();
        let truth = std::fs::read_to_string(format!("threads/heldout/{name}.truth.tsv")).unwrap();
        let rows: Vec<Vec<&str>> =
            truth.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').collect()).collect();
        assert_eq!(t.comments.len(), rows.len(), "{name}");
        for (c, r) in t.comments.iter().zip(&rows) {
            assert_eq!(c.id, r[0], "{name}");
            assert_eq!(c.parent.as_deref().unwrap_or("-"), r[1], "{name} {}", c.id);
            assert_eq!(c.author.as_deref(), Some(r[2]), "{name} {}", c.id);
            assert_eq!(c.time.as_deref(), Some(r[3]), "{name} {}", c.id);
            assert_eq!(c.score.map_or("-".to_string(), |s| s.to_string()), r[4], "{name} {}", c.id);
            assert_eq!(c.collapsed, r[5] == "1", "{name} {}", c.id);
            assert!(c.time_iso.is_some(), "{name} {}", c.id);
            if !c.collapsed {
                assert!(!c.text.is_empty(), "{name} {}", c.id);
            }
        }
        assert_eq!(t.article.declared_reactions, Some(rows.len() as u32));
        let rated: usize = rows.iter().filter(|r| r[4] != "-" && r[4].parse::<i32>().unwrap() >= 1).count();
        assert_eq!(t.article.filter_counts.unwrap().at_least_1 as usize, rated, "{name}");
    }
    let t = read_path("threads/heldout/thuisbatterij-2025.html", &opts(None)).unwrap();
    let by_author: Vec<&str> =
        t.comments.iter().filter(|c| c.by_article_author).filter_map(|c| c.author.as_deref()).collect();
    assert_eq!(by_author, vec!["SanneV"]);
    // One reaction by the article's author is marked by the page, the other only by its user id.
    let t = read_path("threads/heldout/kopernet-2024.html", &opts(None)).unwrap();
    let by_author: Vec<&str> = t.comments.iter().filter(|c| c.by_article_author).map(|c| c.id.as_str()).collect();
    assert_eq!(by_author, vec!["19584387", "19584572"]);
}

#[test]
fn a_structure_table_round_trips_and_corrects_the_reconstruction() {
    use draad::ingest::structure::{read_text_with_structure, structure_table};
    let dir = std::env::temp_dir().join(format!("draad-structure-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rebuilt = read_path(SEED, &opts(None)).unwrap();
    let table = structure_table(&rebuilt).unwrap();
    let path = dir.join("structure.tsv");
    std::fs::write(&path, &table).unwrap();
    let path = path.to_str().unwrap();
    // Read back: the same reactions and parents, now given.
    let given = read_text_with_structure(SEED, &opts(None), path).unwrap();
    assert_eq!(given.comments.len(), rebuilt.comments.len());
    for (a, b) in rebuilt.comments.iter().zip(&given.comments) {
        assert_eq!((a.span, &a.parent, &a.text), (b.span, &b.parent, &b.text));
        assert_eq!(b.parent_confidence, 1.0);
    }
    assert!(given.warnings.iter().any(|w| w.kind == "structure_given"));
    // The annotation of the seed thread is such a table: its parents are taken as they are.
    let annotated = read_text_with_structure(SEED, &opts(None), "threads/clearview-ap-2024/replies.tsv").unwrap();
    let gold = draad::eval_graph::read_annotation("threads/clearview-ap-2024/replies.tsv").unwrap();
    assert_eq!(annotated.comments.len(), gold.len());
    let first: std::collections::HashMap<&str, usize> =
        annotated.comments.iter().map(|c| (c.id.as_str(), c.span.unwrap().first_line)).collect();
    for (c, g) in annotated.comments.iter().zip(&gold) {
        assert_eq!(c.parent.as_deref().map(|p| first[p]), g.parent_first_line);
    }
    // Bad tables: exit status 2 and a message naming the table and the row.
    let rows: Vec<&str> = table.lines().collect();
    let edit = |name: &str, f: &dyn Fn(&str) -> Option<String>| {
        let text: Vec<String> = rows.iter().filter_map(|l| f(l)).collect();
        let p = dir.join(name);
        std::fs::write(&p, text.join("\n")).unwrap();
        p.to_str().unwrap().to_string()
    };
    let set = |l: &str, col: usize, value: &str| {
        let mut f: Vec<String> = l.split('\t').map(str::to_string).collect();
        f[col] = value.to_string();
        f.join("\t")
    };
    // A comment `k` and an earlier comment `j` that is neither the reaction before it nor one of
    // that reaction's ancestors in the rebuilt structure.
    let parent_of: Vec<usize> = rows
        .iter()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split('\t').nth(3).unwrap().parse().unwrap())
        .collect();
    let chain = |mut c: usize| {
        let mut out = vec![c];
        while c > 0 {
            c = parent_of[c - 1];
            out.push(c);
        }
        out
    };
    let (k, j) = (3..=parent_of.len())
        .find_map(|k| (1..k - 1).find(|j| !chain(k - 1).contains(j)).map(|j| (k, j)))
        .expect("a comment off the display chain");
    let off_chain = format!("comment {k}: its parent, comment {j}, is not the reaction before it");
    let cases: Vec<(String, &str)> = vec![
        (
            edit("parent.tsv", &|l| {
                Some(if l.starts_with(&format!("{k}\t")) { set(l, 3, &j.to_string()) } else { l.to_string() })
            }),
            &off_chain,
        ),
        (
            edit("order.tsv", &|l| Some(if l.starts_with("3\t") { set(l, 1, "58") } else { l.to_string() })),
            "comment 3: starts at line 58, not after comment 2",
        ),
        (
            edit("blank.tsv", &|l| {
                Some(match l.split('\t').next() {
                    Some("1") => set(l, 2, "53"),
                    Some("2") => set(l, 1, "54"),
                    _ => l.to_string(),
                })
            }),
            "comment 2: line 54 of threads/clearview-ap-2024/thread.txt does not start a reaction",
        ),
        (
            edit("number.tsv", &|l| Some(if l.starts_with("4\t") { set(l, 3, "x") } else { l.to_string() })),
            "parent is not a comment number (0 for the article, ? to let draad choose)",
        ),
        (
            // Comment 3 sits between comment 4 and the parent given for it, comment 2, so it cannot
            // answer comment 1; comment 6 is left open, so the table is a partial one.
            edit("crossing.tsv", &|l| {
                Some(match l.split('\t').next() {
                    Some("3") => set(l, 3, "1"),
                    Some("4") => set(l, 3, "2"),
                    Some("6") => set(l, 3, "?"),
                    _ => l.to_string(),
                })
            }),
            "comment 3: it sits between comment 4 and its parent, comment 2, so it must answer comment 2 or a reply below it, not comment 1",
        ),
        (
            edit("twice.tsv", &|l| Some(if l.starts_with("5\t") { set(l, 0, "4") } else { l.to_string() })),
            "comment 4: the comment number appears twice",
        ),
    ];
    for (table, expected) in &cases {
        let out =
            Command::new(env!("CARGO_BIN_EXE_draad")).args(["parse", SEED, "--structure", table]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{table}: {err}");
        assert!(err.contains(table.as_str()) && err.contains(expected), "{table}: {err}");
    }
    // Parents left open (`?`) are rebuilt within what the given ones allow: comment 5 is given as
    // top-level, so the reactions after it answer it, a reply below it or the article.
    let partial = edit("partial.tsv", &|l| {
        Some(match l.split('\t').next() {
            Some("5") => set(l, 3, "0"),
            Some(n) if n.parse::<usize>().is_ok() => set(l, 3, "?"),
            _ => l.to_string(),
        })
    });
    let t = read_text_with_structure(SEED, &opts(None), &partial).unwrap();
    draad::reply_graph::check_structure(&t, "partial").unwrap();
    assert_eq!(t.comments.len(), rebuilt.comments.len());
    assert!(t.warnings.iter().any(|w| w.kind == "structure_partly_given"), "{:?}", t.warnings);
    assert!(!t.warnings.iter().any(|w| w.kind == "structure_given"));
    let fifth = &t.comments[4];
    assert_eq!((fifth.parent.as_deref(), fifth.parent_confidence), (None, 1.0));
    assert_eq!(fifth.parent_evidence[0].kind, "annotation");
    let at: std::collections::HashMap<&str, usize> =
        t.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    for (i, c) in t.comments.iter().enumerate().skip(5) {
        assert!(
            c.parent.as_deref().is_none_or(|p| at[p] >= 4),
            "comment {} answers {:?}, above comment 5",
            i + 1,
            c.parent
        );
        assert!(c.parent_evidence.iter().all(|e| e.kind != "annotation"));
    }
    // With every parent open, the parents are draad's own with those boundaries (the confidences
    // differ: the starts are now given, not inferred).
    let open = edit("open.tsv", &|l| {
        Some(if l.starts_with(|c: char| c.is_ascii_digit()) { set(l, 3, "?") } else { l.to_string() })
    });
    let t = read_text_with_structure(SEED, &opts(None), &open).unwrap();
    for (a, b) in rebuilt.comments.iter().zip(&t.comments) {
        assert_eq!(a.parent, b.parent);
    }
    // A reference annotation leaves no parent open.
    let e = draad::eval_graph::read_annotation(&open).unwrap_err();
    assert!(e.to_string().contains("parent is not a comment number (0 for the article): '?'"), "{e}");
    // Only copied text has lines to locate reactions by.
    let e = read_text_with_structure("threads/heldout/kopernet-2024.html", &opts(None), path).unwrap_err();
    assert!(e.to_string().contains("applies to copied text only"), "{e}");
    let html = read_path("threads/heldout/kopernet-2024.html", &opts(None)).unwrap();
    assert!(structure_table(&html).unwrap_err().to_string().contains("only copied text has lines"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Write saved pages that show the given ranges of a page's reactions (in display order), as a long
/// thread split over pages would be: a range that starts inside a branch leaves its first reaction
/// outside any reaction, with only its reply-to link naming its parent. Each page declares the whole
/// count.
fn split_into_pages(page: &str, ranges: &[std::ops::Range<usize>], dir: &std::path::Path) -> Vec<String> {
    let whole = read_path(page, &opts(None)).unwrap();
    let mut paths = Vec::new();
    for (k, range) in ranges.iter().enumerate() {
        let mut part = whole.clone();
        part.comments = whole.comments[range.clone()].to_vec();
        let html = draad::synth::to_html(&part)
            .replace("</section>", "<div class=\"pagination-section\"><a href=\"?page=2\">2</a></div></section>");
        let path = dir.join(format!("page{}.html", k + 1));
        std::fs::write(&path, html).unwrap();
        paths.push(path.to_string_lossy().into_owned());
    }
    paths
}

#[test]
fn a_thread_split_over_pages_reads_as_one_from_its_pages() {
    let page = "threads/heldout/kopernet-2024.html";
    let whole = read_path(page, &opts(None)).unwrap();
    let n = whole.comments.len();
    // Cut where the next reaction is a reply, so that its parent is on the page before.
    let cut = (20..n).find(|&i| whole.comments[i].parent.is_some()).unwrap();
    let dir = std::env::temp_dir().join(format!("draad-pages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths = split_into_pages(page, &[0..cut, cut..n], &dir);

    // One page alone: the reply at its top is read as a reply to the article, with a warning that says why.
    let second = read_path(&paths[1], &opts(None)).unwrap();
    assert_eq!((&second.comments[0].parent, second.comments[0].parent_confidence), (&None, 0.0));
    let off = second.warnings.iter().find(|w| w.kind == "reply_off_page").expect("reply_off_page warning");
    assert!(off.message.contains(&format!("r_{}", whole.comments[cut].parent.as_deref().unwrap())), "{}", off.message);

    // Both pages: the same thread as the whole page, in the same order.
    let out = Command::new(env!("CARGO_BIN_EXE_draad")).arg("parse").args(&paths).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let joined: draad::model::Thread = serde_json::from_slice(&out.stdout).unwrap();
    let shape = |t: &draad::model::Thread| -> Vec<(String, Option<String>, Option<String>, Option<i32>)> {
        t.comments.iter().map(|c| (c.id.clone(), c.parent.clone(), c.author.clone(), c.score)).collect()
    };
    assert_eq!(shape(&joined), shape(&whole));
    assert_eq!(joined.source.pages, paths);
    let placed = &joined.comments[cut];
    assert_eq!(placed.parent_confidence, 1.0);
    assert!(placed.parent_evidence.iter().any(|e| e.kind == "reply_to" && e.detail.contains("page 1")));
    assert!(joined.warnings.iter().any(|w| w.kind == "pages_joined"));
    assert!(!joined.warnings.iter().any(|w| w.kind == "reply_off_page" || w.kind == "reaction_count"));

    // Pages that overlap (a reaction shown on two pages) give each reaction once.
    let overlapping = split_into_pages(page, &[0..cut + 3, cut..n], &dir);
    let again = draad::ingest::pages::read_pages(&overlapping, &opts(None)).unwrap();
    assert_eq!(shape(&again), shape(&whole));
    assert!(again.warnings[0].message.contains("3 reaction(s) shown on more than one page"), "{:?}", again.warnings[0]);

    // A page of another article, or a file that is not a saved page, is refused with its name.
    let other = dir.join("other.html");
    let title = whole.article.title.as_deref().unwrap();
    std::fs::write(&other, std::fs::read_to_string(&paths[1]).unwrap().replace(title, "Iets anders")).unwrap();
    let two = [paths[0].clone(), other.to_string_lossy().into_owned()];
    let err = draad::ingest::pages::read_pages(&two, &opts(None)).unwrap_err().to_string();
    assert!(err.contains("other.html") && err.contains("another article"), "{err}");
    let err = draad::ingest::pages::read_pages(&[paths[0].clone(), SEED.to_string()], &opts(None)).unwrap_err();
    assert!(err.to_string().contains(SEED) && err.to_string().contains("paste the copies"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn page_furniture_and_other_markup_do_not_confuse_the_html_reader() {
    let page = std::fs::read_to_string("tests/fixtures/small.html").unwrap();
    let plain = read_bytes_as_thread(page.as_bytes(), "small.html", &opts(None)).unwrap();
    // A saved page may carry templates in scripts and commented-out markup; other custom elements
    // may start with the same name. None of them opens a reaction, so the page is not "truncated".
    let busy = page
        .replacen("<body", "<script>const tpl = `<twk-reaction class=\"x\">`; // </html></script>\n<body", 1)
        .replacen("<body", "<!-- <twk-reaction id=\"r_1\"> --><twk-reaction-list></twk-reaction-list><body", 1)
        // An avatar link with the class of the name link, around an image.
        .replace(
            "<span class=\"reactionMeta\"><a",
            "<span class=\"reactionMeta\"><a class=\"userLink avatar\"><img alt=\"\"></a><a",
        );
    assert_ne!(busy, page);
    let t = read_bytes_as_thread(busy.as_bytes(), "busy.html", &opts(None)).unwrap();
    let shape = |t: &draad::model::Thread| {
        t.comments.iter().map(|c| (c.id.clone(), c.parent.clone(), c.author.clone())).collect::<Vec<_>>()
    };
    assert_eq!(shape(&t), shape(&plain));
    // An edit line in other markup than p.edit, or in none, is still the edit line.
    for edit_markup in ["<div class=\"edit\">", "<br><br><span>"] {
        let other = page.replace("<p class=\"edit\">", edit_markup);
        assert_ne!(other, page);
        let t = read_bytes_as_thread(other.as_bytes(), "edit.html", &opts(None)).unwrap();
        let (a, b) = (&t.comments[0], &plain.comments[0]);
        assert_eq!((&a.text, &a.blocks, &a.edit), (&b.text, &b.blocks, &b.edit), "{edit_markup}");
        assert!(a.edit.is_some());
    }
    // A reaction shown again outside the thread (a sidebar) is left out, with a warning.
    let start = page.find("<twk-reaction id=\"r_102\"").unwrap();
    let end = start + page[start..].find("</twk-reaction>").unwrap() + "</twk-reaction>".len();
    let sidebar = format!("<aside class=\"highlight\">{}</aside><div id=\"reactieContainer\">", &page[start..end]);
    let with_sidebar = page.replacen("<div id=\"reactieContainer\">", &sidebar, 1);
    let t = read_bytes_as_thread(with_sidebar.as_bytes(), "sidebar.html", &opts(None)).unwrap();
    assert_eq!(shape(&t), shape(&plain));
    assert!(t.warnings.iter().any(|w| w.kind == "outside_container"));
    // A reaction outside the container that is not a copy (more reactions loaded below) is kept.
    let moved = page.replacen(&page[start..end], "", 1).replacen(
        "</div>\n<p>Op dit item",
        &format!("</div>\n<div class=\"moreReactions\">{}</div>\n<p>Op dit item", &page[start..end]),
        1,
    );
    assert!(moved.contains("moreReactions"));
    let t = read_bytes_as_thread(moved.as_bytes(), "more.html", &opts(None)).unwrap();
    assert_eq!(shape(&t), shape(&plain));
    assert!(!t.warnings.iter().any(|w| w.kind == "outside_container"));
    // A page really cut off is still refused.
    let cut = &busy[..busy.rfind("</twk-reaction>").unwrap()];
    let err = read_bytes_as_thread(cut.as_bytes(), "cut.html", &opts(None)).unwrap_err().to_string();
    assert!(err.contains("truncated HTML"), "{err}");
}

#[test]
fn reaction_times_in_other_forms_are_dated_or_reported() {
    let page = std::fs::read_to_string("tests/fixtures/small.html").unwrap();
    let date_of = |id: &str, shown: &str| (format!("showReaction={id}#r_{id}\">"), shown.to_string());
    // Each reaction shows its time another way; the first three still give the same date.
    let forms = [
        (date_of("100", "28 juli 2023 11:38"), "dinsdag 28 jul. 2023, om 11:38"),
        (date_of("105", "28 juli 2023 12:01"), "28 jul 2023 12:01"),
        (date_of("110", "28 juli 2023 12:30"), "<time datetime=\"2023-07-28T12:30:00+02:00\">vandaag 12:30</time>"),
        (date_of("111", "28 juli 2023 12:45"), "gisteren 12:45"),
        (date_of("102", "28 juli 2023 11:50"), "kort geleden"),
    ];
    let mut changed = page.clone();
    for ((link, shown), other) in &forms {
        let old = format!("{link}{shown}</a>");
        assert!(changed.contains(&old), "{old}");
        changed = changed.replacen(&old, &format!("{link}{other}</a>"), 1);
    }
    let plain = read_bytes_as_thread(page.as_bytes(), "small.html", &opts(None)).unwrap();
    let t = read_bytes_as_thread(changed.as_bytes(), "times.html", &opts(None)).unwrap();
    let iso = |t: &draad::model::Thread, id: &str| t.comments.iter().find(|c| c.id == id).unwrap().time_iso.clone();
    for id in ["100", "105", "110"] {
        assert_eq!(iso(&t, id), iso(&plain, id), "r_{id}");
        assert!(iso(&t, id).is_some());
    }
    // A relative day with no machine date, and text that is no time, keep what the page shows and
    // say why they have no date.
    for (id, shown, says) in [("111", "gisteren 12:45", "counts from the day"), ("102", "kort geleden", "not a date")] {
        let c = t.comments.iter().find(|c| c.id == id).unwrap();
        assert_eq!((c.time.as_deref(), c.time_iso.as_deref()), (Some(shown), None));
        let w = t
            .warnings
            .iter()
            .find(|w| w.kind == "unreadable_time" && w.place.as_deref() == Some(&format!("reaction r_{id}")))
            .unwrap_or_else(|| panic!("no warning for r_{id}: {:?}", t.warnings));
        assert!(w.message.contains(says), "{}", w.message);
    }
    assert_eq!(t.warnings.iter().filter(|w| w.kind == "unreadable_time").count(), 2);
    assert!(!plain.warnings.iter().any(|w| w.kind == "unreadable_time"));
}

/// A copy that keeps the header of every reaction (another way of copying a page than the seed's,
/// which keeps only the article author's) starts a reaction at each header and nowhere else, names
/// every author, and answers the reaction of the one its header names (the nearest on the chain
/// that was posted before it). The development pages, rendered with every header glued to one line
/// and on two lines.
#[test]
fn a_copy_that_keeps_every_header_is_read_by_its_headers() {
    use draad::copy_text::{HeaderStyle, render_with};
    use draad::eval_graph::{evaluate, gold_from_rendered};
    for name in ["kopernet-2024", "laadpaal-2024", "ov-chipkaart-2023", "thuisbatterij-2025", "trajectcontrole-2023"] {
        let truth = read_path(&format!("threads/heldout/{name}.html"), &opts(None)).unwrap();
        let visible: Vec<_> = truth.comments.iter().filter(|c| !c.collapsed).collect();
        for style in [HeaderStyle::Glued, HeaderStyle::TwoLines] {
            let copy = render_with(&truth, style);
            let t = read_bytes_as_thread(copy.text.as_bytes(), name, &opts(Some(Format::Text))).unwrap();
            let scores = evaluate(name, &t, &gold_from_rendered(&truth, &copy.spans));
            assert_eq!((scores.boundary_f1, t.comments.len()), (1.0, visible.len()), "{name} {style:?}");
            for (c, v) in t.comments.iter().zip(&visible) {
                assert_eq!(c.author, v.author, "{name} {style:?} {}", c.id);
                assert_eq!(c.time_iso, v.time_iso, "{name} {style:?} {}", c.id);
                assert_eq!(c.by_article_author, v.by_article_author, "{name} {style:?} {}", c.id);
                assert!(
                    !c.text.contains(v.time.as_deref().unwrap()),
                    "{name} {style:?}: the header is no text: {}",
                    c.text
                );
            }
            // The rest are replies to collapsed reactions (absent from the copy; the reference counts
            // the nearest visible ancestor) and replies to one of two reactions by the same writer.
            assert!(scores.parent_accuracy >= 0.85, "{name} {style:?}: parents {:.3}", scores.parent_accuracy);
        }
    }
    // A relative day has no date in a copy: kept as shown, with a warning.
    let truth = read_path("threads/heldout/thuisbatterij-2025.html", &opts(None)).unwrap();
    let shown = truth.comments[1].time.clone().unwrap();
    let copy = render_with(&truth, HeaderStyle::Glued).text.replacen(&shown, "vandaag 11:38", 1);
    let t = read_bytes_as_thread(copy.as_bytes(), "today.txt", &opts(Some(Format::Text))).unwrap();
    assert_eq!((t.comments[1].time.as_deref(), t.comments[1].time_iso.as_deref()), (Some("vandaag 11:38"), None));
    assert_eq!(t.warnings.iter().filter(|w| w.kind == "unreadable_time").count(), 1);
    assert_eq!(t.comments.len(), truth.comments.iter().filter(|c| !c.collapsed).count());
    // Without the headers, lines that look like one stay text: fewer than three, or three and more
    // where the first reaction has no header.
    let seed = std::fs::read_to_string(SEED).unwrap();
    let plain = read_bytes_as_thread(seed.as_bytes(), "seed.txt", &opts(None)).unwrap();
    let lines: Vec<&str> = seed.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("Tegengas?")).unwrap();
    for stray in [2, 4] {
        let mut more = lines.clone();
        for k in 0..stray {
            more.insert(
                at + 2 * k,
                ["Gepost door Frits 3 september 2024 12:00", "Kees @Frits • 3 september 2024 12:05"][k % 2],
            );
        }
        let t = read_bytes_as_thread(more.join("\n").as_bytes(), "stray.txt", &opts(None)).unwrap();
        assert!(
            t.comments.iter().all(|c| c.author.is_none() || plain.comments.iter().any(|p| p.author == c.author)),
            "{stray}"
        );
        assert!(t.comments.iter().any(|c| c.text.contains("Gepost door Frits")), "{stray}");
        assert!(t.comments.len() >= plain.comments.len(), "{stray}: reactions merged");
    }
}

/// Encode bytes as quoted-printable with CRLF soft line breaks, as Chrome writes an MHTML archive.
fn quoted_printable(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut col = 0;
    for &b in bytes {
        let piece = if b == b'\n' {
            col = 0;
            out.push_str("\r\n");
            continue;
        } else if (b' '..=b'~').contains(&b) && b != b'=' {
            (b as char).to_string()
        } else {
            format!("={b:02X}")
        };
        if col + piece.len() > 75 {
            out.push_str("=\r\n");
            col = 0;
        }
        col += piece.len();
        out.push_str(&piece);
    }
    out
}

#[test]
fn a_page_saved_as_a_web_archive_reads_as_the_page() {
    let page = std::fs::read_to_string("tests/fixtures/small.html").unwrap();
    let plain = read_bytes_as_thread(page.as_bytes(), "small.html", &opts(None)).unwrap();
    let shape = |t: &draad::model::Thread| {
        t.comments
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.parent.clone(),
                    c.author.clone(),
                    c.time_iso.clone(),
                    c.score,
                    c.text.clone(),
                    c.blocks.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    // The fixture is Chrome's layout (quoted-printable page, base64 image, CRLF), made from
    // small.html with one time shown as "vandaag 12:30".
    let archive = read_path("tests/fixtures/small.mhtml", &opts(None)).unwrap();
    assert_eq!(shape(&archive), shape(&plain));
    assert_eq!(archive.comments[2].time.as_deref(), Some("vandaag 12:30"));
    assert_eq!(archive.article, plain.article);
    let w = &archive.warnings[0];
    assert_eq!(w.kind, "web_archive");
    assert!(w.message.contains("part 1") && w.message.contains("1 relative reaction time"), "{}", w.message);
    assert!(!archive.warnings.iter().any(|w| w.kind == "unreadable_time"));
    // Other encodings of the page part, and an archive with no save date (the relative time then
    // stays undated, with its warning).
    let head = |date: &str| {
        format!(
            "From: <Saved by Blink>\r\n{date}MIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n\ttype=\"text/html\";\r\n\tboundary=\"--b--\"\r\n\r\n"
        )
    };
    let part = |enc: &str, body: &str| {
        format!(
            "----b--\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: {enc}\r\n\r\n{body}\r\n"
        )
    };
    use base64_free::encode as b64;
    let relative = page.replacen(">28 juli 2023 12:30</a>", ">vandaag 12:30</a>", 1);
    for (name, text, dated) in [
        (
            "qp.mhtml",
            format!(
                "{}{}----b----\r\n",
                head("Date: Fri, 28 Jul 2023 14:02:11 +0000\r\n"),
                part("quoted-printable", &quoted_printable(relative.as_bytes()))
            ),
            true,
        ),
        ("b64.mhtml", format!("{}{}----b----\r\n", head(""), part("base64", &b64(relative.as_bytes()))), false),
        ("8bit.mhtml", format!("{}{}----b----\r\n", head(""), part("8bit", &relative)), false),
    ] {
        let t = read_bytes_as_thread(text.as_bytes(), name, &opts(None)).unwrap();
        let unreadable = t.warnings.iter().filter(|w| w.kind == "unreadable_time").count();
        assert_eq!(
            (unreadable, t.comments[2].time_iso.is_some()),
            if dated { (0, true) } else { (1, false) },
            "{name}"
        );
        let mut want = shape(&plain);
        let mut got = shape(&t);
        want[2].3 = None;
        got[2].3 = None;
        assert_eq!(got, want, "{name}");
    }
    // A page in another character set is refused, naming it.
    let latin =
        format!("{}{}----b----\r\n", head(""), part("8bit", &page).replace("charset=utf-8", "charset=iso-8859-1"));
    let err = read_bytes_as_thread(latin.as_bytes(), "latin.mhtml", &opts(None)).unwrap_err().to_string();
    assert!(err.contains("latin.mhtml: part 1 of the MHTML archive") && err.contains("iso-8859-1"), "{err}");
    // Broken HTML inside the archive: the error says where, inside the archive.
    let cut = &page[..page.rfind("</twk-reaction>").unwrap()];
    let broken = format!("{}{}----b----\r\n", head(""), part("8bit", cut));
    let err = read_bytes_as_thread(broken.as_bytes(), "cut.mhtml", &opts(None)).unwrap_err().to_string();
    assert!(err.contains("truncated HTML") && err.contains("of the page in part 1 of the MHTML archive"), "{err}");
}

#[test]
fn a_page_saved_by_safari_as_a_web_archive_reads_as_the_page() {
    // The fixture was written by Python's plistlib (binary property list), with an image as a
    // subresource, as Safari saves a page.
    let page = std::fs::read_to_string("tests/fixtures/small.html").unwrap();
    let plain = read_bytes_as_thread(page.as_bytes(), "small.html", &opts(None)).unwrap();
    let archive = read_path("tests/fixtures/small.webarchive", &opts(None)).unwrap();
    assert_eq!(archive.comments, plain.comments);
    assert_eq!(archive.article, plain.article);
    assert_eq!(archive.warnings[0].kind, "web_archive");
    assert!(
        archive.warnings[0].message.contains("saved from https://tweakers.net/"),
        "{}",
        archive.warnings[0].message
    );
    // As one of the pages of a thread.
    let joined = draad::ingest::pages::read_pages(
        &["tests/fixtures/small.webarchive".to_string(), "tests/fixtures/small.html".to_string()],
        &opts(None),
    )
    .unwrap();
    assert_eq!(joined.comments.len(), plain.comments.len());
    // Damaged anywhere, it is an error or a thread, never a panic.
    let bytes = std::fs::read("tests/fixtures/small.webarchive").unwrap();
    for at in (8..bytes.len()).step_by(5) {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5A;
        let _ = read_bytes_as_thread(&bad, "bad.webarchive", &opts(None));
    }
}

mod base64_free {
    /// Plain base64 with line breaks every 76 characters.
    pub fn encode(bytes: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for (i, chunk) in bytes.chunks(3).enumerate() {
            if i > 0 && i % 19 == 0 {
                out.push_str("\r\n");
            }
            let n = chunk.iter().fold(0u32, |acc, &b| (acc << 8) | b as u32) << (8 * (3 - chunk.len()));
            for k in 0..4 {
                out.push(if k <= chunk.len() { A[(n >> (18 - 6 * k)) as usize & 63] as char } else { '=' });
            }
        }
        out
    }
}

#[test]
fn copies_of_several_pages_pasted_into_one_file_read_as_the_whole_thread() {
    let seed = std::fs::read_to_string(SEED).unwrap();
    let lines: Vec<&str> = seed.lines().collect();
    let header_end = lines.iter().position(|l| l.trim() == "Wijzig sortering").unwrap() + 1;
    let whole = read_path(SEED, &opts(None)).unwrap();
    // Cut before a top-level reaction (line 207) and inside a branch (line 259, a reply), at starts
    // draad finds in the whole copy; each page's copy repeats the article's header, and the first
    // ends with the closing notice, with no line break after it (as `cat` joins such files).
    for cut in [207usize, 259] {
        assert!(whole.comments.iter().any(|c| c.span.unwrap().first_line == cut));
        let page1 = lines[..cut - 1].join("\n") + "\n\nOp dit item kan niet meer gereageerd worden.";
        let page2 = [&lines[..header_end], &lines[cut - 1..]].concat().join("\n");
        let joined_text = page1 + &page2;
        let joined = read_bytes_as_thread(joined_text.as_bytes(), "pages.txt", &opts(None)).unwrap();
        let texts = |t: &draad::model::Thread| t.comments.iter().map(|c| c.text.clone()).collect::<Vec<_>>();
        let parents = |t: &draad::model::Thread| t.comments.iter().map(|c| c.parent.clone()).collect::<Vec<_>>();
        assert_eq!(texts(&joined), texts(&whole), "cut at {cut}");
        assert_eq!(parents(&joined), parents(&whole), "cut at {cut}");
        // Spans point into the joined file: the first line of each reaction is the same text.
        let joined_lines: Vec<&str> = joined_text.lines().collect();
        for (a, b) in joined.comments.iter().zip(&whole.comments) {
            assert_eq!(joined_lines[a.span.unwrap().first_line - 1], lines[b.span.unwrap().first_line - 1]);
        }
        let w = joined.warnings.iter().find(|w| w.kind == "pages_joined").expect("pages_joined warning");
        assert_eq!(w.place.as_deref(), Some(format!("lines {}-{}", cut + 1, cut + header_end).as_str()), "{w:?}");
    }
}
