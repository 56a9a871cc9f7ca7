//! A long Tweakers thread split over pages (`.pagination-section`), read from its saved pages as one
//! thread. The pages are joined in the order given: the article and its counts come from the first
//! page, a reaction shown on two pages is read once, and a reaction at the top of a page whose
//! reply-to link names a reaction on another page is placed under that reaction.

use std::collections::{HashMap, HashSet};

use super::{ReadOptions, check_text, detect_format, finish_structured, html, read_bytes, read_path};
use crate::error::{Error, Result};
use crate::model::{Evidence, Format, Thread, Warning};

/// Read one thread from one file, or from the saved HTML pages of a thread split over pages.
pub fn read_pages(paths: &[String], options: &ReadOptions) -> Result<Thread> {
    match paths {
        [] => Err(Error::new("", None, "no input file given")),
        [one] => read_path(one, options),
        _ => join_pages(paths, options),
    }
}

fn read_page(path: &str, options: &ReadOptions) -> Result<html::Page> {
    let bytes = read_bytes(path, options.max_bytes)?;
    if super::webarchive::looks_like(&bytes) {
        return super::read_webarchive_page(&bytes, path, options.max_nesting);
    }
    let text = check_text(&bytes, path)?;
    let format = options.format.or_else(|| detect_format(text));
    if format == Some(Format::Text) {
        return Err(Error::new(
            path,
            None,
            "several files are read as the saved HTML pages of one thread, and this one is copied text: \
             paste the copies of the pages into one file, one below the other (draad takes the article's \
             repeated header as the start of the next page), or use `draad batch` for separate threads",
        ));
    }
    if format != Some(Format::Html) {
        let what = format.map_or("of no known format".to_string(), |f| format!("detected as {f:?}").to_lowercase());
        return Err(Error::new(
            path,
            None,
            format!(
                "several files are read as the pages of one saved Tweakers thread, but this one is not a saved HTML page ({what}); give one file, or use `draad batch` for separate threads"
            ),
        ));
    }
    html::read_page(text, path, options.max_nesting)
}

fn join_pages(paths: &[String], options: &ReadOptions) -> Result<Thread> {
    let first = &paths[0];
    let mut joined: Option<Thread> = None;
    // Reaction id -> (page number, its text), to read a reaction shown on two pages once.
    let mut seen: HashMap<String, (usize, String)> = HashMap::new();
    let mut off_page: Vec<(String, String, usize)> = Vec::new();
    let mut repeated = 0usize;
    for (k, path) in paths.iter().enumerate() {
        let page = read_page(path, options)?;
        let mut thread = page.thread;
        let on_page = |place: Option<String>| Some(place.map_or(path.clone(), |p| format!("{path}, {p}")));
        let warnings: Vec<Warning> = std::mem::take(&mut thread.warnings)
            .into_iter()
            .filter(|w| w.kind != "reaction_count")
            .map(|w| Warning { place: on_page(w.place), ..w })
            .collect();
        let target = joined.get_or_insert_with(|| Thread {
            schema: thread.schema.clone(),
            source: crate::model::Source { path: first.clone(), format: Format::Html, pages: paths.to_vec() },
            article: thread.article.clone(),
            comments: Vec::new(),
            warnings: Vec::new(),
        });
        if let (Some(a), Some(b)) = (&target.article.title, &thread.article.title)
            && a != b
        {
            return Err(Error::new(
                path,
                None,
                format!("this page belongs to another article (\"{b}\") than the first page, {first} (\"{a}\")"),
            ));
        }
        target.warnings.extend(warnings);
        for c in thread.comments {
            if let Some((page_seen, text)) = seen.get(&c.id) {
                if *text != c.text {
                    return Err(Error::new(
                        path,
                        Some(format!("reaction r_{}", c.id)),
                        format!(
                            "reaction r_{} is also on page {} ({}) with another text; are these pages of one thread?",
                            c.id,
                            page_seen + 1,
                            paths[*page_seen]
                        ),
                    ));
                }
                repeated += 1;
                continue;
            }
            seen.insert(c.id.clone(), (k, c.text.clone()));
            target.comments.push(c);
        }
        off_page.extend(page.off_page_replies.into_iter().map(|(id, to)| (id, to, k)));
    }
    let mut thread = joined.expect("at least two pages");
    // Place the replies to reactions on other pages under them.
    let mut placed: HashSet<String> = HashSet::new();
    // The `reply_off_page` warnings (by their place) that the other pages settle.
    let mut settled: HashSet<String> = HashSet::new();
    for (id, to, k) in &off_page {
        let Some(&(page_of_target, _)) = seen.get(to) else { continue };
        settled.insert(format!("{}, reaction r_{id}", paths[*k]));
        // A reaction read from an earlier page, where it stood in its branch, keeps that place.
        if seen.get(id).is_none_or(|(page, _)| page != k) {
            continue;
        }
        if let Some(c) = thread.comments.iter_mut().find(|c| &c.id == id) {
            c.parent = Some(to.clone());
            c.parent_confidence = 1.0;
            c.parent_evidence = vec![
                Evidence::new("markup", format!("at the top of page {}, outside any reaction", k + 1)),
                Evidence::new(
                    "reply_to",
                    format!(
                        "the reply-to link points to r_{to}, on page {} ({})",
                        page_of_target + 1,
                        paths[page_of_target]
                    ),
                ),
            ];
            placed.insert(id.clone());
        }
    }
    thread.warnings.retain(|w| !(w.kind == "reply_off_page" && w.place.as_ref().is_some_and(|p| settled.contains(p))));
    finish_structured(&mut thread, first)?;
    // Replies placed under a reaction of an earlier page are out of page order by design.
    thread.warnings.retain(|w| w.kind != "reordered");
    let found = thread.comments.len();
    let mut message = format!("read {} pages as one thread: {found} reactions", paths.len());
    if !placed.is_empty() {
        message += &format!(", {} of them at the top of a page answering a reaction on another page", placed.len());
    }
    if repeated > 0 {
        message += &format!("; {repeated} reaction(s) shown on more than one page read once");
    }
    thread.warnings.insert(0, Warning::new("pages_joined", message, None));
    if let Some(declared) = thread.article.declared_reactions
        && declared as usize != found
    {
        thread.warnings.push(Warning::new(
            "reaction_count",
            format!("the page declares {declared} reactions but the {} pages hold {found}", paths.len()),
            None,
        ));
    }
    Ok(thread)
}
