//! Print a structured page (HTML or draad JSON) as the text a reader would copy from it, the way
//! `draad eval-graph` renders its held-out pages, with the true first line of every reaction.
//!
//!     cargo run --release --example copy_text -- threads/heldout/kopernet-2024.html [--headers glued|two-lines]

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: copy_text PAGE");
        std::process::exit(2);
    };
    let thread = match draad::ingest::read_path(&path, &draad::ingest::ReadOptions::default()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let args: Vec<String> = std::env::args().collect();
    let style = match args.iter().position(|a| a == "--headers").and_then(|i| args.get(i + 1)).map(String::as_str) {
        Some("glued") => draad::copy_text::HeaderStyle::Glued,
        Some("two-lines") => draad::copy_text::HeaderStyle::TwoLines,
        _ => draad::copy_text::HeaderStyle::AuthorOnly,
    };
    let copy = draad::copy_text::render_with(&thread, style);
    let starts: std::collections::HashSet<usize> = copy.spans.iter().flatten().map(|s| s.first_line).collect();
    for (i, line) in copy.text.lines().enumerate() {
        let mark = if starts.contains(&(i + 1)) { '>' } else { ' ' };
        println!("{:4}{mark} {line}", i + 1);
    }
}
