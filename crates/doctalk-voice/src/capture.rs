//! The microphone through cpal: mono samples from the default input device, cut into utterances by
//! [`Vad`](crate::vad::Vad).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};

use crate::error::{Result, VoiceError};
use crate::vad::{Vad, VadConfig, VadEvent};
use crate::wav::Audio;

/// The default input device, capturing while it exists.
pub struct Microphone {
    rx: mpsc::Receiver<Vec<f32>>,
    rate: u32,
    name: String,
    _thread: crate::device::DeviceThread,
}

impl Microphone {
    /// Opens the default input device; without one the error says to use a recording.
    pub fn open() -> Result<Microphone> {
        let (data_tx, data_rx) = mpsc::channel::<Vec<f32>>();
        let (thread, rate, name) = crate::device::spawn("doctalk-capture", move || start(data_tx))
            .map_err(VoiceError::NoMicrophone)?;
        Ok(Microphone {
            rx: data_rx,
            rate,
            name,
            _thread: thread,
        })
    }

    pub fn device_name(&self) -> &str {
        &self.name
    }

    /// Waits for one utterance (up to `max` long); `on_start` runs when speech begins (barge-in).
    pub fn listen(&self, config: VadConfig, max: Duration, on_start: impl FnMut()) -> Result<Audio> {
        self.listen_until(config, max, on_start, &AtomicBool::new(false))
    }

    /// [`Microphone::listen`] that also ends when `stop` is set (push to talk: the user said they
    /// finished), with what was heard so far (empty when speech never started).
    pub fn listen_until(
        &self,
        config: VadConfig,
        max: Duration,
        mut on_start: impl FnMut(),
        stop: &AtomicBool,
    ) -> Result<Audio> {
        // Drop what was captured while we were not listening (our own voice, for one).
        while self.rx.try_recv().is_ok() {}
        let mut vad = Vad::new(self.rate, config);
        let mut started: Option<Instant> = None;
        let mut quiet_for = Duration::ZERO;
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(Audio::new(vad.finish().unwrap_or_default(), self.rate));
            }
            let chunk = match self.rx.recv_timeout(Duration::from_millis(100)) {
                Ok(chunk) => {
                    quiet_for = Duration::ZERO;
                    chunk
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    quiet_for += Duration::from_millis(100);
                    if quiet_for >= Duration::from_secs(5) {
                        return Err(VoiceError::NoMicrophone(
                            "the microphone stopped delivering audio".into(),
                        ));
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(VoiceError::NoMicrophone("the microphone was closed".into()))
                }
            };
            for event in vad.push(&chunk) {
                match event {
                    VadEvent::Started => {
                        started = Some(Instant::now());
                        on_start();
                    }
                    VadEvent::Ended(samples) => return Ok(Audio::new(samples, self.rate)),
                    VadEvent::None => {}
                }
            }
            if started.is_some_and(|s| s.elapsed() > max) {
                return Ok(Audio::new(vad.finish().unwrap_or_default(), self.rate));
            }
        }
    }
}

fn start(tx: mpsc::Sender<Vec<f32>>) -> std::result::Result<(cpal::Stream, u32, String), String> {
    let (device, name, supported) = crate::device::default_device(false)?;
    let rate = supported.sample_rate().0;
    let channels = supported.channels().max(1) as usize;
    let config: cpal::StreamConfig = supported.config();
    let err = |e: cpal::StreamError| tracing::warn!(error = %e, "audio input error");
    let mono = move |frames: Vec<f32>| -> Vec<f32> {
        frames
            .chunks(channels)
            .map(|f| f.iter().sum::<f32>() / channels as f32)
            .collect()
    };
    let stream = match supported.sample_format() {
        cpal::SampleFormat::F32 => device.build_input_stream(
            &config,
            move |data: &[f32], _| {
                let _ = tx.send(mono(data.to_vec()));
            },
            err,
            None,
        ),
        cpal::SampleFormat::I16 => device.build_input_stream(
            &config,
            move |data: &[i16], _| {
                let _ = tx.send(mono(data.iter().map(|&s| s as f32 / 32768.0).collect()));
            },
            err,
            None,
        ),
        other => return Err(format!("{name}: unsupported sample format {other:?}")),
    }
    .map_err(|e| format!("{name}: {e}"))?;
    stream.play().map_err(|e| format!("{name}: {e}"))?;
    Ok((stream, rate, name))
}
