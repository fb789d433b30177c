//! Voice-activity detection by energy: good enough to cut one spoken question out of a microphone
//! stream in a room (speech is 10–30 dB above the noise floor), with no model to load.
//!
//! The floor is learnt from the first frames and follows the quietest recent level; speech starts
//! after a few loud frames and ends after a stretch of quiet ones.

/// Frame length in milliseconds.
pub const FRAME_MS: u32 = 30;

/// Settings; the defaults suit a question asked at a desk.
#[derive(Debug, Clone, Copy)]
pub struct VadConfig {
    /// Speech is this many times the noise floor's RMS (≈ +10 dB).
    pub ratio: f32,
    /// …and at least this RMS, so digital silence does not make hiss "speech".
    pub min_rms: f32,
    /// Loud frames in a row that start an utterance.
    pub start_frames: usize,
    /// Quiet time that ends it.
    pub end_silence_ms: u32,
    /// Audio kept from before the start, so the first syllable is not clipped.
    pub pre_roll_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            ratio: 3.0,
            min_rms: 0.01,
            start_frames: 3,
            end_silence_ms: 800,
            pre_roll_ms: 300,
        }
    }
}

/// What a frame changed.
#[derive(Debug, Clone, PartialEq)]
pub enum VadEvent {
    /// Nothing yet (silence before speech, or speech going on).
    None,
    /// Speech began (barge-in: stop speaking).
    Started,
    /// The utterance is complete: its samples, pre-roll included.
    Ended(Vec<f32>),
}

/// Cuts utterances out of a stream of mono samples at `sample_rate`.
pub struct Vad {
    config: VadConfig,
    frame_len: usize,
    pending: Vec<f32>,
    floor: Option<f32>,
    loud_run: usize,
    quiet_run_ms: u32,
    in_speech: bool,
    pre_roll: std::collections::VecDeque<f32>,
    utterance: Vec<f32>,
}

impl Vad {
    pub fn new(sample_rate: u32, config: VadConfig) -> Self {
        Vad {
            config,
            frame_len: (sample_rate * FRAME_MS / 1000).max(1) as usize,
            pending: Vec::new(),
            floor: None,
            loud_run: 0,
            quiet_run_ms: 0,
            in_speech: false,
            pre_roll: std::collections::VecDeque::new(),
            utterance: Vec::new(),
        }
    }

    /// Whether an utterance is in progress.
    pub fn in_speech(&self) -> bool {
        self.in_speech
    }

    /// Feeds samples; returns the events of the frames they completed.
    pub fn push(&mut self, samples: &[f32]) -> Vec<VadEvent> {
        self.pending.extend_from_slice(samples);
        let mut events = Vec::new();
        while self.pending.len() >= self.frame_len {
            let frame: Vec<f32> = self.pending.drain(..self.frame_len).collect();
            let event = self.frame(&frame);
            if event != VadEvent::None {
                events.push(event);
            }
        }
        events
    }

    fn frame(&mut self, frame: &[f32]) -> VadEvent {
        let rms = (frame.iter().map(|s| s * s).sum::<f32>() / frame.len() as f32).sqrt();
        let floor = *self.floor.get_or_insert(rms);
        let threshold = (floor * self.config.ratio).max(self.config.min_rms);
        let loud = rms > threshold;
        let pre_roll_len = (self.config.pre_roll_ms / FRAME_MS) as usize * self.frame_len;
        if !self.in_speech {
            // The floor follows quiet frames: down at once, up slowly.
            if !loud {
                self.floor = Some(if rms < floor {
                    rms
                } else {
                    floor * 0.95 + rms * 0.05
                });
            }
            self.pre_roll.extend(frame.iter().copied());
            while self.pre_roll.len() > pre_roll_len + self.frame_len * self.config.start_frames {
                self.pre_roll.pop_front();
            }
            self.loud_run = if loud { self.loud_run + 1 } else { 0 };
            if self.loud_run >= self.config.start_frames {
                self.in_speech = true;
                self.quiet_run_ms = 0;
                self.utterance = self.pre_roll.drain(..).collect();
                return VadEvent::Started;
            }
            return VadEvent::None;
        }
        self.utterance.extend_from_slice(frame);
        self.quiet_run_ms = if loud { 0 } else { self.quiet_run_ms + FRAME_MS };
        if self.quiet_run_ms >= self.config.end_silence_ms {
            self.in_speech = false;
            self.loud_run = 0;
            return VadEvent::Ended(std::mem::take(&mut self.utterance));
        }
        VadEvent::None
    }

    /// Ends the stream: an utterance in progress is returned as it is.
    pub fn finish(&mut self) -> Option<Vec<f32>> {
        self.in_speech = false;
        (!self.utterance.is_empty()).then(|| std::mem::take(&mut self.utterance))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, level: f32, seed: u32) -> Vec<f32> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 8) as f32 / (1u32 << 24) as f32 * 2.0 * level - level
            })
            .collect()
    }

    #[test]
    fn an_utterance_between_silences_is_cut_out_once() {
        let rate = 16_000;
        let speech: Vec<f32> = (0..rate).map(|i| 0.3 * (i as f32 * 0.07).sin()).collect();
        let mut stream = noise(rate, 0.002, 1);
        stream.extend(speech.iter().zip(noise(rate, 0.002, 2)).map(|(a, b)| a + b));
        stream.extend(noise(rate * 2, 0.002, 3));
        let mut vad = Vad::new(rate as u32, VadConfig::default());
        let events: Vec<VadEvent> = stream.chunks(512).flat_map(|c| vad.push(c)).collect();
        assert_eq!(
            events.len(),
            2,
            "{:?}",
            events
                .iter()
                .map(|e| matches!(e, VadEvent::Started))
                .collect::<Vec<_>>()
        );
        assert_eq!(events[0], VadEvent::Started);
        let VadEvent::Ended(utterance) = &events[1] else {
            panic!("no end")
        };
        // One second of speech, plus pre-roll and the trailing silence that ended it.
        let secs = utterance.len() as f32 / rate as f32;
        assert!((1.9..2.4).contains(&secs), "{secs}");
    }

    #[test]
    fn steady_noise_is_not_speech() {
        let mut vad = Vad::new(16_000, VadConfig::default());
        assert!(vad.push(&noise(16_000 * 3, 0.05, 7)).is_empty());
        assert!(vad.finish().is_none());
    }
}
