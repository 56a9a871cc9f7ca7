//! Many threads at once: `draad batch`. Inputs are files, folders (walked) and JSONL streams of
//! draad JSON threads (one thread per line). Threads are analysed in parallel and written as one
//! JSON line each, in input order, through a temporary file that is renamed when the run is done.
//! A thread that fails is written as an error line and the run goes on (unless `fail_fast`).
//! An interrupted run leaves its temporary file; `resume` keeps the threads it finished.
//!
//! Memory stays bounded: at most a window of units (64 by default) is read but not yet written.

use crate::analyze::{Models, analyze};
use crate::error::{Error, Result};
use crate::ingest::ReadOptions;
use crate::model::{Comment, Format};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// File extensions a folder walk picks up.
pub const EXTENSIONS: &[&str] = &["txt", "html", "htm", "mhtml", "mht", "webarchive", "json", "jsonl", "csv"];

/// One thread to analyse: a file, or one line of a stream of threads.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    File(String),
    Line { file: String, line: usize, text: String },
}

impl Unit {
    /// The name the output uses for it: the path, or `path:line`.
    pub fn name(&self) -> String {
        match self {
            Unit::File(f) => f.clone(),
            Unit::Line { file, line, .. } => format!("{file}:{line}"),
        }
    }
}

/// Where units come from, in input order.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    File(String),
    /// A JSONL file whose lines are whole threads, with the number of threads in it.
    Stream(String, usize),
}

/// Is this JSONL file a stream of threads (rather than a table of comments)? Looks at the first
/// non-empty line only.
fn is_thread_stream(path: &str) -> Result<bool> {
    let f = std::fs::File::open(path).map_err(|e| Error::new(path, None, format!("cannot open: {e}")))?;
    for line in BufReader::new(f).lines() {
        let Ok(line) = line else { return Ok(false) };
        if line.trim().is_empty() {
            continue;
        }
        // Only the start of the line is needed to see whether it holds a thread.
        let head: String = line.chars().take(4096).collect();
        return Ok(head.trim_start().starts_with('{')
            && (head.contains("\"comments\"") || head.contains("\"schema\":\"draad.thread")));
    }
    Ok(false)
}

fn count_lines(path: &str) -> Result<usize> {
    let f = std::fs::File::open(path).map_err(|e| Error::new(path, None, format!("cannot open: {e}")))?;
    let mut n = 0;
    let mut reader = BufReader::with_capacity(1 << 20, f);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let read =
            reader.read_until(b'\n', &mut buf).map_err(|e| Error::new(path, None, format!("cannot read: {e}")))?;
        if read == 0 {
            return Ok(n);
        }
        if buf.iter().any(|b| !b.is_ascii_whitespace()) {
            n += 1;
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let name = dir.to_string_lossy();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::new(&name, None, format!("cannot list folder: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| EXTENSIONS.contains(&x.to_string_lossy().to_lowercase().as_str())) {
            out.push(p);
        }
    }
    Ok(())
}

/// The sources named on the command line: files as given, folders walked in name order.
pub fn sources(inputs: &[String]) -> Result<Vec<Source>> {
    let mut files = Vec::new();
    for input in inputs {
        let p = Path::new(input);
        if p.is_dir() {
            walk(p, &mut files)?;
        } else if p.exists() {
            files.push(p.to_path_buf());
        } else {
            return Err(Error::new(input, None, "cannot open: no such file or folder"));
        }
    }
    files
        .into_iter()
        .map(|p| {
            let path = p.to_string_lossy().into_owned();
            if p.extension().is_some_and(|x| x == "jsonl") && is_thread_stream(&path)? {
                let n = count_lines(&path)?;
                Ok(Source::Stream(path, n))
            } else {
                Ok(Source::File(path))
            }
        })
        .collect()
}

/// Units of the sources, read lazily: a stream is read line by line as the batch goes.
pub fn units(sources: Vec<Source>) -> impl Iterator<Item = Result<Unit>> {
    sources.into_iter().flat_map(|s| -> Box<dyn Iterator<Item = Result<Unit>>> {
        match s {
            Source::File(f) => Box::new(std::iter::once(Ok(Unit::File(f)))),
            Source::Stream(f, _) => match std::fs::File::open(&f) {
                Err(e) => Box::new(std::iter::once(Err(Error::new(&f, None, format!("cannot open: {e}"))))),
                Ok(file) => Box::new(
                    BufReader::with_capacity(1 << 20, file)
                        .lines()
                        .enumerate()
                        .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
                        .map(move |(i, l)| match l {
                            Ok(text) => Ok(Unit::Line { file: f.clone(), line: i + 1, text }),
                            Err(e) => Err(Error::at_line(&f, i + 1, format!("cannot read: {e}"))),
                        }),
                ),
            },
        }
    })
}

/// How many threads the sources hold.
pub fn count_units(sources: &[Source]) -> usize {
    sources
        .iter()
        .map(|s| match s {
            Source::File(_) => 1,
            Source::Stream(_, n) => *n,
        })
        .sum()
}

/// One line of the output.
#[derive(Debug, Serialize)]
struct OutputLine<'a, T: Serialize> {
    input: &'a str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    comments: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<T>,
}

/// What a finished output line is read back as (for `resume`, the summary and the CSV table).
#[derive(Debug, Deserialize)]
struct ReadBack {
    input: String,
    ok: bool,
    #[serde(default)]
    analysis: Option<ReadBackAnalysis>,
}

#[derive(Debug, Deserialize)]
struct ReadBackAnalysis {
    comments: Vec<Comment>,
}

/// The entry of `key`, made (with the key cloned) only the first time.
fn count<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("just inserted")
}

/// The result of one thread, as counted for the summary.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct ThreadTally {
    pub input: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub comments: usize,
    /// dimension → label → comments.
    pub stance: BTreeMap<String, BTreeMap<String, usize>>,
    /// primary cluster → comments.
    pub clusters: BTreeMap<String, usize>,
    /// More than half of the comments fit none of the codebook's named clusters: the thread is
    /// about another debate, and its stance labels say little (see `summary.codebook_fit`).
    pub poor_codebook_fit: bool,
}

impl ThreadTally {
    /// `catch_all`: the codebook's catch-all cluster.
    fn of(input: &str, comments: &[Comment], catch_all: Option<&str>) -> ThreadTally {
        let poor_codebook_fit = crate::summary::outside_named_clusters(comments, catch_all).2;
        let mut t = ThreadTally {
            input: input.to_string(),
            ok: true,
            comments: comments.len(),
            poor_codebook_fit,
            ..Default::default()
        };
        for c in comments {
            for (dim, label) in c.stance.iter().flatten() {
                *count(count(&mut t.stance, dim), &label.label) += 1;
            }
            if let Some(a) = &c.clusters {
                *count(&mut t.clusters, &a.primary) += 1;
            }
        }
        t
    }
    fn failed(input: &str, error: String) -> ThreadTally {
        ThreadTally { input: input.to_string(), ok: false, error: Some(error), ..Default::default() }
    }
    fn add(&mut self, other: &ThreadTally) {
        self.comments += other.comments;
        for (dim, labels) in &other.stance {
            for (l, n) in labels {
                *self.stance.entry(dim.clone()).or_default().entry(l.clone()).or_default() += n;
            }
        }
        for (c, n) in &other.clusters {
            *self.clusters.entry(c.clone()).or_default() += n;
        }
    }
}

/// The corpus view: every thread and the totals.
#[derive(Debug, Clone, Serialize)]
pub struct CorpusSummary {
    pub threads: usize,
    pub failed: usize,
    pub total: ThreadTally,
    pub per_thread: Vec<ThreadTally>,
}

impl CorpusSummary {
    fn new(tallies: Vec<ThreadTally>) -> CorpusSummary {
        let mut total = ThreadTally { input: "(all threads)".into(), ok: true, ..Default::default() };
        for t in tallies.iter().filter(|t| t.ok) {
            total.add(t);
        }
        CorpusSummary {
            threads: tallies.len(),
            failed: tallies.iter().filter(|t| !t.ok).count(),
            total,
            per_thread: tallies,
        }
    }

    /// A short text table of the totals.
    pub fn to_text(&self) -> String {
        let mut out = format!("{} threads ({} failed), {} comments\n", self.threads, self.failed, self.total.comments);
        let share =
            |n: usize| if self.total.comments == 0 { 0.0 } else { 100.0 * n as f64 / self.total.comments as f64 };
        for (dim, labels) in &self.total.stance {
            let parts: Vec<String> = labels.iter().map(|(l, n)| format!("{l} {n} ({:.0}%)", share(*n))).collect();
            out.push_str(&format!("  stance {dim}: {}\n", parts.join(", ")));
        }
        let mut clusters: Vec<(&String, &usize)> = self.total.clusters.iter().collect();
        clusters.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = clusters.iter().map(|(c, n)| format!("{c} {n} ({:.0}%)", share(**n))).collect();
        out.push_str(&format!("  clusters: {}\n", parts.join(", ")));
        let poor: Vec<&str> =
            self.per_thread.iter().filter(|t| t.ok && t.poor_codebook_fit).map(|t| t.input.as_str()).collect();
        if !poor.is_empty() {
            out.push_str(&format!(
                "  {} thread(s) fit the codebook poorly (more than half of their comments outside every named cluster, so their stance labels say little; they are in the totals above): {}\n",
                poor.len(),
                poor.join(", ")
            ));
        }
        for t in self.per_thread.iter().filter(|t| !t.ok) {
            out.push_str(&format!("  failed: {}: {}\n", t.input, t.error.as_deref().unwrap_or("")));
        }
        out
    }
}

/// The per-comment table for pandas or R: one row per comment.
pub struct CsvTable {
    writer: csv::Writer<std::fs::File>,
    dimensions: Vec<String>,
    path: String,
    tmp: String,
}

impl CsvTable {
    fn create(path: &str, dimensions: Vec<String>, force: bool) -> Result<CsvTable> {
        if Path::new(path).exists() && !force {
            return Err(Error::new(path, None, "output file exists; use --force to overwrite it"));
        }
        let tmp = format!("{path}.draad-tmp");
        let file = std::fs::File::create(&tmp).map_err(|e| Error::new(&tmp, None, format!("cannot write: {e}")))?;
        let mut writer = csv::Writer::from_writer(file);
        let mut header: Vec<String> =
            ["input", "comment_id", "index", "parent", "author", "time", "score", "collapsed"].map(String::from).into();
        for d in &dimensions {
            header.push(format!("{d}"));
            header.push(format!("{d}_confidence"));
            header.push(format!("{d}_from_graph"));
        }
        header.extend(
            [
                "relation_to_parent",
                "relation_confidence",
                "cluster",
                "cluster_confidence",
                "clusters_secondary",
                "words",
            ]
            .map(String::from),
        );
        writer.write_record(&header).map_err(|e| Error::new(&tmp, None, format!("cannot write: {e}")))?;
        Ok(CsvTable { writer, dimensions, path: path.to_string(), tmp })
    }

    fn rows(&mut self, input: &str, comments: &[Comment]) -> Result<()> {
        for c in comments {
            let mut row: Vec<String> = vec![
                input.to_string(),
                c.id.clone(),
                c.index.to_string(),
                c.parent.clone().unwrap_or_default(),
                c.author.clone().unwrap_or_default(),
                c.time_iso.clone().unwrap_or_default(),
                c.score.map(|s| s.to_string()).unwrap_or_default(),
                c.collapsed.to_string(),
            ];
            for d in &self.dimensions {
                match c.stance.as_ref().and_then(|s| s.get(d)) {
                    Some(l) => {
                        row.push(l.label.clone());
                        row.push(format!("{:.3}", l.confidence));
                        row.push(l.evidence.iter().any(|e| e.kind == "graph").to_string());
                    }
                    None => row.extend([String::new(), String::new(), String::new()]),
                }
            }
            match &c.relation_to_parent {
                Some(r) => row.extend([r.label.clone(), format!("{:.3}", r.confidence)]),
                None => row.extend([String::new(), String::new()]),
            }
            match &c.clusters {
                Some(a) => row.extend([a.primary.clone(), format!("{:.3}", a.confidence), a.secondary.join(";")]),
                None => row.extend([String::new(), String::new(), String::new()]),
            }
            row.push(c.text.split_whitespace().count().to_string());
            self.writer.write_record(&row).map_err(|e| Error::new(&self.tmp, None, format!("cannot write: {e}")))?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.writer.flush().map_err(|e| Error::new(&self.tmp, None, format!("cannot write: {e}")))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::new(&self.path, None, format!("cannot write: {e}")))
    }
}

/// How a batch runs.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub read: ReadOptions,
    /// Stop at the first thread that fails.
    pub fail_fast: bool,
    /// Keep the threads an earlier (interrupted) run finished, and skip them.
    pub resume: bool,
    /// Overwrite existing output files.
    pub force: bool,
    /// Also write the per-comment table here.
    pub csv: Option<String>,
    /// Threads in flight at once: read but not yet written (bounds memory).
    pub chunk: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            read: ReadOptions::default(),
            fail_fast: false,
            resume: false,
            force: false,
            csv: None,
            chunk: 64,
        }
    }
}

/// Reports progress; `draad batch` draws a bar on a terminal and prints plain lines otherwise.
pub trait Progress: Sync {
    fn start(&self, _threads: usize) {}
    fn advance(&self, _threads: usize, _comments: usize) {}
    fn finish(&self) {}
}

/// No progress reports.
pub struct Quiet;
impl Progress for Quiet {}

/// What a batch did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub threads: usize,
    pub skipped: usize,
    pub failed: usize,
    pub comments: usize,
    pub seconds: f64,
    pub summary: CorpusSummary,
}

impl BatchReport {
    pub fn comments_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.comments as f64 / self.seconds } else { 0.0 }
    }
}

/// The lines an earlier run finished: from the output file and from an interrupted run's
/// temporary file. Only complete, well-formed lines of threads that succeeded are kept.
fn finished_lines(out: &str, tmp: &str) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut seen = HashSet::new();
    for path in [out, tmp] {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        for line in text.split_inclusive('\n') {
            if !line.ends_with('\n') {
                continue; // cut off by the interruption
            }
            let line = line.trim_end();
            let Ok(r) = serde_json::from_str::<ReadBack>(line) else { continue };
            if r.ok && seen.insert(r.input.clone()) {
                kept.push((r.input, line.to_string()));
            }
        }
    }
    kept
}

/// Room for the output line of a thread: about 2 KB per comment.
fn line_capacity(comments: usize) -> usize {
    2048 * comments + 1024
}

/// Analyse one unit into its output line (JSON without the line end), never panicking: a panic
/// inside the analysis is turned into the thread's error.
fn analyse_unit(
    unit: &Unit,
    models: &Models,
    options: &ReadOptions,
) -> (Vec<u8>, std::result::Result<Vec<Comment>, String>) {
    let name = unit.name();
    let run = || -> Result<(Vec<u8>, Vec<Comment>)> {
        let thread = match unit {
            Unit::File(f) => crate::ingest::read_path(f, options)?,
            Unit::Line { text, .. } => {
                let opts = ReadOptions { format: Some(Format::Json), ..options.clone() };
                crate::ingest::read_bytes_as_thread(text.as_bytes(), &name, &opts)?
            }
        };
        let analysis = analyze(thread, models);
        let mut line = Vec::with_capacity(line_capacity(analysis.thread.comments.len()));
        let output = OutputLine {
            input: &name,
            ok: true,
            comments: Some(analysis.thread.comments.len()),
            error: None,
            analysis: Some(&analysis),
        };
        crate::compact_json::write(&mut line, &output)
            .map_err(|e| Error::new(&name, None, format!("cannot write the result: {e}")))?;
        Ok((line, analysis.thread.comments))
    };
    let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok((line, comments))) => return (line, Ok(comments)),
        Ok(Err(e)) => e.to_string(),
        Err(p) => {
            let why = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned());
            format!("{name}: internal error: {}", why.unwrap_or_default())
        }
    };
    let line = serde_json::to_vec(&OutputLine::<()> {
        input: &name,
        ok: false,
        comments: None,
        error: Some(result.clone()),
        analysis: None,
    })
    .expect("an error line serialises");
    (line, Err(result))
}

/// Run a batch: analyse every unit of `inputs`, write `out` (JSONL) and, if asked, the CSV table.
pub fn run(
    inputs: &[String],
    out: &str,
    models: &Models,
    options: &BatchOptions,
    progress: &dyn Progress,
) -> Result<BatchReport> {
    let started = std::time::Instant::now();
    let tmp = format!("{out}.draad-tmp");
    if !options.resume {
        if Path::new(out).exists() && !options.force {
            return Err(Error::new(
                out,
                None,
                "output file exists; use --resume to continue it or --force to overwrite it",
            ));
        }
        if Path::new(&tmp).exists() && !options.force {
            return Err(Error::new(
                &tmp,
                None,
                "an interrupted run left this file; use --resume to continue it or --force to start over",
            ));
        }
    }
    let sources = sources(inputs)?;
    let total = count_units(&sources);
    let previous = if options.resume { finished_lines(out, &tmp) } else { Vec::new() };
    let done: HashSet<String> = previous.iter().map(|(i, _)| i.clone()).collect();
    let dimensions: Vec<String> = models.codebook.dimensions.iter().map(|d| d.id.clone()).collect();
    let mut csv =
        options.csv.as_deref().map(|p| CsvTable::create(p, dimensions, options.force || options.resume)).transpose()?;
    let file = std::fs::File::create(&tmp).map_err(|e| Error::new(&tmp, None, format!("cannot write: {e}")))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let write_err = |e: std::io::Error| Error::new(&tmp, None, format!("cannot write: {e}"));
    let mut tallies: Vec<ThreadTally> = Vec::new();
    let catch_all = crate::clusters::catch_all(&models.codebook);
    for (input, line) in &previous {
        writer.write_all(line.as_bytes()).and_then(|_| writer.write_all(b"\n")).map_err(write_err)?;
        let comments = serde_json::from_str::<ReadBack>(line)
            .ok()
            .and_then(|r| r.analysis)
            .map(|a| a.comments)
            .unwrap_or_default();
        if let Some(t) = csv.as_mut() {
            t.rows(input, &comments)?;
        }
        tallies.push(ThreadTally::of(input, &comments, catch_all));
    }
    progress.start(total);
    progress.advance(previous.len(), tallies.iter().map(|t| t.comments).sum());
    // The main thread reads units and hands each to the worker pool as soon as it is read; the
    // workers send their results to a writer thread, which writes them in input order. At most
    // `chunk` units are in flight (read but not yet written): the main thread takes a token before
    // it reads a unit and the writer gives it back when the unit is written. So memory stays
    // bounded, and no worker waits for the slowest thread of a chunk or for the reading.
    type Done = (String, Vec<u8>, std::result::Result<Vec<Comment>, String>);
    let window = options.chunk.max(1);
    let (send, receive) = std::sync::mpsc::channel::<(usize, Done)>();
    let (give_token, take_token) = std::sync::mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        give_token.send(()).expect("the token channel holds the window");
    }
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let fail_fast = options.fail_fast;
    let written = std::thread::scope(|scope| -> Result<(usize, usize, usize, Option<Error>)> {
        let csv = &mut csv;
        let tallies = &mut tallies;
        let writer = &mut writer;
        let stopped = &stopped;
        let write_thread = scope.spawn(move || -> Result<(usize, usize, usize, Option<Error>)> {
            let (mut comments_done, mut failed, mut analysed) = (0usize, 0usize, 0usize);
            // Results that came before the ones ahead of them.
            let mut waiting: BTreeMap<usize, Done> = BTreeMap::new();
            let outcome = (|| {
                for (index, done) in receive {
                    waiting.insert(index, done);
                    while let Some((name, line, result)) = waiting.remove(&analysed) {
                        let mut comments = 0;
                        match result {
                            Ok(list) => {
                                writer.write_all(&line).and_then(|_| writer.write_all(b"\n")).map_err(write_err)?;
                                if let Some(t) = csv.as_mut() {
                                    t.rows(&name, &list)?;
                                }
                                comments = list.len();
                                tallies.push(ThreadTally::of(&name, &list, catch_all));
                            }
                            Err(message) => {
                                failed += 1;
                                if fail_fast {
                                    writer.flush().map_err(write_err)?;
                                    let why = format!("stopped at the first failing thread (--fail-fast): {message}");
                                    return Ok(Some(Error::new(&name, None, why)));
                                }
                                writer.write_all(&line).and_then(|_| writer.write_all(b"\n")).map_err(write_err)?;
                                tallies.push(ThreadTally::failed(&name, message));
                            }
                        }
                        analysed += 1;
                        writer.flush().map_err(write_err)?;
                        comments_done += comments;
                        progress.advance(1, comments);
                        // The main thread may read another unit.
                        let _ = give_token.send(());
                    }
                }
                Ok(None)
            })();
            // Stop the reading when the writer stops early (--fail-fast or a write error).
            stopped.store(true, std::sync::atomic::Ordering::Relaxed);
            drop(give_token);
            outcome.map(|stop| (comments_done, failed, analysed, stop))
        });
        let mut read_error = None;
        rayon::in_place_scope(|pool| {
            let mut stream = units(sources);
            let mut index = 0;
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) && take_token.recv().is_ok() {
                let unit = loop {
                    match stream.next() {
                        Some(Ok(u)) if done.contains(&u.name()) => continue,
                        other => break other,
                    }
                };
                let unit = match unit {
                    None => break,
                    Some(Err(e)) => {
                        read_error = Some(e);
                        break;
                    }
                    Some(Ok(u)) => u,
                };
                let send = send.clone();
                let read = &options.read;
                pool.spawn(move |_| {
                    let (line, result) = analyse_unit(&unit, models, read);
                    // The writer has stopped (--fail-fast or a write error): nothing to do.
                    let _ = send.send((index, (unit.name(), line, result)));
                });
                index += 1;
            }
        });
        drop(send);
        let outcome = write_thread.join().map_err(|_| Error::new(&tmp, None, "the writer thread failed"))??;
        match read_error {
            Some(e) => Err(e),
            None => Ok(outcome),
        }
    })?;
    let (comments_done, failed, analysed, stop) = written;
    progress.finish();
    if let Some(e) = stop {
        // The finished threads stay in the temporary file for --resume.
        return Err(e);
    }
    writer.flush().map_err(write_err)?;
    drop(writer);
    std::fs::rename(&tmp, out).map_err(|e| Error::new(out, None, format!("cannot write: {e}")))?;
    if let Some(t) = csv {
        t.finish()?;
    }
    Ok(BatchReport {
        threads: analysed,
        skipped: previous.len(),
        failed,
        comments: comments_done,
        seconds: started.elapsed().as_secs_f64(),
        summary: CorpusSummary::new(tallies),
    })
}
