//! Text normalisation shared by the readers and later stages: typography folding, word lists,
//! word shingles for quote matching, and Dutch dates.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use unicode_segmentation::UnicodeSegmentation;

/// Text as a browser copy may hold it, with plain spaces: non-breaking and other Unicode spaces
/// (U+00A0, U+2000-U+200A, U+202F, U+205F, U+3000, ...) become a space, and invisible characters
/// that only hint at layout (zero-width space, word joiner, soft hyphen, a byte-order mark) go.
/// Line breaks and tabs stay, so line numbers do not change. Borrowed when there is nothing to do.
pub fn plain_spaces(text: &str) -> std::borrow::Cow<'_, str> {
    let odd = |c: char| {
        matches!(c, '\u{200B}' | '\u{2060}' | '\u{00AD}' | '\u{FEFF}')
            || (c.is_whitespace() && !matches!(c, ' ' | '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}'))
    };
    if text.is_ascii() || !text.chars().any(odd) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{200B}' | '\u{2060}' | '\u{00AD}' | '\u{FEFF}' => {}
            c if odd(c) => out.push(' '),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Fold typography so that a quote matches its source whatever the quotes, dashes and spaces:
/// lower case, curly quotes to straight ones, dashes to `-`, `…` to `...`, white space collapsed.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return fold_ascii(text);
    }
    fold_chars(text)
}

/// What [`fold`] makes of each ASCII byte: white space becomes [`FOLD_SPACE`], upper case lower case,
/// the backtick a straight quote; every other byte stays.
static ASCII_FOLD: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = if byte.is_ascii_whitespace() || byte == 0x0B {
            FOLD_SPACE
        } else if byte == b'`' {
            b'\''
        } else {
            byte.to_ascii_lowercase()
        };
        b += 1;
    }
    table
};

/// White space in [`ASCII_FOLD`] (not an ASCII byte).
const FOLD_SPACE: u8 = 0xFF;

/// [`fold`] of ASCII text, byte by byte: the bytes are folded where they stand in a copy of the
/// text, since the fold of ASCII is never longer than the text.
fn fold_ascii(text: &str) -> String {
    let mut out = text.as_bytes().to_vec();
    let mut len = 0;
    let mut last_space = true;
    for i in 0..out.len() {
        let folded = ASCII_FOLD[usize::from(out[i] & 0x7F)];
        if folded == FOLD_SPACE {
            if !last_space {
                out[len] = b' ';
                len += 1;
            }
            last_space = true;
        } else {
            out[len] = folded;
            len += 1;
            last_space = false;
        }
    }
    // White space is collapsed, so at most one space ends the text.
    if len > 0 && out[len - 1] == b' ' {
        len -= 1;
    }
    out.truncate(len);
    // ASCII in, ASCII out: the bytes are always UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| fold_chars(text))
}

/// [`fold`] of one word (no white space in it), borrowed when folding changes nothing: plain
/// lower-case ASCII, as most words are.
pub fn fold_word(word: &str) -> std::borrow::Cow<'_, str> {
    let unchanged =
        |b: &u8| b.is_ascii() && !b.is_ascii_uppercase() && !b.is_ascii_whitespace() && *b != 0x0B && *b != b'`';
    if !word.is_empty() && word.as_bytes().iter().all(unchanged) {
        std::borrow::Cow::Borrowed(word)
    } else {
        std::borrow::Cow::Owned(fold(word))
    }
}

/// [`fold`] character by character.
fn fold_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for ch in text.chars() {
        let mapped: &str = match ch {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' | '`' => "'",
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => "\"",
            '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
            '\u{2026}' => "...",
            c if c.is_whitespace() => " ",
            _ => "",
        };
        if mapped == " " {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else if !mapped.is_empty() {
            out.push_str(mapped);
            last_space = false;
        } else {
            out.extend(ch.to_lowercase());
            last_space = false;
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The words of a text, folded to lower case (Unicode word boundaries).
pub fn words(text: &str) -> Vec<String> {
    fold(text).unicode_words().map(str::to_string).collect()
}

/// Hashes of the word trigrams of a text (a text of fewer than three words has none).
pub fn trigram_hashes(words: &[String]) -> Vec<u64> {
    words
        .windows(3)
        .map(|w| {
            let mut h = DefaultHasher::new();
            w.hash(&mut h);
            h.finish()
        })
        .collect()
}

/// Dutch month names as Tweakers writes them.
pub const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// A local date-time on the Europe/Amsterdam clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

impl LocalTime {
    /// ISO 8601 with the Europe/Amsterdam offset (CEST from the last Sunday of March to the last
    /// Sunday of October, CET otherwise; the switching hour itself is taken as after the switch).
    pub fn iso(&self) -> String {
        self.iso_with_offset(if self.is_summer_time() { "+02:00" } else { "+01:00" })
    }

    /// ISO 8601 with the offset given (as a page's machine date states it).
    pub fn iso_with_offset(&self, offset: &str) -> String {
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:00{offset}", self.year, self.month, self.day, self.hour, self.minute)
    }

    /// Days since 1970-01-01 of its date.
    pub fn day_number(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    /// Minutes since 1970-01-01 00:00 on its own clock (so two times on one clock can be subtracted).
    pub fn minutes(&self) -> i64 {
        self.day_number() * 1440 + self.hour as i64 * 60 + self.minute as i64
    }

    /// The time itself if it is a real date and clock time.
    pub fn checked(self) -> Option<Self> {
        self.valid().then_some(self)
    }

    /// The clock time `minutes` later (earlier if negative), across days, months and years; the
    /// clock's own offset is not changed.
    pub fn plus_minutes(self, minutes: i64) -> Self {
        let total = days_from_civil(self.year, self.month, self.day) * 1440
            + self.hour as i64 * 60
            + self.minute as i64
            + minutes;
        let (days, rest) = (total.div_euclid(1440), total.rem_euclid(1440));
        let (year, month, day) = civil_from_days(days);
        LocalTime { year, month, day, hour: (rest / 60) as u32, minute: (rest % 60) as u32 }
    }

    pub(crate) fn is_summer_time(&self) -> bool {
        let start = last_sunday(self.year, 3);
        let end = last_sunday(self.year, 10);
        let after_start = (self.month, self.day, self.hour) >= (3, start, 2);
        let before_end = (self.month, self.day, self.hour) < (10, end, 3);
        after_start && before_end
    }

    fn valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = year as i64 - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// Date a relative reaction time (`vandaag 11:38`, `gisteren 09:12`, `eergisteren 23:50`) from the
/// day the page was shown.
pub fn resolve_relative_time(text: &str, shown: LocalTime) -> Option<LocalTime> {
    let lower = text.to_lowercase().replace(',', " ");
    let words: Vec<&str> = lower.split_whitespace().filter(|w| *w != "om").collect();
    let [word, time] = words.as_slice() else {
        return None;
    };
    let back = RELATIVE_DAYS.iter().position(|d| d == word)? as i64;
    let (hour, minute) = time.split_once(':')?;
    let day = shown.plus_minutes(-back * 1440);
    LocalTime { hour: hour.parse().ok()?, minute: minute.parse().ok()?, ..day }.checked()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Day of week, 0 = Sunday (Sakamoto's method).
fn weekday(year: i32, month: u32, day: u32) -> u32 {
    const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if month < 3 { year - 1 } else { year };
    ((y + y / 4 - y / 100 + y / 400 + T[month as usize - 1] + day as i32).rem_euclid(7)) as u32
}

fn last_sunday(year: i32, month: u32) -> u32 {
    let last = days_in_month(year, month);
    last - weekday(year, month, last)
}

/// Parse `3 september 2024 10:56` (day without leading zero, Dutch month name).
pub fn parse_dutch_datetime(text: &str) -> Option<LocalTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [day, month, year, time] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u32 + 1;
    clock_time(year, month, day, time)
}

/// A valid local time from the parts of a written date: year, month number, day and `HH:MM`.
fn clock_time(year: &str, month: u32, day: &str, time: &str) -> Option<LocalTime> {
    let (hour, minute) = time.split_once(':')?;
    LocalTime {
        year: year.parse().ok()?,
        month,
        day: day.parse().ok()?,
        hour: hour.parse().ok()?,
        minute: minute.parse().ok()?,
    }
    .checked()
}

/// Dutch weekday names, which a page may put before a date ("dinsdag 3 september 2024 10:56").
const WEEKDAYS: [&str; 7] = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"];

/// Relative day words a page may show in place of a date ("vandaag 11:38"): they count from the
/// day the page was looked at, which a saved page does not record.
pub const RELATIVE_DAYS: [&str; 3] = ["vandaag", "gisteren", "eergisteren"];

/// Parse a reaction time as a page may show it, more leniently than [`parse_dutch_datetime`]: also
/// with a weekday before it, a comma, `om` before the clock time, a month shortened to three or four
/// letters with or without a dot (`3 sep. 2024 10:56`, `mrt`), or `T`-less machine forms
/// (`2024-09-03 10:56`). Only for text known to be a time (the HTML reader's time element, the time
/// of a header already found); recognising a header in copied text needs the strict form, as a
/// lenient match would take ordinary lines for headers.
pub fn parse_reaction_time(text: &str) -> Option<LocalTime> {
    if let Some(t) = parse_dutch_datetime(text) {
        return Some(t);
    }
    if let Some(t) = parse_machine_datetime(text) {
        return Some(t.0);
    }
    let lower = text.to_lowercase().replace(',', " ");
    let mut words: Vec<&str> = lower.split_whitespace().filter(|w| *w != "om").collect();
    if words.first().is_some_and(|w| WEEKDAYS.iter().any(|d| d.starts_with(w.trim_end_matches('.')) && w.len() >= 2)) {
        words.remove(0);
    }
    let [day, month, year, time] = words.as_slice() else {
        return None;
    };
    let m = month.trim_end_matches('.');
    let month = MONTHS
        .iter()
        .position(|full| *full == m || (m.len() >= 3 && full.starts_with(m)) || (m == "mrt" && *full == "maart"))?
        as u32
        + 1;
    clock_time(year, month, day, time)
}

/// Parse a machine date-time as in an HTML `datetime` attribute: `2024-09-03T10:56`, with optional
/// seconds, fraction and offset (`Z`, `+02:00`), or a space for the `T`. Returns the clock time and
/// the offset as written, if any.
pub fn parse_machine_datetime(text: &str) -> Option<(LocalTime, Option<String>)> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() < 16 || !t.is_char_boundary(16) {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| {
        b[r.clone()].iter().all(u8::is_ascii_digit).then(|| t[r].parse::<u32>().ok()).flatten()
    };
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' {
        return None;
    }
    let local = LocalTime {
        year: digits(0..4)? as i32,
        month: digits(5..7)?,
        day: digits(8..10)?,
        hour: digits(11..13)?,
        minute: digits(14..16)?,
    };
    if !local.valid() {
        return None;
    }
    let mut rest = &t[16..];
    if let Some(r) = rest.strip_prefix(':') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n != 2 {
            return None;
        }
        rest = &r[n..];
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            rest = &r[n..];
        }
    }
    let offset = match rest {
        "" => None,
        "Z" | "z" => Some("+00:00".to_string()),
        o if o.len() == 6
            && (o.starts_with('+') || o.starts_with('-'))
            && o.as_bytes()[3] == b':'
            && o[1..3].bytes().chain(o[4..6].bytes()).all(|c| c.is_ascii_digit()) =>
        {
            Some(o.to_string())
        }
        _ => return None,
    };
    Some((local, offset))
}

/// Parse the article date `03-09-2024 • 10:38` (the bullet may be missing or another separator).
pub fn parse_numeric_datetime(text: &str) -> Option<LocalTime> {
    let cleaned: String =
        text.chars().map(|c| if c.is_ascii_digit() || c == '-' || c == ':' { c } else { ' ' }).collect();
    let parts: Vec<&str> = cleaned.split_whitespace().collect();
    let [date, time] = parts.as_slice() else {
        return None;
    };
    let d: Vec<&str> = date.split('-').collect();
    let [day, month, year] = d.as_slice() else {
        return None;
    };
    clock_time(year, month.parse().ok()?, day, time)
}

/// The sentence segments of a text with their byte offsets: exactly what
/// `UnicodeSegmentation::split_sentence_bound_indices` gives, found faster for ASCII text.
pub fn sentence_bound_indices(text: &str) -> Vec<(usize, &str)> {
    if !text.is_ascii() {
        return text.split_sentence_bound_indices().collect();
    }
    let breaks = ascii_sentence_breaks(text.as_bytes());
    breaks.windows(2).map(|w| (w[0], &text[w[0]..w[1]])).collect()
}

/// Sentence categories (UAX #29) of ASCII characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SentenceCat {
    Other,
    CR,
    LF,
    Sp,
    Lower,
    Upper,
    Numeric,
    ATerm,
    STerm,
    Close,
    SContinue,
}

const fn ascii_sentence_cat(b: u8) -> SentenceCat {
    match b {
        b'\t' | 0x0B | 0x0C | b' ' => SentenceCat::Sp,
        b'\n' => SentenceCat::LF,
        b'\r' => SentenceCat::CR,
        b'!' | b'?' => SentenceCat::STerm,
        b'"' | b'\'' | b'(' | b')' | b'[' | b']' | b'{' | b'}' => SentenceCat::Close,
        b',' | b'-' | b':' | b';' => SentenceCat::SContinue,
        b'.' => SentenceCat::ATerm,
        b'0'..=b'9' => SentenceCat::Numeric,
        b'A'..=b'Z' => SentenceCat::Upper,
        b'a'..=b'z' => SentenceCat::Lower,
        _ => SentenceCat::Other,
    }
}

/// [`ascii_sentence_cat`] of every ASCII byte.
static ASCII_SENTENCE_CATS: [SentenceCat; 128] = {
    let mut table = [SentenceCat::Other; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = ascii_sentence_cat(b as u8);
        b += 1;
    }
    table
};

/// What the sentence-break state remembers of a character (or a run of `Close` or `Sp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Sot,
    Other,
    CR,
    LF,
    ATerm,
    UpperLower,
    ClosePlus,
    SpPlus,
    STerm,
}

/// The byte offsets where sentences start, and the end of the text: the forward sentence breaks of
/// unicode-segmentation (a port of its state machine; ASCII has no `Sep`, `OLetter`, `Extend` or
/// `Format` characters, so their rules never apply).
fn ascii_sentence_breaks(s: &[u8]) -> Vec<usize> {
    use SentenceCat as C;
    let mut out = Vec::with_capacity(s.len() / 40 + 2);
    let mut parts = [Part::Sot; 4];
    // The last terminator before position 3 - skip: `Sp*` (when `sp`) and then `Close*`.
    let term_at = |parts: &[Part; 4], sp: bool| {
        let mut i = if sp && parts[3] == Part::SpPlus { 2 } else { 3 };
        if parts[i] == Part::ClosePlus {
            i -= 1;
        }
        parts[i]
    };
    let is_term = |p: Part| p == Part::STerm || p == Part::ATerm;
    // Every rule after the first three needs a terminator among the last three parts.
    let quiet = |parts: &[Part; 4]| {
        !(matches!(parts[3], Part::Sot | Part::CR | Part::LF)
            || is_term(parts[1])
            || is_term(parts[2])
            || is_term(parts[3]))
    };
    let mut pos = 0;
    while pos < s.len() {
        // After a quiet state no break comes before the next terminator, CR or LF (the bytes before
        // it leave the state quiet), so those bytes only move the parts along.
        if quiet(&parts) {
            let next = s[pos..].iter().position(|&b| matches!(b, b'.' | b'!' | b'?' | b'\r' | b'\n'));
            let next = next.map_or(s.len(), |i| pos + i);
            if next > pos {
                parts = parts_after(parts, &s[pos..next]);
                pos = next;
                continue;
            }
        }
        let before = parts;
        let cat = ASCII_SENTENCE_CATS[s[pos] as usize & 0x7F];
        parts = next_parts(parts, cat);
        let last = before[3];
        if quiet(&before) {
            pos += 1;
            continue;
        }
        let sb8 = || {
            // ATerm Close* Sp* × (¬(OLetter | Upper | Lower | ParaSep | SATerm))* Lower
            term_at(&before, true) == Part::ATerm
                && s[pos..]
                    .iter()
                    .map(|&b| ASCII_SENTENCE_CATS[b as usize & 0x7F])
                    .find(|c| matches!(c, C::Lower | C::Upper | C::CR | C::LF | C::STerm | C::ATerm))
                    == Some(C::Lower)
        };
        let sb11 = || {
            let mut i = if matches!(last, Part::CR | Part::LF) { 2 } else { 3 };
            if before[i] == Part::SpPlus {
                i -= 1;
            }
            if before[i] == Part::ClosePlus {
                i -= 1;
            }
            is_term(before[i])
        };
        let is_break = if last == Part::Sot {
            true
        } else if cat == C::LF && last == Part::CR {
            false
        } else if matches!(last, Part::CR | Part::LF) {
            true
        } else if (cat == C::Numeric && last == Part::ATerm)
            || (cat == C::Upper && before[2] == Part::UpperLower && last == Part::ATerm)
            || sb8()
            || (matches!(cat, C::SContinue | C::STerm | C::ATerm) && is_term(term_at(&before, true)))
            || (matches!(cat, C::Close | C::Sp | C::CR | C::LF) && is_term(term_at(&before, false)))
            || (matches!(cat, C::Sp | C::CR | C::LF) && is_term(term_at(&before, true)))
        {
            false
        } else {
            sb11()
        };
        if is_break {
            out.push(pos);
        }
        pos += 1;
    }
    if !s.is_empty() {
        out.push(s.len());
    }
    out
}

/// The part a character of category `cat` makes (or extends, for `Close` and `Sp`).
fn part_of(cat: SentenceCat) -> Part {
    use SentenceCat as C;
    match cat {
        C::CR => Part::CR,
        C::LF => Part::LF,
        C::ATerm => Part::ATerm,
        C::Upper | C::Lower => Part::UpperLower,
        C::Close => Part::ClosePlus,
        C::Sp => Part::SpPlus,
        C::STerm => Part::STerm,
        _ => Part::Other,
    }
}

/// Whether a part is a run that more characters of its kind extend.
fn is_run(p: Part) -> bool {
    matches!(p, Part::ClosePlus | Part::SpPlus)
}

/// The parts after a character of category `cat`: a new part, or a longer run of `Close` or `Sp`.
fn next_parts(parts: [Part; 4], cat: SentenceCat) -> [Part; 4] {
    let p = part_of(cat);
    if p == parts[3] && is_run(p) { parts } else { [parts[1], parts[2], parts[3], p] }
}

/// [`next_parts`] over every byte of `bytes`, found from the end: only the last four parts count.
fn parts_after(parts: [Part; 4], bytes: &[u8]) -> [Part; 4] {
    // The parts `bytes` make, newest first.
    let mut newest = [Part::Sot; 4];
    let mut n = 0;
    let mut all_read = true;
    for &b in bytes.iter().rev() {
        let p = part_of(ASCII_SENTENCE_CATS[b as usize & 0x7F]);
        if n > 0 && newest[n - 1] == p && is_run(p) {
            continue;
        }
        if n == 4 {
            all_read = false;
            break;
        }
        newest[n] = p;
        n += 1;
    }
    // The first byte may extend the run the parts end with.
    if all_read && n > 0 && newest[n - 1] == parts[3] && is_run(parts[3]) {
        n -= 1;
    }
    newest[..n].iter().rev().fold(parts, |p, &new| [p[1], p[2], p[3], new])
}

/// Common Dutch function words, left out when comparing what two comments talk about.
pub const STOPWORDS: &[&str] = &[
    "de",
    "het",
    "een",
    "en",
    "of",
    "maar",
    "want",
    "dus",
    "dat",
    "die",
    "dit",
    "deze",
    "is",
    "zijn",
    "was",
    "waren",
    "wordt",
    "worden",
    "werd",
    "ben",
    "bent",
    "heb",
    "hebt",
    "heeft",
    "hebben",
    "had",
    "hadden",
    "kan",
    "kunnen",
    "kun",
    "kunt",
    "kon",
    "zal",
    "zullen",
    "zou",
    "zouden",
    "moet",
    "moeten",
    "mag",
    "mogen",
    "wil",
    "willen",
    "gaat",
    "gaan",
    "ga",
    "doen",
    "doet",
    "van",
    "voor",
    "met",
    "op",
    "in",
    "aan",
    "te",
    "om",
    "bij",
    "naar",
    "uit",
    "tot",
    "over",
    "door",
    "als",
    "dan",
    "ook",
    "nog",
    "wel",
    "niet",
    "geen",
    "al",
    "er",
    "hier",
    "daar",
    "waar",
    "wat",
    "wie",
    "hoe",
    "waarom",
    "ik",
    "je",
    "jij",
    "jou",
    "jouw",
    "u",
    "we",
    "wij",
    "ze",
    "zij",
    "hij",
    "hem",
    "haar",
    "hun",
    "hen",
    "ons",
    "onze",
    "mijn",
    "me",
    "mij",
    "zich",
    "men",
    "iets",
    "niets",
    "niks",
    "nu",
    "toch",
    "zo",
    "even",
    "eens",
    "heel",
    "veel",
    "meer",
    "zeer",
    "alleen",
    "gewoon",
    "natuurlijk",
    "echt",
    "omdat",
    "zoals",
    "na",
    "tegen",
    "zonder",
    "onder",
    "boven",
    "tussen",
    "ja",
    "nee",
    "nou",
    "toe",
    "alle",
    "elke",
    "andere",
    "ander",
    "zelf",
    "geweest",
    "word",
];

pub fn is_stopword(word: &str) -> bool {
    static SET: std::sync::LazyLock<std::collections::HashSet<&'static str, std::hash::BuildHasherDefault<Fnv1a>>> =
        std::sync::LazyLock::new(|| STOPWORDS.iter().copied().collect());
    SET.contains(word)
}

/// Content words of a text: folded words that are not stop words, not numbers and at least 3 long.
pub fn content_words(text: &str) -> Vec<String> {
    words(text).into_iter().filter(|w| is_content_word(w)).collect()
}

/// A folded word that carries content: at least 3 characters, not a stop word, not a number.
pub fn is_content_word(w: &str) -> bool {
    w.chars().nth(2).is_some() && !w.chars().all(|c| c.is_ascii_digit()) && !is_stopword(w)
}

/// Dutch Snowball stems of the content words of a text, so that "betalen" and "betaalt" or
/// "wetten" and "wet" count as the same word.
pub fn content_stems(text: &str) -> Vec<String> {
    content_words(text).iter().map(|w| stem(w)).collect()
}

/// A hash map with a hasher made for short keys such as words (the default hasher resists
/// flooding, which costs most of a lookup here and buys nothing for text the user chose).
pub type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv1a>>;

/// The FNV-1a hash.
#[derive(Default)]
pub struct Fnv1a(u64);

impl std::hash::Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The Dutch Snowball stem of one folded word.
pub fn stem(word: &str) -> String {
    shared_stem(word).to_string()
}

/// [`stem`], shared: stems are remembered per thread of execution, since the same words recur
/// throughout a thread, and a remembered stem is handed out without copying it.
pub fn shared_stem(word: &str) -> std::sync::Arc<str> {
    static STEMMER: std::sync::LazyLock<rust_stemmers::Stemmer> =
        std::sync::LazyLock::new(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::Dutch));
    thread_local! {
        static SEEN: std::cell::RefCell<FastMap<String, std::sync::Arc<str>>> =
            std::cell::RefCell::new(FastMap::default());
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(s) = seen.get(word) {
            return s.clone();
        }
        if seen.len() > 200_000 {
            seen.clear();
        }
        let s: std::sync::Arc<str> = STEMMER.stem(word).into();
        seen.insert(word.to_string(), s.clone());
        s
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn plain_spaces_maps_unicode_spaces_and_drops_invisible_marks() {
        assert!(matches!(plain_spaces("gewoon tekst"), std::borrow::Cow::Borrowed(_)));
        assert!(matches!(plain_spaces("café\tné\n"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(plain_spaces("a\u{a0}b\u{202f}c\u{3000}d"), "a b c d");
        assert_eq!(plain_spaces("Clear\u{ad}view\u{200b} \u{feff}x\r\ny"), "Clearview x\r\ny");
    }

    use super::*;

    #[test]
    fn stems_join_word_forms() {
        let a = content_stems("Ze willen de boete niet betalen");
        let b = content_stems("Clearview gaat boeten nooit betalen");
        assert!(a.contains(&"boet".to_string()) && b.contains(&"boet".to_string()), "{a:?} {b:?}");
        assert!(a.contains(&"betal".to_string()) && b.contains(&"betal".to_string()), "{a:?} {b:?}");
    }

    #[test]
    fn fold_of_ascii_text_is_the_general_fold() {
        for t in ["  Ze Gaan\tNIET\x0b betalen `echt`  \n", "", "   ", "A-b, C.D?\r\n\x0cX"] {
            assert_eq!(fold(t), fold_chars(t), "{t:?}");
        }
    }

    /// A small deterministic random source for the tests: `next(n)` gives a number below `n`.
    fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }

    #[test]
    fn ascii_sentences_are_the_unicode_sentences() {
        // Every sentence category of ASCII, and runs of closers, spaces and terminators.
        let alphabet: &[&str] = &[
            "a", "z", "B", "Q", "7", ".", ".", "!", "?", ",", "-", ":", ";", " ", " ", "\t", "\x0b", "\x0c", "\n",
            "\r", "\r\n", "\"", "'", "(", ")", "[", "]", "{", "}", "#", "@", "\x00", "~", "word", "Word", "e.g.",
            "U.S.", "3.5", "... ", "?! ", ".) ", ".\" a",
        ];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for round in 0..20_000 {
            let len = next(if round % 10 == 0 { 60 } else { 14 });
            let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let expected: Vec<(usize, &str)> = text.split_sentence_bound_indices().collect();
            assert_eq!(sentence_bound_indices(&text), expected, "{text:?}");
        }
        for text in ["", " ", "Nee. Dat klopt niet.", "Echt?! (Ja.) Nou...  ok", "a.b. C. d", "x\r\n\ry"] {
            let expected: Vec<(usize, &str)> = text.split_sentence_bound_indices().collect();
            assert_eq!(sentence_bound_indices(text), expected, "{text:?}");
        }
    }

    #[test]
    fn parts_after_bytes_are_the_parts_byte_by_byte() {
        let alphabet = b"aZ7,;-\"')( \t\x0b#";
        let starts = [Part::Sot, Part::Other, Part::CR, Part::LF, Part::ATerm, Part::UpperLower, Part::ClosePlus];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let start = [(); 4].map(|_| if next(3) == 0 { Part::SpPlus } else { starts[next(starts.len())] });
            let bytes: Vec<u8> = (0..next(12)).map(|_| alphabet[next(alphabet.len())]).collect();
            let one_by_one = bytes.iter().fold(start, |p, &b| next_parts(p, ASCII_SENTENCE_CATS[b as usize & 0x7F]));
            assert_eq!(parts_after(start, &bytes), one_by_one, "{start:?} {bytes:?}");
        }
    }

    #[test]
    fn fold_word_is_fold() {
        for w in ["betalen", "Betalen", "AVG", "zo'n", "`t", "2024", "café", "ÉÉN", "a\x0bb", " x", "x ", ""] {
            assert_eq!(fold_word(w), fold(w), "{w:?}");
        }
    }

    #[test]
    fn fold_unifies_typography() {
        assert_eq!(fold("  ‘Zo’n  bedrijf’ — “mag”…"), "'zo'n bedrijf' - \"mag\"...");
    }

    #[test]
    fn clock_arithmetic_and_relative_days() {
        let t = parse_dutch_datetime("1 maart 2024 00:10").unwrap();
        assert_eq!(t.plus_minutes(-20).iso(), "2024-02-29T23:50:00+01:00");
        assert_eq!(t.plus_minutes(366 * 1440).iso(), "2025-03-02T00:10:00+01:00");
        assert_eq!(
            parse_dutch_datetime("31 december 1969 23:59").unwrap().plus_minutes(1).iso(),
            "1970-01-01T00:00:00+01:00"
        );
        let shown = parse_dutch_datetime("1 januari 2025 08:00").unwrap();
        assert_eq!(resolve_relative_time("vandaag 07:15", shown).unwrap().iso(), "2025-01-01T07:15:00+01:00");
        assert_eq!(resolve_relative_time("Gisteren, om 23:50", shown).unwrap().iso(), "2024-12-31T23:50:00+01:00");
        assert_eq!(resolve_relative_time("eergisteren 12:00", shown).unwrap().iso(), "2024-12-30T12:00:00+01:00");
        for bad in ["morgen 10:00", "vandaag", "vandaag 25:00", "3 september 2024 10:56"] {
            assert!(resolve_relative_time(bad, shown).is_none(), "{bad}");
        }
    }

    #[test]
    fn reaction_times_parse_leniently_and_machine_dates_strictly() {
        let want = parse_dutch_datetime("3 september 2024 10:56").unwrap();
        for shown in
            ["dinsdag 3 september 2024 10:56", "di 3 sep. 2024, om 10:56", "3 sept 2024 10:56", "3 Sep 2024 10:56"]
        {
            assert_eq!(parse_reaction_time(shown), Some(want), "{shown}");
        }
        assert_eq!(parse_reaction_time("30 mrt 2024 12:00").map(|t| t.month), Some(3));
        for bad in [
            "vandaag 10:56",
            "3 se 2024 10:56",
            "3 september 2024",
            "32 september 2024 10:56",
            "3 september 2024 24:00",
        ] {
            assert_eq!(parse_reaction_time(bad), None, "{bad}");
        }
        assert_eq!(parse_machine_datetime("2024-09-03T10:56"), Some((want, None)));
        assert_eq!(parse_machine_datetime("2024-09-03 10:56:12.5Z"), Some((want, Some("+00:00".into()))));
        assert_eq!(parse_machine_datetime(" 2024-09-03T10:56:00+02:00 "), Some((want, Some("+02:00".into()))));
        for bad in [
            "2024-09-03",
            "2024-09-03T10:56:1",
            "2024-13-03T10:56",
            "2024-09-03T10:56+2",
            "2024-09-03T10:56 uur",
            "2024-09-03T10:5é",
        ] {
            assert_eq!(parse_machine_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn dutch_dates_parse_with_offset() {
        let t = parse_dutch_datetime("3 september 2024 10:56").unwrap();
        assert_eq!(t.iso(), "2024-09-03T10:56:00+02:00");
        let w = parse_dutch_datetime("1 december 2023 09:05").unwrap();
        assert_eq!(w.iso(), "2023-12-01T09:05:00+01:00");
        assert!(parse_dutch_datetime("31 februari 2024 10:00").is_none());
        assert!(parse_dutch_datetime("3 sept 2024 10:56").is_none());
        let a = parse_numeric_datetime("03-09-2024 • 10:38").unwrap();
        assert_eq!(a.iso(), "2024-09-03T10:38:00+02:00");
    }

    #[test]
    fn summer_time_switches_on_last_sundays() {
        // 2024: summer time from 31 March to 27 October.
        assert_eq!(parse_dutch_datetime("30 maart 2024 12:00").unwrap().iso(), "2024-03-30T12:00:00+01:00");
        assert_eq!(parse_dutch_datetime("31 maart 2024 12:00").unwrap().iso(), "2024-03-31T12:00:00+02:00");
        assert_eq!(parse_dutch_datetime("27 oktober 2024 12:00").unwrap().iso(), "2024-10-27T12:00:00+01:00");
    }
}
