//! DocTalk's voice: answers spoken aloud and questions heard.
//!
//! - [`Speaker`]: one sentence in one language → audio. [`EspeakSpeaker`] is the offline default
//!   voice (eSpeak NG, Mandarin and English), opened at run time.
//! - [`PiperSpeaker`]: a Piper neural voice (VITS in candle, `doctalk_speech::vits`), phonemized by
//!   eSpeak NG. [`VoiceCatalog`] lists and opens voices by name; a voice reads the languages it
//!   lacks with the default voice ([`WithFallback`]).
//! - Cloned voices: [`ProfileStore`] keeps each reference recording with its speaker embedding
//!   ([`features`]), measured [`tone::Tone`] and consent note; [`ClonedSpeaker`] speaks with a base
//!   voice re-voiced by the neural tone-colour converter ([`neural_tone`], OpenVoice V2's network
//!   in candle) where its weights are installed, else tone-matched to the recording
//!   ([`tone::convert`]: pitch and long-term spectrum).
//! - [`speak_text`]: a whole answer, sentence by sentence, each in its own language
//!   ([`text::detect`]), citations and Markdown removed ([`text::speakable`]);
//!   [`text::SentenceStream`] cuts a token stream into sentences as they complete.
//! - [`wav`]: WAV in (any common PCM/float layout, mixed to mono) and out (16-bit PCM);
//!   [`resample()`] converts rates (windowed sinc).
//! - [`Player`]: the sound card through cpal; queued sentences, resampled to the device rate, and a
//!   stop obeyed within one device period (barge-in).
//! - [`Microphone`] and [`vad`]: microphone capture cut into utterances by an energy voice-activity
//!   detector; the start of speech is the barge-in signal.
//! - [`transcribe_file`]: a recording → 16 kHz → Whisper (`doctalk_speech::whisper`).
//!
//! Errors are the crate's one [`VoiceError`].

mod capture;
mod catalog;
mod device;
mod error;
mod espeak;
pub mod features;
pub mod neural_tone;
mod piper;
mod playback;
pub mod profiles;
pub mod resample;
mod speaker;
pub mod text;
pub mod tone;
pub mod vad;
pub mod wav;

use std::path::Path;

pub use capture::Microphone;
pub use catalog::{ClonedSpeaker, VoiceCatalog, VoiceInfo, WithFallback, ESPEAK_VOICE};
pub use error::{Result, VoiceError};
pub use piper::{PiperSpeaker, DEFAULT_PIPER_VOICE};
pub use playback::Player;
pub use profiles::{ProfileStore, VoiceProfile};
pub use resample::resample;
pub use speaker::{speak_text, EspeakSpeaker, Speaker};
pub use wav::{decode_wav, encode_wav, read_wav, write_wav, Audio};

use doctalk_speech::whisper::{Transcriber, Transcript, SAMPLE_RATE};

/// Reads a WAV recording, resamples it to Whisper's 16 kHz and transcribes it in `language`
/// (`zh`, `en`) or the language Whisper detects.
pub fn transcribe_file(model: &Transcriber, path: &Path, language: Option<&str>) -> Result<Transcript> {
    let audio = read_wav(path)?;
    if audio.samples.is_empty() {
        return Err(VoiceError::BadAudio {
            path: path.to_owned(),
            reason: "the recording is empty".into(),
        });
    }
    transcribe_audio(model, &audio, language)
}

/// [`transcribe_file`] for audio already in memory (an upload, a microphone recording).
pub fn transcribe_audio(model: &Transcriber, audio: &Audio, language: Option<&str>) -> Result<Transcript> {
    let pcm = resample(&audio.samples, audio.sample_rate, SAMPLE_RATE as u32);
    Ok(model.transcribe(&pcm, language)?)
}
