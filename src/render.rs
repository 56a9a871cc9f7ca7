//! Reports of an analysis: a terminal report (width-aware, colour only on a terminal), Markdown,
//! JSON, and one self-contained HTML page with the reply graph as SVG. Comment text is untrusted:
//! it is escaped for every format it goes into.

use crate::analyze::Analysis;
use crate::model::Comment;
use crate::summary::{ClusterSummary, CommentRef, StanceCounts};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Md,
    Json,
    Html,
}

/// How a text report is laid out.
#[derive(Debug, Clone, Copy)]
pub struct TextStyle {
    pub width: usize,
    pub colour: bool,
}

pub fn render(a: &Analysis, format: ReportFormat, style: TextStyle) -> String {
    match format {
        ReportFormat::Text => text(a, style),
        ReportFormat::Md => markdown(a),
        ReportFormat::Json => json_for_html(&serde_json::to_string_pretty(a).expect("analysis serialises")),
        ReportFormat::Html => html(a),
    }
}

/// "1 comment", "2 comments".
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

fn who(c: &CommentRef) -> String {
    let author = c.author.as_deref().unwrap_or("anonymous");
    match c.span {
        Some(s) if s.first_line == s.last_line => format!("#{} {author}, line {}", c.index, s.first_line),
        Some(s) => format!("#{} {author}, lines {}-{}", c.index, s.first_line, s.last_line),
        None => format!("#{} {author}", c.index),
    }
}

/// Remove control characters (terminal escapes in untrusted text) but keep newlines and tabs.
fn clean_for_terminal(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect()
}

/// Wrap text to `width` columns; the first line starts with `first`, the others are indented to
/// the same width.
fn wrap(text: &str, width: usize, first: &str) -> String {
    let indent = " ".repeat(first.chars().count());
    let mut out = String::new();
    let mut line = String::new();
    let mut prefix = first.to_string();
    for word in text.split_whitespace() {
        if !line.is_empty() && prefix.chars().count() + line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&prefix);
            out.push_str(&line);
            out.push('\n');
            line.clear();
            prefix = indent.clone();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&prefix);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// "jurisdiction: applies 12, rejects 5, none 30"
fn balance(stance: &StanceCounts) -> Vec<String> {
    stance
        .iter()
        .map(|(dim, counts)| {
            let mut parts: Vec<(&String, &usize)> = counts.iter().collect();
            parts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            format!("{dim}: {}", parts.iter().map(|(l, n)| format!("{l} {n}")).collect::<Vec<_>>().join(", "))
        })
        .collect()
}

fn stance_tag(c: &CommentRef) -> String {
    c.stance.iter().map(|(d, l)| format!("{d}={l}")).collect::<Vec<_>>().join(" ")
}

fn text(a: &Analysis, style: TextStyle) -> String {
    let w = style.width.clamp(50, 160);
    let bold = |s: &str| if style.colour { format!("\x1b[1m{s}\x1b[0m") } else { s.to_string() };
    let dim = |s: &str| if style.colour { format!("\x1b[2m{s}\x1b[0m") } else { s.to_string() };
    let t = &a.thread;
    let s = &a.summary;
    let mut out = String::new();
    let title = clean_for_terminal(t.article.title.as_deref().unwrap_or("(untitled thread)"));
    let _ = writeln!(out, "{}", bold(&title));
    let meta = format!(
        "{} comments, {} top-level; {} with a known author; source {} ({})",
        s.comments,
        s.top_level,
        s.known_authors,
        clean_for_terminal(&t.source.shown()),
        t.source.format.name()
    );
    out.push_str(&dim(wrap(&meta, w, "").trim_end()));
    out.push('\n');
    if let Some(note) = structure_note(&s.structure) {
        out.push_str(&dim(wrap(&note, w, "").trim_end()));
        out.push('\n');
    }
    if let Some(note) = s.codebook_fit.note() {
        out.push_str(&bold(wrap(&clean_for_terminal(&note), w, "").trim_end()));
        out.push('\n');
    }
    let _ = writeln!(out, "\n{}", bold("Stance over the thread"));
    for line in balance(&s.stance) {
        out.push_str(&wrap(&line, w, "  "));
    }
    let _ = writeln!(out, "\n{}", bold("Argument clusters (largest first)"));
    for c in &a.clusters {
        let _ = writeln!(
            out,
            "\n  {} — {} ({:.0}%){}",
            bold(&clean_for_terminal(&c.name)),
            count(c.size, "comment"),
            c.share * 100.0,
            if c.secondary > 0 { format!(", secondary in {}", c.secondary) } else { String::new() }
        );
        for line in balance(&c.stance) {
            out.push_str(&wrap(&line, w, "    "));
        }
        for r in &c.representatives {
            out.push_str(&wrap(
                &format!("“{}” — {} [{}]", clean_for_terminal(&r.excerpt), who(r), stance_tag(r)),
                w,
                "    • ",
            ));
        }
        if let Some(r) = &c.counter_argument {
            out.push_str(&wrap(
                &format!("counter-argument: “{}” — {} [{}]", clean_for_terminal(&r.excerpt), who(r), stance_tag(r)),
                w,
                "    ↔ ",
            ));
        }
    }
    let _ = writeln!(out, "\n{}", bold("Where people clash (replies on the opposite side of their parent)"));
    if s.clashes.is_empty() {
        let _ = writeln!(out, "  none found");
    }
    for c in s.clashes.iter().take(6) {
        out.push_str(&wrap(
            &format!(
                "{} — {} answers {}{}:",
                c.dimension,
                who(&c.reply),
                who(&c.parent),
                edge_note(s.structure.inferred, c.parent_confidence)
            ),
            w,
            "  ",
        ));
        for side in [&c.parent, &c.reply] {
            let label = side.stance.get(&c.dimension).cloned().unwrap_or_default();
            out.push_str(&wrap(&format!("{label}: “{}”", clean_for_terminal(&side.excerpt)), w, "    "));
        }
    }
    let _ = writeln!(out, "\n{}", bold("Longest back-and-forth chains"));
    for ch in &s.chains {
        let ids: Vec<String> = ch.comments.iter().map(|c| format!("#{}", c.index)).collect();
        let people =
            if ch.participants.is_empty() { "authors unknown".to_string() } else { ch.participants.join(", ") };
        out.push_str(&wrap(
            &format!(
                "{} replies deep: {} — {}; {} clash(es){}",
                ch.comments.len(),
                ids.join(" → "),
                clean_for_terminal(&people),
                ch.clashes,
                weakest_note(s.structure.inferred, ch.weakest_link)
            ),
            w,
            "  ",
        ));
    }
    let _ = writeln!(out, "\n{}", bold("Top-level comments that drew the most replies"));
    for (c, n) in &s.most_replied {
        out.push_str(&wrap(
            &format!("{n} replies: “{}” — {}{}", clean_for_terminal(&c.excerpt), who(c), top_level_note(a, c)),
            w,
            "  ",
        ));
    }
    if let Some(note) = left_out_note(s) {
        out.push_str(&wrap(&note, w, "  "));
    }
    if !s.participants.is_empty() {
        let _ = writeln!(out, "\n{}", bold("Most active participants (where the author is known)"));
        let list: Vec<String> =
            s.participants.iter().map(|(a, n)| format!("{} ({n})", clean_for_terminal(a))).collect();
        out.push_str(&wrap(&list.join(", "), w, "  "));
    }
    if !t.warnings.is_empty() {
        let _ = writeln!(out, "\n{}", bold("Warnings"));
        for warn in &t.warnings {
            out.push_str(&wrap(&format!("{}: {}", warn.kind, clean_for_terminal(&warn.message)), w, "  "));
        }
    }
    out.push('\n');
    out.push_str(&dim(wrap(&clean_for_terminal(&models_line(a)), w, "").trim_end()));
    out.push('\n');
    out
}

/// JSON with `<`, `>` and `&` written as `\u003c`, `\u003e`, `\u0026`, so that it is also safe to embed in
/// an HTML page. They only occur inside strings, where the escapes mean the same.
pub fn json_for_html(json: &str) -> String {
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// Escape text for Markdown: neutralise HTML and Markdown control characters.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// For a structure rebuilt from copied text: how far it can be trusted, in one sentence.
fn structure_note(n: &crate::summary::StructureNote) -> Option<String> {
    n.inferred.then(|| {
        let headers = if n.parents_from_headers * 2 > n.replies {
            format!(" ({} parent(s) read from the reaction headers)", n.parents_from_headers)
        } else {
            String::new()
        };
        let check = if n.check_first.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = n
                .check_first
                .iter()
                .map(|c| match c.first_line {
                    Some(l) => format!("#{} (line {l}, {:.2})", c.index, c.parent_confidence),
                    None => format!("#{} ({:.2})", c.index, c.parent_confidence),
                })
                .collect();
            format!(
                " To correct it by hand (`draad graph FILE --to tsv`, then `--structure`), check the least sure parents first: {}.",
                list.join(", ")
            )
        };
        format!(
            "Who answers whom is rebuilt from the copied text, where the nesting is lost{headers}: median parent \
             confidence {:.2}, {} comment(s) below 0.5. The clashes, chains and reply counts below rest on it.{check}",
            n.median_parent_confidence, n.weak_parents
        )
    })
}

/// The confidence of a reply edge, where the structure was rebuilt.
fn edge_note(inferred: bool, confidence: f64) -> String {
    if inferred { format!(" (parent confidence {confidence:.2})") } else { String::new() }
}

/// How sure draad is that a comment answers the article, where the structure was rebuilt: a
/// reaction split off wrongly or re-rooted by the reconstruction can head a large subtree.
fn top_level_note(a: &Analysis, c: &crate::summary::CommentRef) -> String {
    match a.thread.comment(&c.id) {
        Some(comment) if a.summary.structure.inferred => {
            format!(" (top-level with confidence {:.2})", comment.parent_confidence)
        }
        _ => String::new(),
    }
}

/// The top-level comments with replies that the most-replied list leaves out, when there are any.
fn left_out_note(s: &crate::summary::Summary) -> Option<String> {
    (s.most_replied_left_out > 0).then(|| {
        format!(
            "{}{} more top-level comment(s) with replies left out: their place at the top is a guess \
             (confidence below {:.1}), and most such comments are replies cut off from their parent.",
            if s.most_replied.is_empty() { "None is sure enough of its place at the top; " } else { "" },
            s.most_replied_left_out,
            crate::summary::SURE_TOP_LEVEL
        )
    })
}

/// The weakest link of a chain, where the structure was rebuilt.
fn weakest_note(inferred: bool, weakest: f64) -> String {
    if inferred { format!("; weakest link {weakest:.2}") } else { String::new() }
}

fn markdown(a: &Analysis) -> String {
    let s = &a.summary;
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", md_escape(a.thread.article.title.as_deref().unwrap_or("Thread")));
    let _ =
        writeln!(out, "{} comments, {} top-level, {} with a known author.\n", s.comments, s.top_level, s.known_authors);
    if let Some(note) = structure_note(&s.structure) {
        let _ = writeln!(out, "*{}*\n", md_escape(&note));
    }
    if let Some(note) = s.codebook_fit.note() {
        let _ = writeln!(out, "**{}**\n", md_escape(&note));
    }
    let _ = writeln!(out, "## Stance over the thread\n");
    for line in balance(&s.stance) {
        let _ = writeln!(out, "- {}", md_escape(&line));
    }
    let _ = writeln!(out, "\n## Argument clusters\n");
    let _ = writeln!(out, "| cluster | comments | share | stance balance |\n|---|---:|---:|---|");
    for c in &a.clusters {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0}% | {} |",
            md_escape(&c.name),
            c.size,
            c.share * 100.0,
            md_escape(&balance(&c.stance).join("; "))
        );
    }
    for c in &a.clusters {
        let _ = writeln!(out, "\n### {}\n", md_escape(&c.name));
        for r in &c.representatives {
            let _ = writeln!(
                out,
                "> {}\n>\n> — {} ({})\n",
                md_escape(&r.excerpt),
                md_escape(&who(r)),
                md_escape(&stance_tag(r))
            );
        }
        if let Some(r) = &c.counter_argument {
            let _ = writeln!(
                out,
                "Counter-argument: {} — {} ({})\n",
                md_escape(&r.excerpt),
                md_escape(&who(r)),
                md_escape(&stance_tag(r))
            );
        }
    }
    let _ = writeln!(out, "\n## Where people clash\n");
    for c in s.clashes.iter().take(8) {
        let _ = writeln!(
            out,
            "- **{}**: {} ({}) answers {} ({}){}: {}",
            md_escape(&c.dimension),
            md_escape(&who(&c.reply)),
            md_escape(c.reply.stance.get(&c.dimension).map_or("", String::as_str)),
            md_escape(&who(&c.parent)),
            md_escape(c.parent.stance.get(&c.dimension).map_or("", String::as_str)),
            edge_note(s.structure.inferred, c.parent_confidence),
            md_escape(&c.reply.excerpt)
        );
    }
    let _ = writeln!(out, "\n## Longest back-and-forth chains\n");
    for ch in &s.chains {
        let ids: Vec<String> = ch.comments.iter().map(|c| format!("#{}", c.index)).collect();
        let _ = writeln!(
            out,
            "- {} deep: {} ({} clashes; {}){}",
            ch.comments.len(),
            ids.join(" → "),
            ch.clashes,
            md_escape(&ch.participants.join(", ")),
            weakest_note(s.structure.inferred, ch.weakest_link)
        );
    }
    let _ = writeln!(out, "\n## Most replied top-level comments\n");
    for (c, n) in &s.most_replied {
        let _ =
            writeln!(out, "- {n} replies: {} — {}{}", md_escape(&c.excerpt), md_escape(&who(c)), top_level_note(a, c));
    }
    if let Some(note) = left_out_note(s) {
        let _ = writeln!(out, "\n{note}");
    }
    let _ = writeln!(out, "\n---\n\n{}", md_escape(&models_line(a)));
    out
}

/// Which models the analysis used, and why the encoder was not used when it was not turned off.
fn models_line(a: &Analysis) -> String {
    let m = &a.models;
    let encoder = match (&m.encoder, &m.encoder_note) {
        (Some(e), Some(note)) => format!("{e} — {note}"),
        (Some(e), None) => e.clone(),
        (None, Some(note)) => format!("off — {note}"),
        (None, None) => "off".to_string(),
    };
    format!(
        "models: codebook {}, stance {}, clusters {}, tokenizer {}, sentence encoder {encoder}",
        m.codebook,
        m.stance_model.as_deref().unwrap_or("off (cues only)"),
        m.cluster_model.as_deref().unwrap_or("off (cues only)"),
        m.tokenizer.as_deref().unwrap_or("off"),
    )
}

/// Escape text for HTML content and attribute values.
pub fn html_escape(s: &str) -> String {
    crate::graph_export::xml_escape(s)
}

const STANCE_COLOURS: [&str; 4] = ["#9aa0a6", "#1a7f37", "#cf222e", "#8250df"];

/// Colour of a label: neutral grey, then one colour per other label in codebook order.
fn label_colour(labels: &[String], label: &str) -> &'static str {
    let i = labels.iter().position(|l| l == label).unwrap_or(0);
    STANCE_COLOURS[i.min(STANCE_COLOURS.len() - 1)]
}

fn stance_bar(counts: &std::collections::BTreeMap<String, usize>, labels: &[String]) -> String {
    let total: usize = counts.values().sum();
    let mut out = String::from("<div class=\"bar\">");
    for l in labels {
        let n = counts.get(l).copied().unwrap_or(0);
        if n == 0 || total == 0 {
            continue;
        }
        let _ = write!(
            out,
            "<span style=\"width:{:.1}%;background:{}\" title=\"{} {}\">{} {}</span>",
            100.0 * n as f64 / total as f64,
            label_colour(labels, l),
            html_escape(l),
            n,
            html_escape(l),
            n
        );
    }
    out.push_str("</div>");
    out
}

/// The reply graph as SVG: one row per comment in display order, indented by depth; nodes coloured by
/// the first dimension's label, edges green for agreement, red for disagreement.
fn svg_graph(a: &Analysis, dim: &str, labels: &[String]) -> String {
    let t = &a.thread;
    let depths = crate::reply_graph::depths(t);
    let row = 18.0;
    let step = 22.0;
    let max_depth = depths.iter().copied().max().unwrap_or(1);
    let width = 40.0 + step * max_depth as f64 + 340.0;
    let height = 30.0 + row * (t.comments.len() as f64 + 1.0);
    let pos: std::collections::HashMap<&str, usize> =
        t.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let xy = |i: usize| (20.0 + step * depths[i] as f64, 20.0 + row * (i as f64 + 1.0));
    let mut out = format!(
        "<svg id=\"reply-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" role=\"img\" aria-label=\"reply graph\">"
    );
    let _ = write!(
        out,
        "<circle cx=\"20\" cy=\"20\" r=\"6\" fill=\"#333\"/><text x=\"32\" y=\"24\" class=\"lbl\">article</text>"
    );
    for (i, c) in t.comments.iter().enumerate() {
        let (x, y) = xy(i);
        let (px, py) = match c.parent.as_deref().and_then(|p| pos.get(p)) {
            Some(&p) => xy(p),
            None => (20.0, 20.0),
        };
        let rel = c.relation_to_parent.as_ref().map_or("neutral", |r| r.label.as_str());
        let colour = match rel {
            "agree" => "#1a7f37",
            "disagree" => "#cf222e",
            _ => "#c0c4c8",
        };
        let _ = write!(
            out,
            "<path class=\"edge {rel}\" d=\"M{px:.0},{py:.0} V{y:.0} H{x:.0}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{}\"/>",
            if rel == "neutral" { 1 } else { 2 }
        );
    }
    for (i, c) in t.comments.iter().enumerate() {
        let (x, y) = xy(i);
        let label = c.stance.as_ref().and_then(|s| s.get(dim)).map_or("", |l| l.label.as_str());
        let snippet: String = c.text.chars().take(48).collect();
        let _ = write!(
            out,
            "<a href=\"#{id}\"><circle class=\"node\" cx=\"{x:.0}\" cy=\"{y:.0}\" r=\"5\" fill=\"{fill}\"><title>#{idx} {author}: {dimname}={label}</title></circle><text x=\"{tx:.0}\" y=\"{ty:.0}\" class=\"lbl\">#{idx} {snip}</text></a>",
            id = html_escape(&c.id),
            fill = label_colour(labels, label),
            idx = c.index,
            author = html_escape(c.author.as_deref().unwrap_or("anonymous")),
            dimname = html_escape(dim),
            label = html_escape(label),
            tx = x + 10.0,
            ty = y + 4.0,
            snip = html_escape(&snippet.replace('\n', " ")),
        );
    }
    out.push_str("</svg>");
    out
}

fn comment_html(c: &Comment, cluster_names: &std::collections::HashMap<String, String>) -> String {
    let mut out = format!("<article class=\"comment\" id=\"{}\">", html_escape(&c.id));
    let _ = write!(
        out,
        "<header>#{} <b>{}</b>{}{}</header>",
        c.index,
        html_escape(c.author.as_deref().unwrap_or("anonymous")),
        c.span.map(|s| format!(" · lines {}-{}", s.first_line, s.last_line)).unwrap_or_default(),
        c.parent.as_ref().map(|p| format!(" · answers <a href=\"#{0}\">{0}</a>", html_escape(p))).unwrap_or_default()
    );
    for b in &c.blocks {
        match b {
            crate::model::Block::Quote { text, .. } => {
                let _ = write!(out, "<blockquote>{}</blockquote>", html_escape(text).replace('\n', "<br>"));
            }
            other => {
                let _ = write!(out, "<p>{}</p>", html_escape(other.text()).replace('\n', "<br>"));
            }
        }
    }
    let mut tags = Vec::new();
    if let Some(s) = &c.stance {
        for (d, l) in s {
            tags.push(format!("{}: {} ({:.2})", html_escape(d), html_escape(&l.label), l.confidence));
        }
    }
    if let Some(cl) = &c.clusters {
        tags.push(format!(
            "cluster: {} ({:.2})",
            html_escape(cluster_names.get(&cl.primary).unwrap_or(&cl.primary)),
            cl.confidence
        ));
    }
    if let Some(r) = &c.relation_to_parent {
        tags.push(format!("{} with parent", html_escape(&r.label)));
    }
    let _ = write!(out, "<footer>{}</footer></article>", tags.join(" · "));
    out
}

fn ref_html(r: &CommentRef) -> String {
    format!("<a href=\"#{}\">{}</a>: “{}”", html_escape(&r.id), html_escape(&who(r)), html_escape(&r.excerpt))
}

fn html(a: &Analysis) -> String {
    let t = &a.thread;
    let cb_dims: Vec<(String, Vec<String>)> = a.summary.labels.iter().map(|(d, l)| (d.clone(), l.clone())).collect();
    let first_dim = cb_dims.first().cloned().unwrap_or_default();
    let title = html_escape(t.article.title.as_deref().unwrap_or("Thread"));
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"><title>draad: {title}</title><style>{CSS}</style></head><body><h1>{title}</h1>"
    );
    let s = &a.summary;
    let _ = write!(
        out,
        "<p class=\"meta\">{} comments, {} top-level · source {}</p>",
        s.comments,
        s.top_level,
        html_escape(&t.source.shown())
    );
    if let Some(note) = structure_note(&s.structure) {
        let _ = write!(out, "<p class=\"meta\">{}</p>", html_escape(&note));
    }
    if let Some(note) = s.codebook_fit.note() {
        let _ = write!(out, "<p class=\"warning\"><strong>{}</strong></p>", html_escape(&note));
    }
    let _ = write!(out, "<section id=\"stance\"><h2>Stance over the thread</h2>");
    for (d, labels) in &cb_dims {
        let _ = write!(out, "<h3>{}</h3>{}", html_escape(d), stance_bar(&s.stance[d], labels));
    }
    out.push_str("</section><section id=\"clusters\"><h2>Argument clusters</h2>");
    for c in &a.clusters {
        out.push_str(&cluster_html(c, &cb_dims));
    }
    out.push_str("</section><section id=\"clashes\"><h2>Where people clash</h2><ul>");
    for c in s.clashes.iter().take(10) {
        let _ = write!(
            out,
            "<li><b>{}</b>: {} ({}) answers {} ({}){}</li>",
            html_escape(&c.dimension),
            ref_html(&c.reply),
            html_escape(c.reply.stance.get(&c.dimension).map_or("", String::as_str)),
            ref_html(&c.parent),
            html_escape(c.parent.stance.get(&c.dimension).map_or("", String::as_str)),
            html_escape(&edge_note(s.structure.inferred, c.parent_confidence))
        );
    }
    out.push_str("</ul><h3>Longest back-and-forth chains</h3><ul>");
    for ch in &s.chains {
        let ids: Vec<String> =
            ch.comments.iter().map(|c| format!("<a href=\"#{0}\">#{1}</a>", html_escape(&c.id), c.index)).collect();
        let _ = write!(
            out,
            "<li>{} deep: {} · {} clashes · {}{}</li>",
            ch.comments.len(),
            ids.join(" → "),
            ch.clashes,
            html_escape(&ch.participants.join(", ")),
            html_escape(&weakest_note(s.structure.inferred, ch.weakest_link))
        );
    }
    out.push_str("</ul><h3>Top-level comments that drew the most replies</h3><ul>");
    for (c, n) in &s.most_replied {
        let _ = write!(out, "<li>{n} replies: {}{}</li>", ref_html(c), html_escape(&top_level_note(a, c)));
    }
    out.push_str("</ul>");
    if let Some(note) = left_out_note(s) {
        let _ = write!(out, "<p class=\"meta\">{}</p>", html_escape(&note));
    }
    out.push_str("</section>");
    let _ = write!(
        out,
        "<section id=\"graph\"><h2>Reply graph</h2><p class=\"meta\">nodes coloured by {}: {}; edges green for agreement, red for disagreement</p>{}</section>",
        html_escape(&first_dim.0),
        first_dim
            .1
            .iter()
            .map(|l| format!("<span style=\"color:{}\">●</span> {}", label_colour(&first_dim.1, l), html_escape(l)))
            .collect::<Vec<_>>()
            .join(" "),
        svg_graph(a, &first_dim.0, &first_dim.1)
    );
    let names: std::collections::HashMap<String, String> =
        a.clusters.iter().map(|c| (c.id.clone(), c.name.clone())).collect();
    out.push_str("<section id=\"comments\"><h2>All comments</h2>");
    for c in &t.comments {
        out.push_str(&comment_html(c, &names));
    }
    out.push_str("</section>");
    let _ = write!(out, "<footer class=\"meta\">{}</footer>", html_escape(&models_line(a)));
    out.push_str("</body></html>\n");
    out
}

fn cluster_html(c: &ClusterSummary, dims: &[(String, Vec<String>)]) -> String {
    let mut out = format!(
        "<div class=\"cluster\" data-cluster=\"{}\"><h3>{} <small>{} ({:.0}%)</small></h3>",
        html_escape(&c.id),
        html_escape(&c.name),
        count(c.size, "comment"),
        c.share * 100.0
    );
    for (d, labels) in dims {
        if let Some(counts) = c.stance.get(d) {
            let _ = write!(out, "<div class=\"dim\">{}</div>{}", html_escape(d), stance_bar(counts, labels));
        }
    }
    out.push_str("<ul>");
    for r in &c.representatives {
        let _ = write!(out, "<li>{}</li>", ref_html(r));
    }
    if let Some(r) = &c.counter_argument {
        let _ = write!(out, "<li class=\"counter\">counter-argument: {}</li>", ref_html(r));
    }
    out.push_str("</ul></div>");
    out
}

const CSS: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1f2328}h1{font-size:1.5em}.meta{color:#57606a}.bar{display:flex;height:1.4em;border-radius:4px;overflow:hidden;margin:.2em 0 .6em;font-size:.75em;color:#fff}.bar span{display:flex;align-items:center;padding-left:.4em;white-space:nowrap;overflow:hidden}.cluster{border:1px solid #d0d7de;border-radius:6px;padding:.4em 1em;margin:.8em 0}.cluster h3{margin:.3em 0}.dim{font-size:.8em;color:#57606a}.counter{color:#8250df}.comment{border-top:1px solid #d0d7de;padding:.5em 0}.comment header{font-size:.85em;color:#57606a}.comment footer{font-size:.8em;color:#57606a}blockquote{margin:.3em 0;padding-left:.8em;border-left:3px solid #d0d7de;color:#57606a}#graph{overflow-x:auto}.lbl{font-size:11px;fill:#1f2328}:target{background:#fff8c5}";
