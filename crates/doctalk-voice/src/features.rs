//! Measurements of a voice from its audio: pitch (F0), long-term average spectrum, and a speaker
//! embedding built from them. Classical signal processing, no model weights: these work on any
//! machine and are what voice profiles store and what the cloned voice is steered by.

use doctalk_speech::fft::Fft;

/// The rate every measurement runs at (speech carries little above 8 kHz).
pub const ANALYSIS_RATE: u32 = 16_000;
const FRAME: usize = 512; // 32 ms
const HOP: usize = 160; // 10 ms
const MEL_BANDS: usize = 40;
const MFCC: usize = 20;
/// Frames quieter than this (RMS, full scale 1.0) are silence, not voice.
const SILENCE_RMS: f32 = 0.01;

/// A short-time spectrum analyser at [`ANALYSIS_RATE`].
pub struct Spectra {
    fft: Fft,
    window: Vec<f32>,
}

impl Default for Spectra {
    fn default() -> Self {
        let window = (0..FRAME)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / FRAME as f32).cos())
            .collect();
        Spectra {
            fft: Fft::new(FRAME),
            window,
        }
    }
}

impl Spectra {
    /// Power spectra (`FRAME / 2 + 1` bins) of the frames loud enough to be speech.
    pub fn voiced_power(&self, samples: &[f32]) -> Vec<Vec<f32>> {
        let mut out = Vec::new();
        let (mut re, mut im) = (vec![0.0f32; FRAME], vec![0.0f32; FRAME]);
        let mut start = 0;
        while start + FRAME <= samples.len() {
            let frame = &samples[start..start + FRAME];
            start += HOP;
            let rms = (frame.iter().map(|s| s * s).sum::<f32>() / FRAME as f32).sqrt();
            if rms < SILENCE_RMS {
                continue;
            }
            for i in 0..FRAME {
                re[i] = frame[i] * self.window[i];
                im[i] = 0.0;
            }
            self.fft.forward(&mut re, &mut im);
            out.push((0..=FRAME / 2).map(|k| re[k] * re[k] + im[k] * im[k]).collect());
        }
        out
    }
}

/// The median fundamental frequency of the voiced frames (autocorrelation, 60–400 Hz), or `None`
/// when nothing voiced is found.
pub fn median_f0(samples: &[f32]) -> Option<f32> {
    let rate = ANALYSIS_RATE as usize;
    let (min_lag, max_lag) = (rate / 400, rate / 60);
    let len = 640; // 40 ms: at least two periods of a 60 Hz voice
    let mut f0s = Vec::new();
    let mut start = 0;
    while start + len + max_lag <= samples.len() {
        let frame = &samples[start..start + len + max_lag];
        start += HOP;
        let energy: f32 = frame[..len].iter().map(|s| s * s).sum();
        if (energy / len as f32).sqrt() < SILENCE_RMS * 2.0 {
            continue;
        }
        let scores: Vec<f32> = (min_lag..=max_lag)
            .map(|lag| {
                let (mut cross, mut e2) = (0.0f32, 0.0f32);
                for i in 0..len {
                    cross += frame[i] * frame[i + lag];
                    e2 += frame[i + lag] * frame[i + lag];
                }
                cross / (energy * e2).sqrt().max(1e-9)
            })
            .collect();
        let top = scores.iter().cloned().fold(0.0f32, f32::max);
        // Multiples of the period correlate almost as well as the period itself: take the first
        // peak close to the best, not the best (which is often an octave too low).
        let first_peak = (1..scores.len().saturating_sub(1))
            .find(|&i| scores[i] >= 0.9 * top && scores[i] >= scores[i - 1] && scores[i] >= scores[i + 1]);
        let best = match first_peak {
            Some(i) => (min_lag + i, scores[i]),
            None => (0, 0.0),
        };
        // Clearly periodic frames only (vowels), which is what pitch means.
        if best.1 > 0.6 {
            f0s.push(rate as f32 / best.0 as f32);
        }
    }
    if f0s.len() < 5 {
        return None;
    }
    f0s.sort_by(f32::total_cmp);
    Some(f0s[f0s.len() / 2])
}

/// Mel filterbank edges in Hz for [`MEL_BANDS`] bands over 60 Hz – 7.6 kHz.
fn mel_edges() -> Vec<f32> {
    let mel = |f: f32| 2595.0 * (1.0 + f / 700.0).log10();
    let hz = |m: f32| 700.0 * (10f32.powf(m / 2595.0) - 1.0);
    let (lo, hi) = (mel(60.0), mel(7600.0));
    (0..MEL_BANDS + 2)
        .map(|i| hz(lo + (hi - lo) * i as f32 / (MEL_BANDS + 1) as f32))
        .collect()
}

/// Log mel band energies of one power spectrum.
fn log_mel(power: &[f32], edges: &[f32]) -> Vec<f32> {
    let bin_hz = ANALYSIS_RATE as f32 / FRAME as f32;
    (0..MEL_BANDS)
        .map(|b| {
            let (lo, mid, hi) = (edges[b], edges[b + 1], edges[b + 2]);
            let mut e = 1e-10;
            for (k, p) in power.iter().enumerate() {
                let f = k as f32 * bin_hz;
                let w = if f > lo && f <= mid {
                    (f - lo) / (mid - lo)
                } else if f > mid && f < hi {
                    (hi - f) / (hi - mid)
                } else {
                    0.0
                };
                e += w * p;
            }
            e.ln()
        })
        .collect()
}

/// The long-term average spectrum of the voiced frames, in dB per mel band (the voice's overall
/// colour), or `None` for silence.
pub fn long_term_spectrum(samples: &[f32]) -> Option<Vec<f32>> {
    let frames = Spectra::default().voiced_power(samples);
    if frames.is_empty() {
        return None;
    }
    let mut mean = vec![0.0f32; FRAME / 2 + 1];
    for f in &frames {
        for (m, p) in mean.iter_mut().zip(f) {
            *m += p / frames.len() as f32;
        }
    }
    let edges = mel_edges();
    Some(
        log_mel(&mean, &edges)
            .iter()
            .map(|l| l * 10.0 / std::f32::consts::LN_10)
            .collect(),
    )
}

/// The centre frequency (Hz) of each band of [`long_term_spectrum`].
pub fn band_centres() -> Vec<f32> {
    mel_edges()[1..=MEL_BANDS].to_vec()
}

/// A speaker embedding: the mean and spread of the voiced frames' cepstra (MFCC 1–19) and the
/// median pitch, unit length. Compare two with [`cosine`].
pub fn speaker_embedding(samples: &[f32]) -> Option<Vec<f32>> {
    let frames = Spectra::default().voiced_power(samples);
    if frames.len() < 20 {
        return None;
    }
    let edges = mel_edges();
    let cepstra: Vec<Vec<f32>> = frames.iter().map(|p| dct(&log_mel(p, &edges))).collect();
    let n = cepstra.len() as f32;
    let mut embedding = Vec::with_capacity(2 * (MFCC - 1) + 1);
    let means: Vec<f32> = (1..MFCC)
        .map(|k| cepstra.iter().map(|c| c[k]).sum::<f32>() / n)
        .collect();
    let spreads: Vec<f32> = (1..MFCC)
        .map(|k| (cepstra.iter().map(|c| (c[k] - means[k - 1]).powi(2)).sum::<f32>() / n).sqrt())
        .collect();
    embedding.extend(&means);
    embedding.extend(&spreads);
    // Pitch in octaves from 150 Hz, weighted like a few cepstral coefficients.
    let f0 = median_f0(samples).unwrap_or(150.0);
    embedding.push(4.0 * (f0 / 150.0).log2());
    let norm = embedding.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-9);
    Some(embedding.into_iter().map(|v| v / norm).collect())
}

/// Cosine similarity of two embeddings.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(1e-9)
}

/// DCT-II of the log mel energies: the first [`MFCC`] cepstral coefficients.
fn dct(log_mel: &[f32]) -> Vec<f32> {
    let n = log_mel.len() as f32;
    (0..MFCC)
        .map(|k| {
            log_mel
                .iter()
                .enumerate()
                .map(|(i, v)| v * (std::f32::consts::PI * k as f32 * (i as f32 + 0.5) / n).cos())
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f0: f32, seconds: f32) -> Vec<f32> {
        let n = (seconds * ANALYSIS_RATE as f32) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / ANALYSIS_RATE as f32;
                // A buzz with harmonics, like a vowel.
                (1..8)
                    .map(|h| (2.0 * std::f32::consts::PI * f0 * h as f32 * t).sin() / h as f32)
                    .sum::<f32>()
                    * 0.2
            })
            .collect()
    }

    #[test]
    fn pitch_is_found_and_silence_has_none() {
        for f0 in [100.0, 180.0, 250.0] {
            let got = median_f0(&tone(f0, 1.0)).unwrap();
            assert!((got - f0).abs() / f0 < 0.03, "{f0} → {got}");
        }
        assert!(median_f0(&vec![0.0; 16_000]).is_none());
        assert!(speaker_embedding(&vec![0.0; 16_000]).is_none());
        assert!(long_term_spectrum(&vec![0.0; 16_000]).is_none());
    }

    #[test]
    fn embeddings_tell_voices_apart() {
        let low = speaker_embedding(&tone(110.0, 1.0)).unwrap();
        let low2 = speaker_embedding(&tone(112.0, 1.0)).unwrap();
        let high = speaker_embedding(&tone(240.0, 1.0)).unwrap();
        assert!(cosine(&low, &low2) > cosine(&low, &high));
        assert!((cosine(&low, &low) - 1.0).abs() < 1e-5);
    }
}
