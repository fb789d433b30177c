//! Text recognition and direction: inputs for the recogniser (48 pixels high, width by aspect ratio,
//! batched by width) and the direction classifier (48 × 192), and CTC decoding of the recogniser's
//! per-column character probabilities.

use crate::det::to_chw;
use crate::image::BgrImage;

pub const REC_HEIGHT: usize = 48;
/// The narrowest batch the recogniser is given (its training shape is 48 × 320).
pub const REC_MIN_WIDTH: usize = 320;
pub const CLS_HEIGHT: usize = 48;
pub const CLS_WIDTH: usize = 192;
/// Crops per model call, as RapidOCR batches them.
pub const BATCH: usize = 6;
/// A crop is turned upside down when the classifier says "180°" with more than this confidence.
pub const CLS_THRESH: f32 = 0.9;

/// Indices of `crops` sorted by width/height ratio (narrow first), so a batch pads little.
pub fn by_aspect(crops: &[BgrImage]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..crops.len()).collect();
    order.sort_by(|&a, &b| aspect(&crops[a]).total_cmp(&aspect(&crops[b])));
    order
}

fn aspect(img: &BgrImage) -> f64 {
    img.width as f64 / img.height as f64
}

/// One batch as NCHW floats, each crop resized to `height` high (width by its ratio, at most
/// `width`) and zero-padded on the right to `width`.
pub fn batch_input(crops: &[&BgrImage], height: usize, width: usize) -> Vec<f32> {
    let plane = height * width;
    let mut out = vec![0f32; crops.len() * 3 * plane];
    for (n, crop) in crops.iter().enumerate() {
        let scaled_w = ((height as f64 * aspect(crop)).ceil() as usize).clamp(1, width);
        let resized = crop.resize(scaled_w, height);
        let chw = to_chw(&resized);
        for c in 0..3 {
            for y in 0..height {
                let src = &chw[c * height * scaled_w + y * scaled_w..][..scaled_w];
                let dst = n * 3 * plane + c * plane + y * width;
                out[dst..dst + scaled_w].copy_from_slice(src);
            }
        }
    }
    out
}

/// The recogniser's input width for a batch: its widest crop at 48 pixels high, and at least 320.
pub fn rec_width(crops: &[&BgrImage]) -> usize {
    let widest = crops
        .iter()
        .map(|c| aspect(c))
        .fold(REC_MIN_WIDTH as f64 / REC_HEIGHT as f64, f64::max);
    (REC_HEIGHT as f64 * widest) as usize
}

/// Greedy CTC decoding of one crop's `steps` × `classes` probabilities: the best class per step,
/// repeats merged, blanks (class 0) dropped. Returns the text and the mean probability of the kept
/// steps (0 when none is kept).
pub fn ctc_decode(probs: &[f32], steps: usize, classes: usize, alphabet: &[String]) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut kept) = (0.0f64, 0usize);
    let mut previous = usize::MAX;
    for t in 0..steps {
        let row = &probs[t * classes..(t + 1) * classes];
        let (best, p) = row
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |acc, (i, p)| if p > acc.1 { (i, p) } else { acc });
        if best != 0 && best != previous {
            if let Some(ch) = alphabet.get(best) {
                text.push_str(ch);
                sum += f64::from(p);
                kept += 1;
            }
        }
        previous = best;
    }
    let score = if kept == 0 {
        0.0
    } else {
        (sum / kept as f64) as f32
    };
    (text, score)
}

/// The recogniser's classes: "blank" (the CTC blank, class 0), the model's character list, and a
/// space last. The list is split into lines as Python's `str.splitlines` does.
pub fn alphabet(characters: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    out.extend(split_lines(characters).map(str::to_string));
    out.push(" ".to_string());
    out
}

fn split_lines(s: &str) -> impl Iterator<Item = &str> {
    const BREAKS: &[char] = &[
        '\n', '\r', '\u{0b}', '\u{0c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
    ];
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(BREAKS) {
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i..].starts_with("\r\n") {
                    2
                } else {
                    rest[i..].chars().next().map_or(1, char::len_utf8)
                };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = "";
                Some(line)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let alphabet = alphabet("a\nb");
        assert_eq!(alphabet, vec!["", "a", "b", " "]);
        // steps: a a blank a b b space
        let best = [1, 1, 0, 1, 2, 2, 3];
        let mut probs = vec![0.0f32; best.len() * 4];
        for (t, &c) in best.iter().enumerate() {
            probs[t * 4 + c] = 0.8;
        }
        let (text, score) = ctc_decode(&probs, best.len(), 4, &alphabet);
        assert_eq!(text, "aab ");
        assert!((score - 0.8).abs() < 1e-6);
        let (empty, zero) = ctc_decode(&[1.0, 0.0, 0.0, 0.0], 1, 4, &alphabet);
        assert_eq!((empty.as_str(), zero), ("", 0.0));
    }

    #[test]
    fn lines_split_as_python_does() {
        let got: Vec<&str> = split_lines("x\r\ny\u{2028}z\n").collect();
        assert_eq!(got, vec!["x", "y", "z"]);
    }

    #[test]
    fn batches_pad_on_the_right() {
        let crop = BgrImage::from_bgr(2, 1, vec![255; 6]).unwrap();
        let input = batch_input(&[&crop], 4, 16);
        // 4 high × ratio 2 → 8 columns of white (1.0), then zeros.
        assert_eq!(input[0], 1.0);
        assert_eq!(input[7], 1.0);
        assert_eq!(input[8], 0.0);
        assert_eq!(rec_width(&[&crop]), 320);
    }
}
