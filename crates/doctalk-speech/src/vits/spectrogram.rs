//! The linear magnitude spectrogram VITS posterior encoders read (`mel_processing.spectrogram_torch`
//! in VITS-derived code): reflect-padded by `(n_fft - hop) / 2` on each side, periodic Hann window,
//! no centring, `sqrt(re² + im² + 1e-6)`.

use crate::fft::Fft;

/// Frame layout of one spectrogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StftShape {
    pub n_fft: usize,
    pub hop: usize,
    pub win: usize,
}

impl StftShape {
    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }
}

/// `pcm` → magnitudes `[bins][frames]` flattened bin-major (the `[bins, frames]` layout the network
/// takes), and the frame count. `n_fft` must be a power of two and `win <= n_fft`.
pub fn linear_spectrogram(pcm: &[f32], shape: StftShape) -> (Vec<f32>, usize) {
    let StftShape { n_fft, hop, win } = shape;
    let pad = (n_fft - hop) / 2;
    // Reflection needs more samples than the padding; a shorter clip is first extended with
    // silence (only ever a fraction of a frame of audio).
    let mut signal = pcm.to_vec();
    if signal.len() <= pad {
        signal.resize(pad + 1, 0.0);
    }
    let len = signal.len();
    let reflect = |i: isize| -> f32 {
        let last = len as isize - 1;
        let j = if i < 0 {
            -i
        } else if i > last {
            2 * last - i
        } else {
            i
        };
        signal[j as usize]
    };
    let padded: Vec<f32> = (0..len + 2 * pad)
        .map(|i| reflect(i as isize - pad as isize))
        .collect();
    let frames = if padded.len() >= n_fft {
        (padded.len() - n_fft) / hop + 1
    } else {
        0
    };
    // torch.hann_window is periodic; a window shorter than the FFT sits in its middle.
    let offset = (n_fft - win) / 2;
    let mut window = vec![0.0f32; n_fft];
    for (i, w) in window[offset..offset + win].iter_mut().enumerate() {
        *w = (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / win as f64).cos()) as f32;
    }
    let bins = shape.bins();
    let fft = Fft::new(n_fft);
    let mut out = vec![0.0f32; bins * frames];
    let (mut re, mut im) = (vec![0.0f32; n_fft], vec![0.0f32; n_fft]);
    for t in 0..frames {
        let start = t * hop;
        for i in 0..n_fft {
            re[i] = padded[start + i] * window[i];
            im[i] = 0.0;
        }
        fft.forward(&mut re, &mut im);
        for k in 0..bins {
            out[k * frames + t] = (re[k] * re[k] + im[k] * im[k] + 1e-6).sqrt();
        }
    }
    (out, frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_peaks_in_its_bin_and_frames_follow_the_hop() {
        let shape = StftShape {
            n_fft: 256,
            hop: 64,
            win: 256,
        };
        let rate = 8000.0;
        // Bin 16 of 256 at 8 kHz is 500 Hz.
        let pcm: Vec<f32> = (0..4096)
            .map(|i| (2.0 * std::f32::consts::PI * 500.0 * i as f32 / rate).sin())
            .collect();
        let (spec, frames) = linear_spectrogram(&pcm, shape);
        assert_eq!(frames, 4096 / 64);
        let column = |t: usize| (0..shape.bins()).map(move |k| spec[k * frames + t]);
        let peak = column(10)
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k);
        assert_eq!(peak, Some(16));
    }

    #[test]
    fn a_clip_shorter_than_the_padding_still_gives_a_frame() {
        let shape = StftShape {
            n_fft: 1024,
            hop: 256,
            win: 1024,
        };
        let (spec, frames) = linear_spectrogram(&[0.1; 10], shape);
        assert_eq!(frames, 1);
        assert_eq!(spec.len(), 513);
    }
}
