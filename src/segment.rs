//! Comment segmentation for copied text: where does one reaction end and the next begin?
//!
//! In text copied from a Tweakers page a single newline separates two reactions but also two lines
//! of one reaction. Every line is classified first (blank, edit line, the article author's glued
//! header, quote, list item, text); then every place between two non-blank lines gets a score, the
//! log-odds that a new reaction starts there, from cues that a reader of the page would use. A score
//! above zero is a boundary. Edit lines and author headers give certain boundaries.

use crate::model::{Certainty, EditLine};
use crate::quotes::{Origin, QuoteIndex, QuoteMatch};
use regex::Regex;
use std::sync::LazyLock;

/// One line of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based line number in the input file.
    pub number: usize,
    pub text: String,
    pub kind: LineKind,
}

/// The article author's own reaction keeps its header, glued together:
/// `AuteurTijsZonderH Nieuwscoördinator @SeenD3 september 2024 10:56`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorHeader {
    pub name: String,
    pub function: Option<String>,
    pub reply_to: Option<String>,
    pub time: String,
    /// Labelled `Auteur`: a reaction by the article's author.
    pub by_article_author: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LineKind {
    Blank,
    Edit(EditLine),
    /// The reply button under a reaction of an open thread ("Reageer"), when the copy took its
    /// label along: a certain end, and no part of the reaction's text.
    ReplyButton,
    Header(AuthorHeader),
    /// The time line of a reaction header whose name stands on the line above (the header itself is
    /// on that line): no part of the reaction's text.
    HeaderTime,
    /// Where the copy of a later page of the thread begins (its repeated article header is left out):
    /// a certain end of the reaction before and a certain start of the next. Not a line of the text;
    /// taken out again after segmentation.
    PageBreak,
    /// Repeats the article or an earlier line (`Piece` holds that line's number).
    Quote(QuoteMatch<usize>),
    /// Words the writer marks as someone else's that match nothing in the thread: a line followed
    /// by an attribution ("Aldus de AP"), after one that introduces a source ("aldus de NOS:"), or
    /// wholly between quotation marks; the attribution line itself is one too.
    OutsideQuote,
    ListItem,
    Text,
}

impl LineKind {
    /// A quote of the article, of an earlier line, or of an outside source.
    pub fn is_quote(&self) -> bool {
        matches!(self, LineKind::Quote(_) | LineKind::OutsideQuote)
    }
}

/// One reaction as found in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The lines of the reaction, blank lines inside it included.
    pub lines: Vec<Line>,
    pub start: Certainty,
    pub end: Certainty,
    /// Confidence that the reaction starts here (1.0 when certain).
    pub boundary_confidence: f64,
    /// The cues that decided the start.
    pub start_cues: Vec<String>,
}

impl Segment {
    pub fn first_line(&self) -> usize {
        self.lines.first().map_or(0, |l| l.number)
    }
    pub fn last_line(&self) -> usize {
        self.lines.last().map_or(0, |l| l.number)
    }
    pub fn header(&self) -> Option<&AuthorHeader> {
        self.lines.iter().find_map(|l| match &l.kind {
            LineKind::Header(h) => Some(h),
            _ => None,
        })
    }
    pub fn edit(&self) -> Option<&EditLine> {
        self.lines.iter().rev().find_map(|l| match &l.kind {
            LineKind::Edit(e) => Some(e),
            _ => None,
        })
    }
}

static EDIT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\[Reactie gewijzigd door (.+?) op (\d{1,2} \p{L}+ \d{4} \d{1,2}:\d{2})\]$").unwrap()
});
static HEADER_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Auteur(.+?)(?: (Redacteur|Nieuwscoördinator|Nieuwsredacteur|Hoofdredacteur|Eindredacteur|Adjunct-hoofdredacteur|Redactielid|Reviewer|Reviewredacteur|Videoredacteur|Community Manager|Moderator|Admin|[\p{L}-]*redacteur|[\p{L}-]*coördinator))?(?: ?@(.+?))?(\d{1,2} (?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december) \d{4} \d{1,2}:\d{2})$").unwrap()
});
static LIST_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*(?:[-*•–]\s|\d{1,2}[.)]\s)").unwrap());

/// Parse an edit line `[Reactie gewijzigd door NAME op 3 september 2024 12:52]`.
pub fn parse_edit_line(text: &str) -> Option<EditLine> {
    let c = EDIT_RE.captures(text.trim())?;
    Some(EditLine { name: c[1].to_string(), date: c[2].to_string() })
}

/// Parse the glued header of a reaction by the article's author.
pub fn parse_author_header(text: &str) -> Option<AuthorHeader> {
    let c = HEADER_RE.captures(text.trim())?;
    Some(AuthorHeader {
        name: c[1].trim().to_string(),
        function: c.get(2).map(|m| m.as_str().to_string()),
        reply_to: c.get(3).map(|m| m.as_str().trim().to_string()),
        time: c[4].to_string(),
        by_article_author: true,
    })
}

/// The time at the end of a reaction header: a Dutch date (`3 september 2024 10:56`) or a relative
/// day (`vandaag 11:38`), with what comes before it.
static HEADER_TIME_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.*?)(([1-9]\d?) (?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december) \d{4},? (?:om )?\d{1,2}:\d{2}|(?:vandaag|gisteren|eergisteren),? (?:om )?\d{1,2}:\d{2})$").unwrap()
});
/// A user name as Tweakers allows it: letters, digits, spaces, dots, `-` and `_`.
static USER_NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{N}][\p{L}\p{N}._\- ]{0,38}[\p{L}\p{N}._\-]$|^[\p{L}\p{N}]$").unwrap());
/// Functions Tweakers shows after the names of its staff.
const STAFF_FUNCTIONS: &[&str] = &[
    "Redacteur",
    "Nieuwscoördinator",
    "Nieuwsredacteur",
    "Hoofdredacteur",
    "Eindredacteur",
    "Adjunct-hoofdredacteur",
    "Redactielid",
    "Reviewer",
    "Reviewredacteur",
    "Videoredacteur",
    "Community Manager",
    "Moderator",
    "Admin",
];

/// Whether a line could be a user name on its own line above a header's time line.
pub fn is_user_name(text: &str) -> bool {
    let t = text.trim();
    USER_NAME_RE.is_match(t) && t.split_whitespace().count() <= 3
}

/// A reaction header as a copy that keeps the header of every reaction may show it: the name, an
/// optional staff function, an optional `@name` it answers and the time, glued or separated by
/// spaces or a bullet (`stijn014 @Upsilon • 28 juli 2023 11:38`, `Mit-4628 juli 2023 12:30`), or
/// only the part after the name (`@Upsilon • 28 juli 2023 11:38`, `vandaag 11:38`), when the name
/// stands on the line above (then `name` is empty). An `Auteur` label in front marks the article's
/// author. Where a glued name ends in digits, the day takes two digits when that gives a real date.
pub fn parse_reaction_header(text: &str) -> Option<AuthorHeader> {
    reaction_header_readings(text).into_iter().next()
}

/// The readings of a reaction header, the likelier first: where a two-digit day could also be a
/// digit of the name before it and a one-digit day (`De Vries 28 oktober`: `De Vries` on the 28th,
/// or `De Vries 2` on the 8th), both, the two-digit day first.
pub fn reaction_header_readings(text: &str) -> Vec<AuthorHeader> {
    let t = text.trim();
    let Some(c) = HEADER_TIME_RE.captures(t) else { return Vec::new() };
    let dated = |x: &str| {
        crate::textnorm::parse_reaction_time(x).is_some()
            || crate::textnorm::RELATIVE_DAYS.iter().any(|d| x.starts_with(d))
    };
    let mut splits = vec![(c[1].to_string(), c[2].to_string())];
    if let Some(day) = c.get(3).filter(|d| d.len() == 2) {
        // `Mit-463 september`: the day is one digit and the name ends in the other.
        splits.push((format!("{}{}", &c[1], &day.as_str()[..1]), c[2][1..].to_string()));
    }
    splits
        .into_iter()
        .filter(|(_, time)| dated(time))
        .filter_map(|(before, time)| header_from_parts(&before, time))
        .collect()
}

/// A header from the text before its time: `[Auteur]NAME[ FUNCTION][ @REPLY][ •]`.
fn header_from_parts(before: &str, time: String) -> Option<AuthorHeader> {
    let before = before.trim_end().trim_end_matches(['•', '·', '|', '-']).trim_end();
    let (before, reply_to) = match before.rsplit_once('@') {
        Some((b, r)) => (b.trim_end(), Some(r.trim().to_string())),
        None => (before, None),
    };
    if reply_to.as_deref().is_some_and(|r| !is_user_name(r)) {
        return None;
    }
    let (before, by_article_author) = match before.strip_prefix("Auteur") {
        Some(rest) if !rest.is_empty() => (rest, true),
        _ => (before, false),
    };
    let (name, function) = match STAFF_FUNCTIONS.iter().find(|f| before.ends_with(&format!(" {f}"))) {
        Some(f) => (before[..before.len() - f.len() - 1].trim(), Some(f.to_string())),
        None => (before.trim(), None),
    };
    if !name.is_empty() && !is_user_name(name) {
        return None;
    }
    Some(AuthorHeader { name: name.to_string(), function, reply_to, time, by_article_author })
}

/// Classify the lines of the reaction area. `article_text` is what quotes can be taken from besides
/// earlier lines.
pub fn classify(lines: &[(usize, &str)], article_text: &str) -> Vec<Line> {
    let mut index: QuoteIndex<usize> = QuoteIndex::new(article_text);
    let mut out = Vec::with_capacity(lines.len());
    let headers = reaction_headers(lines);
    for (i, &(number, raw)) in lines.iter().enumerate() {
        let text = raw.trim_end().to_string();
        let kind = if text.trim().is_empty() {
            LineKind::Blank
        } else if let Some(e) = parse_edit_line(&text) {
            LineKind::Edit(e)
        } else if REPLY_BUTTONS.contains(&text.trim()) {
            LineKind::ReplyButton
        } else if let Some(h) = parse_author_header(&text) {
            LineKind::Header(h)
        } else if let Some(h) = headers.get(&i) {
            match h {
                Some(h) => LineKind::Header(h.clone()),
                None => LineKind::HeaderTime,
            }
        } else if let Some(m) = index.find(&text) {
            LineKind::Quote(m)
        } else if LIST_RE.is_match(&text) {
            LineKind::ListItem
        } else {
            LineKind::Text
        };
        if matches!(kind, LineKind::Text | LineKind::ListItem) {
            index.add(number, &text);
        }
        out.push(Line { number, text, kind });
    }
    mark_outside_quotes(&mut out);
    out
}

/// Fewest reaction headers from which a copy is taken to keep the header of every reaction; below it
/// a line that looks like one is read as text.
pub const HEADERS_FROM: usize = 3;

/// The reaction headers of a copy that keeps the header of every reaction (other ways of copying a
/// page than the seed's, which keeps only the article author's): by index into `lines`, the header
/// (at the name's line) or `None` for the time line under a name line. Empty when fewer than
/// [`HEADERS_FROM`] are found or the first line of the reactions is no header, so that stray lines
/// ending in a date stay text.
fn reaction_headers(lines: &[(usize, &str)]) -> std::collections::HashMap<usize, Option<AuthorHeader>> {
    let mut found = std::collections::HashMap::new();
    let mut count = 0;
    // Names the copy holds for sure (edit lines) or in the only reading of a header, to choose
    // between the readings of a header whose name ends in a digit.
    let readings: Vec<Vec<AuthorHeader>> = lines.iter().map(|&(_, raw)| reaction_header_readings(raw)).collect();
    let mut known: std::collections::HashSet<String> =
        lines.iter().filter_map(|&(_, raw)| parse_edit_line(raw).map(|e| e.name)).collect();
    for r in readings.iter().filter(|r| r.len() == 1) {
        known.extend([Some(r[0].name.clone()), r[0].reply_to.clone()].into_iter().flatten().filter(|n| !n.is_empty()));
    }
    // The dates of a thread's reactions lie close together, while a misread day lands far off: a
    // reading's date is supported by the other lines with a reading within two days of it.
    let day = |h: &AuthorHeader| crate::textnorm::parse_reaction_time(&h.time).map(|t| t.day_number());
    let days: Vec<Vec<i64>> = readings.iter().map(|r| r.iter().filter_map(day).collect()).collect();
    // Per day, the lines with a reading on it (a line counted once per day).
    let mut on_day: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::new();
    for ds in &days {
        let mut distinct = ds.clone();
        distinct.sort_unstable();
        distinct.dedup();
        for d in distinct {
            *on_day.entry(d).or_default() += 1;
        }
    }
    let support = |i: usize, h: &AuthorHeader| {
        day(h).map_or(0, |d| {
            let near: usize = on_day.range(d - 2..=d + 2).map(|(_, n)| n).sum();
            let mut own: Vec<&i64> = days[i].iter().filter(|x| (**x - d).abs() <= 2).collect();
            own.dedup();
            near.saturating_sub(own.len())
        })
    };
    let fit = |i: usize, h: &AuthorHeader| {
        let names =
            usize::from(known.contains(&h.name)) + usize::from(h.reply_to.as_ref().is_some_and(|r| known.contains(r)));
        (names, support(i, h))
    };
    for (i, &(_, raw)) in lines.iter().enumerate() {
        if parse_author_header(raw).is_some() {
            continue;
        }
        // The reading with the most names known elsewhere, then the best supported date; on a tie the
        // first.
        let Some(h) = readings[i].iter().rev().max_by_key(|h| fit(i, h)).cloned() else { continue };
        if !h.name.is_empty() {
            found.insert(i, Some(h));
            count += 1;
            continue;
        }
        // A time line: the name stands on the line above.
        let above =
            i.checked_sub(1).map(|j| lines[j].1.trim()).filter(|t| is_user_name(t) && parse_edit_line(t).is_none());
        if let Some(name) = above
            && !found.contains_key(&(i - 1))
        {
            // Read the two lines as one, so that an `Auteur` label and a staff function on the name
            // line are read as in a glued header.
            let joined = parse_reaction_header(&format!("{name} {}", raw.trim())).filter(|j| !j.name.is_empty());
            found.insert(i - 1, Some(joined.unwrap_or(AuthorHeader { name: name.to_string(), ..h })));
            found.insert(i, None);
            count += 1;
        }
    }
    // Where every reaction keeps its header, the first line of the reactions is one.
    let first = lines.iter().position(|(_, l)| !l.trim().is_empty());
    let opens_with_header = first.is_some_and(|i| found.contains_key(&i) || parse_author_header(lines[i].1).is_some());
    if count < HEADERS_FROM || !opens_with_header {
        found.clear();
    }
    found
}

/// The labels of the reply button under each reaction of an open thread.
const REPLY_BUTTONS: &[&str] = &["Reageer", "Reageren"];

/// Words that open a line naming a quote's source ("Aldus de AP", "Bron: NOS").
const SOURCE_WORDS: &[&str] = &["aldus", "bron", "source"];

/// A short line that names the source of the quote before it ("Aldus de AP", "Bron: NOS").
pub(crate) fn is_attribution_after(text: &str) -> bool {
    let t = text.trim();
    t.chars().count() <= 60 && !t.ends_with(':') && SOURCE_WORDS.contains(&first_word(t).as_str())
}

/// A short line that introduces the quote after it ("aldus de NOS:", "Bron:", "De NOS schrijft:").
fn is_attribution_before(text: &str) -> bool {
    let t = text.trim();
    if t.chars().count() > 80 || !t.ends_with(':') {
        return false;
    }
    let lower = t.to_lowercase();
    let body = lower.trim_end_matches(':').trim_end();
    SOURCE_WORDS.contains(&first_word(t).as_str())
        || ["schrijft", "schreef", "zegt", "zei", "meldt", "meldde", "stelt", "citaat", "quote"]
            .iter()
            .any(|w| body.ends_with(&format!(" {w}")) || body == *w)
}

/// A line that opens with a quotation mark and closes with its partner (a final '.' or ',' allowed).
fn is_wholly_quoted(text: &str) -> bool {
    let t = text.trim().trim_end_matches(['.', ',']);
    let (Some(first), Some(last)) = (t.chars().next(), t.chars().last()) else {
        return false;
    };
    let close = match first {
        '"' => '"',
        '“' | '„' => '”',
        '‘' => '’',
        '\'' => '\'',
        _ => return false,
    };
    // The closing mark must end the line, and the line must hold more than a quoted word or two.
    last == close && t.chars().count() > 40 && !t[first.len_utf8()..t.len() - last.len_utf8()].contains(['"', '“', '”'])
}

/// Mark text lines that quote an outside source (see `LineKind::OutsideQuote`), together with the
/// line that names the source: "Aldus de AP" after a quote and "aldus de NOS:" before one belong to
/// the quote, not to the writer's own words. Only plain text lines change: a line that matches the
/// article or an earlier line stays a `Quote`.
fn mark_outside_quotes(lines: &mut [Line]) {
    let is_text = |l: Option<&Line>| l.is_some_and(|l| matches!(l.kind, LineKind::Text));
    let mark = |l: &mut Line| l.kind = LineKind::OutsideQuote;
    for i in 0..lines.len() {
        if !is_text(lines.get(i)) {
            continue;
        }
        let text = lines[i].text.clone();
        if is_attribution_before(&text) && is_text(lines.get(i + 1)) {
            // The introduction and the quote it introduces.
            mark(&mut lines[i]);
            mark(&mut lines[i + 1]);
        } else if !is_attribution_after(&text) && lines.get(i + 1).is_some_and(|l| is_attribution_after(&l.text)) {
            // The quote and the attribution that follows it.
            mark(&mut lines[i]);
            if is_text(lines.get(i + 1)) {
                mark(&mut lines[i + 1]);
            }
        } else if is_wholly_quoted(&text) {
            mark(&mut lines[i]);
        }
    }
}

/// Words that open a reply (agreement, disagreement, a question back): a new reaction is likely.
const REPLY_OPENERS: &[&str] = &[
    "nee",
    "ja",
    "jawel",
    "klopt",
    "precies",
    "inderdaad",
    "exact",
    "hoezo",
    "onzin",
    "uh",
    "uhm",
    "eh",
    "tja",
    "tsja",
    "nou",
    "nouja",
    "ah",
    "oh",
    "haha",
    "lol",
    "mwah",
    "mja",
    "euh",
    "jij",
    "je",
    "jouw",
    "zeker",
    "sterker",
    "vertel",
    "lees",
    "waarom",
    "goeie",
    "leuk",
];
/// Openings that attribute a quote to its source ("Aldus de AP", "bron: NOS").
const ATTRIBUTIONS: &[&str] = &["aldus", "bron", "source", "via"];
/// Openings that continue the same reaction (enumerations, afterthoughts).
const CONTINUERS: &[&str] = &[
    "ten eerste",
    "ten tweede",
    "ten derde",
    "ten vierde",
    "tot slot",
    "ten slotte",
    "daarnaast",
    "verder",
    "bovendien",
    "daarbij",
    "kortom",
    "eta:",
    "edit:",
    "edit;",
    "ps",
    "p.s.",
    "offtopic:",
    "disclaimer",
    "oftewel",
];
/// Openings that lean slightly towards continuation.
const CONJUNCTIONS: &[&str] = &["en", "maar", "want", "dus", "of", "omdat", "terwijl", "zodat"];

/// A quote of a line at most this far below the line the reaction's opening quote came from counts
/// as quoting the same source.
const SAME_SOURCE_LINES: usize = 5;

/// The log-odds of a new reaction where no cue speaks.
const BIAS: f64 = 1.0;

fn first_word(text: &str) -> String {
    text.trim_start()
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.' || c == '!' || c == '?' || c == ':')
        .next()
        .unwrap_or("")
        .to_lowercase()
}

fn starts_lowercase(text: &str) -> bool {
    text.trim_start().chars().next().is_some_and(|c| c.is_lowercase())
}

fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end();
    t.ends_with(['.', '!', '?', '"', '\'', ')', '…', '’', '”', ';']) || t.ends_with(":)") || t.ends_with(":P")
}

/// What the reaction read so far tells about the place after it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReadSoFar {
    /// Blank lines between the previous line and the next.
    pub gap: usize,
    /// Every line of the reaction so far is a quote.
    pub all_quotes: bool,
    /// The next line quotes the same reaction (or the article) as the quote the reaction so far
    /// opens with: a reply that takes the points of what it answers in turn.
    pub quotes_opening_source: bool,
    /// The copy holds the reply buttons of its reactions, so a reaction ends at a button (or an edit
    /// line or author header) and nowhere else.
    pub ends_at_buttons: bool,
    /// The copy keeps the header of every reaction (at least [`HEADERS_FROM`] headers besides the
    /// article author's), so a reaction starts at a header and nowhere else.
    pub starts_at_headers: bool,
    /// The copy separates reactions by blank lines (see [`separates_by_blank_lines`]): there a
    /// single line break is the one inside a reaction, and a blank line the place to weigh.
    pub blank_separates: bool,
}

/// Fewest reply-button lines from which a copy is taken to hold the button of every reaction.
const BUTTONS_FROM: usize = 2;

/// Share of the places between two lines that are blank lines, above which a copy is taken to
/// separate its reactions by blank lines. A browser copy of a Tweakers page separates reactions by
/// a single line break (the seed thread: 30% of its places are blank lines, the pages rendered as
/// such copies 22-30%); a copy that puts a blank line between reactions as well has most of its
/// places blank (64-68% on those pages, made so).
const BLANK_SEPARATED_SHARE: f64 = 0.55;
/// Fewest places between lines from which the share above is read.
const BLANK_SEPARATED_FROM: usize = 12;

/// Whether a copy separates its reactions by blank lines rather than by single line breaks, read
/// from the share of blank lines among the places between two lines of text.
pub fn separates_by_blank_lines(lines: &[Line]) -> bool {
    let (mut places, mut blank, mut gap, mut seen) = (0usize, 0usize, false, false);
    for l in lines {
        if matches!(l.kind, LineKind::Blank) {
            gap = true;
            continue;
        }
        if seen {
            places += 1;
            blank += usize::from(gap);
        }
        seen = true;
        gap = false;
    }
    places >= BLANK_SEPARATED_FROM && blank as f64 > BLANK_SEPARATED_SHARE * places as f64
}

/// Score the place between non-blank line `prev` and non-blank line `next`. Returns the log-odds
/// that `next` starts a new reaction, whether that is certain, and the cues that fired.
pub fn boundary_score(prev: &Line, next: &Line, so_far: ReadSoFar) -> (f64, bool, Vec<String>) {
    let (gap, prev_opens_with_quote) = (so_far.gap, so_far.all_quotes);
    let mut cues = Vec::new();
    // Certain cues first.
    if matches!(prev.kind, LineKind::PageBreak) {
        return (10.0, true, vec!["a new page of the thread starts here (certain)".into()]);
    }
    if matches!(next.kind, LineKind::PageBreak) {
        return (-10.0, true, vec!["the page ends after it".into()]);
    }
    if matches!(prev.kind, LineKind::ReplyButton) {
        return (10.0, true, vec!["previous line is a reply button (certain end)".into()]);
    }
    if matches!(next.kind, LineKind::ReplyButton) {
        return (-10.0, true, vec!["a reply button ends the reaction".into()]);
    }
    if matches!(prev.kind, LineKind::Edit(_)) {
        return (10.0, true, vec!["previous line is an edit line (certain end)".into()]);
    }
    if matches!(next.kind, LineKind::Edit(_)) {
        return (-10.0, true, vec!["edit line ends the reaction".into()]);
    }
    if matches!(next.kind, LineKind::Header(_)) {
        return (10.0, true, vec!["article author's header".into()]);
    }
    if matches!(prev.kind, LineKind::Header(_) | LineKind::HeaderTime) {
        return (-10.0, true, vec!["text under the author's header".into()]);
    }
    if so_far.starts_at_headers {
        return (-10.0, true, vec!["no header here, and the copy shows the header of every reaction".into()]);
    }
    if so_far.ends_at_buttons {
        return (-10.0, true, vec!["no reply button here, and the copy shows the button of every reaction".into()]);
    }
    let mut score = BIAS;
    if so_far.blank_separates {
        if gap == 0 {
            score -= 6.0;
            cues.push("a single line break inside a reaction (the copy separates reactions by blank lines)".into());
        }
    } else if gap > 0 {
        score -= 6.0;
        cues.push("paragraph gap (blank line) inside a reaction".into());
    }
    let prev_t = prev.text.trim();
    let next_t = next.text.trim();
    if prev_t.ends_with(':') {
        score -= 8.0;
        cues.push("previous line ends with ':'".into());
    }
    let prev_is_quote = prev.kind.is_quote();
    let next_is_quote = next.kind.is_quote();
    if prev_is_quote && prev_opens_with_quote {
        score -= 5.0;
        cues.push("a reply follows the quote it opens with".into());
    } else if prev_is_quote {
        score -= 2.0;
        cues.push("follows a quote inside the reaction".into());
    }
    if next_is_quote && !prev_is_quote {
        // A quote of the thread opens many replies; a quote of an outside source sits as often inside one.
        if so_far.quotes_opening_source && matches!(next.kind, LineKind::Quote(_)) {
            score -= 1.0;
            cues.push("quotes again what the reaction's opening quote came from".into());
        } else if matches!(next.kind, LineKind::Quote(_)) {
            score += 4.5;
            cues.push("opens with a quote".into());
        } else {
            score += 1.5;
            cues.push("opens with a quote of an outside source".into());
        }
    }
    if matches!(next.kind, LineKind::ListItem) {
        score -= 4.0;
        cues.push("list item".into());
    }
    if !next_is_quote && starts_lowercase(next_t) {
        // Only a sentence broken off mid-way goes on in lower case. After a full sentence a writer
        // who goes on starts the next one with a capital, so a lower-case line there is as often a
        // new reaction by someone who writes without capitals (seed thread: three of three).
        if !ends_sentence(prev_t) {
            score -= 4.0;
            cues.push("goes on in lower case after an unfinished sentence".into());
        }
    } else if !ends_sentence(prev_t) && !next_is_quote {
        score -= 0.6;
        cues.push("previous line ends without punctuation".into());
    }
    let lower = next_t.to_lowercase();
    if CONTINUERS.iter().any(|c| lower.starts_with(c) && lower[c.len()..].starts_with([' ', ',', ':', ';'])) {
        score -= 3.0;
        cues.push("continues an enumeration or afterthought".into());
    }
    let w = first_word(next_t);
    if next_t.starts_with('@') {
        score += 1.5;
        cues.push("opens with an @mention".into());
    } else if REPLY_OPENERS.contains(&w.as_str()) {
        score += 0.8;
        cues.push(format!("opens like a reply ('{w}')"));
    } else if CONJUNCTIONS.contains(&w.as_str()) {
        // A short line that opens with a conjunction adds to the thought before it.
        let short = next_t.chars().count() < 60;
        score -= if short { 1.7 } else { 0.7 };
        cues.push(format!("opens with a conjunction ('{w}'){}", if short { " in a short line" } else { "" }));
    }
    if ATTRIBUTIONS.contains(&w.as_str()) && !next_t.ends_with(':') {
        score -= 3.0;
        cues.push(format!("attributes a quote ('{w}')"));
    }
    if ATTRIBUTIONS.contains(&first_word(prev_t).as_str()) && prev_t.len() < 60 {
        score -= 1.5;
        cues.push("follows the attribution of a quote".into());
    }
    if prev_t.ends_with('?') && !next_t.ends_with('?') {
        score += 0.3;
        cues.push("answers a question".into());
    }
    (score, false, cues)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Split classified lines into reactions.
pub fn segment(lines: &[Line]) -> Vec<Segment> {
    let ends_at_buttons = lines.iter().filter(|l| matches!(l.kind, LineKind::ReplyButton)).count() >= BUTTONS_FROM;
    let blank_separates = separates_by_blank_lines(lines);
    let starts_at_headers =
        lines.iter().filter(|l| matches!(&l.kind, LineKind::Header(h) if !h.by_article_author)).count() >= HEADERS_FROM;
    let mut segments: Vec<Segment> = Vec::new();
    // The reaction each line of a finished reaction belongs to.
    let mut segment_of_line: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut current: Vec<Line> = Vec::new();
    let mut prev: Option<&Line> = None;
    let mut gap = 0usize;
    let mut pending_blanks: Vec<Line> = Vec::new();
    let mut start = (Certainty::Certain, 1.0, vec!["first line of the reactions".to_string()]);
    // Distances between lines count the lines of the reactions, not those of the file: a repeated
    // page header left out between them is no distance.
    let position: std::collections::HashMap<usize, usize> = lines
        .iter()
        .filter(|l| !matches!(l.kind, LineKind::PageBreak))
        .enumerate()
        .map(|(p, l)| (l.number, p))
        .collect();
    let place = |number: usize| position.get(&number).copied().unwrap_or(number);
    for line in lines {
        if matches!(line.kind, LineKind::Blank) {
            if prev.is_some() {
                gap += 1;
                pending_blanks.push(line.clone());
            }
            continue;
        }
        if let Some(p) = prev {
            let mut own = current
                .iter()
                .filter(|l| !matches!(l.kind, LineKind::Blank | LineKind::Header(_) | LineKind::HeaderTime));
            let all_quotes = own.clone().all(|l| l.kind.is_quote());
            let reaction_of = |line: usize| segment_of_line.get(&line).copied().unwrap_or(segments.len());
            let origin = |kind: &LineKind| match kind {
                LineKind::Quote(m) => Some(m.origin),
                _ => None,
            };
            // The same source: the article, the same reaction, or a line a little further down the
            // one quoted first (which may have been split off as a reaction of its own).
            let quotes_opening_source = match (own.next().and_then(|l| origin(&l.kind)), origin(&line.kind)) {
                (Some(Origin::Article), Some(Origin::Article)) => true,
                (Some(Origin::Piece(a)), Some(Origin::Piece(b))) => {
                    reaction_of(a) == reaction_of(b)
                        || (place(b) > place(a) && place(b) - place(a) <= SAME_SOURCE_LINES)
                }
                _ => false,
            };
            let so_far = ReadSoFar {
                gap,
                all_quotes,
                quotes_opening_source,
                ends_at_buttons,
                starts_at_headers,
                blank_separates,
            };
            let (score, certain, cues) = boundary_score(p, line, so_far);
            if score > 0.0 {
                let end = if certain { Certainty::Certain } else { Certainty::Inferred };
                segment_of_line.extend(current.iter().map(|l| (l.number, segments.len())));
                segments.push(Segment {
                    lines: std::mem::take(&mut current),
                    start: start.0,
                    end,
                    boundary_confidence: start.1,
                    start_cues: std::mem::take(&mut start.2),
                });
                start =
                    if certain { (Certainty::Certain, 1.0, cues) } else { (Certainty::Inferred, sigmoid(score), cues) };
                pending_blanks.clear();
            } else {
                current.append(&mut pending_blanks);
            }
        }
        current.push(line.clone());
        prev = Some(line);
        gap = 0;
    }
    if !current.is_empty() {
        segments.push(Segment {
            lines: current,
            start: start.0,
            end: Certainty::Certain,
            boundary_confidence: start.1,
            start_cues: start.2,
        });
    }
    segments
}

/// Take the page breaks out of the reactions once they have ended and started them, and drop a
/// reaction left with no line.
pub fn drop_page_breaks(segments: &mut Vec<Segment>) {
    for s in segments.iter_mut() {
        let before = s.lines.len();
        s.lines.retain(|l| !matches!(l.kind, LineKind::PageBreak));
        while s.lines.len() < before && s.lines.last().is_some_and(|l| matches!(l.kind, LineKind::Blank)) {
            s.lines.pop();
        }
    }
    segments.retain(|s| s.lines.iter().any(|l| !matches!(l.kind, LineKind::Blank)));
}

/// Take out the reactions that hold nothing but a reply button: a collapsed reaction of an open
/// thread leaves only its button in the copy. Returns the line numbers of those buttons.
pub fn take_empty(segments: &mut Vec<Segment>) -> Vec<usize> {
    let empty = |s: &Segment| s.lines.iter().all(|l| matches!(l.kind, LineKind::Blank | LineKind::ReplyButton));
    let lines = segments.iter().filter(|s| empty(s)).map(Segment::first_line).collect();
    segments.retain(|s| !empty(s));
    lines
}

/// Split classified lines into reactions that start at the given line numbers (and at the first
/// non-blank line). Blank lines before a start belong to the reaction before it.
pub fn segment_at(lines: &[Line], starts: &[usize]) -> Vec<Segment> {
    let starts: std::collections::HashSet<usize> = starts.iter().copied().collect();
    let mut segments: Vec<Segment> = Vec::new();
    let mut current: Vec<Line> = Vec::new();
    let mut blanks: Vec<Line> = Vec::new();
    let given = |cues: &str| Segment {
        lines: Vec::new(),
        start: Certainty::Certain,
        end: Certainty::Certain,
        boundary_confidence: 1.0,
        start_cues: vec![cues.to_string()],
    };
    for line in lines {
        if matches!(line.kind, LineKind::Blank) {
            if !current.is_empty() {
                blanks.push(line.clone());
            }
            continue;
        }
        if starts.contains(&line.number) && !current.is_empty() {
            let mut s = given("start given");
            s.lines = std::mem::take(&mut current);
            segments.push(s);
            blanks.clear();
        }
        current.append(&mut blanks);
        current.push(line.clone());
    }
    if !current.is_empty() {
        let mut s = given("start given");
        s.lines = current;
        segments.push(s);
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glued_name_ending_in_a_digit_is_read_by_the_dates_around_it() {
        // `Stoom_315 september`: Stoom_3 on the 15th, or Stoom_31 on the 5th. The other headers are
        // all on the 5th, so the second.
        let text = [
            "Jan5 september 2023 10:00",
            "Stoom_315 september 2023 10:05",
            "Eerste.",
            "Piet @Jan5 september 2023 10:20",
            "Tweede.",
            "Kees @Stoom_315 september 2023 10:30",
            "Derde.",
        ];
        let lines: Vec<(usize, &str)> = text.iter().enumerate().map(|(i, t)| (i + 1, *t)).collect();
        let names: Vec<(String, Option<String>)> = classify(&lines, "")
            .into_iter()
            .filter_map(|l| match l.kind {
                LineKind::Header(h) => Some((h.name, h.reply_to)),
                _ => None,
            })
            .collect();
        let want = [("Jan", None), ("Stoom_31", None), ("Piet", Some("Jan")), ("Kees", Some("Stoom_31"))];
        assert_eq!(names, want.map(|(n, r)| (n.to_string(), r.map(str::to_string))));
    }

    #[test]
    fn reaction_headers_parse_glued_or_after_the_name() {
        let h =
            |t: &str| parse_reaction_header(t).map(|h| (h.name, h.function, h.reply_to, h.time, h.by_article_author));
        let some = |n: &str, f: Option<&str>, r: Option<&str>, t: &str, a: bool| {
            Some((n.to_string(), f.map(str::to_string), r.map(str::to_string), t.to_string(), a))
        };
        assert_eq!(
            h("stijn014 @Upsilon • 28 juli 2023 11:38"),
            some("stijn014", None, Some("Upsilon"), "28 juli 2023 11:38", false)
        );
        assert_eq!(h("stijn01428 juli 2023 11:38"), some("stijn014", None, None, "28 juli 2023 11:38", false));
        // A name that ends in digits before a one-digit day: the day that gives a date.
        assert_eq!(
            h("PjotrX @Mit-463 september 2023 11:02"),
            some("PjotrX", None, Some("Mit-46"), "3 september 2023 11:02", false)
        );
        // Tweakers writes the day without a leading zero.
        assert_eq!(h("Bit_703 september 2023 11:02").map(|x| x.0), Some("Bit_70".to_string()));
        assert_eq!(h("Hans C @wells.p vandaag 11:38"), some("Hans C", None, Some("wells.p"), "vandaag 11:38", false));
        assert_eq!(
            h("AuteurTijsZonderH Nieuwscoördinator @SeenD3 september 2024 10:56"),
            some("TijsZonderH", Some("Nieuwscoördinator"), Some("SeenD"), "3 september 2024 10:56", true)
        );
        // Two lines read as one: the article author's label and function on the name line.
        let lines = [
            (1, "AuteurTijsZonderH Nieuwscoördinator"),
            (2, "@SeenD • 3 september 2024 10:56"),
            (3, "Tekst."),
            (4, "Jan"),
            (5, "3 september 2024 11:00"),
            (6, "Meer."),
            (7, "Piet"),
            (8, "@Jan • 3 september 2024 11:05"),
            (9, "Nog meer."),
        ];
        let kinds: Vec<LineKind> = classify(&lines, "").into_iter().map(|l| l.kind).collect();
        let LineKind::Header(a) = &kinds[0] else { panic!("{:?}", kinds[0]) };
        assert_eq!(
            (a.name.as_str(), a.function.as_deref(), a.reply_to.as_deref(), a.by_article_author),
            ("TijsZonderH", Some("Nieuwscoördinator"), Some("SeenD"), true)
        );
        assert_eq!(kinds[1], LineKind::HeaderTime);
        assert!(
            matches!(&kinds[3], LineKind::Header(h) if h.name == "Jan" && h.reply_to.is_none() && !h.by_article_author)
        );
        // The time line under a name line: no name.
        assert_eq!(h("@Upsilon • 28 juli 2023 11:38"), some("", None, Some("Upsilon"), "28 juli 2023 11:38", false));
        assert_eq!(h("28 juli 2023 11:38"), some("", None, None, "28 juli 2023 11:38", false));
        for text in [
            "Bron: NOS 3 september 2024 10:56",
            "Dat was op 31 februari 2024 10:00",
            "Zie de uitspraak (3 september 2024 10:56)",
        ] {
            assert_eq!(h(text), None, "{text}");
        }
    }

    #[test]
    fn edit_and_header_lines_parse() {
        let e = parse_edit_line("[Reactie gewijzigd door StrongArmLance op 3 september 2024 12:52]").unwrap();
        assert_eq!(e.name, "StrongArmLance");
        assert_eq!(e.date, "3 september 2024 12:52");
        let e = parse_edit_line("[Reactie gewijzigd door Hans C op 28 juli 2023 13:06]").unwrap();
        assert_eq!(e.name, "Hans C");
        let h = parse_author_header("AuteurTijsZonderH Nieuwscoördinator @SeenD3 september 2024 10:56").unwrap();
        assert_eq!(h.name, "TijsZonderH");
        assert_eq!(h.function.as_deref(), Some("Nieuwscoördinator"));
        assert_eq!(h.reply_to.as_deref(), Some("SeenD"));
        assert_eq!(h.time, "3 september 2024 10:56");
        let h = parse_author_header("AuteurArnoud Redacteur3 september 2024 11:00").unwrap();
        assert_eq!(h.name, "Arnoud");
        assert_eq!(h.reply_to, None);
        assert!(parse_author_header("Auteursrecht is hier het probleem.").is_none());
    }

    fn seg(text: &str, article: &str) -> Vec<(usize, usize)> {
        let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
        segment(&classify(&lines, article)).iter().map(|s| (s.first_line(), s.last_line())).collect()
    }

    #[test]
    fn edit_line_is_a_certain_end_and_gaps_stay_inside() {
        let text = "Eerste reactie met een gedachte.\n\nTweede alinea van dezelfde reactie.\n\n[Reactie gewijzigd door Piet op 3 september 2024 12:52]\n\nVolgende reactie.";
        assert_eq!(seg(text, ""), vec![(1, 5), (7, 7)]);
    }

    #[test]
    fn quote_opens_a_reply_and_colon_keeps_it_inside() {
        let article = "De AP zegt echter dat de AVG wel degelijk van toepassing is.";
        let text = "Een reactie over de boete zonder quote.\nDe AP zegt echter dat de AVG wel degelijk van toepassing is.\nDat klopt niet.\nLees nou de quote eens:\nDe AP zegt echter dat de AVG wel degelijk van toepassing is.\nZie je wel.";
        assert_eq!(seg(text, article), vec![(1, 1), (2, 3), (4, 6)]);
    }

    #[test]
    fn a_reply_that_takes_the_points_of_its_source_in_turn_stays_one() {
        // Lines 3-6 quote lines 1 and 2, answering each: one reaction. (Line 2 addresses "je" and
        // is split off as a reaction of its own; its quote still counts as the same source.)
        let text = "De terugleverkosten gaan na volgend jaar alleen maar omhoog, let maar op.\nEn je vergeet de capaciteitstarieven die eraan zitten te komen.\nDe terugleverkosten gaan na volgend jaar alleen maar omhoog\nDat is een aanname van jou.\nEn je vergeet de capaciteitstarieven die eraan zitten te komen.\nDie zijn nog niet aangekondigd.";
        assert_eq!(seg(text, ""), vec![(1, 1), (2, 2), (3, 6)]);
        // The same with the article as the source of both quotes.
        let article = "Het bedrijf kreeg een boete van dertig miljoen euro. De toezichthouder wil ook de bestuurders aansprakelijk stellen.";
        let text = "Het bedrijf kreeg een boete van dertig miljoen euro.\nTerecht, dat is niet meer dan verdiend.\nDe toezichthouder wil ook de bestuurders aansprakelijk stellen.\nDat gaat nooit lukken.";
        assert_eq!(seg(text, article), vec![(1, 4)]);
        // A quote of another source after the answer still opens a new reaction.
        let text = "Het bedrijf kreeg een boete van dertig miljoen euro.\nTerecht, dat is niet meer dan verdiend.\nTerecht, dat is niet meer dan verdiend.\nVind ik niet, het bedrijf zit in Amerika.";
        assert_eq!(seg(text, article), vec![(1, 2), (3, 4)]);
    }

    #[test]
    fn lower_case_and_list_items_continue() {
        let text = "Klopt, maar dan zijn de alternatieven:\n- niks doen\n- foei zeggen\nNee, dat denk ik niet\nwant dat werkt nooit.";
        assert_eq!(seg(text, ""), vec![(1, 3), (4, 5)]);
    }

    fn kinds(text: &str) -> Vec<LineKind> {
        let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
        classify(&lines, "").into_iter().map(|l| l.kind).collect()
    }

    fn is_outside(kind: &LineKind) -> bool {
        matches!(kind, LineKind::OutsideQuote)
    }

    #[test]
    fn attributed_and_quoted_lines_are_outside_quotes() {
        // Followed by an attribution: the quote, not the attribution, is someone else's.
        let k = kinds("Zo'n bedrijf mag niet straffeloos doorgaan.\nAldus de AP\nDat is de volgende stap.");
        assert!(is_outside(&k[0]) && is_outside(&k[1]) && matches!(k[2], LineKind::Text));
        // Introduced by a source: the introduction and the next line.
        let k = kinds("aldus de NOS:\nDe AP wil de leiding aansprakelijk stellen.\nDat geeft gewicht.");
        assert!(is_outside(&k[0]) && is_outside(&k[1]) && matches!(k[2], LineKind::Text));
        let k = kinds("De Volkskrant schrijft:\nClearview betaalt geen enkele boete.");
        assert!(is_outside(&k[1]));
        // Wholly between quotation marks, and only then.
        let k = kinds(
            "“Wij vallen niet onder de AVG en hoeven niets te betalen,” zegt Clearview.\n\u{2018}Zo\u{2019}n bedrijf mag niet straffeloos doorgaan met het schenden van rechten.\u{2019}",
        );
        assert!(matches!(k[0], LineKind::Text) && is_outside(&k[1]));
        // A colon alone introduces nothing in particular, and a short quoted word is no quote.
        let k = kinds("Ik heb een hele makkelijke oplossing:\nDirect het bedrijf opdoeken.\n\"Nee\".");
        assert!(k.iter().all(|k| !is_outside(k)));
    }

    #[test]
    fn an_outside_quote_keeps_its_answer_in_the_reaction() {
        let text = "Waarom worden de bestuurders niet vervolgd?\nDe NOS schrijft:\nDe AP wil onderzoeken of de leiding aansprakelijk gesteld kan worden.\nDat geeft iets meer gewicht hieraan.";
        assert_eq!(seg(text, ""), vec![(1, 1), (2, 4)]);
    }
}
