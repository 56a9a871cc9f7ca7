//! Progress of `draad batch`: a bar on a terminal, plain periodic lines otherwise.

use draad::batch::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct BatchProgress {
    bar: Option<ProgressBar>,
    /// (started, last line printed, threads, comments, total threads)
    plain: Mutex<(Instant, Instant, usize, usize, usize)>,
}

impl BatchProgress {
    pub fn new() -> BatchProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} threads, {msg} (eta {eta})")
                    .expect("template is valid")
                    .progress_chars("=> "),
            );
            bar
        });
        let now = Instant::now();
        BatchProgress { bar, plain: Mutex::new((now, now, 0, 0, 0)) }
    }
}

impl Progress for BatchProgress {
    fn start(&self, threads: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(threads as u64);
        }
        if let Ok(mut p) = self.plain.lock() {
            p.4 = threads;
        }
    }

    fn advance(&self, threads: usize, comments: usize) {
        let Ok(mut p) = self.plain.lock() else { return };
        p.2 += threads;
        p.3 += comments;
        let secs = p.0.elapsed().as_secs_f64().max(1e-3);
        let rate = p.3 as f64 / secs;
        match &self.bar {
            Some(bar) => {
                bar.set_position(p.2 as u64);
                bar.set_message(format!("{} comments, {rate:.0} comments/s", p.3));
            }
            None if p.1.elapsed() >= Duration::from_secs(5) => {
                p.1 = Instant::now();
                let eta = if p.2 > 0 { secs / p.2 as f64 * p.4.saturating_sub(p.2) as f64 } else { 0.0 };
                eprintln!(
                    "draad batch: {}/{} threads, {} comments, {rate:.0} comments/s, eta {eta:.0} s",
                    p.2, p.4, p.3
                );
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
