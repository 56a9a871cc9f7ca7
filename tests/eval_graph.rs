//! The reconstruction's figures on the annotated seed thread and the held-out pages may not fall
//! below the levels measured when this test was written (see the README for the current table).
//! Raise the floors when the reconstruction improves.

use draad::eval_graph::{
    annotator_agreement, evaluate_annotated, evaluate_parents_given_boundaries, evaluate_rendered, read_annotation,
};

const DIR: &str = "threads/clearview-ap-2024";

#[test]
fn seed_thread_figures_hold() {
    let s = evaluate_annotated(&format!("{DIR}/thread.txt"), &format!("{DIR}/replies.tsv"), None).unwrap();
    assert_eq!(s.reference_comments, 106);
    assert!(s.boundary_f1 >= 0.89, "boundary F1 {:.3}", s.boundary_f1);
    assert!(s.parent_accuracy >= 0.47, "parent accuracy {:.3}", s.parent_accuracy);
    let g =
        evaluate_parents_given_boundaries(&format!("{DIR}/thread.txt"), &format!("{DIR}/replies.tsv"), None).unwrap();
    assert_eq!(g.boundary_f1, 1.0);
    assert!(g.parent_accuracy >= 0.55, "parent accuracy with reference boundaries {:.3}", g.parent_accuracy);
    // The baseline (every reaction answers the one before), counted here from the annotation itself.
    let gold = read_annotation(&format!("{DIR}/replies.tsv")).unwrap();
    let direct = gold
        .iter()
        .enumerate()
        .filter(|(k, r)| r.parent_first_line == k.checked_sub(1).map(|j| gold[j].first_line))
        .count();
    assert!((g.parent_accuracy_previous - direct as f64 / gold.len() as f64).abs() < 1e-12);
    assert!(s.parent_accuracy_previous > 0.0 && s.parent_accuracy_previous < g.parent_accuracy_previous);
}

#[test]
fn heldout_figures_hold() {
    for (page, boundary_f1, parent) in [
        ("threads/heldout/ov-chipkaart-2023.html", 0.84, 0.42),
        ("threads/heldout/thuisbatterij-2025.html", 0.84, 0.42),
        ("threads/heldout/kopernet-2024.html", 0.86, 0.40),
        // Written blind in session 12 (development pages since session 13).
        ("threads/heldout/trajectcontrole-2023.html", 0.82, 0.38),
        ("threads/heldout/laadpaal-2024.html", 0.84, 0.44),
        // Written blind in session 13; these floors are a little below their first-contact figures
        // (0.859 / 0.455 and 0.819 / 0.365).
        ("threads/heldout/roborix-boete-2023.html", 0.85, 0.44),
        ("threads/heldout/spotify-prijsverhoging-2025.html", 0.81, 0.35),
    ] {
        let s = evaluate_rendered(page, None).unwrap();
        assert!(s.boundary_f1 >= boundary_f1, "{page}: boundary F1 {:.3}", s.boundary_f1);
        assert!(s.parent_accuracy >= parent, "{page}: parent accuracy {:.3}", s.parent_accuracy);
        // At least the baseline (every reaction answers the one above it); on trajectcontrole, the
        // blind page of session 12, draad only ties it (0.400).
        assert!(s.parent_accuracy >= s.parent_accuracy_previous, "{page}: below the baseline");
    }
}

#[test]
fn eval_graph_scores_the_copies_that_keep_every_header_on_request() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_draad"))
        .args([
            "eval-graph",
            "--encoder",
            "off",
            "--header-copies",
            "--json",
            "--annotated",
            "threads/clearview-ap-2024",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows: Vec<&serde_json::Value> = v["scores"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"].as_str().is_some_and(|n| n.contains("copy with every header")))
        .collect();
    assert_eq!(rows.len(), 14);
    for r in rows {
        assert_eq!(r["boundary_f1"].as_f64(), Some(1.0), "{}", r["name"]);
        assert!(r["parent_accuracy"].as_f64().unwrap() >= 0.85, "{}", r["name"]);
    }
}

#[test]
fn parent_confidence_is_fitted_on_the_seed_and_honest_on_heldout_pages() {
    use draad::eval_graph::{best_temperature, temperature_fit};
    // The shipped temperature is the one with the best Brier score on the seed; retune it when the
    // reply weights or the segmenter change.
    let rows = temperature_fit(&format!("{DIR}/thread.txt"), &format!("{DIR}/replies.tsv")).unwrap();
    assert_eq!(rows.len(), draad::reply_graph::TEMPERATURE_GRID.len());
    let shipped = draad::reply_graph::ReplyWeights::default().confidence_temperature;
    assert_eq!(best_temperature(&rows), Some(shipped), "{rows:?}");
    // Softer probabilities claim less; the parents themselves stay the same.
    for w in rows.windows(2) {
        assert!(w[1].mean_parent_confidence < w[0].mean_parent_confidence);
        assert_eq!(w[1].parent_accuracy_found, w[0].parent_accuracy_found);
    }
    // On pages that did not set the temperature the confidence says no more than 0.17 above the
    // share that is right, and its Brier score stays near or below that of saying 0.5 for every
    // parent (0.25); at temperature 1 without the boundary factor these pages scored 0.38-0.42.
    for page in [
        "threads/heldout/ov-chipkaart-2023.html",
        "threads/heldout/thuisbatterij-2025.html",
        "threads/heldout/kopernet-2024.html",
        "threads/heldout/trajectcontrole-2023.html",
        "threads/heldout/laadpaal-2024.html",
        "threads/heldout/roborix-boete-2023.html",
        "threads/heldout/spotify-prijsverhoging-2025.html",
    ] {
        let s = evaluate_rendered(page, None).unwrap();
        assert!(s.mean_parent_confidence - s.parent_accuracy_found <= 0.17, "{page}: {s:?}");
        // The confidence of an inferred start is as honest (measured 2026-12-03: 0.73-0.78 said,
        // 0.66-0.89 real, Brier 0.12-0.21).
        assert!(s.inferred_starts > 0);
        // Too sure by at most 0.1; too modest (the safe side) by at most 0.15.
        let gap = s.mean_boundary_confidence - s.inferred_start_precision;
        assert!((-0.15..=0.1).contains(&gap), "{page}: {s:?}");
        assert!(s.boundary_brier < 0.23, "{page}: start Brier {:.3}", s.boundary_brier);
        assert!(s.parent_brier < 0.27, "{page}: Brier {:.3}", s.parent_brier);
    }
}

#[test]
fn readers_agree_as_measured() {
    let (text, first) = (format!("{DIR}/thread.txt"), format!("{DIR}/replies.tsv"));
    let same = annotator_agreement(&text, &first, &first).unwrap();
    assert_eq!((same.boundary_f1, same.parent_accuracy), (1.0, 1.0));
    assert!(same.calibration.is_empty());
    for other in ["replies-second.tsv", "replies-third.tsv"] {
        let a = annotator_agreement(&text, &first, &format!("{DIR}/{other}")).unwrap();
        assert!(a.boundary_f1 >= 0.97, "{other}: boundary F1 {:.3}", a.boundary_f1);
        assert!(a.parent_accuracy >= 0.84, "{other}: parent agreement {:.3}", a.parent_accuracy);
        // Agreement is symmetric in the starts both readers share.
        let back = annotator_agreement(&text, &format!("{DIR}/{other}"), &first).unwrap();
        assert!((a.boundary_f1 - back.boundary_f1).abs() < 1e-12);
    }
}

#[test]
fn annotations_obey_the_depth_first_rule() {
    // Reading the thread with an annotation as its structure table checks the order of the rows,
    // that every start begins a reaction, and that every parent is on the display chain.
    for file in ["replies.tsv", "replies-second.tsv", "replies-third.tsv"] {
        let path = format!("{DIR}/{file}");
        let t = draad::ingest::structure::read_text_with_structure(
            &format!("{DIR}/thread.txt"),
            &draad::ingest::ReadOptions::default(),
            &path,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(draad::reply_graph::is_depth_first(&t), "{path}");
        assert_eq!(t.comments.len(), read_annotation(&path).unwrap().len());
        assert!(!t.warnings.iter().any(|w| w.kind == "structure_last_line"), "{path}: {:?}", t.warnings);
    }
}

/// A copy that puts a blank line between reactions (as some ways of copying do) is recognised and
/// read with blank lines as the places to weigh, instead of as paragraph gaps inside one reaction
/// (which merged nearly every reaction: boundary F1 0.12-0.21 on the development pages).
#[test]
fn a_copy_with_blank_lines_between_reactions_is_read_as_such() {
    for page in ["threads/heldout/kopernet-2024.html", "threads/heldout/laadpaal-2024.html"] {
        let truth = draad::ingest::read_path(page, &Default::default()).unwrap();
        let copy = draad::copy_text::render(&truth);
        let starts: std::collections::BTreeSet<usize> = copy.spans.iter().flatten().map(|s| s.first_line).collect();
        let first = *starts.iter().next().unwrap();
        let (mut text, mut shift) = (String::new(), vec![0usize; copy.text.lines().count() + 2]);
        let mut inserted = 0;
        for (i, line) in copy.text.lines().enumerate() {
            if starts.contains(&(i + 1)) && i + 1 != first {
                text.push('\n');
                inserted += 1;
            }
            shift[i + 1] = inserted;
            text.push_str(line);
            text.push('\n');
        }
        let spans: Vec<Option<draad::model::Span>> = copy
            .spans
            .iter()
            .map(|s| {
                s.map(|s| draad::model::Span {
                    first_line: s.first_line + shift[s.first_line],
                    last_line: s.last_line + shift[s.last_line],
                })
            })
            .collect();
        let read = draad::ingest::copied_text::read_using(&text, page, None).unwrap();
        assert!(read.warnings.iter().any(|w| w.kind == "blank_line_copy"), "{page}");
        let s = draad::eval_graph::evaluate(page, &read, &draad::eval_graph::gold_from_rendered(&truth, &spans));
        assert!(s.boundary_f1 >= 0.9, "{page}: boundary F1 {:.3}", s.boundary_f1);
        // The ordinary copy of the same page is not taken for one.
        let plain = draad::ingest::copied_text::read_using(&copy.text, page, None).unwrap();
        assert!(!plain.warnings.iter().any(|w| w.kind == "blank_line_copy"), "{page}");
    }
    let seed = draad::ingest::read_path(&format!("{DIR}/thread.txt"), &Default::default()).unwrap();
    assert!(!seed.warnings.iter().any(|w| w.kind == "blank_line_copy"));
}

#[test]
fn checking_the_least_confident_parents_first_pays() {
    let rows =
        draad::eval_graph::checking_curve(&format!("{DIR}/thread.txt"), &format!("{DIR}/replies.tsv"), usize::MAX)
            .unwrap();
    assert_eq!(rows.first().map(|r| r.checked), Some(0));
    // Checking every parent leaves every parent right, whichever way.
    let last = rows.last().unwrap();
    assert_eq!(last.checked, 106);
    assert_eq!(
        (last.least_confident, last.least_confident_rest_rebuilt, last.display_order),
        (1.0, 1.0, 1.0),
        "{last:?}"
    );
    for r in &rows {
        // Following draad's confidence is never worse than checking in display order, and the
        // structure that keeps draad's other parents stays one the display order allows.
        assert!(r.least_confident >= r.display_order, "{r:?}");
        assert_eq!(r.display_order_breaks, 0, "{r:?}");
    }
    let at35 = rows.iter().find(|r| r.checked == 35).unwrap();
    assert!(at35.least_confident >= 0.80 && at35.display_order < 0.78, "{at35:?}");
    // Each round only adds checked parents, so keeping the others never loses a right one.
    for pair in rows.windows(2) {
        assert!(pair[1].least_confident >= pair[0].least_confident, "{pair:?}");
    }
}

#[test]
fn checking_the_least_confident_parents_first_pays_on_the_heldout_pages() {
    for page in [
        "threads/heldout/kopernet-2024.html",
        "threads/heldout/laadpaal-2024.html",
        "threads/heldout/ov-chipkaart-2023.html",
        "threads/heldout/roborix-boete-2023.html",
        "threads/heldout/spotify-prijsverhoging-2025.html",
        "threads/heldout/thuisbatterij-2025.html",
        "threads/heldout/trajectcontrole-2023.html",
    ] {
        let rows = draad::eval_graph::checking_curve_rendered(page, 20).unwrap();
        assert_eq!(rows.iter().map(|r| r.checked).collect::<Vec<_>>(), vec![0, 5, 10, 15, 20], "{page}");
        for r in rows.iter().filter(|r| r.checked >= 10) {
            assert!(r.least_confident > r.display_order, "{page}: {r:?}");
            assert!(r.least_confident_rest_rebuilt > rows[0].least_confident, "{page}: {r:?}");
        }
    }
}
