//! From recognised lines to page text: columns, lines, and the gaps between pieces of one line.
//!
//! The detector finds text *segments*; a printed line may be several (table cells, a label and its
//! value). Segments whose vertical extents overlap by more than half the smaller height are one line;
//! a wide horizontal gap between them (more than two line heights) is a tab, so a table row stays one
//! line of tab-separated cells. A page whose segments leave a vertical gutter free in its middle
//! third, with lines on both sides, is read column by column.

use crate::OcrLine;

/// The page's text: lines in reading order separated by newlines.
pub fn page_text(lines: &[OcrLine]) -> String {
    let mut out = String::new();
    for column in columns(lines) {
        for row in rows(&column) {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&join_row(&row));
        }
    }
    out
}

fn top(l: &OcrLine) -> f32 {
    l.quad.iter().map(|p| p[1]).fold(f32::MAX, f32::min)
}
fn bottom(l: &OcrLine) -> f32 {
    l.quad.iter().map(|p| p[1]).fold(f32::MIN, f32::max)
}
fn left(l: &OcrLine) -> f32 {
    l.quad.iter().map(|p| p[0]).fold(f32::MAX, f32::min)
}
fn right(l: &OcrLine) -> f32 {
    l.quad.iter().map(|p| p[0]).fold(f32::MIN, f32::max)
}

/// Splits the page at a vertical gutter when there is one; otherwise one column.
fn columns(lines: &[OcrLine]) -> Vec<Vec<&OcrLine>> {
    let all: Vec<&OcrLine> = lines.iter().collect();
    if lines.len() < 6 {
        return vec![all];
    }
    let xmin = lines.iter().map(left).fold(f32::MAX, f32::min);
    let xmax = lines.iter().map(right).fold(f32::MIN, f32::max);
    let width = xmax - xmin;
    if width <= 0.0 {
        return vec![all];
    }
    // Coverage of each x (in 1/200ths of the text width) by segments.
    const BINS: usize = 200;
    let mut covered = [0usize; BINS];
    for l in lines {
        let a = (((left(l) - xmin) / width) * BINS as f32) as usize;
        let b = ((((right(l) - xmin) / width) * BINS as f32) as usize).min(BINS - 1);
        for c in covered.iter_mut().take(b + 1).skip(a.min(BINS - 1)) {
            *c += 1;
        }
    }
    // The widest empty run in the middle third.
    let (mut best, mut run_start, mut best_len) = (None, None, 0usize);
    for (i, &c) in covered.iter().enumerate().take(2 * BINS / 3).skip(BINS / 3) {
        match (c, run_start) {
            (0, None) => run_start = Some(i),
            (0, Some(_)) => {}
            (_, Some(s)) => {
                if i - s > best_len {
                    best_len = i - s;
                    best = Some((s + i) / 2);
                }
                run_start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = run_start {
        let end = 2 * BINS / 3;
        if end - s > best_len {
            best = Some((s + end) / 2);
        }
    }
    let Some(gutter) = best else {
        return vec![all];
    };
    let split = xmin + width * gutter as f32 / BINS as f32;
    let (l, r): (Vec<&OcrLine>, Vec<&OcrLine>) = all.into_iter().partition(|l| right(l) <= split);
    if l.len() < 3 || r.len() < 3 {
        return vec![lines.iter().collect()];
    }
    // Columns of prose are filled by their lines; a table's cells are short beside its gaps, and
    // a table is read row by row.
    let filled = |side: &[&OcrLine], from: f32, to: f32| {
        let mut widths: Vec<f32> = side.iter().map(|l| right(l) - left(l)).collect();
        widths.sort_by(f32::total_cmp);
        widths[widths.len() / 2] >= 0.5 * (to - from)
    };
    if !filled(&l, xmin, split) || !filled(&r, split, xmax) {
        return vec![lines.iter().collect()];
    }
    vec![l, r]
}

/// Groups segments into printed lines (vertical overlap), top to bottom, each left to right.
fn rows<'a>(segments: &[&'a OcrLine]) -> Vec<Vec<&'a OcrLine>> {
    let mut sorted = segments.to_vec();
    sorted.sort_by(|a, b| top(a).total_cmp(&top(b)));
    let mut rows: Vec<Vec<&OcrLine>> = Vec::new();
    for seg in sorted {
        let joined = rows.last_mut().filter(|row| {
            let (t, b) = (
                row.iter().map(|l| top(l)).fold(f32::MAX, f32::min),
                row.iter().map(|l| bottom(l)).fold(f32::MIN, f32::max),
            );
            let overlap = b.min(bottom(seg)) - t.max(top(seg));
            let smaller = (b - t).min(bottom(seg) - top(seg)).max(1.0);
            overlap > smaller / 2.0
        });
        match joined {
            Some(row) => row.push(seg),
            None => rows.push(vec![seg]),
        }
    }
    for row in &mut rows {
        row.sort_by(|a, b| left(a).total_cmp(&left(b)));
    }
    rows
}

fn join_row(row: &[&OcrLine]) -> String {
    let mut out = String::new();
    for (i, seg) in row.iter().enumerate() {
        if i > 0 {
            let prev = row[i - 1];
            let height = (bottom(seg) - top(seg)).max(bottom(prev) - top(prev)).max(1.0);
            let gap = left(seg) - right(prev);
            let sep = if gap > 2.0 * height {
                "\t"
            } else if ends_cjk(&out) && starts_cjk(&seg.text) {
                ""
            } else {
                " "
            };
            out.push_str(sep);
        }
        out.push_str(seg.text.trim());
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}
fn ends_cjk(s: &str) -> bool {
    s.chars().last().is_some_and(is_cjk)
}
fn starts_cjk(s: &str) -> bool {
    s.trim_start().chars().next().is_some_and(is_cjk)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, x: f32, y: f32, w: f32) -> OcrLine {
        OcrLine {
            text: text.into(),
            score: 0.9,
            quad: [[x, y], [x + w, y], [x + w, y + 20.0], [x, y + 20.0]],
        }
    }

    #[test]
    fn a_table_row_is_one_line_of_cells() {
        let lines = [
            seg("姓名", 0.0, 0.0, 40.0),
            seg("工号", 200.0, 2.0, 40.0),
            seg("张三", 0.0, 40.0, 40.0),
            seg("1024", 200.0, 41.0, 40.0),
        ];
        assert_eq!(page_text(&lines), "姓名\t工号\n张三\t1024");
    }

    #[test]
    fn neighbouring_segments_join_with_a_space_or_nothing_between_han() {
        let lines = [
            seg("Hello", 0.0, 0.0, 50.0),
            seg("world", 60.0, 1.0, 50.0),
            seg("中文", 0.0, 30.0, 40.0),
            seg("句子", 45.0, 30.0, 40.0),
        ];
        assert_eq!(page_text(&lines), "Hello world\n中文句子");
    }

    #[test]
    fn two_columns_are_read_one_after_the_other() {
        let mut lines = Vec::new();
        for i in 0..4 {
            lines.push(seg(&format!("L{i}"), 0.0, i as f32 * 30.0, 200.0));
            lines.push(seg(&format!("R{i}"), 300.0, i as f32 * 30.0, 200.0));
        }
        assert_eq!(page_text(&lines), "L0\nL1\nL2\nL3\nR0\nR1\nR2\nR3");
    }

    #[test]
    fn a_long_table_is_still_read_row_by_row() {
        let mut lines = Vec::new();
        for i in 0..4 {
            lines.push(seg(&format!("k{i}"), 0.0, i as f32 * 30.0, 40.0));
            lines.push(seg(&format!("v{i}"), 400.0, i as f32 * 30.0, 40.0));
        }
        assert_eq!(page_text(&lines), "k0\tv0\nk1\tv1\nk2\tv2\nk3\tv3");
    }
}
