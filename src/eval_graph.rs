//! Scoring the reconstruction of copied text against a reference: boundary precision, recall and
//! F1 (does each reaction start where the reference says?) and parent accuracy (is the reaction
//! answered the right one?). References come from a hand annotation (`replies.tsv`) or from a page
//! whose structure is known (HTML rendered to copied text by [`crate::copy_text`]).

use crate::encoder::Encoder;
use crate::error::Result;
pub use crate::ingest::structure::{GoldComment, apply_annotation, read_annotation};
use crate::model::Thread;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize)]
pub struct GraphScores {
    pub name: String,
    pub reference_comments: usize,
    pub predicted_comments: usize,
    pub boundary_precision: f64,
    pub boundary_recall: f64,
    pub boundary_f1: f64,
    /// Reactions whose first and last lines both match.
    pub exact_spans: usize,
    /// Share of reference reactions whose start was found and whose parent is right.
    pub parent_accuracy: f64,
    /// The same among reactions whose start was found.
    pub parent_accuracy_found: f64,
    /// Baseline: the share of reference reactions whose start was found and whose parent is the
    /// reaction found just before it (every reaction a reply to the one above it; the first one to
    /// the article). The reconstruction has to beat this to be worth its evidence.
    pub parent_accuracy_previous: f64,
    /// Parent accuracy per annotator confidence (`high`, `medium`, `low`), where known.
    pub parent_accuracy_by_reference_confidence: Vec<(String, usize, f64)>,
    /// Calibration: (confidence bucket, count, accuracy) for draad's own parent confidence.
    pub calibration: Vec<(String, usize, f64)>,
    /// Among reactions whose start was found: draad's mean parent confidence (to set against
    /// `parent_accuracy_found`) and the Brier score of that confidence as the probability that the
    /// parent is right (0 is perfect; always saying 0.5 scores 0.25).
    pub mean_parent_confidence: f64,
    pub parent_brier: f64,
    /// The starts draad inferred (not certain ones such as the line after an edit line): how many,
    /// their mean `boundary_confidence`, the share of them the reference has, and the Brier score of
    /// that confidence as the probability that the start is real (0 when none was inferred).
    pub inferred_starts: usize,
    pub mean_boundary_confidence: f64,
    pub inferred_start_precision: f64,
    pub boundary_brier: f64,
    /// Reactions whose parent is wrong: (first line, expected parent first line, predicted).
    pub parent_errors: Vec<(usize, Option<usize>, Option<usize>)>,
    /// Starts the reference has and draad missed, and starts draad made up.
    pub missed_starts: Vec<usize>,
    pub extra_starts: Vec<usize>,
}

/// The reference of a thread whose structure is known, located in its rendered copy: collapsed
/// reactions are absent there, so a reply to one counts its nearest visible ancestor as parent.
pub fn gold_from_rendered(thread: &Thread, spans: &[Option<crate::model::Span>]) -> Vec<GoldComment> {
    let pos: HashMap<&str, usize> = thread.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut out = Vec::new();
    for (i, c) in thread.comments.iter().enumerate() {
        let Some(span) = spans[i] else { continue };
        let mut parent = c.parent.as_deref().and_then(|p| pos.get(p).copied());
        while let Some(p) = parent {
            if spans[p].is_some() {
                break;
            }
            parent = thread.comments[p].parent.as_deref().and_then(|q| pos.get(q).copied());
        }
        out.push(GoldComment {
            comment: out.len() + 1,
            first_line: span.first_line,
            last_line: span.last_line,
            parent_first_line: parent.and_then(|p| spans[p]).map(|s| s.first_line),
            parent_open: false,
            parent_confidence: None,
        });
    }
    out
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Score a reconstruction (from text input, so every comment has a span) against a reference.
pub fn evaluate(name: &str, predicted: &Thread, gold: &[GoldComment]) -> GraphScores {
    let first_of_id: HashMap<&str, usize> =
        predicted.comments.iter().filter_map(|c| c.span.map(|s| (c.id.as_str(), s.first_line))).collect();
    let pred_by_first: HashMap<usize, &crate::model::Comment> =
        predicted.comments.iter().filter_map(|c| c.span.map(|s| (s.first_line, c))).collect();
    let gold_starts: std::collections::HashSet<usize> = gold.iter().map(|g| g.first_line).collect();
    let hits = gold.iter().filter(|g| pred_by_first.contains_key(&g.first_line)).count();
    let precision = ratio(hits, predicted.comments.len());
    let recall = ratio(hits, gold.len());
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    let mut exact = 0;
    let mut right = 0;
    let mut right_previous = 0;
    let previous_first: HashMap<usize, Option<usize>> = predicted
        .comments
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let before = i.checked_sub(1).and_then(|j| predicted.comments[j].span.map(|s| s.first_line));
            c.span.map(|s| (s.first_line, before))
        })
        .collect();
    let mut errors = Vec::new();
    let mut by_conf: HashMap<String, (usize, usize)> = HashMap::new();
    let mut calib: HashMap<usize, (usize, usize)> = HashMap::new();
    let (mut confidence_sum, mut brier_sum) = (0.0, 0.0);
    for g in gold {
        let Some(p) = pred_by_first.get(&g.first_line) else {
            continue;
        };
        if p.span.is_some_and(|s| s.last_line == g.last_line) {
            exact += 1;
        }
        let predicted_parent = p.parent.as_deref().and_then(|id| first_of_id.get(id).copied());
        let ok = predicted_parent == g.parent_first_line;
        right_previous += usize::from(previous_first.get(&g.first_line).copied().flatten() == g.parent_first_line);
        if ok {
            right += 1;
        } else {
            errors.push((g.first_line, g.parent_first_line, predicted_parent));
        }
        if let Some(c) = &g.parent_confidence {
            let e = by_conf.entry(c.clone()).or_default();
            e.0 += 1;
            e.1 += ok as usize;
        }
        confidence_sum += p.parent_confidence;
        brier_sum += (p.parent_confidence - if ok { 1.0 } else { 0.0 }).powi(2);
        let bucket = ((p.parent_confidence * 5.0).floor() as usize).min(4);
        let e = calib.entry(bucket).or_default();
        e.0 += 1;
        e.1 += ok as usize;
    }
    let inferred: Vec<(f64, bool)> = predicted
        .comments
        .iter()
        .filter(|c| c.provenance.start == crate::model::Certainty::Inferred)
        .filter_map(|c| c.span.map(|s| (c.provenance.boundary_confidence, gold_starts.contains(&s.first_line))))
        .collect();
    let n_inferred = inferred.len().max(1) as f64;
    let mean_boundary_confidence = inferred.iter().map(|x| x.0).sum::<f64>() / n_inferred;
    let inferred_start_precision = inferred.iter().filter(|x| x.1).count() as f64 / n_inferred;
    let boundary_brier =
        inferred.iter().map(|&(c, real)| (c - if real { 1.0 } else { 0.0 }).powi(2)).sum::<f64>() / n_inferred;
    let mut missed: Vec<usize> = gold.iter().map(|g| g.first_line).filter(|l| !pred_by_first.contains_key(l)).collect();
    missed.sort();
    let mut extra: Vec<usize> = pred_by_first.keys().copied().filter(|l| !gold_starts.contains(l)).collect();
    extra.sort();
    let mut by_conf: Vec<(String, usize, f64)> = by_conf.into_iter().map(|(k, (n, r))| (k, n, ratio(r, n))).collect();
    by_conf.sort_by_key(|(k, _, _)| match k.as_str() {
        "high" => 0,
        "medium" => 1,
        "low" => 2,
        _ => 3,
    });
    let mut calibration: Vec<(String, usize, f64)> = calib
        .into_iter()
        .map(|(b, (n, r))| (format!("{:.1}-{:.1}", b as f64 / 5.0, (b + 1) as f64 / 5.0), n, ratio(r, n)))
        .collect();
    calibration.sort_by(|a, b| a.0.cmp(&b.0));
    GraphScores {
        name: name.to_string(),
        reference_comments: gold.len(),
        predicted_comments: predicted.comments.len(),
        boundary_precision: precision,
        boundary_recall: recall,
        boundary_f1: f1,
        exact_spans: exact,
        parent_accuracy: ratio(right, gold.len()),
        parent_accuracy_found: ratio(right, hits),
        parent_accuracy_previous: ratio(right_previous, gold.len()),
        parent_accuracy_by_reference_confidence: by_conf,
        calibration,
        inferred_starts: inferred.len(),
        mean_boundary_confidence,
        inferred_start_precision,
        boundary_brier,
        mean_parent_confidence: confidence_sum / hits.max(1) as f64,
        parent_brier: brier_sum / hits.max(1) as f64,
        parent_errors: errors,
        missed_starts: missed,
        extra_starts: extra,
    }
}

/// Score the seed annotation: read the thread text and its `replies.tsv`.
/// `encoder`: the sentence encoder weighs the candidate parents too (see [`with_encoder`]).
pub fn evaluate_annotated(
    thread_path: &str,
    annotation_path: &str,
    encoder: Option<&Arc<Encoder>>,
) -> Result<GraphScores> {
    let gold = read_annotation(annotation_path)?;
    let thread = crate::ingest::read_path(
        thread_path,
        &crate::ingest::ReadOptions {
            format: Some(crate::model::Format::Text),
            encoder: encoder.cloned(),
            ..Default::default()
        },
    )?;
    Ok(evaluate(&with_encoder(thread_path, encoder), &thread, &gold))
}

/// The name of a scored thread, marked when the encoder took part.
pub fn with_encoder(name: &str, encoder: Option<&Arc<Encoder>>) -> String {
    if encoder.is_some() { format!("{name} +encoder") } else { name.to_string() }
}

/// One temperature tried for the parent probabilities ([`temperature_fit`]).
#[derive(Debug, Clone, Serialize)]
pub struct TemperatureRow {
    pub temperature: f64,
    pub mean_parent_confidence: f64,
    pub parent_accuracy_found: f64,
    pub parent_brier: f64,
}

/// How honest the parent confidence is at each temperature of [`crate::reply_graph::TEMPERATURE_GRID`]:
/// the annotated thread read with draad's own boundaries (as a user reads it), scored by the Brier
/// score of the confidence that each parent is right. The parents themselves do not change.
pub fn temperature_fit(thread_path: &str, annotation_path: &str) -> Result<Vec<TemperatureRow>> {
    let gold = read_annotation(annotation_path)?;
    let bytes = crate::ingest::read_bytes(thread_path, crate::ingest::ReadOptions::default().max_bytes)?;
    let text = crate::ingest::check_text(&bytes, thread_path)?;
    let mut rows = Vec::new();
    for &temperature in crate::reply_graph::TEMPERATURE_GRID {
        let weights = crate::reply_graph::ReplyWeights { confidence_temperature: temperature, ..Default::default() };
        let thread = crate::ingest::copied_text::read_with(text, thread_path, None, &weights, None)?;
        let s = evaluate(thread_path, &thread, &gold);
        rows.push(TemperatureRow {
            temperature,
            mean_parent_confidence: s.mean_parent_confidence,
            parent_accuracy_found: s.parent_accuracy_found,
            parent_brier: s.parent_brier,
        });
    }
    Ok(rows)
}

/// The temperature with the lowest Brier score (the smaller one on a tie).
pub fn best_temperature(rows: &[TemperatureRow]) -> Option<f64> {
    rows.iter()
        .fold(None::<&TemperatureRow>, |best, r| match best {
            Some(b) if b.parent_brier <= r.parent_brier + 1e-12 => Some(b),
            _ => Some(r),
        })
        .map(|r| r.temperature)
}

/// The temperature table as text.
pub fn format_temperature_fit(thread_path: &str, rows: &[TemperatureRow]) -> String {
    let shipped = crate::reply_graph::ReplyWeights::default().confidence_temperature;
    let mut out = format!(
        "Parent confidence by softmax temperature ({thread_path}, draad's own boundaries; the parents do not change):\n  temperature   mean confidence   right   Brier\n"
    );
    for r in rows {
        out.push_str(&format!(
            "  {:>11.2}   {:>15.3}   {:>5.3}   {:.3}{}\n",
            r.temperature,
            r.mean_parent_confidence,
            r.parent_accuracy_found,
            r.parent_brier,
            if (r.temperature - shipped).abs() < 1e-9 { "   <- draad uses this" } else { "" }
        ));
    }
    out
}

/// Parent accuracy when the reactions start where the reference says: the reply reconstruction
/// scored apart from segmentation.
pub fn evaluate_parents_given_boundaries(
    thread_path: &str,
    annotation_path: &str,
    encoder: Option<&Arc<Encoder>>,
) -> Result<GraphScores> {
    let gold = read_annotation(annotation_path)?;
    let bytes = crate::ingest::read_bytes(thread_path, crate::ingest::ReadOptions::default().max_bytes)?;
    let text = crate::ingest::check_text(&bytes, thread_path)?;
    let starts: Vec<usize> = gold.iter().map(|g| g.first_line).collect();
    let weights = crate::reply_graph::ReplyWeights::default();
    let thread =
        crate::ingest::copied_text::read_with(text, thread_path, Some(&starts), &weights, encoder.map(|e| &**e))?;
    Ok(evaluate(&with_encoder(&format!("{thread_path} (reference boundaries)"), encoder), &thread, &gold))
}

/// Parents a person checks per round in [`checking_curve`].
pub const CHECK_BATCH: usize = 5;

/// One point of [`checking_curve`]: the share of right parents (all reactions, the checked ones
/// included) after a person has checked `checked` of them against the annotation.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    pub checked: usize,
    /// The least confident parents checked first, the others kept as draad has them.
    pub least_confident: f64,
    /// The same order, the others left open (`?` in a structure table) and rebuilt by draad
    /// within what the checked ones allow, after every round.
    pub least_confident_rest_rebuilt: f64,
    /// In display order, the others kept.
    pub display_order: f64,
    /// How many reactions of the `least_confident` structure answer one that is neither the
    /// reaction before them nor one of its ancestors (a structure the display order rules out).
    pub display_order_breaks: usize,
}

/// What checking parents by hand is worth, on an annotated thread read with the reference
/// boundaries: a person checks [`CHECK_BATCH`] parents per round against the annotation, least
/// confident first (the order draad's confidence suggests) or in display order. The others are kept
/// as draad has them, or (least confident first) left open and rebuilt within what the checked ones
/// allow. Rows for 0, `CHECK_BATCH`, ... up to `max_checked` (or every reaction).
pub fn checking_curve(thread_path: &str, annotation_path: &str, max_checked: usize) -> Result<Vec<CheckRow>> {
    let gold = read_annotation(annotation_path)?;
    let bytes = crate::ingest::read_bytes(thread_path, crate::ingest::ReadOptions::default().max_bytes)?;
    let text = crate::ingest::check_text(&bytes, thread_path)?;
    checking_curve_of(text, thread_path, &gold, max_checked)
}

/// [`checking_curve`] on a structured page (HTML or JSON) rendered to copied text, its own
/// structure being the reference.
pub fn checking_curve_rendered(path: &str, max_checked: usize) -> Result<Vec<CheckRow>> {
    let truth = crate::ingest::read_path(path, &crate::ingest::ReadOptions::default())?;
    let copy = crate::copy_text::render(&truth);
    checking_curve_of(&copy.text, path, &gold_from_rendered(&truth, &copy.spans), max_checked)
}

fn checking_curve_of(text: &str, thread_path: &str, gold: &[GoldComment], max_checked: usize) -> Result<Vec<CheckRow>> {
    use crate::reply_graph::GivenParent;
    let starts: Vec<usize> = gold.iter().map(|g| g.first_line).collect();
    let pos: HashMap<usize, usize> = starts.iter().enumerate().map(|(i, &l)| (l, i)).collect();
    let truth: Vec<GivenParent> = gold
        .iter()
        .map(|g| g.parent_first_line.map_or(GivenParent::Article, |l| GivenParent::Comment(pos[&l])))
        .collect();
    let weights = crate::reply_graph::ReplyWeights::default();
    // draad's parents and confidences with the `checked` parents given and the others open.
    let read = |checked: &[bool]| -> Result<(Vec<GivenParent>, Vec<f64>)> {
        let given: Vec<GivenParent> =
            checked.iter().zip(&truth).map(|(&c, &t)| if c { t } else { GivenParent::Open }).collect();
        let thread = crate::ingest::copied_text::read_given(text, thread_path, Some(&starts), &given, &weights, None)?;
        if thread.comments.len() != truth.len() {
            return Err(crate::error::Error::new(
                thread_path,
                None,
                "the reference boundaries do not give its reactions",
            ));
        }
        let at: HashMap<&str, usize> = thread.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
        let parents = thread
            .comments
            .iter()
            .map(|c| c.parent.as_deref().map_or(GivenParent::Article, |p| GivenParent::Comment(at[p])))
            .collect();
        Ok((parents, thread.comments.iter().map(|c| c.parent_confidence).collect()))
    };
    let share = |parents: &[GivenParent]| {
        parents.iter().zip(&truth).filter(|(p, t)| p == t).count() as f64 / truth.len().max(1) as f64
    };
    let with_checked = |first: &[GivenParent], checked: &[bool]| -> Vec<GivenParent> {
        first.iter().zip(&truth).zip(checked).map(|((&f, &t), &c)| if c { t } else { f }).collect()
    };
    let n = truth.len();
    let last = max_checked.min(n);
    let (first, first_confidence) = read(&vec![false; n])?;
    // The order in which parents are checked: least confident first, ties in display order.
    let mut by_confidence: Vec<usize> = (0..n).collect();
    by_confidence.sort_by(|&a, &b| first_confidence[a].total_cmp(&first_confidence[b]).then(a.cmp(&b)));
    let (mut rebuilt, mut rebuilt_confidence) = (first.clone(), first_confidence);
    let mut rebuilt_checked = vec![false; n];
    let mut rows = Vec::new();
    let mut checked = 0;
    loop {
        let mark = |order: &mut dyn Iterator<Item = usize>| {
            let mut m = vec![false; n];
            for i in order.take(checked) {
                m[i] = true;
            }
            m
        };
        let least = with_checked(&first, &mark(&mut by_confidence.iter().copied()));
        let in_order = with_checked(&first, &mark(&mut (0..n)));
        rows.push(CheckRow {
            checked,
            least_confident: share(&least),
            least_confident_rest_rebuilt: share(&rebuilt),
            display_order: share(&in_order),
            display_order_breaks: crate::reply_graph::display_order_breaks(&least).len(),
        });
        if checked >= last {
            break;
        }
        let round = CHECK_BATCH.min(last - checked);
        // The rebuilt structure's own least confident open parents are checked next.
        let mut open: Vec<usize> = (0..n).filter(|&i| !rebuilt_checked[i]).collect();
        open.sort_by(|&a, &b| rebuilt_confidence[a].total_cmp(&rebuilt_confidence[b]).then(a.cmp(&b)));
        for &i in open.iter().take(round) {
            rebuilt_checked[i] = true;
        }
        checked += round;
        (rebuilt, rebuilt_confidence) = read(&rebuilt_checked)?;
    }
    Ok(rows)
}

/// The checking curve as text.
pub fn format_checking_curve(thread_path: &str, rows: &[CheckRow]) -> String {
    let mut out = format!(
        "Parents right after a person checks some of them by hand ({thread_path}, reference boundaries, {CHECK_BATCH} per round; 'kept': the others as draad has them, with the number the display order rules out; 'rebuilt': the others left open and rebuilt after every round):\n  checked   least confident first, kept   least confident first, rebuilt   in display order, kept\n"
    );
    for r in rows {
        out.push_str(&format!(
            "  {:>7}   {:>21.3} {:>7}   {:>30.3}   {:>22.3}\n",
            r.checked,
            r.least_confident,
            format!("({})", r.display_order_breaks),
            r.least_confident_rest_rebuilt,
            r.display_order
        ));
    }
    out
}

/// The checking curves of several pages in one table: per page, the parents right before any
/// check and after 10 and 20 (least confident first with the others kept, the same rebuilt, and
/// display order with the others kept).
pub fn format_checking_pages(pages: &[(String, Vec<CheckRow>)]) -> String {
    let mut out = String::from(
        "Parents right after checking 10 and 20 by hand on the held-out pages (rendered to copied text, reference boundaries; least confident first kept / rebuilt, display order kept):\n  page                                     none    10: least  rebuilt  display    20: least  rebuilt  display\n",
    );
    for (page, rows) in pages {
        let at = |n: usize| rows.iter().find(|r| r.checked == n).or(rows.last());
        let name = page.rsplit('/').next().unwrap_or(page);
        let cells = |n: usize| {
            at(n).map_or(String::new(), |r| {
                format!("{:>9.3}  {:>7.3}  {:>7.3}", r.least_confident, r.least_confident_rest_rebuilt, r.display_order)
            })
        };
        out.push_str(&format!(
            "  {:<38}  {:>5.3}    {}    {}\n",
            name,
            rows.first().map_or(0.0, |r| r.least_confident),
            cells(10),
            cells(20)
        ));
    }
    out
}

/// How far two readers agree: the `other` annotation of the thread scored against the `reference`
/// as if it were a reconstruction (boundary F1 and parent agreement). This is the ceiling against
/// which draad's own figures are to be read. Calibration is left empty (an annotation has no
/// confidence per parent in draad's sense).
pub fn annotator_agreement(thread_path: &str, reference_path: &str, other_path: &str) -> Result<GraphScores> {
    let gold = read_annotation(reference_path)?;
    let other = read_annotation(other_path)?;
    let bytes = crate::ingest::read_bytes(thread_path, crate::ingest::ReadOptions::default().max_bytes)?;
    let text = crate::ingest::check_text(&bytes, thread_path)?;
    let starts: Vec<usize> = other.iter().map(|g| g.first_line).collect();
    let mut thread = crate::ingest::copied_text::read_with_starts(text, thread_path, Some(&starts))?;
    apply_annotation(&mut thread, &other, other_path);
    let name = format!("{} against {} (two readers)", file_name(other_path), file_name(reference_path));
    let mut scores = evaluate(&name, &thread, &gold);
    scores.calibration.clear();
    Ok(scores)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Score a structured page (HTML or JSON) as held-out data: render it to copied text, read that text
/// back, and compare with the page's own structure.
pub fn evaluate_rendered(path: &str, encoder: Option<&Arc<Encoder>>) -> Result<GraphScores> {
    evaluate_rendered_with(path, encoder, crate::copy_text::HeaderStyle::AuthorOnly)
}

/// [`evaluate_rendered`] with a copy that keeps the reaction headers of the given style.
pub fn evaluate_rendered_with(
    path: &str,
    encoder: Option<&Arc<Encoder>>,
    headers: crate::copy_text::HeaderStyle,
) -> Result<GraphScores> {
    use crate::copy_text::HeaderStyle;
    let truth = crate::ingest::read_path(path, &crate::ingest::ReadOptions::default())?;
    let copy = crate::copy_text::render_with(&truth, headers);
    let file = path.rsplit('/').next().unwrap_or(path);
    let name = match headers {
        HeaderStyle::AuthorOnly => format!("{path} (rendered to copied text)"),
        HeaderStyle::Glued => format!("{file} (copy with every header, glued)"),
        HeaderStyle::TwoLines => format!("{file} (copy with every header, two lines)"),
    };
    let name = with_encoder(&name, encoder);
    let predicted = crate::ingest::copied_text::read_using(&copy.text, &name, encoder.map(|e| &**e))?;
    Ok(evaluate(&name, &predicted, &gold_from_rendered(&truth, &copy.spans)))
}

/// A plain-text table of scores.
pub fn format_scores(scores: &[GraphScores], verbose: bool) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<60} {:>5} {:>5} {:>6} {:>6} {:>6} {:>7} {:>8} {:>6}\n",
        "thread", "ref", "found", "b-P", "b-R", "b-F1", "parent", "parent*", "prev"
    ));
    for s in scores {
        let name: String = if s.name.chars().count() > 60 {
            let tail: String = s.name.chars().rev().take(57).collect::<Vec<_>>().into_iter().rev().collect();
            format!("...{tail}")
        } else {
            s.name.clone()
        };
        out.push_str(&format!(
            "{:<60} {:>5} {:>5} {:>6.3} {:>6.3} {:>6.3} {:>7.3} {:>8.3} {:>6.3}\n",
            name,
            s.reference_comments,
            s.predicted_comments,
            s.boundary_precision,
            s.boundary_recall,
            s.boundary_f1,
            s.parent_accuracy,
            s.parent_accuracy_found,
            s.parent_accuracy_previous
        ));
    }
    out.push_str("b-P/b-R/b-F1: boundary precision, recall, F1; parent: share of reference reactions with the right parent; parent*: the same among reactions whose start was found; prev: baseline parent accuracy if every reaction answered the one found just before it.\n");
    for s in scores {
        if !s.parent_accuracy_by_reference_confidence.is_empty() {
            let parts: Vec<String> = s
                .parent_accuracy_by_reference_confidence
                .iter()
                .map(|(k, n, a)| format!("{k} {a:.3} (n={n})"))
                .collect();
            out.push_str(&format!("{}: parent accuracy by annotator confidence: {}\n", s.name, parts.join(", ")));
        }
        if !s.calibration.is_empty() {
            out.push_str(&format!(
                "{}: parent confidence: mean {:.3} where {:.3} are right, Brier {:.3}\n",
                s.name, s.mean_parent_confidence, s.parent_accuracy_found, s.parent_brier
            ));
            let cal: Vec<String> = s.calibration.iter().map(|(k, n, a)| format!("{k}: {a:.2} (n={n})")).collect();
            out.push_str(&format!("{}: accuracy by draad's parent confidence: {}\n", s.name, cal.join(", ")));
        }
        if s.inferred_starts > 0 && !s.calibration.is_empty() {
            out.push_str(&format!(
                "{}: start confidence: mean {:.3} where {:.3} of the {} inferred starts are real, Brier {:.3}\n",
                s.name, s.mean_boundary_confidence, s.inferred_start_precision, s.inferred_starts, s.boundary_brier
            ));
        }
        if verbose {
            out.push_str(&format!(
                "  missed starts (lines): {:?}\n  extra starts (lines): {:?}\n",
                s.missed_starts, s.extra_starts
            ));
            for (line, want, got) in &s.parent_errors {
                let f = |p: &Option<usize>| p.map_or("article".to_string(), |l| format!("line {l}"));
                out.push_str(&format!(
                    "  parent of the reaction at line {line}: reference {}, draad {}\n",
                    f(want),
                    f(got)
                ));
            }
        }
    }
    out
}
