//! Text detection: the DB ("differentiable binarisation") network gives each pixel a probability of
//! being inside a text line; lines are the connected regions of the thresholded map, each grown back
//! by the ratio the network was trained to shrink them by.

use crate::geometry::{
    area_and_perimeter, clockwise_order, mean_inside, min_area_rect, mini_box_order, offset_outline,
    region_borders, Point,
};
use crate::image::BgrImage;

/// PaddleOCR's defaults for this detector (RapidOCR's `config.yaml`).
#[derive(Debug, Clone, Copy)]
pub struct DetParams {
    /// The shorter side is scaled up to at least this many pixels.
    pub limit_side_len: usize,
    /// Pixels above this probability are text.
    pub thresh: f32,
    /// Regions whose mean probability is below this are dropped.
    pub box_thresh: f32,
    /// How far a region is grown: area × ratio / perimeter.
    pub unclip_ratio: f64,
    pub max_candidates: usize,
}

impl Default for DetParams {
    fn default() -> Self {
        DetParams {
            limit_side_len: 736,
            thresh: 0.3,
            box_thresh: 0.5,
            unclip_ratio: 1.6,
            max_candidates: 1000,
        }
    }
}

const MIN_SIZE: f64 = 3.0;
/// Boxes whose top edges differ by less than this many pixels are on one line (reading order).
const SAME_LINE_PX: f64 = 10.0;

/// Upscaled pictures never get a longer side beyond this: a sliver (1 × 2,400 px) scaled until its
/// short side is 736 would be tens of megapixels of activations.
const MAX_UPSCALED_SIDE: f64 = 4000.0;

/// `v` cut to whole pixels and rounded to a multiple of 32 (at least 32), as RapidOCR sizes its
/// inputs: with Python's `round`, which takes halves to the even neighbour.
pub(crate) fn round_to_32(v: f64) -> usize {
    ((v.trunc() / 32.0).round_ties_even() * 32.0).max(32.0) as usize
}

/// The network's input: the image resized so both sides are multiples of 32 and the shorter side is
/// at least `limit_side_len` (unless that would take the longer side past 4,000 px), as NCHW floats
/// scaled to [-1, 1].
pub fn preprocess(img: &BgrImage, params: &DetParams) -> (Vec<f32>, usize, usize) {
    let (h, w) = (img.height as f64, img.width as f64);
    let ratio = if h.min(w) < params.limit_side_len as f64 {
        (params.limit_side_len as f64 / h.min(w)).min((MAX_UPSCALED_SIDE / h.max(w)).max(1.0))
    } else {
        1.0
    };
    let (rh, rw) = (round_to_32(h * ratio), round_to_32(w * ratio));
    let resized = img.resize(rw, rh);
    (to_chw(&resized), rh, rw)
}

/// Pixels as planar floats scaled to [-1, 1] (mean 0.5, std 0.5), channel order kept.
pub fn to_chw(img: &BgrImage) -> Vec<f32> {
    let plane = img.width * img.height;
    let mut out = vec![0f32; plane * 3];
    for (i, px) in img.data.chunks_exact(3).enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (f32::from(px[c]) / 255.0 - 0.5) / 0.5;
        }
    }
    out
}

/// Text-line quadrilaterals (top-left, top-right, bottom-right, bottom-left) in the coordinates of
/// an image `dest_w` × `dest_h`, from the probability map `pred` (`map_w` × `map_h`), in reading
/// order, each with its mean probability.
pub fn boxes_from_map(
    pred: &[f32],
    map_w: usize,
    map_h: usize,
    dest_w: usize,
    dest_h: usize,
    params: &DetParams,
) -> Vec<([Point; 4], f32)> {
    let mask: Vec<bool> = pred.iter().map(|&p| p > params.thresh).collect();
    let mask = dilate_2x2(&mask, map_w, map_h);
    let mut boxes = Vec::new();
    for border in region_borders(&mask, map_w, map_h)
        .into_iter()
        .take(params.max_candidates)
    {
        let (corners, short) = min_area_rect(&border);
        if short < MIN_SIZE {
            continue;
        }
        let kernel = mini_box_order(corners);
        let score = mean_inside(pred, map_w, map_h, &kernel);
        if score < params.box_thresh {
            continue;
        }
        let (area, perimeter) = area_and_perimeter(&kernel);
        if perimeter <= 0.0 {
            continue;
        }
        let distance = area * params.unclip_ratio / perimeter;
        let (grown, short) = min_area_rect(&offset_outline(&kernel, distance));
        if short < MIN_SIZE + 2.0 {
            continue;
        }
        let grown = mini_box_order(grown).map(|[x, y]| {
            [
                (x / map_w as f64 * dest_w as f64)
                    .round_ties_even()
                    .clamp(0.0, dest_w as f64),
                (y / map_h as f64 * dest_h as f64)
                    .round_ties_even()
                    .clamp(0.0, dest_h as f64),
            ]
        });
        let quad = clockwise_order(grown).map(|[x, y]| {
            [
                x.clamp(0.0, (dest_w - 1) as f64).trunc(),
                y.clamp(0.0, (dest_h - 1) as f64).trunc(),
            ]
        });
        let side = |a: Point, b: Point| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt().trunc();
        if side(quad[0], quad[1]) <= 3.0 || side(quad[0], quad[3]) <= 3.0 {
            continue;
        }
        boxes.push((quad, score));
    }
    reading_order(&mut boxes);
    boxes
}

/// Each pixel becomes the maximum of itself and its left, upper and upper-left neighbours (OpenCV's
/// dilation with a 2×2 kernel anchored at its centre): joins strokes split by a pixel.
fn dilate_2x2(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut out = mask.to_vec();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            out[i] = mask[i]
                || (x > 0 && mask[i - 1])
                || (y > 0 && mask[i - w])
                || (x > 0 && y > 0 && mask[i - w - 1]);
        }
    }
    out
}

/// Top to bottom by each box's top-left corner, boxes within `SAME_LINE_PX` of the previous one
/// forming a line, each line left to right.
pub fn reading_order<T>(boxes: &mut Vec<([Point; 4], T)>) {
    boxes.sort_by(|a, b| a.0[0][1].total_cmp(&b.0[0][1]));
    let mut line = 0usize;
    let mut keyed: Vec<(usize, f64, usize)> = Vec::with_capacity(boxes.len());
    for i in 0..boxes.len() {
        if i > 0 && boxes[i].0[0][1] - boxes[i - 1].0[0][1] >= SAME_LINE_PX {
            line += 1;
        }
        keyed.push((line, boxes[i].0[0][0], i));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut taken: Vec<Option<([Point; 4], T)>> = boxes.drain(..).map(Some).collect();
    for (_, _, i) in keyed {
        if let Some(b) = taken[i].take() {
            boxes.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bright_bar_in_the_map_is_one_grown_box() {
        let (w, h) = (64, 32);
        let mut pred = vec![0.0f32; w * h];
        for y in 10..16 {
            for x in 8..56 {
                pred[y * w + x] = 0.9;
            }
        }
        let boxes = boxes_from_map(&pred, w, h, w * 2, h * 2, &DetParams::default());
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        let (quad, score) = boxes[0];
        // The dilated region takes in one empty column and row: 0.9 × (48×6)/(49×7).
        assert!((score - 0.756).abs() < 0.01, "{score}");
        // Grown beyond the 48×6 kernel (×2 for the destination size) on every side.
        assert!(quad[0][0] < 16.0 && quad[0][1] < 20.0, "{quad:?}");
        assert!(quad[2][0] > 110.0 && quad[2][1] > 30.0, "{quad:?}");
    }

    #[test]
    fn faint_and_tiny_regions_are_dropped() {
        let (w, h) = (40, 40);
        let mut pred = vec![0.0f32; w * h];
        for y in 5..15 {
            for x in 5..35 {
                pred[y * w + x] = 0.35; // above thresh, below box_thresh
            }
        }
        pred[30 * w + 30] = 0.99; // one pixel
        assert!(boxes_from_map(&pred, w, h, w, h, &DetParams::default()).is_empty());
    }

    #[test]
    fn a_sliver_is_not_upscaled_into_tens_of_megapixels() {
        let sliver = BgrImage::from_bgr(10, 2000, vec![255; 10 * 2000 * 3]).unwrap();
        let (_, h, w) = preprocess(&sliver, &DetParams::default());
        assert!(h <= 4000 && w <= 32, "{w}x{h}");
        let page = BgrImage::from_bgr(500, 700, vec![255; 500 * 700 * 3]).unwrap();
        let (_, h, w) = preprocess(&page, &DetParams::default());
        assert_eq!(
            (w, h),
            (736, 1024),
            "a small page still reaches 736 on its short side"
        );
    }

    #[test]
    fn reading_order_is_lines_then_left_to_right() {
        let quad = |x: f64, y: f64| [[x, y], [x + 5.0, y], [x + 5.0, y + 5.0], [x, y + 5.0]];
        let mut boxes = vec![
            (quad(50.0, 3.0), 'b'),
            (quad(0.0, 40.0), 'c'),
            (quad(0.0, 0.0), 'a'),
        ];
        reading_order(&mut boxes);
        let order: String = boxes.iter().map(|b| b.1).collect();
        assert_eq!(order, "abc");
    }
}
