//! WAV files in and out: what `say --out`, `transcribe` and voice profiles read and write.
//!
//! Reading accepts RIFF/WAVE with PCM 8/16/24/32-bit or IEEE float 32/64-bit samples (also inside
//! `WAVE_FORMAT_EXTENSIBLE`), any channel count (mixed down to mono), and skips chunks it does not
//! need. Writing is 16-bit PCM mono, which every player opens.

use std::path::Path;

use crate::error::{Result, VoiceError};

/// Mono samples in [-1, 1] at `sample_rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Audio {
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Self {
        Audio { samples, sample_rate }
    }

    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate.max(1) as f64
    }

    /// Appends another sentence: a short pause (when this already holds speech), then `next`
    /// resampled to this audio's rate.
    pub fn append_sentence(&mut self, next: &Audio) {
        if !self.samples.is_empty() {
            let gap = (SENTENCE_GAP_S * self.sample_rate as f32) as usize;
            self.samples.extend(std::iter::repeat_n(0.0, gap));
        }
        self.samples.extend(crate::resample::resample(
            &next.samples,
            next.sample_rate,
            self.sample_rate,
        ));
    }

    /// Appends the next piece of the same sentence: no pause, resampled to this audio's rate.
    pub fn append_piece(&mut self, next: &Audio) {
        self.samples.extend(crate::resample::resample(
            &next.samples,
            next.sample_rate,
            self.sample_rate,
        ));
    }

    /// Root-mean-square level (0 for silence).
    pub fn rms(&self) -> f32 {
        if self.samples.is_empty() {
            return 0.0;
        }
        (self.samples.iter().map(|s| s * s).sum::<f32>() / self.samples.len() as f32).sqrt()
    }
}

/// One little-endian sample's bytes → [-1, 1].
type SampleDecoder = dyn Fn(&[u8]) -> f32;

/// Pause between spoken sentences.
const SENTENCE_GAP_S: f32 = 0.18;

const PCM: u16 = 1;
const FLOAT: u16 = 3;
const EXTENSIBLE: u16 = 0xFFFE;

/// Reads a WAV file into mono f32.
pub fn read_wav(path: &Path) -> Result<Audio> {
    let bytes = std::fs::read(path).map_err(|source| VoiceError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_wav(&bytes).map_err(|reason| VoiceError::BadAudio {
        path: path.to_owned(),
        reason,
    })
}

/// Reads WAV bytes (an upload) into mono f32; `what` names them in the error.
pub fn decode_wav(bytes: &[u8], what: &str) -> Result<Audio> {
    parse_wav(bytes).map_err(|reason| VoiceError::BadAudio {
        path: what.into(),
        reason,
    })
}

fn parse_wav(bytes: &[u8]) -> std::result::Result<Audio, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(
            "not a WAV file (no RIFF/WAVE header); convert it to WAV first, e.g. `ffmpeg -i in.mp3 out.wav`"
                .into(),
        );
    }
    let mut at = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    let mut data: Option<&[u8]> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]) as usize;
        let body_start = at + 8;
        // A streaming writer may leave the data size as 0 or 0xFFFFFFFF: take the rest of the file.
        let body_end = if id == b"data" && (size == 0 || body_start + size > bytes.len()) {
            bytes.len()
        } else {
            body_start
                .checked_add(size)
                .filter(|&e| e <= bytes.len())
                .ok_or_else(|| {
                    format!(
                        "chunk {:?} runs past the end of the file",
                        String::from_utf8_lossy(id)
                    )
                })?
        };
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err("the fmt chunk is too short".into());
                }
                let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
                let mut tag = u16_at(0);
                let channels = u16_at(2);
                let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                let bits = u16_at(14);
                if tag == EXTENSIBLE && body.len() >= 26 {
                    tag = u16_at(24);
                }
                format = Some((tag, channels, rate, bits));
            }
            b"data" => data = Some(body),
            _ => {}
        }
        // Chunks are padded to an even size.
        at = body_end + (body_end - body_start) % 2;
    }
    let (tag, channels, rate, bits) = format.ok_or("no fmt chunk")?;
    let data = data.ok_or("no data chunk")?;
    if channels == 0 || rate == 0 {
        return Err(format!("{channels} channels at {rate} Hz is not audio"));
    }
    let width = (bits as usize).div_ceil(8);
    let decode: Box<SampleDecoder> = match (tag, bits) {
        (PCM, 8) => Box::new(|b| (b[0] as f32 - 128.0) / 128.0),
        (PCM, 16) => Box::new(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0),
        (PCM, 24) => Box::new(|b| (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0),
        (PCM, 32) => Box::new(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0),
        (FLOAT, 32) => Box::new(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        (FLOAT, 64) => {
            Box::new(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
        }
        _ => {
            return Err(format!(
            "unsupported sample format (format tag {tag}, {bits} bits); use 16-bit PCM or 32-bit float WAV"
        ))
        }
    };
    let frame = width * channels as usize;
    let samples = data
        .chunks_exact(frame)
        .map(|f| f.chunks_exact(width).map(&decode).sum::<f32>() / channels as f32)
        .collect();
    Ok(Audio::new(samples, rate))
}

/// Writes 16-bit PCM mono, atomically (a temporary file renamed into place).
pub fn write_wav(path: &Path, audio: &Audio) -> Result<()> {
    let out = encode_wav(audio);
    let tmp = path.with_extension("wav.partial");
    let io = |source| VoiceError::Io {
        path: path.to_owned(),
        source,
    };
    std::fs::write(&tmp, &out).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The bytes of a 16-bit mono PCM WAV file (for HTTP responses and the desktop app).
pub fn encode_wav(audio: &Audio) -> Vec<u8> {
    let data_len = audio.samples.len() * 2;
    let mut out = Vec::with_capacity(44 + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((36 + data_len) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&PCM.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&audio.sample_rate.to_le_bytes());
    out.extend_from_slice(&(audio.sample_rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data_len as u32).to_le_bytes());
    for s in &audio.samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let tone: Vec<f32> = (0..22050).map(|i| 0.5 * (i as f32 * 0.05).sin()).collect();
        write_wav(&path, &Audio::new(tone.clone(), 22050)).unwrap();
        let back = read_wav(&path).unwrap();
        assert_eq!(back.sample_rate, 22050);
        assert_eq!(back.samples.len(), tone.len());
        assert!(back.samples.iter().zip(&tone).all(|(a, b)| (a - b).abs() < 1e-4));
        assert!((back.duration_s() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn stereo_float_is_mixed_down_and_odd_chunks_are_skipped() {
        let mut f = b"RIFF\0\0\0\0WAVE".to_vec();
        f.extend_from_slice(b"LIST");
        f.extend_from_slice(&3u32.to_le_bytes());
        f.extend_from_slice(b"abc\0"); // odd size + pad byte
        f.extend_from_slice(b"fmt ");
        f.extend_from_slice(&16u32.to_le_bytes());
        for v in [FLOAT, 2] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(&8000u32.to_le_bytes());
        f.extend_from_slice(&64000u32.to_le_bytes());
        for v in [8u16, 32] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(b"data");
        f.extend_from_slice(&16u32.to_le_bytes());
        for v in [1.0f32, 0.0, -0.5, -0.5] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        let a = parse_wav(&f).unwrap();
        assert_eq!((a.sample_rate, a.samples.clone()), (8000, vec![0.5, -0.5]));
    }

    #[test]
    fn other_files_get_a_reason() {
        assert!(parse_wav(b"ID3\x04 mp3 data").unwrap_err().contains("not a WAV"));
        assert!(parse_wav(b"RIFF\0\0\0\0WAVE").unwrap_err().contains("no fmt"));
        let mut f = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        f.extend_from_slice(&16u32.to_le_bytes());
        f.extend_from_slice(&[0x55, 0, 1, 0, 0x40, 0x1f, 0, 0, 0, 0, 0, 0, 1, 0, 8, 0]);
        f.extend_from_slice(b"data\0\0\0\0");
        assert!(parse_wav(&f).unwrap_err().contains("unsupported sample format"));
    }
}
