#[test]
#[ignore]
fn dump() {
    let text = std::fs::read_to_string("threads/clearview-ap-2024/thread.txt").unwrap();
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).skip(51).collect();
    let t = draad::ingest::read_path("threads/clearview-ap-2024/thread.txt", &Default::default()).unwrap();
    let art = draad::ingest::copied_text::article_text(&t.article);
    let cl = draad::segment::classify(&lines, &art);
    let mut prev: Option<&draad::segment::Line> = None;
    let mut gap = 0;
    for l in &cl {
        if matches!(l.kind, draad::segment::LineKind::Blank) { gap += 1; continue; }
        if let Some(p) = prev {
            let (s, c, cues) = draad::segment::boundary_score(p, l, gap, false);
            if !c && gap == 0 { println!("{}\t{:.1}\t{}\t{}", l.number, s, cues.join("; "), l.text.chars().take(50).collect::<String>()); }
        }
        prev = Some(l); gap = 0;
    }
}
