//! The pixels the models read: 8-bit BGR, row by row (PaddleOCR's models were trained on OpenCV's
//! channel order), and the few resampling operations the pipeline needs, written to follow OpenCV's
//! conventions (pixel centres at +0.5 when resizing, none when warping) so that boxes and text match
//! RapidOCR's pipeline.

use crate::{OcrError, Result};

/// An 8-bit BGR image.
#[derive(Clone, PartialEq, Eq)]
pub struct BgrImage {
    pub width: usize,
    pub height: usize,
    /// `width * height * 3` bytes, blue first.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for BgrImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BgrImage({}x{})", self.width, self.height)
    }
}

impl BgrImage {
    /// From BGR bytes; errors when the size does not match or the image is empty.
    pub fn from_bgr(width: usize, height: usize, data: Vec<u8>) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(OcrError::Image(format!("it has no pixels ({width}x{height})")));
        }
        if width.checked_mul(height).and_then(|n| n.checked_mul(3)) != Some(data.len()) {
            return Err(OcrError::Image(format!(
                "{} bytes do not make a {width}x{height} BGR image",
                data.len()
            )));
        }
        Ok(BgrImage { width, height, data })
    }

    /// From RGB bytes (what image decoders and renderers give).
    pub fn from_rgb(width: usize, height: usize, mut rgb: Vec<u8>) -> Result<Self> {
        for px in rgb.chunks_exact_mut(3) {
            px.swap(0, 2);
        }
        Self::from_bgr(width, height, rgb)
    }

    /// From RGBA bytes, composited over white (transparent scans and renderings).
    pub fn from_rgba_over_white(width: usize, height: usize, rgba: &[u8]) -> Result<Self> {
        let mut data = Vec::with_capacity(rgba.len() / 4 * 3);
        for px in rgba.chunks_exact(4) {
            let a = u32::from(px[3]);
            for c in [px[2], px[1], px[0]] {
                data.push(((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8);
            }
        }
        Self::from_bgr(width, height, data)
    }

    #[inline]
    fn px(&self, x: usize, y: usize, c: usize) -> u8 {
        self.data[(y * self.width + x) * 3 + c]
    }

    /// Bilinear resize with OpenCV's `INTER_LINEAR` sampling grid.
    pub fn resize(&self, width: usize, height: usize) -> BgrImage {
        let (width, height) = (width.max(1), height.max(1));
        if width == self.width && height == self.height {
            return self.clone();
        }
        let xs = axis_taps(self.width, width);
        let ys = axis_taps(self.height, height);
        let mut data = vec![0u8; width * height * 3];
        for (dy, &(y0, y1, fy)) in ys.iter().enumerate() {
            let row = &mut data[dy * width * 3..(dy + 1) * width * 3];
            for (dx, &(x0, x1, fx)) in xs.iter().enumerate() {
                for c in 0..3 {
                    let top = f32::from(self.px(x0, y0, c)) * (1.0 - fx) + f32::from(self.px(x1, y0, c)) * fx;
                    let bottom =
                        f32::from(self.px(x0, y1, c)) * (1.0 - fx) + f32::from(self.px(x1, y1, c)) * fx;
                    row[dx * 3 + c] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        BgrImage { width, height, data }
    }

    /// Turned upside down.
    pub fn rotate_180(&self) -> BgrImage {
        let mut data = Vec::with_capacity(self.data.len());
        for px in self.data.chunks_exact(3).rev() {
            data.extend_from_slice(px);
        }
        BgrImage {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// Turned a quarter counter-clockwise (`numpy.rot90`): for text lines read top to bottom.
    pub fn rotate_90_ccw(&self) -> BgrImage {
        let (w, h) = (self.height, self.width);
        let mut data = vec![0u8; self.data.len()];
        for y in 0..h {
            for x in 0..w {
                // Output (x, y) comes from input column (width - 1 - y), row x.
                let (sx, sy) = (self.width - 1 - y, x);
                let s = (sy * self.width + sx) * 3;
                data[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&self.data[s..s + 3]);
            }
        }
        BgrImage {
            width: w,
            height: h,
            data,
        }
    }

    /// The quadrilateral `quad` (top-left, top-right, bottom-right, bottom-left) straightened into a
    /// `width` × `height` image: a perspective warp, bicubic, edges repeated.
    pub fn warp_quad(&self, quad: &[[f32; 2]; 4], width: usize, height: usize) -> BgrImage {
        let (width, height) = (width.max(1), height.max(1));
        let target = [
            [0.0, 0.0],
            [width as f64, 0.0],
            [width as f64, height as f64],
            [0.0, height as f64],
        ];
        let source = quad.map(|p| [f64::from(p[0]), f64::from(p[1])]);
        // Maps output pixels back to the source.
        let h = homography(&target, &source);
        let mut data = vec![0u8; width * height * 3];
        for y in 0..height {
            for x in 0..width {
                let (fx, fy) = (x as f64, y as f64);
                let w = h[6] * fx + h[7] * fy + h[8];
                let w = if w.abs() < 1e-12 { 1e-12 } else { w };
                let sx = (h[0] * fx + h[1] * fy + h[2]) / w;
                let sy = (h[3] * fx + h[4] * fy + h[5]) / w;
                let px = self.bicubic(sx, sy);
                data[(y * width + x) * 3..(y * width + x) * 3 + 3].copy_from_slice(&px);
            }
        }
        BgrImage { width, height, data }
    }

    fn bicubic(&self, x: f64, y: f64) -> [u8; 3] {
        let (x0, y0) = (x.floor(), y.floor());
        let (tx, ty) = (x - x0, y - y0);
        let wx = cubic_weights(tx);
        let wy = cubic_weights(ty);
        let clamp = |v: f64, max: usize| -> usize { v.clamp(0.0, (max - 1) as f64) as usize };
        let mut out = [0u8; 3];
        for (c, slot) in out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for (j, wyj) in wy.iter().enumerate() {
                let sy = clamp(y0 - 1.0 + j as f64, self.height);
                let mut row = 0.0;
                for (i, wxi) in wx.iter().enumerate() {
                    let sx = clamp(x0 - 1.0 + i as f64, self.width);
                    row += wxi * f64::from(self.px(sx, sy, c));
                }
                acc += wyj * row;
            }
            *slot = acc.round().clamp(0.0, 255.0) as u8;
        }
        out
    }
}

/// For each output index along one axis: the two source indices and the weight of the second, as
/// OpenCV's `INTER_LINEAR` computes them.
fn axis_taps(src: usize, dst: usize) -> Vec<(usize, usize, f32)> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            let f = (d as f64 + 0.5) * scale - 0.5;
            let mut i = f.floor();
            let mut w = f - i;
            if i < 0.0 {
                i = 0.0;
                w = 0.0;
            }
            let i = i as usize;
            if i >= src - 1 {
                (src - 1, src - 1, 0.0)
            } else {
                (i, i + 1, w as f32)
            }
        })
        .collect()
}

/// OpenCV's bicubic kernel (a = -0.75) at the four taps around a fractional offset `t`.
fn cubic_weights(t: f64) -> [f64; 4] {
    const A: f64 = -0.75;
    let w0 = ((A * (t + 1.0) - 5.0 * A) * (t + 1.0) + 8.0 * A) * (t + 1.0) - 4.0 * A;
    let w1 = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0;
    let w2 = ((A + 2.0) * (1.0 - t) - (A + 3.0)) * (1.0 - t) * (1.0 - t) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

/// The 3×3 projective map (row-major, h[8] = 1) that sends each `from[i]` to `to[i]`.
fn homography(from: &[[f64; 2]; 4], to: &[[f64; 2]; 4]) -> [f64; 9] {
    // Eight equations in the eight unknowns h0..h7.
    let mut m = [[0.0f64; 9]; 8];
    for i in 0..4 {
        let ([x, y], [u, v]) = (from[i], to[i]);
        m[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        m[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
            .unwrap_or(col);
        m.swap(col, pivot);
        let p = m[col][col];
        if p.abs() < 1e-12 {
            // Degenerate quadrilateral (all points on a line): fall back to a plain offset.
            return [1.0, 0.0, to[0][0], 0.0, 1.0, to[0][1], 0.0, 0.0, 1.0];
        }
        for v in m[col].iter_mut().skip(col) {
            *v /= p;
        }
        let pivot_row = m[col];
        for (r, row) in m.iter_mut().enumerate() {
            let f = row[col];
            if r != col && f != 0.0 {
                for (v, pv) in row.iter_mut().zip(pivot_row.iter()).skip(col) {
                    *v -= f * pv;
                }
            }
        }
    }
    [
        m[0][8], m[1][8], m[2][8], m[3][8], m[4][8], m[5][8], m[6][8], m[7][8], 1.0,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> BgrImage {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 10) as u8, (y * 10) as u8, 7]);
            }
        }
        BgrImage::from_bgr(w, h, data).unwrap()
    }

    #[test]
    fn sizes_that_do_not_match_their_bytes_are_refused() {
        assert!(BgrImage::from_bgr(2, 2, vec![0; 11]).is_err());
        assert!(BgrImage::from_bgr(0, 2, vec![]).is_err());
        assert!(BgrImage::from_rgba_over_white(1, 1, &[0, 0, 0, 0]).unwrap().data == vec![255; 3]);
    }

    #[test]
    fn halving_averages_neighbours_as_opencv_does() {
        let img = gradient(4, 2);
        let half = img.resize(2, 1);
        // OpenCV: dst x=0 samples src x=0.5 → mean of columns 0 and 1.
        assert_eq!(half.px(0, 0, 0), 5);
        assert_eq!(half.px(1, 0, 0), 25);
        assert_eq!(half.px(0, 0, 1), 5);
    }

    #[test]
    fn an_axis_aligned_warp_is_a_crop() {
        let img = gradient(10, 8);
        let quad = [[2.0, 3.0], [6.0, 3.0], [6.0, 5.0], [2.0, 5.0]];
        let crop = img.warp_quad(&quad, 4, 2);
        for y in 0..2 {
            for x in 0..4 {
                assert_eq!(crop.px(x, y, 0), img.px(x + 2, y + 3, 0));
                assert_eq!(crop.px(x, y, 1), img.px(x + 2, y + 3, 1));
            }
        }
    }

    #[test]
    fn rotations_move_corners_where_numpy_does() {
        let img = gradient(3, 2);
        let r = img.rotate_90_ccw();
        assert_eq!((r.width, r.height), (2, 3));
        // numpy.rot90: the top-right pixel becomes the top-left.
        assert_eq!(r.px(0, 0, 0), img.px(2, 0, 0));
        assert_eq!(r.px(1, 2, 0), img.px(0, 1, 0));
        let u = img.rotate_180();
        assert_eq!(u.px(0, 0, 0), img.px(2, 1, 0));
    }
}
