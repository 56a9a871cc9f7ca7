//! Text normalisation shared by the readers and later stages: typography folding, word lists,
//! word shingles for quote matching, and Dutch dates.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use unicode_segmentation::UnicodeSegmentation;

/// Fold typography so that a quote matches its source whatever the quotes, dashes and spaces:
/// lower case, curly quotes to straight ones, dashes to `-`, `…` to `...`, white space collapsed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    if text.is_ascii() {
        // The common case, byte by byte.
        for b in text.bytes() {
            if b.is_ascii_whitespace() || b == 0x0B {
                if !last_space {
                    out.push(' ');
                }
                last_space = true;
            } else {
                out.push(if b == b'`' { '\'' } else { b.to_ascii_lowercase() as char });
                last_space = false;
            }
        }
        while out.ends_with(' ') {
            out.pop();
        }
        return out;
    }
    fold_chars(text)
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
        let offset = if self.is_summer_time() { "+02:00" } else { "+01:00" };
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:00{offset}", self.year, self.month, self.day, self.hour, self.minute)
    }

    fn is_summer_time(&self) -> bool {
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
    let (hour, minute) = time.split_once(':')?;
    let t = LocalTime {
        year: year.parse().ok()?,
        month,
        day: day.parse().ok()?,
        hour: hour.parse().ok()?,
        minute: minute.parse().ok()?,
    };
    t.valid().then_some(t)
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
    let (hour, minute) = time.split_once(':')?;
    let t = LocalTime {
        year: year.parse().ok()?,
        month: month.parse().ok()?,
        day: day.parse().ok()?,
        hour: hour.parse().ok()?,
        minute: minute.parse().ok()?,
    };
    t.valid().then_some(t)
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

/// The Dutch Snowball stem of one folded word. Stems are remembered per thread of execution, since
/// the same words recur throughout a thread.
pub fn stem(word: &str) -> String {
    static STEMMER: std::sync::LazyLock<rust_stemmers::Stemmer> =
        std::sync::LazyLock::new(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::Dutch));
    thread_local! {
        static SEEN: std::cell::RefCell<FastMap<String, String>> = std::cell::RefCell::new(FastMap::default());
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(s) = seen.get(word) {
            return s.clone();
        }
        if seen.len() > 200_000 {
            seen.clear();
        }
        let s = STEMMER.stem(word).into_owned();
        seen.insert(word.to_string(), s.clone());
        s
    })
}

#[cfg(test)]
mod tests {
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
