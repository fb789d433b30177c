//! Playing speech on the sound card with cpal: a queue that sentences join as they are
//! synthesised, resampled to the device's rate, and a stop that silences the output within one
//! device period (barge-in).
//!
//! The cpal stream lives on a thread of its own (streams are not `Send` on every platform); the
//! [`Player`] handle shares only the queue and flags with it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};

use crate::error::{Result, VoiceError};
use crate::resample::resample;
use crate::wav::Audio;

/// About one device buffer at the shortest size asked for: what is still in the device when the
/// queue has run dry.
const PERIOD: Duration = Duration::from_millis(20);

struct Shared {
    queue: Mutex<VecDeque<f32>>,
    stop: AtomicBool,
    /// Frames handed to the device that carried speech.
    played: AtomicU64,
    /// What the device reported at the last callback: from handing samples over to their playing,
    /// in microseconds (0: the backend does not say).
    output_latency_us: AtomicU64,
    /// When the first queued sample reached the device.
    first_sample_at: Mutex<Option<Instant>>,
    /// When a stop was first obeyed by the device callback.
    silenced_at: Mutex<Option<Instant>>,
}

/// The default output device, playing whatever is queued.
pub struct Player {
    shared: Arc<Shared>,
    rate: u32,
    /// Dropping it ends the stream thread.
    _thread: crate::device::DeviceThread,
    device: String,
}

impl Player {
    /// Opens the default output device. Without one (servers, CI) the error says to write a file.
    pub fn open() -> Result<Player> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            stop: AtomicBool::new(false),
            played: AtomicU64::new(0),
            output_latency_us: AtomicU64::new(0),
            first_sample_at: Mutex::new(None),
            silenced_at: Mutex::new(None),
        });
        let thread_shared = shared.clone();
        let (thread, rate, device) =
            crate::device::spawn("doctalk-playback", move || start_stream(thread_shared))
                .map_err(no_device)?;
        Ok(Player {
            shared,
            rate,
            _thread: thread,
            device,
        })
    }

    pub fn device_name(&self) -> &str {
        &self.device
    }

    /// Queues `audio` after what is already queued.
    pub fn enqueue(&self, audio: &Audio) {
        let samples = resample(&audio.samples, audio.sample_rate, self.rate);
        if let Ok(mut q) = self.shared.queue.lock() {
            q.extend(samples);
        }
    }

    /// Silences the output and drops the queue; the device callback obeys within one period.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Ok(mut q) = self.shared.queue.lock() {
            q.clear();
        }
    }

    /// Plays again after a [`Player::stop`] (the next answer).
    pub fn resume(&self) {
        self.shared.stop.store(false, Ordering::SeqCst);
        if let Ok(mut at) = self.shared.silenced_at.lock() {
            *at = None;
        }
    }

    /// Seconds of speech still queued.
    pub fn queued_s(&self) -> f64 {
        self.shared.queue.lock().map_or(0, |q| q.len()) as f64 / self.rate as f64
    }

    /// Blocks until the queue has played out (or `stop` was called).
    pub fn wait(&self) {
        while self.queued_s() > 0.0 && !self.shared.stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        // The last period is still in the device.
        std::thread::sleep(PERIOD * 2);
    }

    /// Seconds of speech handed to the device so far.
    pub fn played_s(&self) -> f64 {
        self.shared.played.load(Ordering::SeqCst) as f64 / self.rate as f64
    }

    /// How long samples wait in the device (and sound server) before they are heard, as the
    /// backend last reported it; a stop is heard this much after the callback goes silent.
    pub fn output_latency(&self) -> Option<Duration> {
        match self.shared.output_latency_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// When the first speech sample reached the device.
    pub fn first_sample_at(&self) -> Option<Instant> {
        *self.shared.first_sample_at.lock().ok()?
    }

    /// When the device callback first delivered silence after `stop`.
    pub fn silenced_at(&self) -> Option<Instant> {
        *self.shared.silenced_at.lock().ok()?
    }
}

fn no_device(reason: String) -> VoiceError {
    VoiceError::NoAudioDevice(reason)
}

type Stream = cpal::Stream;

fn start_stream(shared: Arc<Shared>) -> std::result::Result<(Stream, u32, String), String> {
    let (device, name, supported) = crate::device::default_device(true)?;
    let rate = supported.sample_rate().0;
    let channels = supported.channels() as usize;
    let format = supported.sample_format();
    let mut config: cpal::StreamConfig = supported.config();
    // A short buffer makes a stop heard sooner. cpal asks ALSA for the buffer in four periods, and
    // ALSA's pulse plugin (PulseAudio and PipeWire desktops) refuses a buffer that is not a whole
    // number of periods, so sizes are multiples of four frames, shortest first; the device's
    // own default (about 100 ms) is the last resort.
    let mut sizes: Vec<u32> = Vec::new();
    if let cpal::SupportedBufferSize::Range { min, max } = supported.buffer_size() {
        for ms in BUFFER_LADDER_MS {
            let frames = ((rate as u64 * ms / 1000) as u32 / 4 * 4).clamp(*min, *max);
            if !sizes.contains(&frames) {
                sizes.push(frames);
            }
        }
    }
    for frames in sizes {
        config.buffer_size = cpal::BufferSize::Fixed(frames);
        match build_stream(&device, &config, format, channels, &shared) {
            Ok(stream) => {
                stream.play().map_err(|e| format!("{name}: {e}"))?;
                return Ok((stream, rate, name));
            }
            Err(e) => tracing::debug!(frames, error = %e, "an audio buffer size was refused"),
        }
    }
    config.buffer_size = cpal::BufferSize::Default;
    let stream =
        build_stream(&device, &config, format, channels, &shared).map_err(|e| format!("{name}: {e}"))?;
    stream.play().map_err(|e| format!("{name}: {e}"))?;
    Ok((stream, rate, name))
}

/// Buffer lengths tried, shortest first (see `start_stream`).
const BUFFER_LADDER_MS: [u64; 4] = [20, 30, 40, 60];

fn build_stream(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    format: cpal::SampleFormat,
    channels: usize,
    shared: &Arc<Shared>,
) -> std::result::Result<Stream, String> {
    let err = |e: cpal::StreamError| tracing::warn!(error = %e, "audio output error");
    let shared = shared.clone();
    match format {
        cpal::SampleFormat::F32 => device.build_output_stream(
            config,
            move |out: &mut [f32], info| fill(&shared, info, out, channels, |s| s),
            err,
            None,
        ),
        cpal::SampleFormat::I16 => device.build_output_stream(
            config,
            move |out: &mut [i16], info| fill(&shared, info, out, channels, |s| (s * 32767.0) as i16),
            err,
            None,
        ),
        cpal::SampleFormat::U16 => device.build_output_stream(
            config,
            move |out: &mut [u16], info| fill(&shared, info, out, channels, |s| ((s + 1.0) * 32767.5) as u16),
            err,
            None,
        ),
        other => return Err(format!("unsupported sample format {other:?}")),
    }
    .map_err(|e| e.to_string())
}

/// The device callback: queued speech, else silence.
fn fill<T: Copy>(
    shared: &Shared,
    info: &cpal::OutputCallbackInfo,
    out: &mut [T],
    channels: usize,
    convert: impl Fn(f32) -> T,
) {
    let stamp = info.timestamp();
    if let Some(latency) = stamp.playback.duration_since(&stamp.callback) {
        shared
            .output_latency_us
            .store(latency.as_micros() as u64, Ordering::Relaxed);
    }
    let silence = convert(0.0);
    if shared.stop.load(Ordering::Relaxed) {
        out.fill(silence);
        if let Ok(mut at) = shared.silenced_at.lock() {
            at.get_or_insert_with(Instant::now);
        }
        return;
    }
    let Ok(mut queue) = shared.queue.try_lock() else {
        // Never block the audio thread: one period of silence instead.
        out.fill(silence);
        return;
    };
    let mut spoke = 0u64;
    for frame in out.chunks_mut(channels.max(1)) {
        let value = match queue.pop_front() {
            Some(s) => {
                spoke += 1;
                convert(s.clamp(-1.0, 1.0))
            }
            None => silence,
        };
        frame.fill(value);
    }
    if spoke > 0 {
        shared.played.fetch_add(spoke, Ordering::Relaxed);
        if let Ok(mut at) = shared.first_sample_at.lock() {
            at.get_or_insert_with(Instant::now);
        }
    }
}
