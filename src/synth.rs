//! Synthetic Tweakers-like threads of any size with a known structure, for benchmarks, batch tests
//! and the reconstruction's scaling. A thread is generated as draad's data model (so its parents
//! are known) and written as draad JSON, as a saved Tweakers HTML page (2023 markup) or as the text
//! a reader copies from that page.
//!
//! The comments are Dutch sentences about a regulator's fine drawn from small topic banks, with the
//! things the readers must cope with: quotes of the parent, replies that open with "Klopt" or "Nee",
//! `@mentions`, edit lines and collapsed reactions. Generation is deterministic for a given seed.

use crate::ingest::comment_parts::{find_links, own_text};
use crate::model::{
    Article, Block, Comment, EditLine, Evidence, FilterCounts, Format, Provenance, QuoteSource, SCHEMA, Source, Thread,
};
use std::fmt::Write;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SynthOptions {
    /// Number of reactions.
    pub comments: usize,
    /// Seed of the generator; the same seed gives the same thread.
    pub seed: u64,
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Sentences per topic; a branch mostly stays on its topic.
const TOPICS: &[&[&str]] = &[
    &[
        "De AVG geldt voor iedereen die gegevens van Europeanen verwerkt, ook als het bedrijf in Amerika zit.",
        "Een Amerikaans bedrijf zonder vestiging hier valt gewoon niet onder de Nederlandse wet.",
        "Artikel 3 van de AVG is daar heel duidelijk over: het gaat om de mensen van wie de gegevens zijn.",
        "Waarom zou een Nederlandse toezichthouder iets te zeggen hebben over een bedrijf in New York?",
        "Als je diensten aanbiedt aan Europeanen, dan moet je je aan de Europese regels houden.",
        "De rechter in de VS zal zich weinig aantrekken van een Europese verordening.",
    ],
    &[
        "Ze gaan die boete nooit betalen, er is hier niets om beslag op te leggen.",
        "Stuur de deurwaarder maar langs bij een kantoor in Manhattan, succes daarmee.",
        "Zolang ze geen bezittingen in Europa hebben is de boete niet te innen.",
        "Als ze ooit zaken willen doen in de EU, dan ligt de rekening klaar.",
        "Een verdrag met de VS over het innen van boetes is er niet, dus dit blijft op papier.",
        "Via een Europese klant kun je wel degelijk geld binnenhalen.",
    ],
    &[
        "De AP kijkt nu ook of de bestuurders persoonlijk aansprakelijk kunnen worden gesteld.",
        "Een directeur die op Schiphol landt kan dan gewoon worden aangesproken.",
        "Persoonlijke aansprakelijkheid van de topmensen is het enige wat echt pijn doet.",
        "Die bestuurders komen heus niet meer naar Europa op vakantie.",
        "Dat noemen ze dan een reisverbod voor de directie, effectief of niet.",
    ],
    &[
        "Het is vooral symbolisch, maar het signaal naar andere bedrijven is belangrijk.",
        "Zo'n boete is een statement: wij pikken dit niet.",
        "Symboolpolitiek, het kost de belastingbetaler meer dan het oplevert.",
        "Een signaal afgeven heeft ook waarde, al komt er geen cent binnen.",
    ],
    &[
        "Dertig miljoen is voor zo'n bedrijf een schijntje.",
        "Het bedrag is hoger dan hun jaarlijkse omzet, dat overleven ze niet.",
        "Waarom niet gewoon vier procent van de wereldwijde omzet?",
        "Dat bedrag staat in geen verhouding tot de schade voor de mensen.",
    ],
    &[
        "Foto's die publiek op internet staan zijn toch gewoon openbaar?",
        "Openbaar betekent niet dat je er alles mee mag doen.",
        "Wie zijn foto op sociale media zet, weet dat iedereen die kan zien.",
        "Een gezicht is een biometrisch gegeven, dat is een bijzondere categorie.",
    ],
    &[
        "Klanten die Clearview gebruiken overtreden de wet ook, daar moet je beginnen.",
        "De politie mag die dienst hier niet gebruiken, dus de markt in Europa is weg.",
        "Bedrijven die met ze in zee gaan lopen nu zelf een risico.",
    ],
    &[
        "Ik snap niet dat mensen nog foto's van zichzelf online zetten.",
        "Wat een zinloze discussie weer, alsof dit iets gaat veranderen.",
        "Goed artikel, duidelijk uitgelegd.",
        "Is er eigenlijk al een reactie van het bedrijf zelf?",
    ],
];

/// Words that fill out a sentence.
const FILLER: &[&str] = &[
    "gewoon",
    "eigenlijk",
    "natuurlijk",
    "toch",
    "wel",
    "niet",
    "altijd",
    "soms",
    "vaak",
    "nooit",
    "hier",
    "daar",
    "misschien",
    "zeker",
    "echt",
    "ook",
    "nog",
    "al",
    "dan",
    "maar",
    "want",
    "omdat",
    "terwijl",
    "zodat",
    "als",
    "wet",
    "regels",
    "bedrijf",
    "bedrijven",
    "overheid",
    "rechter",
    "boete",
    "boetes",
    "geld",
    "euro",
    "miljoen",
    "privacy",
    "gegevens",
    "foto",
    "foto's",
    "gezichten",
    "internet",
    "Europa",
    "Amerika",
    "Nederland",
    "politie",
    "toezichthouder",
    "directeur",
    "bestuurders",
    "klanten",
    "gebruikers",
    "mensen",
    "burgers",
    "landen",
    "verdrag",
    "rechtszaak",
    "uitspraak",
    "beroep",
    "zaak",
    "kantoor",
    "server",
    "databank",
    "software",
    "dienst",
    "app",
    "betalen",
    "innen",
    "handhaven",
    "verbieden",
    "blokkeren",
    "aanpakken",
    "negeren",
    "verwerken",
    "opslaan",
    "verkopen",
    "kopen",
    "gebruiken",
    "bouwen",
    "zoeken",
    "vinden",
    "vragen",
    "zeggen",
    "denken",
    "weten",
    "zien",
    "snel",
    "traag",
    "duur",
    "goedkoop",
    "groot",
    "klein",
    "moeilijk",
    "makkelijk",
    "logisch",
    "raar",
    "vreemd",
    "terecht",
    "onterecht",
    "belangrijk",
    "zinloos",
    "effectief",
    "symbolisch",
    "juridisch",
    "technisch",
    "politiek",
    "jaar",
    "maand",
    "week",
    "dag",
    "morgen",
    "gisteren",
    "vandaag",
    "straks",
    "later",
    "eerder",
    "nu",
    "ooit",
    "ik",
    "jij",
    "je",
    "we",
    "ze",
    "zij",
    "hij",
    "het",
    "dat",
    "dit",
    "die",
    "deze",
    "wat",
    "wie",
    "waar",
    "hoe",
    "een",
    "de",
    "het",
    "van",
    "voor",
    "met",
    "zonder",
    "over",
    "tegen",
    "door",
    "bij",
    "naar",
    "uit",
    "in",
    "op",
    "kan",
    "moet",
    "mag",
    "wil",
    "zal",
    "gaat",
    "komt",
    "heeft",
    "is",
    "zijn",
    "wordt",
    "worden",
    "had",
    "was",
    "procent",
    "omzet",
    "winst",
    "risico",
    "schade",
    "signaal",
    "statement",
    "voorbeeld",
    "precedent",
    "probleem",
];
const OPENERS_AGREE: &[&str] = &["Klopt, ", "Precies. ", "Inderdaad, ", "Mee eens, ", ""];
const OPENERS_DISAGREE: &[&str] = &["Nee, ", "Onzin, ", "Hoezo? ", "Ik volg je niet. ", ""];
const NAME_PARTS: &[&str] = &[
    "Tweak", "Pixel", "Kaas", "Fiets", "Bit", "Stoom", "Wolk", "Rood", "Mol", "Vlinder", "Dijk", "Bakker", "Jansen",
    "Visser", "Hans", "Henk", "Marco", "Ilse", "Sanne", "Joost",
];

/// Posting time `minutes` after 3 september 2024 10:38, in the page's format.
fn page_time(minutes: u64) -> String {
    let days_in = [31u64, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let total = 10 * 60 + 38 + minutes;
    let (mut day, hour, minute) = (3 + total / (24 * 60), (total / 60) % 24, total % 60);
    let (mut month, mut year) = (8usize, 2024u64);
    while day > days_in[month] {
        day -= days_in[month];
        month += 1;
        if month == 12 {
            month = 0;
            year += 1;
        }
    }
    format!("{day} {} {year} {hour}:{minute:02}", crate::textnorm::MONTHS[month])
}

/// Generate a thread of `options.comments` reactions in display order (depth first).
pub fn thread(options: SynthOptions) -> Thread {
    let mut rng = Rng(options.seed ^ 0xD4AA_D000);
    let n = options.comments;
    let authors: Vec<String> = (0..(n / 3).max(3))
        .map(|i| {
            let (a, b) = (rng.pick(NAME_PARTS), rng.pick(NAME_PARTS));
            match i % 3 {
                0 => format!("{a}{b}"),
                1 => format!("{a}_{}", 10 + rng.below(90)),
                _ => format!("{a} {}", &b[..1]),
            }
        })
        .collect();
    let mut comments: Vec<Comment> = Vec::with_capacity(n);
    // Display chain of the last comment (positions, nearest first), and each comment's topic.
    let mut chain: Vec<usize> = Vec::new();
    let mut topics: Vec<usize> = Vec::with_capacity(n);
    let mut minutes = 5u64;
    for i in 0..n {
        // Parent: the article, the comment just before, or one of its ancestors.
        let parent = if chain.is_empty() || rng.chance(0.14) {
            None
        } else if rng.chance(0.55) && chain.len() < 9 {
            Some(chain[0])
        } else {
            let up = 1 + rng.below(chain.len().min(4));
            chain.get(up).copied()
        };
        match parent {
            Some(p) => {
                let at = chain.iter().position(|&x| x == p).expect("parent on the chain");
                chain.drain(..at);
                chain.insert(0, i);
            }
            None => chain = vec![i],
        }
        let topic = match parent {
            Some(p) if rng.chance(0.7) => topics[p],
            _ => rng.below(TOPICS.len()),
        };
        topics.push(topic);
        minutes += 1 + rng.below(12) as u64;
        let id = (19_000_000 + i * 3 + rng.below(3)).to_string();
        let author = authors[rng.below(authors.len())].clone();
        let parent_comment = parent.map(|p| &comments[p]);
        let mut blocks = Vec::new();
        let mut mentions = Vec::new();
        if let Some(pc) = parent_comment.filter(|pc| !pc.collapsed && !pc.text.is_empty())
            && rng.chance(0.2)
        {
            let sentence = pc.text.split_inclusive(['.', '?']).next().unwrap_or(&pc.text).trim().to_string();
            blocks.push(Block::Quote { text: sentence, source: QuoteSource::Comment { id: pc.id.clone() } });
        }
        let mut text = String::new();
        if let Some(pc) = parent_comment {
            if rng.chance(0.06)
                && let Some(name) = &pc.author
            {
                text.push_str(&format!("@{name} "));
                mentions.push(name.clone());
            }
            let openers = if rng.chance(0.5) { OPENERS_AGREE } else { OPENERS_DISAGREE };
            text.push_str(rng.pick(openers));
        }
        // One to four sentences: the opening words of a sentence of the topic, then words of the
        // filler vocabulary, so that a comment does not repeat earlier text (which would read as a quote).
        let bank = TOPICS[topic];
        for s in 0..1 + rng.below(4) {
            if s > 0 {
                text.push(' ');
            }
            let sentence = rng.pick(bank).trim_end_matches(['.', '?', ':']);
            let words: Vec<&str> = sentence.split(' ').collect();
            let keep = (4 + rng.below(4)).min(words.len());
            text.push_str(&words[..keep].join(" "));
            for _ in 0..3 + rng.below(8) {
                text.push(' ');
                text.push_str(rng.pick(FILLER));
            }
            text.push(if rng.chance(0.15) { '?' } else { '.' });
        }
        let paragraphs: Vec<String> = if rng.chance(0.2) {
            let cut = text.find(". ").map_or(text.len(), |c| c + 1);
            let (a, b) = text.split_at(cut);
            [a.trim(), b.trim()].into_iter().filter(|s| !s.is_empty()).map(str::to_string).collect()
        } else {
            vec![text]
        };
        blocks.extend(paragraphs.into_iter().map(|text| Block::Paragraph { text }));
        let collapsed = rng.chance(0.02);
        let score = if collapsed {
            Some(-1)
        } else if rng.chance(0.2) {
            None
        } else {
            Some(rng.below(4) as i32)
        };
        let edit = (!collapsed && rng.chance(0.05))
            .then(|| EditLine { name: author.clone(), date: page_time(minutes + 3 + rng.below(60) as u64) });
        let time = page_time(minutes);
        let own = if collapsed { String::new() } else { own_text(&blocks) };
        comments.push(Comment {
            index: i + 1,
            parent: parent.map(|p| comments[p].id.clone()),
            parent_confidence: 1.0,
            parent_evidence: vec![Evidence::new("stated", "generated")],
            parent_candidates: Vec::new(),
            author_id: Some(format!("{}", 100_000 + authors.iter().position(|a| *a == author).unwrap_or(0))),
            time_iso: crate::textnorm::parse_dutch_datetime(&time).map(|t| t.iso()),
            time: Some(time),
            score,
            collapsed,
            by_article_author: false,
            links: find_links(&own),
            mentions: if collapsed { Vec::new() } else { mentions },
            text: own,
            blocks: if collapsed { Vec::new() } else { blocks },
            edit,
            span: None,
            provenance: Provenance::default(),
            stance: None,
            relation_to_parent: None,
            clusters: None,
            author: Some(author),
            id,
        });
    }
    let at_least = |s: i32| comments.iter().filter(|c| c.score.is_some_and(|x| x >= s)).count() as u32;
    let unrated = comments.iter().filter(|c| c.score.is_none()).count() as u32;
    let filter_counts = FilterCounts {
        at_least_minus_1: at_least(-1) + unrated,
        at_least_0: at_least(0) + unrated,
        at_least_1: at_least(1),
        at_least_2: at_least(2),
        at_least_3: at_least(3),
        unrated,
    };
    Thread {
        schema: SCHEMA.to_string(),
        source: Source { path: format!("synthetic-{}-{n}", options.seed), format: Format::Json, pages: Vec::new() },
        article: Article {
            title: Some(format!("Toezichthouder legt bedrijf boete op (synthetische draad {})", options.seed)),
            body: vec![
                "De Autoriteit Persoonsgegevens heeft een boete van 30,5 miljoen euro opgelegd aan een Amerikaans bedrijf dat een databank met gezichten bouwt.".into(),
                "Het bedrijf heeft geen vestiging in Europa en zegt niet onder de AVG te vallen. De toezichthouder onderzoekt of de bestuurders persoonlijk aansprakelijk zijn.".into(),
            ],
            author: Some("Redactie Synth".into()),
            author_function: Some("Redacteur".into()),
            date: Some("03-09-2024 • 10:38".into()),
            date_iso: Some("2024-09-03T10:38:00+02:00".into()),
            declared_reactions: Some(n as u32),
            filter_counts: Some(filter_counts),
            submitter: None,
            closed: false,
            span: None,
        },
        comments,
        warnings: Vec::new(),
    }
}

/// The thread as draad JSON (one line).
pub fn to_json(thread: &Thread) -> String {
    serde_json::to_string(thread).expect("a thread serialises")
}

/// The thread as the text a reader copies from the page.
pub fn to_text(thread: &Thread) -> String {
    crate::copy_text::render(thread).text
}

/// The reference structure: `id<TAB>parent` per comment (parent `-` for the article), in display
/// order, with a header line. Collapsed reactions are marked, since copied text leaves them out.
pub fn truth_tsv(thread: &Thread) -> String {
    let mut out = String::from("id\tparent\tcollapsed\n");
    for c in &thread.comments {
        let _ = writeln!(out, "{}\t{}\t{}", c.id, c.parent.as_deref().unwrap_or("-"), c.collapsed);
    }
    out
}

/// The thread as a saved Tweakers HTML page (2023 markup), nesting included.
pub fn to_html(thread: &Thread) -> String {
    use crate::render::html_escape as esc;
    let a = &thread.article;
    let title = esc(a.title.as_deref().unwrap_or(""));
    let mut out = String::with_capacity(thread.comments.len() * 1200 + 4096);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{title} - Nieuws - Tweakers</title></head>\n\
         <body class=\"news\"><div id=\"contentArea\"><article class=\"news\">\n\
         <div class=\"headingContent\"><h1><span data-cy=\"articleTitle\">{title}</span></h1>\
         <p class=\"articleMetaContainer\"><span class=\"articleMeta\">• {}</span></p></div>\n\
         <div class=\"authorBlock\"><div class=\"info\"><p class=\"name\">Door <a href=\"https://tweakers.net/gallery/1/\">{}</a></p>\
         <p class=\"function\">{}</p></div></div>\n<div class=\"articleContent\">",
        esc(&a.date.as_deref().unwrap_or("").replace(" • ", " ")),
        esc(a.author.as_deref().unwrap_or("")),
        esc(a.author_function.as_deref().unwrap_or("")),
    );
    for (i, p) in a.body.iter().enumerate() {
        let _ = write!(out, "<p{}>{}</p>", if i == 0 { " class=\"lead\"" } else { "" }, esc(p));
    }
    let _ = write!(
        out,
        "</div></article>\n<section id=\"reacties\"><div class=\"reactionHeader\">\
         <h2 class=\"reactionCount\">Reacties <small>({})</small></h2><div class=\"modFilter\">",
        a.declared_reactions.unwrap_or(thread.comments.len() as u32)
    );
    if let Some(f) = a.filter_counts {
        let counts = [f.at_least_minus_1, f.at_least_0, f.at_least_1, f.at_least_2, f.at_least_3, f.unrated];
        for (score, count) in ["-1", "0", "1", "2", "3", "Ongemodereerd"].iter().zip(counts) {
            let _ = write!(
                out,
                "<button type=\"button\" class=\"filterButton\" score=\"{score}\">{score}</button><span class=\"reactionCount\">{count}</span>"
            );
        }
    }
    out.push_str("</div></div>\n<div id=\"reactieContainer\">\n");
    // Children per comment, to close each reaction after its replies.
    let mut has_children = std::collections::HashSet::new();
    for c in &thread.comments {
        if let Some(p) = &c.parent {
            has_children.insert(p.as_str());
        }
    }
    let mut open: Vec<&str> = Vec::new();
    for c in &thread.comments {
        // Close the reactions that are not ancestors of this one.
        while let Some(top) = open.last() {
            if Some(*top) == c.parent.as_deref() {
                break;
            }
            out.push_str("</twk-reaction>\n");
            open.pop();
        }
        let body_class = match (c.collapsed, has_children.contains(c.id.as_str())) {
            (true, _) => "reactieBody hidden",
            (false, true) => "reactieBody",
            (false, false) => "reactieBody nochilds",
        };
        let owner = c.author_id.as_deref().unwrap_or("0");
        let _ = write!(
            out,
            "<twk-reaction id=\"r_{id}\" class=\"reactie\" data-reaction-id=\"{id}\" data-owner-id=\"{owner}\">\
             <div class=\"{body_class}\"><div class=\"reactieHeader reactionHead\"><span class=\"reactionMeta\">\
             <a href=\"https://tweakers.net/gallery/{owner}/\" class=\"userLink\">{author}</a><br>",
            id = esc(&c.id),
            owner = esc(owner),
            author = esc(c.author.as_deref().unwrap_or("")),
        );
        if let Some(p) = &c.parent {
            let parent_author = thread.comment(p).and_then(|x| x.author.as_deref()).unwrap_or("");
            let _ = write!(
                out,
                "<a class=\"replyTo\" href=\"?showReaction={p}#r_{p}\">@{}</a> &bull; ",
                esc(parent_author),
                p = esc(p)
            );
        }
        let _ = write!(
            out,
            "<a class=\"date\" href=\"?showReaction={id}#r_{id}\">{}</a></span>",
            esc(c.time.as_deref().unwrap_or("")),
            id = esc(&c.id)
        );
        match c.score {
            Some(s) => {
                let _ = write!(
                    out,
                    "<button is=\"twk-moderation-button\" score=\"{s}\" title=\"Gemiddelde beoordeling: {s:+}\"></button>"
                );
            }
            None => out.push_str("<button is=\"twk-moderation-button\" title=\"Nog niet beoordeeld\"></button>"),
        }
        out.push_str("</div><div class=\"reactieContent\">");
        if !c.collapsed {
            let mut previous_paragraph = false;
            for b in &c.blocks {
                match b {
                    Block::Quote { text, .. } => {
                        let _ = write!(out, "<blockquote><div class=\"quote\">{}</div></blockquote>", esc(text));
                        previous_paragraph = false;
                    }
                    Block::Paragraph { text } | Block::ListItem { text } => {
                        if previous_paragraph {
                            out.push_str("<br><br>");
                        }
                        out.push_str(&paragraph_html(text, &c.mentions));
                        previous_paragraph = true;
                    }
                }
            }
            if let Some(e) = &c.edit {
                let _ =
                    write!(out, "<p class=\"edit\">[Reactie gewijzigd door {} op {}]</p>", esc(&e.name), esc(&e.date));
            }
        }
        out.push_str("</div></div>\n");
        open.push(&c.id);
    }
    for _ in open {
        out.push_str("</twk-reaction>\n");
    }
    out.push_str("</div></section></div></body></html>\n");
    out
}

/// A paragraph's HTML: escaped, lines joined by `<br>`, `@name` mentions as gallery links.
fn paragraph_html(text: &str, mentions: &[String]) -> String {
    let mut html = crate::render::html_escape(text).replace('\n', "<br>");
    for m in mentions {
        let at = format!("@{}", crate::render::html_escape(m));
        html = html.replacen(&at, &format!("@<a href=\"https://tweakers.net/gallery/0/\">{}</a>", &at[1..]), 1);
    }
    html
}

/// Write a thread in a format.
pub fn write_as(thread: &Thread, format: Format) -> String {
    match format {
        Format::Html => to_html(thread),
        Format::Text => to_text(thread),
        _ => to_json(thread),
    }
}
