//! Sample-rate conversion: voices come at 22.05 kHz, Whisper wants 16 kHz, sound cards run at 44.1
//! or 48 kHz. A windowed-sinc interpolator (Blackman window, cutoff at the lower Nyquist) keeps
//! speech free of the aliasing that linear interpolation adds when downsampling.

/// Taps on each side of the interpolation point.
const HALF_TAPS: i64 = 16;

/// `samples` at `from` Hz, resampled to `to` Hz.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || samples.is_empty() || from == 0 || to == 0 {
        return samples.to_vec();
    }
    let ratio = to as f64 / from as f64;
    // Below 1 the filter must also cut what the lower rate cannot hold.
    let cutoff = ratio.min(1.0) * 0.95;
    let out_len = (samples.len() as f64 * ratio).round() as usize;
    let width = HALF_TAPS as f64 / cutoff;
    (0..out_len)
        .map(|n| {
            let t = n as f64 / ratio;
            let centre = t.floor() as i64;
            let reach = width.ceil() as i64;
            let (mut acc, mut norm) = (0f64, 0f64);
            for k in centre - reach..=centre + reach {
                let x = t - k as f64;
                if x.abs() >= width {
                    continue;
                }
                let w = sinc(x * cutoff) * blackman(x / width) * cutoff;
                norm += w;
                if k >= 0 && (k as usize) < samples.len() {
                    acc += w * samples[k as usize] as f64;
                }
            }
            if norm.abs() > 1e-12 {
                (acc / norm) as f32
            } else {
                0.0
            }
        })
        .collect()
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// Blackman window over [-1, 1].
fn blackman(x: f64) -> f64 {
    let p = std::f64::consts::PI * (x + 1.0);
    0.42 - 0.5 * p.cos() + 0.08 * (2.0 * p).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
        (0..(rate as f64 * seconds) as usize)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn a_tone_keeps_its_length_and_level() {
        let x = tone(440.0, 22050, 1.0);
        let y = resample(&x, 22050, 16000);
        assert_eq!(y.len(), 16000);
        let expected = tone(440.0, 16000, 1.0);
        // Away from the edges the resampled tone is the tone at the new rate.
        let err = y[200..15800]
            .iter()
            .zip(&expected[200..15800])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(err < 0.01, "{err}");
        let up = resample(&x, 22050, 48000);
        assert_eq!(up.len(), 48000);
        assert!((rms(&up[1000..47000]) - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.01);
    }

    #[test]
    fn frequencies_above_the_new_nyquist_are_removed() {
        // 10 kHz is above 16 kHz's Nyquist (8 kHz): it must not fold back as a loud alias.
        let y = resample(&tone(10_000.0, 44100, 0.5), 44100, 16000);
        assert!(rms(&y[500..7500]) < 0.05, "{}", rms(&y[500..7500]));
    }
}
