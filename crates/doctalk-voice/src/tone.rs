//! Tone matching: steers synthesised speech toward a recorded voice by moving its pitch (WSOLA
//! time-stretch + resampling, so timing is kept) and its long-term spectrum (a linear-phase
//! equaliser). This is the cloning engine that runs on every machine without model weights;
//! it changes pitch and voice colour, not accent or rhythm.

use serde::{Deserialize, Serialize};

use crate::features::{band_centres, long_term_spectrum, median_f0, ANALYSIS_RATE};
use crate::resample::resample;
use crate::wav::Audio;

/// What a voice profile stores about the voice to imitate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tone {
    /// Median pitch of the voiced frames.
    pub f0_hz: f32,
    /// Long-term average spectrum, dB per mel band (`features::band_centres`).
    pub spectrum_db: Vec<f32>,
}

impl Tone {
    /// Measures a recording; `None` when it holds no voiced speech.
    pub fn measure(audio: &Audio) -> Option<Tone> {
        let pcm = resample(&audio.samples, audio.sample_rate, ANALYSIS_RATE);
        Some(Tone {
            f0_hz: median_f0(&pcm)?,
            spectrum_db: long_term_spectrum(&pcm)?,
        })
    }
}

/// The most the pitch is moved (an octave either way) and the spectrum bent (dB per band).
const MAX_PITCH_RATIO: f32 = 2.0;
const MAX_GAIN_DB: f32 = 15.0;

/// `audio` moved toward `target`. Unchanged when it has no voiced frames to measure.
pub fn convert(audio: &Audio, target: &Tone) -> Audio {
    let Some(source) = Tone::measure(audio) else {
        return audio.clone();
    };
    let ratio = (target.f0_hz / source.f0_hz).clamp(1.0 / MAX_PITCH_RATIO, MAX_PITCH_RATIO);
    let rate = audio.sample_rate;
    let shifted = if (ratio - 1.0).abs() < 0.01 {
        audio.samples.clone()
    } else {
        // Stretch by `ratio`, then play it back `ratio` times faster: same length, pitch × ratio.
        let stretched = wsola(&audio.samples, ratio, rate);
        let virtual_rate = (rate as f32 * ratio).round() as u32;
        let mut out = resample(&stretched, virtual_rate, rate);
        out.resize(audio.samples.len(), 0.0);
        out
    };
    let shifted_audio = Audio::new(shifted, rate);
    let Some(after_shift) = Tone::measure(&shifted_audio) else {
        return shifted_audio;
    };
    let gains = band_gains(&after_shift.spectrum_db, &target.spectrum_db);
    let filter = equaliser(&gains, rate);
    let mut samples = convolve(&shifted_audio.samples, &filter);
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if peak > 1e-6 {
        let gain = 0.9 / peak;
        samples.iter_mut().for_each(|s| *s *= gain);
    }
    Audio::new(samples, rate)
}

/// Per-band corrections in dB: target − source, limited, smoothed over neighbouring bands, with
/// the mean removed (the equaliser changes colour, not loudness).
fn band_gains(source_db: &[f32], target_db: &[f32]) -> Vec<f32> {
    let raw: Vec<f32> = source_db
        .iter()
        .zip(target_db)
        .map(|(s, t)| (t - s).clamp(-MAX_GAIN_DB, MAX_GAIN_DB))
        .collect();
    let smooth: Vec<f32> = (0..raw.len())
        .map(|i| {
            let lo = i.saturating_sub(1);
            let hi = (i + 1).min(raw.len() - 1);
            raw[lo..=hi].iter().sum::<f32>() / (hi - lo + 1) as f32
        })
        .collect();
    let mean = smooth.iter().sum::<f32>() / smooth.len().max(1) as f32;
    smooth.into_iter().map(|g| g - mean).collect()
}

const TAPS: usize = 511;

/// A linear-phase FIR whose response follows `gains_db` at the mel band centres (frequency
/// sampling with a Hann window).
fn equaliser(gains_db: &[f32], rate: u32) -> Vec<f32> {
    let centres = band_centres();
    let gain_at = |f: f32| -> f32 {
        let db = if f <= centres[0] {
            gains_db[0]
        } else if f >= centres[centres.len() - 1] {
            gains_db[gains_db.len() - 1]
        } else {
            let i = centres.iter().position(|&c| c > f).unwrap_or(1);
            let t = (f - centres[i - 1]) / (centres[i] - centres[i - 1]);
            gains_db[i - 1] * (1.0 - t) + gains_db[i] * t
        };
        10f32.powf(db / 20.0)
    };
    let n = TAPS + 1;
    let half = (TAPS / 2) as f32;
    let response: Vec<f32> = (0..=n / 2)
        .map(|k| gain_at(k as f32 * rate as f32 / n as f32))
        .collect();
    (0..TAPS)
        .map(|i| {
            let t = i as f32 - half;
            let mut h = response[0];
            for (k, r) in response.iter().enumerate().skip(1) {
                let weight = if k == n / 2 { 1.0 } else { 2.0 };
                h += weight * r * (2.0 * std::f32::consts::PI * k as f32 * t / n as f32).cos();
            }
            let window = 0.5 + 0.5 * (2.0 * std::f32::consts::PI * t / TAPS as f32).cos();
            h / n as f32 * window
        })
        .collect()
}

/// `x` filtered by the symmetric `h`, aligned so the output lines up with the input.
fn convolve(x: &[f32], h: &[f32]) -> Vec<f32> {
    let delay = h.len() / 2;
    (0..x.len())
        .map(|i| {
            let mut acc = 0.0;
            for (j, hj) in h.iter().enumerate() {
                let idx = i + delay;
                if idx >= j && idx - j < x.len() {
                    acc += hj * x[idx - j];
                }
            }
            acc
        })
        .collect()
}

/// Waveform-similarity overlap-add: `x` made `factor` times longer without changing its pitch.
fn wsola(x: &[f32], factor: f32, rate: u32) -> Vec<f32> {
    let n = (0.03 * rate as f32) as usize; // 30 ms frames
    let hop = n / 2;
    let tolerance = (0.008 * rate as f32) as usize;
    if x.len() < n + 2 * tolerance {
        return x.to_vec();
    }
    let window: Vec<f32> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
        .collect();
    let out_len = (x.len() as f32 * factor) as usize;
    let mut out = vec![0.0f32; out_len + n];
    let mut norm = vec![0.0f32; out_len + n];
    let last_start = x.len() - n;
    let mut previous = 0usize;
    let mut k = 0;
    while k * hop < out_len {
        let nominal = ((k * hop) as f32 / factor) as usize;
        let pos = if k == 0 {
            0
        } else {
            // The frame whose start best continues the previous one's waveform.
            let natural = (previous + hop).min(last_start);
            let lo = nominal.saturating_sub(tolerance).min(last_start);
            let hi = (nominal + tolerance).min(last_start);
            let mut best = (lo, f32::NEG_INFINITY);
            for candidate in (lo..=hi).step_by(2) {
                let score: f32 = (0..n).step_by(4).map(|i| x[candidate + i] * x[natural + i]).sum();
                if score > best.1 {
                    best = (candidate, score);
                }
            }
            best.0
        };
        for i in 0..n {
            out[k * hop + i] += x[pos + i] * window[i];
            norm[k * hop + i] += window[i];
        }
        previous = pos;
        k += 1;
    }
    out.truncate(out_len);
    out.iter()
        .zip(&norm)
        .map(|(o, w)| if *w > 1e-3 { o / w } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vowel(f0: f32, seconds: f32, rate: u32) -> Audio {
        let n = (seconds * rate as f32) as usize;
        let samples = (0..n)
            .map(|i| {
                let t = i as f32 / rate as f32;
                (1..10)
                    .map(|h| (2.0 * std::f32::consts::PI * f0 * h as f32 * t).sin() / h as f32)
                    .sum::<f32>()
                    * 0.2
            })
            .collect();
        Audio::new(samples, rate)
    }

    #[test]
    fn pitch_moves_to_the_target_and_length_stays() {
        let source = vowel(120.0, 1.0, 22_050);
        let target = Tone::measure(&vowel(200.0, 1.0, 22_050)).unwrap();
        let out = convert(&source, &target);
        assert_eq!(out.samples.len(), source.samples.len());
        let got = Tone::measure(&out).unwrap().f0_hz;
        assert!((got - 200.0).abs() < 12.0, "pitch {got}");
    }

    #[test]
    fn the_equaliser_follows_the_requested_gains() {
        // +12 dB at the top bands, −12 dB at the bottom ones.
        let bands = band_centres().len();
        let gains: Vec<f32> = (0..bands)
            .map(|i| if i < bands / 2 { -12.0 } else { 12.0 })
            .collect();
        let h = equaliser(&gains, 16_000);
        let response = |f: f32| {
            let (mut re, mut im) = (0.0f32, 0.0f32);
            for (i, v) in h.iter().enumerate() {
                let w = 2.0 * std::f32::consts::PI * f * i as f32 / 16_000.0;
                re += v * w.cos();
                im -= v * w.sin();
            }
            20.0 * (re * re + im * im).sqrt().log10()
        };
        assert!(response(6000.0) - response(150.0) > 18.0);
    }
}
