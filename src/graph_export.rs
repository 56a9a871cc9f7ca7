//! Export of the reply graph: Graphviz DOT, GraphML (opens in Gephi) and a JSON node/edge list.
//! Comment text is untrusted: every string is escaped for the format it goes into.

use crate::model::Thread;
use crate::reply_graph::{Node, build_graph};
use petgraph::visit::EdgeRef;
use serde::Serialize;

/// Graph formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Graphml,
    Json,
    /// The structure table of copied text (replies.tsv columns), to correct by hand and read back
    /// with `--structure`.
    Tsv,
}

const ARTICLE_ID: &str = "article";

fn node_id(thread: &Thread, n: &Node) -> String {
    match n {
        Node::Article => ARTICLE_ID.to_string(),
        Node::Comment(i) => thread.comments[*i].id.clone(),
    }
}

fn label(thread: &Thread, n: &Node) -> String {
    match n {
        Node::Article => thread.article.title.clone().unwrap_or_else(|| "article".into()),
        Node::Comment(i) => {
            let c = &thread.comments[*i];
            let snippet: String = c.text.chars().take(60).collect();
            format!("#{} {}: {}", c.index, c.author.as_deref().unwrap_or("?"), snippet.replace('\n', " "))
        }
    }
}

fn evidence_kinds(e: &crate::reply_graph::ReplyEdge) -> String {
    let mut kinds: Vec<&str> = e.evidence.iter().map(|x| x.kind.as_str()).collect();
    kinds.dedup();
    kinds.join(",")
}

pub fn export(thread: &Thread, format: GraphFormat) -> crate::error::Result<String> {
    Ok(match format {
        GraphFormat::Dot => to_dot(thread),
        GraphFormat::Graphml => to_graphml(thread),
        GraphFormat::Json => to_json(thread),
        GraphFormat::Tsv => crate::ingest::structure::structure_table(thread)?,
    })
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('\r', "")
}

pub fn to_dot(thread: &Thread) -> String {
    let g = build_graph(thread);
    let mut out = String::from("digraph replies {\n  rankdir=RL;\n  node [shape=box, fontsize=10];\n");
    for n in g.node_indices() {
        let w = &g[n];
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\"];\n",
            dot_escape(&node_id(thread, w)),
            dot_escape(&label(thread, w))
        ));
    }
    for e in g.edge_references() {
        let w = e.weight();
        out.push_str(&format!(
            "  \"{}\" -> \"{}\" [label=\"{:.2}\", tooltip=\"{}\"{}];\n",
            dot_escape(&node_id(thread, &g[e.source()])),
            dot_escape(&node_id(thread, &g[e.target()])),
            w.confidence,
            dot_escape(&evidence_kinds(w)),
            if w.confidence < 0.5 { ", style=dashed" } else { "" }
        ));
    }
    out.push_str("}\n");
    out
}

/// Escape text for XML content and attribute values; drop characters XML 1.0 does not allow.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

pub fn to_graphml(thread: &Thread) -> String {
    let g = build_graph(thread);
    let mut out = String::from(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n",
        "  <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n",
        "  <key id=\"author\" for=\"node\" attr.name=\"author\" attr.type=\"string\"/>\n",
        "  <key id=\"index\" for=\"node\" attr.name=\"index\" attr.type=\"int\"/>\n",
        "  <key id=\"text\" for=\"node\" attr.name=\"text\" attr.type=\"string\"/>\n",
        "  <key id=\"confidence\" for=\"edge\" attr.name=\"confidence\" attr.type=\"double\"/>\n",
        "  <key id=\"evidence\" for=\"edge\" attr.name=\"evidence\" attr.type=\"string\"/>\n",
        "  <graph id=\"replies\" edgedefault=\"directed\">\n"
    ));
    for n in g.node_indices() {
        let w = &g[n];
        out.push_str(&format!("    <node id=\"{}\">\n", xml_escape(&node_id(thread, w))));
        out.push_str(&format!("      <data key=\"label\">{}</data>\n", xml_escape(&label(thread, w))));
        if let Node::Comment(i) = w {
            let c = &thread.comments[*i];
            out.push_str(&format!(
                "      <data key=\"author\">{}</data>\n",
                xml_escape(c.author.as_deref().unwrap_or(""))
            ));
            out.push_str(&format!("      <data key=\"index\">{}</data>\n", c.index));
            out.push_str(&format!("      <data key=\"text\">{}</data>\n", xml_escape(&c.text)));
        }
        out.push_str("    </node>\n");
    }
    for e in g.edge_references() {
        let w = e.weight();
        let detail: Vec<String> = w.evidence.iter().map(|x| format!("{}: {}", x.kind, x.detail)).collect();
        out.push_str(&format!(
            "    <edge source=\"{}\" target=\"{}\">\n      <data key=\"confidence\">{}</data>\n      <data key=\"evidence\">{}</data>\n    </edge>\n",
            xml_escape(&node_id(thread, &g[e.source()])),
            xml_escape(&node_id(thread, &g[e.target()])),
            w.confidence,
            xml_escape(&detail.join("; "))
        ));
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: String,
    kind: &'static str,
    index: Option<usize>,
    author: Option<&'a str>,
    label: String,
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    source: String,
    target: String,
    confidence: f64,
    evidence: &'a [crate::model::Evidence],
}

pub fn to_json(thread: &Thread) -> String {
    let g = build_graph(thread);
    let nodes = g
        .node_indices()
        .map(|n| {
            let w = &g[n];
            let (kind, index, author) = match w {
                Node::Article => ("article", None, None),
                Node::Comment(i) => ("comment", Some(thread.comments[*i].index), thread.comments[*i].author.as_deref()),
            };
            JsonNode { id: node_id(thread, w), kind, index, author, label: label(thread, w) }
        })
        .collect();
    let edges = g
        .edge_references()
        .map(|e| {
            let c = match &g[e.source()] {
                Node::Comment(i) => &thread.comments[*i],
                Node::Article => unreachable!("edges leave comments"),
            };
            JsonEdge {
                source: c.id.clone(),
                target: node_id(thread, &g[e.target()]),
                confidence: e.weight().confidence,
                evidence: &c.parent_evidence,
            }
        })
        .collect();
    serde_json::to_string_pretty(&JsonGraph { nodes, edges }).expect("graph serialises")
}
