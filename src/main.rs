use clap::{Parser, Subcommand};
use draad::graph_export::GraphFormat;
use draad::ingest::{ColumnMap, ReadOptions};
use draad::model::Format;
use draad::render::ReportFormat;
use std::process::ExitCode;

mod progress;

/// draad: analyse a comment thread (Tweakers copied text or HTML, JSON, JSONL, CSV).
#[derive(Parser)]
#[command(name = "draad", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct InputArgs {
    /// The thread file; `-` reads standard input. Several files are read as the saved HTML pages of
    /// one thread split over pages, in the order given.
    #[arg(required = true, num_args = 1.., value_name = "FILE")]
    files: Vec<String>,
    /// JSONL/CSV: the column holding the comment id.
    #[arg(long, default_value = "id")]
    id_col: String,
    /// JSONL/CSV: the column holding the parent id (empty or null for a reply to the article).
    #[arg(long, default_value = "parent")]
    parent_col: String,
    /// JSONL/CSV: the column holding the author.
    #[arg(long, default_value = "author")]
    author_col: String,
    /// JSONL/CSV: the column holding the posting time.
    #[arg(long, default_value = "time")]
    time_col: String,
    /// JSONL/CSV: the column holding the comment text.
    #[arg(long, default_value = "text")]
    text_col: String,
    /// Copied text: take the reactions and their parents from this table (the replies.tsv columns,
    /// as `draad graph FILE --to tsv` writes them) instead of rebuilding them from the text.
    #[arg(long, value_name = "TSV")]
    structure: Option<String>,
    #[command(flatten)]
    limits: Limits,
}

/// Limits on input size and nesting; a user can raise them.
#[derive(clap::Args, Clone)]
struct Limits {
    /// Refuse inputs larger than this many bytes.
    #[arg(long, default_value_t = draad::ingest::MAX_BYTES)]
    max_bytes: u64,
    /// Refuse lines longer than this many bytes (copied text, JSONL, CSV).
    #[arg(long, default_value_t = draad::ingest::MAX_LINE_BYTES)]
    max_line_bytes: usize,
    /// Refuse HTML nested deeper than this many elements (at most 10000).
    #[arg(long, default_value_t = draad::ingest::MAX_NESTING, value_parser = nesting_limit)]
    max_nesting: usize,
}

/// Whether and from where to use the optional sentence encoder.
#[derive(clap::Args, Clone)]
struct EncoderArgs {
    /// The sentence encoder (multilingual-e5-small, fetched by scripts/fetch-models.sh): `auto` uses
    /// it when its files are in place, `e5` requires it, `off` leaves it out.
    #[arg(long, value_enum, default_value = "auto")]
    encoder: draad::analyze::EncoderChoice,
    /// The folder holding the encoder's files (default: models/e5-small, or $DRAAD_ENCODER_DIR).
    #[arg(long, value_name = "DIR")]
    encoder_dir: Option<String>,
}

impl EncoderArgs {
    fn dir(&self) -> std::path::PathBuf {
        self.encoder_dir.as_ref().map_or_else(draad::encoder::Encoder::default_dir, std::path::PathBuf::from)
    }
    fn models(&self, codebook: &str) -> draad::Result<draad::analyze::Models> {
        draad::analyze::Models::load_with(codebook, self.encoder, &self.dir())
    }
    /// The encoder, if chosen and present (`e5` and missing files: an error).
    fn load(&self) -> draad::Result<Option<std::sync::Arc<draad::encoder::Encoder>>> {
        Ok(draad::analyze::load_encoder(self.encoder, &self.dir())?.0.map(std::sync::Arc::new))
    }
}

/// Authored training examples (comments written to show the codebook's labels) added to the training
/// comments.
#[derive(clap::Args, Clone)]
struct AuthoredArgs {
    /// A JSONL file of authored, labelled comments added to every training set (never scored):
    /// `auto` takes threads/authored-CODEBOOK/comments.jsonl when it exists, `none` leaves them out.
    #[arg(long, value_name = "JSONL|auto|none", default_value = "auto")]
    authored: String,
}

impl AuthoredArgs {
    fn load(&self, codebook: &draad::codebook::Codebook) -> draad::Result<Option<draad::annotated::AuthoredSet>> {
        match self.authored.as_str() {
            "none" => Ok(None),
            "auto" => {
                let path = draad::annotated::authored_path_for(codebook);
                if std::path::Path::new(&path).exists() {
                    draad::annotated::load_authored(&path, codebook).map(Some)
                } else {
                    Ok(None)
                }
            }
            path => draad::annotated::load_authored(path, codebook).map(Some),
        }
    }
}

/// Batch runs leave the encoder out unless asked: it encodes about a hundred comments a second.
#[derive(clap::Args, Clone)]
struct BatchEncoderArgs {
    /// The sentence encoder: `off` (the default for batch runs: it encodes about 100 comments/s),
    /// `auto` or `e5`.
    #[arg(long, value_enum, default_value = "off")]
    encoder: draad::analyze::EncoderChoice,
    /// The folder holding the encoder's files (default: models/e5-small, or $DRAAD_ENCODER_DIR).
    #[arg(long, value_name = "DIR")]
    encoder_dir: Option<String>,
}

/// The nesting limit can be raised, but not beyond what the reader can walk safely.
fn nesting_limit(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if (1..=draad::ingest::MAX_NESTING_CEILING).contains(&n) {
        Ok(n)
    } else {
        Err(format!("must be between 1 and {}", draad::ingest::MAX_NESTING_CEILING))
    }
}

impl Limits {
    fn options(&self, format: Option<Format>, columns: ColumnMap) -> ReadOptions {
        ReadOptions {
            format,
            columns,
            max_bytes: self.max_bytes,
            max_line_bytes: self.max_line_bytes,
            max_nesting: self.max_nesting,
            encoder: None,
        }
    }
}

impl InputArgs {
    /// Read the input, with the structure table when one is given.
    fn read(&self, options: &ReadOptions) -> draad::Result<draad::model::Thread> {
        match (&self.structure, self.files.as_slice()) {
            (Some(table), [file]) => draad::ingest::structure::read_text_with_structure(file, options, table),
            (Some(table), _) => Err(draad::Error::new(
                table,
                None,
                "a structure table describes one copied-text file; give one FILE with --structure",
            )),
            (None, files) => draad::ingest::pages::read_pages(files, options),
        }
    }

    fn options(&self, format: Option<Format>) -> ReadOptions {
        self.limits.options(
            format,
            ColumnMap {
                id: self.id_col.clone(),
                parent: self.parent_col.clone(),
                author: self.author_col.clone(),
                time: self.time_col.clone(),
                text: self.text_col.clone(),
            },
        )
    }
}

#[derive(Subcommand)]
enum Command {
    /// Read a thread and write it as draad JSON: comments, parents with evidence, warnings.
    Parse {
        #[command(flatten)]
        input: InputArgs,
        /// Input format; detected from the content when left out.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Write here instead of standard output (an existing file is not overwritten without --force).
        #[arg(short, long)]
        output: Option<String>,
        /// Overwrite an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Export the reply graph: DOT (Graphviz), GraphML (Gephi), JSON, or the structure table of copied
    /// text (TSV) to correct by hand and read back with --structure.
    Graph {
        #[command(flatten)]
        input: InputArgs,
        /// Input format; detected from the content when left out.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Output format of the graph.
        #[arg(long, value_enum, default_value = "dot")]
        to: GraphFormat,
        #[arg(short, long)]
        output: Option<String>,
        #[arg(long)]
        force: bool,
    },
    /// Train the subword tokenizer (on the text under threads/) and the stance models (on an
    /// annotated thread), and store them under models/.
    Train {
        /// Annotated thread folder (thread.txt, replies.tsv, labels.tsv).
        #[arg(long, default_value = "threads/clearview-ap-2024")]
        annotated: String,
        /// Folder whose .txt files train the tokenizer.
        #[arg(long, default_value = "threads")]
        text: String,
        #[arg(long, default_value = draad::codebook::DEFAULT_PATH)]
        codebook: String,
        #[command(flatten)]
        authored: AuthoredArgs,
        /// With the encoder, also train the probes on its vectors (models/semantic-CODEBOOK.json).
        #[command(flatten)]
        encoder: EncoderArgs,
    },
    /// Cross-validate the stance models on an annotated thread: per-class precision, recall, F1,
    /// macro-F1, confusion matrix and the majority baseline for each dimension.
    Eval {
        #[arg(long, default_value = "threads/clearview-ap-2024")]
        annotated: String,
        #[arg(long, default_value = draad::codebook::DEFAULT_PATH)]
        codebook: String,
        /// Number of folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Write the out-of-fold predictions here, in the shape of `draad analyze --format json`.
        #[arg(long)]
        predictions: Option<String>,
        #[arg(long)]
        force: bool,
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
        /// Also score the out-of-fold predictions against another annotation of the thread (a
        /// labels.tsv file by the codebook, e.g. a second annotator's).
        #[arg(long, value_name = "LABELS_TSV")]
        against: Option<String>,
        /// Also score the primary cluster by nested cross-validation: the cluster cue weight is
        /// chosen inside each training fold, so no figure rests on a weight chosen with the comments
        /// it scores (about 30 s).
        #[arg(long)]
        nested: bool,
        #[command(flatten)]
        authored: AuthoredArgs,
        /// With the encoder, the scores are given without and with it.
        #[command(flatten)]
        encoder: EncoderArgs,
    },
    /// Agreement between two annotations of a thread (labels.tsv files): per dimension and for the
    /// primary cluster, observed agreement, Cohen's kappa and the confusion between annotators.
    Agreement {
        /// The first annotation (rows of the confusion matrices).
        first: String,
        /// The second annotation (columns).
        second: String,
        #[arg(long, default_value = draad::codebook::DEFAULT_PATH)]
        codebook: String,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Analyse a thread: reply graph, the stance of every comment on the codebook's questions, the
    /// argument clusters, and a summary of who stands where and where people clash.
    Analyze {
        #[command(flatten)]
        input: InputArgs,
        /// Input format; detected from the content when left out.
        #[arg(long, value_enum)]
        input_format: Option<Format>,
        /// Report format: a terminal report, Markdown, JSON (the thread contract plus clusters and
        /// summary), or one self-contained HTML page.
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
        /// Report width in columns (text); the terminal's width by default.
        #[arg(long)]
        width: Option<usize>,
        #[arg(long, default_value = draad::codebook::DEFAULT_PATH)]
        codebook: String,
        #[arg(short, long)]
        output: Option<String>,
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        encoder: EncoderArgs,
    },
    /// Embed every comment with the optional sentence encoder (multilingual-e5-small; fetch it with
    /// scripts/fetch-models.sh) and write JSON: model, dimension, prefix, and one unit-length vector
    /// per comment id. Vectors are cached per thread (see README).
    Embed {
        #[command(flatten)]
        input: InputArgs,
        /// Input format; detected from the content when left out.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// The folder holding e5-small-q4.bin and tokenizer.json.
        #[arg(long, default_value = "models/e5-small")]
        models: String,
        /// e5's input prefix: `query` for similarity and clustering, `passage` for documents.
        #[arg(long, value_enum, default_value = "query")]
        prefix: draad::encoder::Prefix,
        /// Do not read or write the embedding cache.
        #[arg(long)]
        no_cache: bool,
        #[arg(short, long)]
        output: Option<String>,
        #[arg(long)]
        force: bool,
    },
    /// Analyse many threads in parallel: files, folders (walked) and JSONL streams of threads. Writes
    /// one JSON line per thread (the `analyze --format json` result, or the thread's error) in input
    /// order.
    Batch {
        /// Thread files, folders, or JSONL files with one draad JSON thread per line.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// The JSONL output (written through a temporary file, renamed when the run is done).
        #[arg(short, long)]
        output: String,
        /// Stop at the first thread that fails (the finished ones stay for --resume).
        #[arg(long)]
        fail_fast: bool,
        /// Continue an interrupted run: keep the threads already finished and skip them.
        #[arg(long)]
        resume: bool,
        /// Overwrite existing output files.
        #[arg(long)]
        force: bool,
        /// Print stance and cluster totals over all threads; with a FILE, also write the per-thread
        /// and total counts there as JSON.
        #[arg(long, num_args = 0..=1, default_missing_value = "-", value_name = "FILE")]
        summary: Option<String>,
        /// Also write the per-comment table (one row per comment) as CSV.
        #[arg(long, value_name = "FILE")]
        csv: Option<String>,
        /// Worker threads (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        #[command(flatten)]
        limits: Limits,
        #[arg(long, default_value = draad::codebook::DEFAULT_PATH)]
        codebook: String,
        #[command(flatten)]
        encoder: BatchEncoderArgs,
    },
    /// Write synthetic Tweakers-like threads with a known structure: one file, or a corpus of many
    /// (a folder of files, or one JSONL stream of draad JSON threads).
    Synth {
        /// Reactions per thread.
        #[arg(short = 'n', long, default_value_t = 100)]
        comments: usize,
        /// Number of threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Seed of the first thread (thread i uses seed + i).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// text: copied text; html: a saved Tweakers page; json: draad JSON; stream: one JSON thread
        /// per line (for `draad batch`).
        #[arg(long, value_enum, default_value = "text")]
        format: SynthFormat,
        /// A file (one thread, or a stream), or a folder to create (several threads as files). Text and
        /// HTML files get a `.truth.tsv` beside them with the true parents.
        #[arg(short, long)]
        output: String,
        #[arg(long)]
        force: bool,
    },
    /// Score the reply-graph reconstruction: boundary F1 and parent accuracy against the annotated
    /// seed thread, and on held-out Tweakers pages rendered to copied text.
    EvalGraph {
        /// Annotated copied-text threads: a folder holding thread.txt and replies.tsv.
        #[arg(long = "annotated", default_value = "threads/clearview-ap-2024")]
        annotated: Vec<String>,
        /// Pages with known structure (HTML or draad JSON), or folders of them, scored after
        /// rendering them to copied text.
        #[arg(long = "heldout", default_value = "threads/heldout")]
        heldout: Vec<String>,
        /// List every missed or extra start and every wrong parent.
        #[arg(short, long)]
        verbose: bool,
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
        /// Also score the held-out pages rendered as copies that keep the header of every reaction
        /// (glued to one line, and the name above the time).
        #[arg(long)]
        header_copies: bool,
        /// With the encoder, the scores are given without and with it.
        #[command(flatten)]
        encoder: EncoderArgs,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SynthFormat {
    Text,
    Html,
    Json,
    Stream,
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("draad: {e}");
            ExitCode::from(2)
        }
    }
}

/// When the reader of draad's output goes away (`draad eval-graph | head`), stop quietly as other
/// command-line tools do, instead of reporting the failed write as a crash.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn run(cli: Cli) -> draad::Result<()> {
    match cli.command {
        Command::Parse { input, format, output, force } => {
            let thread = input.read(&input.options(format))?;
            let json = draad::render::json_for_html(&serde_json::to_string_pretty(&thread).expect("thread serialises"));
            write_output(output.as_deref(), &json, force)
        }
        Command::Graph { input, format, to, output, force } => {
            let thread = input.read(&input.options(format))?;
            write_output(output.as_deref(), draad::graph_export::export(&thread, to)?.trim_end(), force)
        }
        Command::Train { annotated, text, codebook, authored, encoder } => {
            let encoder = encoder.load()?;
            let codebook = draad::codebook::Codebook::load(&codebook)?;
            let files = draad::subwords::training_files(&text)?;
            draad::subwords::train(&files, draad::eval_stance::VOCAB, draad::subwords::DEFAULT_PATH)?;
            eprintln!("tokenizer: {} ({} files of text)", draad::subwords::DEFAULT_PATH, files.len());
            let subwords = draad::subwords::Subwords::load(draad::subwords::DEFAULT_PATH)?;
            let a = draad::annotated::load(&annotated, &codebook)?;
            let extra = authored.load(&codebook)?;
            let cues = draad::features::CueSets::new(&codebook);
            let features: Vec<_> = a
                .thread
                .comments
                .iter()
                .map(|c| draad::features::comment_features(c, &cues, Some(&subwords)))
                .collect();
            // The annotated comments, then the authored examples.
            let mut train_features = features.clone();
            let (mut gold, mut primary) = (a.gold.clone(), a.primary_cluster.clone());
            let mut parents = a.thread.parent_positions();
            if let Some(x) = &extra {
                x.append_to(&cues, Some(&subwords), &mut train_features, &mut gold, &mut parents, Some(&mut primary));
            }
            // The regularisation per dimension, chosen by cross-validation on the annotated thread.
            let data = draad::eval_stance::CvData::of(&a, &codebook, 5).with_extra(extra.as_ref());
            let stance_regularisation =
                draad::eval_stance::choose_regularisation(data, &draad::eval_stance::CvSettings::default())?;
            eprintln!(
                "stance regularisation (chosen by the log-loss of 5-fold cross-validation from {}): {}",
                draad::eval_stance::describe_grid(extra.is_some()),
                draad::eval_stance::describe_regularisation(&stance_regularisation, extra.is_some())
            );
            let model = draad::stance::train_with_authored(
                &codebook,
                &train_features,
                &gold,
                Some(&primary),
                &stance_regularisation,
                a.gold.len(),
                &parents,
            );
            let path = draad::stance::StanceModel::path_for(&codebook);
            model.save(&path)?;
            let authored_note = extra
                .as_ref()
                .map_or_else(String::new, |x| format!(" and {} authored examples of {}", x.gold.len(), x.path));
            eprintln!("stance model: {path} ({} comments of {annotated}{authored_note})", a.gold.len());
            // The cluster model learns from the annotated thread only (as in `draad eval`).
            let clusters = draad::clusters::train(&codebook, &features, &a.primary_cluster);
            let path = draad::clusters::ClusterModel::path_for(&codebook);
            clusters.save(&path)?;
            eprintln!("cluster model: {path}");
            let path = draad::semantic::SemanticModel::path_for(&codebook);
            match encoder {
                Some(e) => {
                    let vectors = e.embed_thread(&a.thread)?.vectors;
                    let extra_vectors =
                        extra.as_ref().map(|x| e.embed_thread(&x.thread)).transpose()?.map(|v| v.vectors);
                    // The probes learn from the annotated comments and the authored examples.
                    let refs: Vec<&[f32]> =
                        vectors.iter().chain(extra_vectors.iter().flatten()).map(Vec::as_slice).collect();
                    let id = draad::semantic::encoder_id(&e);
                    // The cluster probe, like the cluster model, learns from the annotated comments only
                    // (the first vectors: the probe pairs vectors and clusters in order).
                    let mut m =
                        draad::semantic::SemanticModel::train(&codebook, &id, &refs, &gold, Some(&a.primary_cluster));
                    // How much the probes weigh: chosen by cross-validation on the annotated thread.
                    let sentence = draad::semantic::SentenceVectors::new(vectors.clone());
                    let extra_sentence = extra_vectors.map(draad::semantic::SentenceVectors::new);
                    let descriptions = draad::semantic::embed_descriptions(&e, &codebook)?;
                    let (weights, rows) = draad::eval_stance::choose_probe_weights(
                        data,
                        &sentence,
                        extra_sentence.as_ref(),
                        &descriptions,
                        &draad::eval_stance::CvSettings {
                            stance_regularisation: stance_regularisation.clone(),
                            ..Default::default()
                        },
                    )?;
                    for r in rows {
                        eprintln!(
                            "encoder: description weight {:.1}, probe weight {:.2}: mean stance macro-F1 {:.3}, cluster macro-F1 {:.3} (5-fold CV)",
                            r.descriptions, r.probes, r.stance, r.clusters
                        );
                    }
                    m.weights = weights;
                    m.save(&path)?;
                    eprintln!(
                        "encoder probes: {path} (encoder {id}; weights: stance probe {}, cluster probe {}, cluster descriptions {})",
                        weights.stance, weights.clusters, weights.descriptions
                    );
                }
                None if std::path::Path::new(&path).exists() => eprintln!(
                    "encoder probes: not trained (the encoder is off); {path} is left as it was and may be out of date"
                ),
                None => eprintln!("encoder probes: not trained (the encoder is off)"),
            }
            Ok(())
        }
        Command::Agreement { first, second, codebook, json } => {
            let codebook = draad::codebook::Codebook::load(&codebook)?;
            let a = draad::agreement::compare_files(&first, &second, &codebook)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&a).expect("agreement serialises"));
            } else {
                print!("{}", draad::agreement::format_agreements(&first, &second, &a));
            }
            Ok(())
        }
        Command::Eval { annotated, codebook, folds, predictions, force, json, against, nested, authored, encoder } => {
            if let Some(p) = predictions.as_deref().filter(|p| *p != "-" && !force)
                && std::path::Path::new(p).exists()
            {
                return Err(draad::Error::new(p, None, "output file exists; use --force to overwrite it"));
            }
            let encoder = encoder.load()?;
            let codebook = draad::codebook::Codebook::load(&codebook)?;
            let a = draad::annotated::load(&annotated, &codebook)?;
            let extra = authored.load(&codebook)?;
            let (vectors, descriptions) = match &encoder {
                Some(e) => (
                    Some(draad::semantic::SentenceVectors::new(e.embed_thread(&a.thread)?.vectors)),
                    draad::semantic::embed_descriptions(e, &codebook)?,
                ),
                None => (None, Vec::new()),
            };
            // The authored examples' vectors, so that the probes learn from them as `draad train` does.
            let extra_vectors = match (&encoder, &extra) {
                (Some(e), Some(x)) => Some(draad::semantic::SentenceVectors::new(e.embed_thread(&x.thread)?.vectors)),
                _ => None,
            };
            // The probes' weights as `draad train` chose them (the defaults without a trained file).
            let weights = draad::semantic::SemanticModel::load(&draad::semantic::SemanticModel::path_for(&codebook))
                .map(|m| m.weights)
                .unwrap_or_default();
            // The regularisation per stance dimension, chosen by this cross-validation (as `draad train`
            // chooses it); `--nested` chooses it inside each training fold instead.
            let data = draad::eval_stance::CvData::of(&a, &codebook, folds.max(2)).with_extra(extra.as_ref());
            let stance_regularisation =
                draad::eval_stance::choose_regularisation(data, &draad::eval_stance::CvSettings::default())?;
            let settings = draad::eval_stance::CvSettings { stance_regularisation, ..Default::default() };
            let run = |v: Option<&draad::semantic::SentenceVectors>| {
                draad::eval_stance::cross_validate_with(
                    data,
                    v.map(|vectors| draad::eval_stance::Encoded {
                        vectors,
                        extra_vectors: extra_vectors.as_ref(),
                        descriptions: &descriptions,
                        weights,
                    }),
                    &settings,
                )
            };
            let without = run(None)?;
            let with = vectors.as_ref().map(|v| run(Some(v))).transpose()?;
            // The same folds on the reply graph draad rebuilds itself (annotated boundaries): the
            // labels lean on parents, and a user of copied text gets these parents, not the annotation's.
            let own_graph = draad::eval_stance::cross_validate_with(
                draad::eval_stance::CvData { thread: &a.reconstructed, ..data },
                None,
                &settings,
            )?;
            // The reply graph of the annotated thread, without and with the encoder: parent accuracy
            // with the annotated boundaries and from the copied text as it is (as `eval-graph`).
            let parents = match &encoder {
                Some(e) => {
                    let dir = annotated.trim_end_matches('/');
                    let (text, replies) = (format!("{dir}/thread.txt"), format!("{dir}/replies.tsv"));
                    let given = |e| draad::eval_graph::evaluate_parents_given_boundaries(&text, &replies, e);
                    let read = |e| draad::eval_graph::evaluate_annotated(&text, &replies, e);
                    Some([
                        (given(None)?.parent_accuracy, given(Some(e))?.parent_accuracy),
                        (read(None)?.parent_accuracy, read(Some(e))?.parent_accuracy),
                    ])
                }
                None => None,
            };
            let nested = if nested {
                use draad::eval_stance::{NestedChoice, nested_scores};
                Some((
                    nested_scores(data, NestedChoice::ClusterCueWeight)?,
                    nested_scores(data, NestedChoice::StanceRegularisation)?,
                ))
            } else {
                None
            };
            // The same out-of-fold predictions scored against another annotation.
            let against_scores = match &against {
                Some(path) => Some((
                    draad::eval_stance::score_against(&without, path, &codebook)?,
                    with.as_ref().map(|w| draad::eval_stance::score_against(w, path, &codebook)).transpose()?,
                )),
                None => None,
            };
            if json {
                let scores = |e: &draad::eval_stance::StanceEvaluation| {
                    e.dimensions.iter().chain(&e.clusters).chain([&e.relation]).cloned().collect::<Vec<_>>()
                };
                let out = serde_json::json!({
                    "encoder": encoder.as_ref().map(|_| draad::encoder::MODEL_NAME),
                    "without_encoder": scores(&without),
                    "with_encoder": with.as_ref().map(scores),
                    "own_reply_graph_without_encoder": scores(&own_graph),
                    "nested_primary_cluster": nested.as_ref().map(|(n, _)| serde_json::json!({
                        "cue_weight_grid": draad::clusters::CUE_WEIGHT_GRID,
                        "chosen_per_fold": n.chosen,
                        "scores": n.scores.last(),
                    })),
                    "stance_regularisation": &settings.stance_regularisation,
                    "authored": extra.as_ref().map(|x| serde_json::json!({"path": x.path, "comments": x.gold.len()})),
                    "nested_stance": nested.as_ref().map(|(_, n)| serde_json::json!({
                        "l2_grid": draad::stance::L2_GRID,
                        "min_count_grid": draad::stance::MIN_COUNT_GRID,
                        "authored_weight_grid": extra.as_ref().map(|_| draad::stance::AUTHORED_WEIGHT_GRID),
                        "chosen_per_fold": n.chosen,
                        "scores": &n.scores[..codebook.dimensions.len().min(n.scores.len())],
                    })),
                    "parent_accuracy": parents.map(|[g, r]| serde_json::json!({
                        "reference_boundaries": {"without_encoder": g.0, "with_encoder": g.1},
                        "copied_text": {"without_encoder": r.0, "with_encoder": r.1},
                    })),
                    "against": against_scores.as_ref().map(|(w, e)| serde_json::json!({
                        "labels": against,
                        "without_encoder": w,
                        "with_encoder": e,
                    })),
                });
                println!("{}", serde_json::to_string_pretty(&out).expect("scores serialise"));
            } else {
                match &extra {
                    Some(x) => println!(
                        "Authored training examples: {} ({} comments written to show the codebook's labels), in every training fold of the stance models, never scored",
                        x.path,
                        x.gold.len()
                    ),
                    None => println!("Authored training examples: none"),
                }
                println!(
                    "Regularisation of each stance dimension, chosen from {} by the log-loss of this cross-validation (so the figures are somewhat optimistic; --nested chooses it inside each training fold): {}\n",
                    draad::eval_stance::describe_grid(extra.is_some()),
                    draad::eval_stance::describe_regularisation(&settings.stance_regularisation, extra.is_some())
                );
                println!("== without the sentence encoder");
                print!("{}", draad::eval_stance::format_scores(&without));
                match &with {
                    Some(w) => {
                        println!("\n== with the sentence encoder ({})", draad::encoder::MODEL_NAME);
                        print!("{}", draad::eval_stance::format_scores(w));
                        print!("\n{}", draad::eval_stance::format_comparison(&without, w));
                        if let Some([g, r]) = parents {
                            println!(
                                "  {:<18} {:>16.3} {:>16.3}   parent accuracy, annotated boundaries\n  {:<18} {:>16.3} {:>16.3}   parent accuracy, copied text as it is (see eval-graph)",
                                "reply graph", g.0, g.1, "", r.0, r.1
                            );
                        }
                    }
                    None => println!("\n(the sentence encoder is off: no scores with it)"),
                }
                let line = |d: &draad::eval_stance::DimensionScores| {
                    format!(
                        "  {:<18} macro-F1 {:.3}  accuracy {:.3}   (majority baseline: macro-F1 {:.3})\n",
                        d.dimension, d.macro_f1, d.accuracy, d.majority_macro_f1
                    )
                };
                println!(
                    "\n== the same folds with draad's own reply graph (annotated boundaries, parents as draad rebuilds them), without the encoder"
                );
                own_graph.dimensions.iter().chain(&own_graph.clusters).for_each(|d| print!("{}", line(d)));
                if let Some((clusters, stance)) = &nested {
                    println!(
                        "\n== nested cross-validation, without the encoder: the regularisation of each stance dimension chosen inside each training fold from {}",
                        draad::eval_stance::describe_grid(extra.is_some()),
                    );
                    for (f, c) in stance.chosen.iter().enumerate() {
                        println!("  fold {}: {c}", f + 1);
                    }
                    for d in stance.scores.iter().take(codebook.dimensions.len()) {
                        print!("{}", draad::eval_stance::format_dimension(d));
                    }
                    println!(
                        "\n== nested cross-validation, without the encoder: the cluster cue weight chosen inside each training fold from {:?} (chosen per fold: {})",
                        draad::clusters::CUE_WEIGHT_GRID,
                        clusters.chosen.join(", ")
                    );
                    if let Some(d) = clusters.scores.last() {
                        print!("{}", draad::eval_stance::format_dimension(d));
                    }
                }
                if let (Some((w, e)), Some(path)) = (&against_scores, &against) {
                    println!("\n== the same out-of-fold predictions scored against {path}");
                    println!("without the encoder:");
                    w.iter().for_each(|d| print!("{}", line(d)));
                    if let Some(e) = e {
                        println!("with the encoder:");
                        e.iter().for_each(|d| print!("{}", line(d)));
                    }
                }
            }
            if let Some(p) = predictions {
                let best = with.as_ref().unwrap_or(&without);
                write_output(
                    Some(&p),
                    &serde_json::to_string_pretty(&best.predictions).expect("thread serialises"),
                    force,
                )?;
            }
            Ok(())
        }
        Command::Analyze { input, input_format, format, width, codebook, output, force, encoder } => {
            let models = encoder.models(&codebook)?;
            let thread = input.read(&models.read_options(input.options(input_format)))?;
            let analysis = draad::analyze::analyze(thread, &models);
            use std::io::IsTerminal;
            let to_terminal = output.as_deref().is_none_or(|o| o == "-") && std::io::stdout().is_terminal();
            let style = draad::render::TextStyle {
                width: width.or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())).unwrap_or(100),
                colour: to_terminal && std::env::var_os("NO_COLOR").is_none(),
            };
            let report = draad::render::render(&analysis, format, style);
            write_output(output.as_deref(), report.trim_end(), force)
        }
        Command::Embed { input, format, models, prefix, no_cache, output, force } => {
            if let Some(p) = output.as_deref().filter(|p| *p != "-" && !force)
                && std::path::Path::new(p).exists()
            {
                return Err(draad::Error::new(p, None, "output file exists; use --force to overwrite it"));
            }
            let dir = std::path::Path::new(&models);
            let Some(encoder) = draad::encoder::Encoder::load_if_present(dir)? else {
                return Err(draad::Error::new("", None, draad::encoder::Encoder::off_message(dir)));
            };
            let thread = input.read(&input.options(format))?;
            let cache = if no_cache { None } else { draad::encoder::EmbeddingCache::default_location() };
            let started = std::time::Instant::now();
            let e = encoder.embed_thread_with(&thread, prefix, cache.as_ref())?;
            let seconds = started.elapsed().as_secs_f64();
            match &e.cache {
                draad::encoder::CacheUse::Hit(p) => {
                    eprintln!("embed: {} vectors from the cache ({})", e.ids.len(), p.display())
                }
                other => {
                    eprintln!(
                        "embed: {} comments in {seconds:.2} s ({:.0}/s, kernel {})",
                        e.ids.len(),
                        e.ids.len() as f64 / seconds.max(1e-9),
                        encoder.kernel_name()
                    );
                    match other {
                        draad::encoder::CacheUse::Written(p) => eprintln!("embed: cached in {}", p.display()),
                        draad::encoder::CacheUse::Failed(why) => eprintln!("embed: warning: cache not written: {why}"),
                        _ => {}
                    }
                }
            }
            let vectors: serde_json::Map<String, serde_json::Value> =
                e.ids.iter().cloned().zip(e.vectors.iter().map(|v| serde_json::json!(v))).collect();
            let json = serde_json::json!({
                "schema": "draad.embeddings/1",
                "model": draad::encoder::MODEL_NAME,
                "dimension": encoder.dim(),
                "prefix": prefix.name(),
                "source": input.files.join(" + "),
                "order": e.ids,
                "vectors": vectors,
            });
            write_output(output.as_deref(), &serde_json::to_string(&json).expect("vectors serialise"), force)
        }
        Command::Batch { inputs, output, fail_fast, resume, force, summary, csv, jobs, limits, codebook, encoder } => {
            if let Some(j) = jobs {
                let _ = rayon::ThreadPoolBuilder::new().num_threads(j.max(1)).build_global();
            }
            let models =
                EncoderArgs { encoder: encoder.encoder, encoder_dir: encoder.encoder_dir }.models(&codebook)?;
            let options = draad::batch::BatchOptions {
                read: models.read_options(limits.options(None, ColumnMap::default())),
                fail_fast,
                resume,
                force,
                csv,
                ..Default::default()
            };
            let report = draad::batch::run(&inputs, &output, &models, &options, &progress::BatchProgress::new())?;
            eprintln!(
                "draad batch: {} threads analysed ({} failed, {} kept from an earlier run), {} comments in {:.1} s, {:.0} comments/s; wrote {output}",
                report.threads,
                report.failed,
                report.skipped,
                report.comments,
                report.seconds,
                report.comments_per_second()
            );
            if let Some(path) = summary {
                print!("{}", report.summary.to_text());
                if path != "-" {
                    let json = serde_json::to_string_pretty(&report.summary).expect("summary serialises");
                    write_output(Some(&path), &json, force)?;
                }
            }
            Ok(())
        }
        Command::Synth { comments, threads, seed, format, output, force } => {
            synth(comments, threads, seed, format, &output, force)
        }
        Command::EvalGraph { annotated, heldout, verbose, json, header_copies, encoder } => {
            let encoder = encoder.load()?;
            let mut scores = Vec::new();
            // Without the encoder, then (when it is present) with it.
            let runs: Vec<Option<&std::sync::Arc<draad::encoder::Encoder>>> =
                std::iter::once(None).chain(encoder.as_ref().map(Some)).collect();
            for e in runs {
                for dir in &annotated {
                    let dir = dir.trim_end_matches('/');
                    let (thread, annotation) = (format!("{dir}/thread.txt"), format!("{dir}/replies.tsv"));
                    scores.push(draad::eval_graph::evaluate_annotated(&thread, &annotation, e)?);
                    scores.push(draad::eval_graph::evaluate_parents_given_boundaries(&thread, &annotation, e)?);
                    // Other readers' annotations (replies-*.tsv): draad against each, and how far
                    // each reader agrees with replies.tsv (once, without the encoder).
                    for other in other_readers(dir)? {
                        let file = other.rsplit('/').next().unwrap_or(&other).to_string();
                        let mut s = draad::eval_graph::evaluate_annotated(&thread, &other, e)?;
                        s.name = format!("{} against {file}", s.name);
                        scores.push(s);
                        if e.is_none() {
                            scores.push(draad::eval_graph::annotator_agreement(&thread, &annotation, &other)?);
                        }
                    }
                }
                for path in heldout_files(&heldout)? {
                    scores.push(draad::eval_graph::evaluate_rendered(&path, e)?);
                }
            }
            if header_copies {
                use draad::copy_text::HeaderStyle;
                for style in [HeaderStyle::Glued, HeaderStyle::TwoLines] {
                    for path in heldout_files(&heldout)? {
                        scores.push(draad::eval_graph::evaluate_rendered_with(&path, None, style)?);
                    }
                }
            }
            let (mut fits, mut checks) = (Vec::new(), Vec::new());
            for dir in &annotated {
                let dir = dir.trim_end_matches('/');
                let thread = format!("{dir}/thread.txt");
                let annotation = format!("{dir}/replies.tsv");
                fits.push((thread.clone(), draad::eval_graph::temperature_fit(&thread, &annotation)?));
                checks.push((thread.clone(), draad::eval_graph::checking_curve(&thread, &annotation, 50)?));
            }
            let mut page_checks = Vec::new();
            for path in heldout_files(&heldout)? {
                let rows = draad::eval_graph::checking_curve_rendered(&path, 20)?;
                page_checks.push((path, rows));
            }
            if json {
                let fits: Vec<serde_json::Value> = fits
                    .iter()
                    .map(|(t, rows)| serde_json::json!({"thread": t, "parent_confidence_by_temperature": rows}))
                    .collect();
                let checks: Vec<serde_json::Value> = checks
                    .iter()
                    .chain(&page_checks)
                    .map(|(t, rows)| serde_json::json!({"thread": t, "parents_after_checking": rows}))
                    .collect();
                let out = serde_json::json!({"scores": scores, "temperature_fit": fits, "checking": checks});
                println!("{}", serde_json::to_string_pretty(&out).expect("scores serialise"));
            } else {
                print!("{}", draad::eval_graph::format_scores(&scores, verbose));
                for (thread, rows) in &fits {
                    print!("{}", draad::eval_graph::format_temperature_fit(thread, rows));
                }
                for (thread, rows) in &checks {
                    print!("{}", draad::eval_graph::format_checking_curve(thread, rows));
                }
                if !page_checks.is_empty() {
                    print!("{}", draad::eval_graph::format_checking_pages(&page_checks));
                }
            }
            Ok(())
        }
    }
}

/// Other readers' reply annotations in an annotated folder: `replies-*.tsv`, sorted by name.
fn other_readers(dir: &str) -> draad::Result<Vec<String>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| draad::Error::new(dir, None, format!("cannot list the folder: {e}")))?;
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("replies-") && n.ends_with(".tsv"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    out.sort();
    Ok(out)
}

/// `draad synth`: one thread to a file, a corpus to a folder, or a stream of threads to one file.
fn synth(
    comments: usize,
    threads: usize,
    seed: u64,
    format: SynthFormat,
    output: &str,
    force: bool,
) -> draad::Result<()> {
    use draad::synth::{SynthOptions, thread, truth_tsv, write_as};
    let gen_thread = |i: usize| thread(SynthOptions { comments, seed: seed + i as u64 });
    let (model_format, ext) = match format {
        SynthFormat::Text => (Format::Text, "txt"),
        SynthFormat::Html => (Format::Html, "html"),
        SynthFormat::Json | SynthFormat::Stream => (Format::Json, "json"),
    };
    if let SynthFormat::Stream = format {
        let mut stream = String::new();
        for i in 0..threads {
            stream.push_str(&draad::synth::to_json(&gen_thread(i)));
            stream.push('\n');
        }
        return write_output(Some(output), stream.trim_end(), force);
    }
    let with_truth = matches!(format, SynthFormat::Text | SynthFormat::Html);
    if threads == 1 {
        let t = gen_thread(0);
        write_output(Some(output), write_as(&t, model_format).trim_end(), force)?;
        if with_truth {
            write_output(Some(&format!("{output}.truth.tsv")), truth_tsv(&t).trim_end(), force)?;
        }
        return Ok(());
    }
    let dir = std::path::Path::new(output);
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) && !force {
        return Err(draad::Error::new(
            output,
            None,
            "output folder exists and is not empty; use --force to write into it",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| draad::Error::new(output, None, format!("cannot create folder: {e}")))?;
    let width = threads.to_string().len().max(4);
    for i in 0..threads {
        let t = gen_thread(i);
        let path = format!("{output}/synth-{i:0width$}.{ext}");
        write_output(Some(&path), write_as(&t, model_format).trim_end(), force)?;
        if with_truth {
            write_output(Some(&format!("{path}.truth.tsv")), truth_tsv(&t).trim_end(), force)?;
        }
    }
    Ok(())
}

/// Files named directly, and the .html/.json files of named folders, sorted.
fn heldout_files(paths: &[String]) -> draad::Result<Vec<String>> {
    let mut out = Vec::new();
    for p in paths {
        let path = std::path::Path::new(p);
        if path.is_dir() {
            let mut files: Vec<String> = std::fs::read_dir(path)
                .map_err(|e| draad::Error::new(p, None, format!("cannot list: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "html" || x == "json"))
                .map(|f| f.to_string_lossy().into_owned())
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Write to a file through a temporary file and a rename, or to standard output.
fn write_output(path: Option<&str>, content: &str, force: bool) -> draad::Result<()> {
    use std::io::Write;
    match path {
        None | Some("-") => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(content.as_bytes()).and_then(|_| out.write_all(b"\n"));
            Ok(())
        }
        Some(p) => {
            if std::path::Path::new(p).exists() && !force {
                return Err(draad::Error::new(p, None, "output file exists; use --force to overwrite it"));
            }
            let tmp = format!("{p}.draad-tmp");
            std::fs::write(&tmp, format!("{content}\n"))
                .and_then(|_| std::fs::rename(&tmp, p))
                .map_err(|e| draad::Error::new(p, None, format!("cannot write: {e}")))
        }
    }
}
