//! Pieces of a comment body that every reader needs: the commenter's own text, `@name` mentions and
//! links.

use crate::model::{Block, Link};
use regex::Regex;
use std::sync::LazyLock;

static MENTION_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\w@])@([\p{L}\p{N}_][\p{L}\p{N}_.\-]*)").unwrap());
static URL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:https?://|www\.)[^\s<>"]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:ai|nl|com|net|org|eu|be|io)/[^\s<>"]*"#,
    )
    .unwrap()
});
static TWEAKERS_LINK_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:nieuws|review|reviews|pricewatch|forum|video|podcast|plan|meuktracker|download|downloads|artikel|achtergrond): [^\n]*?(?:\.\.\.|…)").unwrap()
});

/// A line that names the source of the quote before it ("Aldus de AP") belongs to the quote, not
/// to the commenter's own words: move it there (as the copied-text reader does).
pub fn fold_attributions(blocks: &mut Vec<Block>) {
    let mut k = 1;
    while k < blocks.len() {
        let (before, after) = blocks.split_at_mut(k);
        if let (Block::Quote { text: quote, .. }, Block::Paragraph { text }) = (&mut before[k - 1], &mut after[0]) {
            let first = text.lines().next().unwrap_or("").to_string();
            if crate::segment::is_attribution_after(&first) {
                quote.push('\n');
                quote.push_str(first.trim());
                let rest = text.lines().skip(1).collect::<Vec<_>>().join("\n");
                if rest.trim().is_empty() {
                    blocks.remove(k);
                    continue;
                }
                *text = rest;
            }
        }
        k += 1;
    }
}

/// The commenter's own words: paragraphs and list items, quotes left out. Paragraphs are separated
/// by a blank line, list items by a newline.
pub fn own_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    let mut last_was_item = false;
    for b in blocks {
        let (text, item) = match b {
            Block::Paragraph { text } => (text, false),
            Block::ListItem { text } => (text, true),
            Block::Quote { .. } => continue,
        };
        if !out.is_empty() {
            out.push_str(if item && last_was_item { "\n" } else { "\n\n" });
        }
        out.push_str(text);
        last_was_item = item;
    }
    out
}

/// `@name` mentions in a text. A mention is matched against `known` names first, so that a name
/// with a space ("@Hans C") is found whole; otherwise it runs to the first character that cannot be
/// part of a user name, without trailing dots or dashes.
pub fn find_mentions(text: &str, known: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cap in MENTION_RE.captures_iter(text) {
        let m = cap.get(1).expect("group 1");
        let rest = &text[m.start()..];
        let by_known = known
            .iter()
            .filter(|k| {
                rest.len() >= k.len()
                    && rest.is_char_boundary(k.len())
                    && rest[..k.len()].eq_ignore_ascii_case(k)
                    && !rest[k.len()..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
            .max_by_key(|k| k.len());
        let name = match by_known {
            Some(k) => k.clone(),
            None => m.as_str().trim_end_matches(['.', '-']).to_string(),
        };
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Links in a text. Copied text keeps only the link text; one shortened with `...` in the middle
/// or at the end is marked `truncated`, since its full target is lost.
pub fn find_links(text: &str) -> Vec<Link> {
    let mut out = Vec::new();
    for m in URL_RE.find_iter(text) {
        let t = m.as_str().trim_end_matches(['.', ',', ')', ';', ':', '!', '?']);
        let truncated = t.contains("...") || t.contains('…');
        let url = (!truncated)
            .then(|| if t.starts_with("www.") || !t.contains("://") { format!("https://{t}") } else { t.to_string() });
        out.push(Link { text: t.to_string(), url, truncated });
    }
    for m in TWEAKERS_LINK_RE.find_iter(text) {
        out.push(Link { text: m.as_str().to_string(), url: None, truncated: true });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_prefer_known_names() {
        let known = vec!["Hans C".to_string(), "GertMenkel".to_string()];
        assert_eq!(
            find_mentions("Je kan het niet leuk vinden, maar @GertMenkel heeft wel gelijk.", &known),
            vec!["GertMenkel"]
        );
        assert_eq!(find_mentions("@Hans C zei dat al. Zie ook @wells.p.", &known), vec!["Hans C", "wells.p"]);
        assert!(find_mentions("mail me op naam@example.com", &known).is_empty());
    }

    #[test]
    fn links_flag_truncation() {
        let l = find_links("Zie https://www.cnet.com/news...l-recognition-collection/ en https://privacy-web.nl/x.");
        assert_eq!(l.len(), 2);
        assert!(l[0].truncated && l[0].url.is_none());
        assert_eq!(l[1].url.as_deref(), Some("https://privacy-web.nl/x"));
        let t = find_links("nieuws: AP kan AVG-boete van 525.000 euro niet innen vanwege onbekende bedrij...");
        assert!(t[0].truncated);
        let bare = find_links("Op de website zie je wel een hoop mensen. clearview.ai/leadership Ik heb");
        assert_eq!(bare[0].text, "clearview.ai/leadership");
    }

    #[test]
    fn an_attribution_after_a_quote_joins_the_quote() {
        use crate::model::QuoteSource;
        let quote = |t: &str| Block::Quote { text: t.into(), source: QuoteSource::Outside };
        let para = |t: &str| Block::Paragraph { text: t.into() };
        let mut blocks = vec![
            quote("Zo'n bedrijf mag niet doorgaan."),
            para("Aldus de AP\nDat is de volgende stap."),
            para("Tot slot."),
        ];
        fold_attributions(&mut blocks);
        assert_eq!(
            blocks,
            vec![
                quote("Zo'n bedrijf mag niet doorgaan.\nAldus de AP"),
                para("Dat is de volgende stap."),
                para("Tot slot.")
            ]
        );
        assert_eq!(own_text(&blocks), "Dat is de volgende stap.\n\nTot slot.");
        // A paragraph that is only the attribution goes whole; other paragraphs stay.
        let mut blocks = vec![
            quote("Citaat."),
            para("Bron: NOS"),
            quote("Nog een."),
            para("Aldus gezegd is het onzin, vind ik, en dat zeg ik al jaren tegen iedereen."),
        ];
        fold_attributions(&mut blocks);
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0], quote("Citaat.\nBron: NOS"));
        assert!(matches!(&blocks[2], Block::Paragraph { .. }));
    }
}
