//! The reply graph: reconstruction of who answers whom in copied text, checks of a structure that
//! the input states, and the petgraph form of a thread.
//!
//! Reconstruction uses the depth-first display order: the parent of a reaction is the reaction just
//! before it, one of that reaction's ancestors, or the article. Each candidate gets a score from the
//! evidence (quotes, `@name`s resolved against known authors, the author's `@reply-to`, words echoed
//! from the candidate, the way the reply opens, a question it answers); the best one wins and the
//! softmax over the candidates is its confidence.

use crate::error::{Error, Result};
use crate::model::{Block, Comment, Evidence, QuoteSource, Thread};
use crate::textnorm::content_words;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{HashMap, HashSet};

/// A node of the reply graph.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Article,
    /// Position of the comment in `Thread::comments`.
    Comment(usize),
}

/// An edge from a reply to what it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyEdge {
    pub confidence: f64,
    pub evidence: Vec<Evidence>,
}

pub type ReplyGraph = DiGraph<Node, ReplyEdge>;

/// Build the petgraph form: node 0 is the article, node `i + 1` is comment `i`; each edge runs from
/// a reply to its parent. The thread must have passed [`check_structure`].
pub fn build_graph(thread: &Thread) -> ReplyGraph {
    let mut g = DiGraph::with_capacity(thread.comments.len() + 1, thread.comments.len());
    let article = g.add_node(Node::Article);
    let nodes: Vec<NodeIndex> = (0..thread.comments.len()).map(|i| g.add_node(Node::Comment(i))).collect();
    let pos = positions(thread);
    for (i, c) in thread.comments.iter().enumerate() {
        let target = match &c.parent {
            None => article,
            Some(p) => pos.get(p.as_str()).map_or(article, |&j| nodes[j]),
        };
        g.add_edge(
            nodes[i],
            target,
            ReplyEdge { confidence: c.parent_confidence, evidence: c.parent_evidence.clone() },
        );
    }
    g
}

fn positions(thread: &Thread) -> HashMap<&str, usize> {
    thread.comments.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect()
}

/// Check a structure that the input states: unique ids, known parents, no cycles. Problems are
/// errors naming the comment, since a graph built on them would be wrong.
pub fn check_structure(thread: &Thread, file: &str) -> Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let place = |i: usize| -> Option<String> {
        let c = &thread.comments[i];
        Some(match c.span {
            Some(s) => format!("line {} (comment {})", s.first_line, i + 1),
            None => format!("comment {}", i + 1),
        })
    };
    for (i, c) in thread.comments.iter().enumerate() {
        if c.id.is_empty() {
            return Err(Error::new(file, place(i), "comment has an empty id"));
        }
        if let Some(first) = seen.insert(c.id.as_str(), i) {
            return Err(Error::new(
                file,
                place(i),
                format!("duplicate comment id '{}' (first used by comment {})", c.id, first + 1),
            ));
        }
    }
    for (i, c) in thread.comments.iter().enumerate() {
        if let Some(p) = &c.parent {
            if p == &c.id {
                return Err(Error::new(file, place(i), format!("comment '{}' is its own parent", c.id)));
            }
            if !seen.contains_key(p.as_str()) {
                return Err(Error::new(
                    file,
                    place(i),
                    format!("comment '{}' has parent '{p}', which is not a comment of this thread (dangling parent)", c.id),
                ));
            }
        }
    }
    // Cycles: follow parents with a colouring walk (each comment visited once).
    let mut state = vec![0u8; thread.comments.len()]; // 0 new, 1 on path, 2 done
    for start in 0..thread.comments.len() {
        let mut path = Vec::new();
        let mut cur = Some(start);
        while let Some(i) = cur {
            match state[i] {
                2 => break,
                1 => {
                    let cycle: Vec<&str> = path
                        .iter()
                        .skip_while(|&&j| j != i)
                        .map(|&j: &usize| thread.comments[j].id.as_str())
                        .collect();
                    return Err(Error::new(
                        file,
                        Some(format!("comment '{}'", thread.comments[i].id)),
                        format!("reply cycle: {} -> {}", cycle.join(" -> "), thread.comments[i].id),
                    ));
                }
                _ => {}
            }
            state[i] = 1;
            path.push(i);
            cur = thread.comments[i].parent.as_ref().map(|p| seen[p.as_str()]);
        }
        for j in path {
            state[j] = 2;
        }
    }
    Ok(())
}

/// Whether the thread's display order is depth-first with respect to its parents: the parent of every
/// comment is the article, the previous comment, or an ancestor of the previous comment.
pub fn is_depth_first(thread: &Thread) -> bool {
    let pos = positions(thread);
    let parent_pos: Vec<Option<usize>> =
        thread.comments.iter().map(|c| c.parent.as_ref().and_then(|p| pos.get(p.as_str()).copied())).collect();
    for i in 1..thread.comments.len() {
        if let Some(p) = parent_pos[i] {
            let mut cur = Some(i - 1);
            let mut ok = false;
            while let Some(c) = cur {
                if c == p {
                    ok = true;
                    break;
                }
                cur = parent_pos[c];
            }
            if !ok {
                return false;
            }
        }
    }
    thread.comments.first().is_none_or(|c| c.parent.is_none())
}

/// Weights of the evidence, in log-odds units.
mod weight {
    pub const PRIOR_PREVIOUS: f64 = 1.0;
    pub const PRIOR_ARTICLE: f64 = 0.4;
    pub const PRIOR_ANCESTOR_STEP: f64 = -0.35;
    pub const OPENING_QUOTE: f64 = 6.0;
    pub const OPENING_QUOTE_OF_ARTICLE: f64 = 3.5;
    pub const INNER_QUOTE: f64 = 2.5;
    pub const REPLY_TO: f64 = 8.0;
    pub const MENTION: f64 = 2.5;
    pub const ECHO: f64 = 3.0;
    pub const REPLY_CUE_AGAINST_ARTICLE: f64 = -1.5;
    pub const ANSWERS_QUESTION: f64 = 0.5;
    pub const SAME_AUTHOR: f64 = -2.0;
}

const DISAGREE_OPENERS: &[&str] = &["nee", "onzin", "hoezo", "uh", "uhm", "welnee", "nope", "niet"];
const AGREE_OPENERS: &[&str] = &["klopt", "precies", "inderdaad", "exact", "ja", "jazeker", "zeker", "eens", "idd"];
const ADDRESS_WORDS: &[&str] = &["je", "jij", "jouw", "jou", "u", "uw"];

/// How a reply opens, if it opens like a reply.
fn reply_opening(text: &str) -> Option<String> {
    let t = text.trim_start();
    if t.starts_with('@') {
        return Some("opens with an @mention".into());
    }
    let first: String = t.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("").to_lowercase();
    if DISAGREE_OPENERS.contains(&first.as_str()) || AGREE_OPENERS.contains(&first.as_str()) {
        return Some(format!("opens with '{first}'"));
    }
    let lower = t.to_lowercase();
    if lower.starts_with("ik volg je") || lower.starts_with("wat een rare") || lower.starts_with("dat is niet") {
        return Some("opens by answering someone".into());
    }
    let words: Vec<String> = crate::textnorm::words(t).into_iter().take(25).collect();
    if let Some(w) = words.iter().find(|w| ADDRESS_WORDS.contains(&w.as_str())) {
        return Some(format!("addresses someone ('{w}')"));
    }
    None
}

fn ends_with_question(text: &str) -> bool {
    text.trim_end().ends_with('?')
}

/// Reconstruct the parents of comments read from copied text, in display order. `reply_to` holds
/// the `@name` from an author header, per comment. Sets `parent`, `parent_confidence` and
/// `parent_evidence` on every comment.
pub fn reconstruct(comments: &mut [Comment], reply_to: &[Option<String>], article_text: &str) {
    let n = comments.len();
    // Document frequencies of content words, for echo weighting.
    let bags: Vec<HashSet<String>> = comments.iter().map(|c| content_words(&c.text).into_iter().collect()).collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for bag in &bags {
        for w in bag {
            *df.entry(w.as_str()).or_default() += 1;
        }
    }
    let article_words: HashSet<String> = content_words(article_text).into_iter().collect();
    let idf = |w: &str| -> f64 {
        let d = df.get(w).copied().unwrap_or(0) as f64;
        let a = if article_words.contains(w) { 0.5 } else { 0.0 };
        ((n as f64 + 1.0) / (d + 1.0 + a * n as f64 * 0.2)).ln().max(0.0)
    };
    let mut parent_pos: Vec<Option<usize>> = vec![None; n];
    for k in 0..n {
        if k == 0 {
            set_parent(&mut comments[0], None, 1.0, vec![Evidence::new("display_order", "the first reaction answers the article")]);
            continue;
        }
        // Candidates: the previous comment and its ancestors, then the article.
        let mut chain = Vec::new();
        let mut cur = Some(k - 1);
        while let Some(c) = cur {
            chain.push(c);
            cur = parent_pos[c];
        }
        let me = &comments[k];
        let opening = me.blocks.first().and_then(|b| match b {
            Block::Quote { source, .. } => Some(source.clone()),
            _ => None,
        });
        let inner: Vec<QuoteSource> = me
            .blocks
            .iter()
            .skip(1)
            .filter_map(|b| match b {
                Block::Quote { source, .. } => Some(source.clone()),
                _ => None,
            })
            .collect();
        let cue = reply_opening(&me.text);
        let mentions = &me.mentions;
        let my_words = &bags[k];
        let my_norm: f64 = my_words.iter().map(|w| idf(w)).sum::<f64>().max(1e-9);

        let mut scored: Vec<(Option<usize>, f64, Vec<Evidence>)> = Vec::new();
        // The article.
        {
            let mut s = weight::PRIOR_ARTICLE;
            let mut ev = vec![Evidence::new("display_order", "a new top-level reaction")];
            if opening == Some(QuoteSource::Article) {
                s += weight::OPENING_QUOTE_OF_ARTICLE;
                ev.push(Evidence::new("quote", "opens with a quote of the article"));
            }
            if let Some(c) = &cue {
                s += weight::REPLY_CUE_AGAINST_ARTICLE;
                ev.push(Evidence::new("reply_cue_against", format!("{c}, like a reply to a reaction")));
            }
            scored.push((None, s, ev));
        }
        for (depth, &c) in chain.iter().enumerate() {
            let cand = &comments[c];
            let mut s = if depth == 0 {
                weight::PRIOR_PREVIOUS
            } else {
                weight::PRIOR_PREVIOUS + weight::PRIOR_ANCESTOR_STEP * depth as f64
            };
            let mut ev = vec![Evidence::new(
                "display_order",
                if depth == 0 {
                    format!("the reaction just before ({})", cand.id)
                } else {
                    format!("an ancestor of the reaction before, {depth} level(s) up ({})", cand.id)
                },
            )];
            if let Some(QuoteSource::Comment { id }) = &opening {
                if id == &cand.id {
                    s += weight::OPENING_QUOTE;
                    ev.push(Evidence::new("quote", format!("opens with a quote of {}", cand.id)));
                }
            }
            for q in &inner {
                if let QuoteSource::Comment { id } = q {
                    if id == &cand.id {
                        s += weight::INNER_QUOTE;
                        ev.push(Evidence::new("quote", format!("quotes {} further on", cand.id)));
                        break;
                    }
                }
            }
            if let Some(author) = &cand.author {
                if reply_to[k].as_deref().is_some_and(|r| r.eq_ignore_ascii_case(author)) {
                    s += weight::REPLY_TO;
                    ev.push(Evidence::new("reply_to", format!("the header answers @{author}")));
                }
                if mentions.iter().any(|m| m.eq_ignore_ascii_case(author)) {
                    s += weight::MENTION;
                    ev.push(Evidence::new("mention", format!("mentions @{author}, the author of {}", cand.id)));
                }
                if me.author.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(author)) {
                    s += weight::SAME_AUTHOR;
                    ev.push(Evidence::new("same_author", format!("{author} wrote both")));
                }
            }
            let shared: Vec<&String> = my_words.intersection(&bags[c]).collect();
            if !shared.is_empty() {
                let cand_norm: f64 = bags[c].iter().map(|w| idf(w)).sum::<f64>().max(1e-9);
                let overlap: f64 = shared.iter().map(|w| idf(w)).sum::<f64>();
                let sim = overlap / (my_norm * cand_norm).sqrt();
                if sim > 0.05 {
                    s += weight::ECHO * sim.min(1.0);
                    let mut top: Vec<&&String> = shared.iter().collect();
                    top.sort_by(|a, b| idf(b).total_cmp(&idf(a)).then(a.cmp(b)));
                    let list: Vec<&str> = top.iter().take(5).map(|w| w.as_str()).collect();
                    ev.push(Evidence::new("echo", format!("echoes words of {} ({:.2}): {}", cand.id, sim, list.join(", "))));
                }
            }
            if depth == 0 && ends_with_question(&cand.text) {
                s += weight::ANSWERS_QUESTION;
                ev.push(Evidence::new("question", format!("{} ends with a question", cand.id)));
            }
            if depth == 0 {
                if let Some(c) = &cue {
                    ev.push(Evidence::new("reply_cue", c.clone()));
                }
            }
            scored.push((Some(c), s, ev));
        }
        let max = scored.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = scored.iter().map(|s| (s.1 - max).exp()).sum();
        // Ties go to the deepest candidate (the previous comment), as in a reply chain.
        let best = scored
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.1.total_cmp(&b.1.1).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i)
            .unwrap_or(0);
        let (parent, s, mut evidence) = scored.swap_remove(best);
        let confidence = (s - max).exp() / z;
        if let Some(QuoteSource::Comment { id }) = &opening {
            if !chain.iter().any(|&c| &comments[c].id == id) {
                evidence.push(Evidence::new(
                    "quote_off_path",
                    format!("quotes {id}, which is not on the display path (its branch may be collapsed or the order unusual)"),
                ));
            }
        }
        parent_pos[k] = parent;
        let parent_id = parent.map(|p| comments[p].id.clone());
        set_parent(&mut comments[k], parent_id, confidence, evidence);
    }
}

fn set_parent(c: &mut Comment, parent: Option<String>, confidence: f64, evidence: Vec<Evidence>) {
    c.parent = parent;
    c.parent_confidence = (confidence * 1000.0).round() / 1000.0;
    c.parent_evidence = evidence;
}

/// Depth of every comment (1 for a reply to the article). The thread must have passed
/// [`check_structure`].
pub fn depths(thread: &Thread) -> Vec<usize> {
    let pos = positions(thread);
    let mut depth = vec![0usize; thread.comments.len()];
    for i in 0..thread.comments.len() {
        let mut d = 1;
        let mut cur = thread.comments[i].parent.as_ref().and_then(|p| pos.get(p.as_str()).copied());
        while let Some(j) = cur {
            if depth[j] > 0 {
                d += depth[j];
                break;
            }
            d += 1;
            cur = thread.comments[j].parent.as_ref().and_then(|p| pos.get(p.as_str()).copied());
        }
        depth[i] = d;
    }
    depth
}

/// Put the comments in depth-first order: every top-level comment followed by its replies, children
/// in their current order. Works without recursion, so very deep chains are fine. The thread must
/// have passed [`check_structure`].
pub fn reorder_depth_first(thread: &mut Thread) {
    let pos = positions(thread);
    let n = thread.comments.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, c) in thread.comments.iter().enumerate() {
        match c.parent.as_ref().and_then(|p| pos.get(p.as_str())) {
            Some(&p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        order.push(i);
        stack.extend(children[i].iter().rev());
    }
    let mut old: Vec<Option<Comment>> = std::mem::take(&mut thread.comments).into_iter().map(Some).collect();
    thread.comments = order.into_iter().map(|i| old[i].take().expect("each comment once")).collect();
}
