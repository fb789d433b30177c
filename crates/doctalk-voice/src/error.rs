//! The crate's one error type.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("cannot read or write {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file that is not usable audio.
    #[error("{path} is not usable audio: {reason}", path = .path.display())]
    BadAudio { path: PathBuf, reason: String },

    /// Nothing to say after removing citations and markup.
    #[error("there is no text to speak")]
    EmptyText,

    /// Text in a language no installed voice speaks.
    #[error("no voice speaks {0} text yet (DocTalk speaks Chinese and English)")]
    UnsupportedLanguage(String),

    /// A speech engine could not be opened.
    #[error("the {engine} voice is unavailable: {reason}")]
    EngineUnavailable { engine: &'static str, reason: String },

    /// No sound card (servers, CI): speech can still be written to a file.
    #[error("cannot play audio: {0}; write a file instead (--out FILE.wav)")]
    NoAudioDevice(String),

    /// No microphone: a recorded question (`--input-wav`) still works.
    #[error("cannot listen: {0}; pass a recorded question with --input-wav FILE.wav")]
    NoMicrophone(String),

    #[error("unknown voice {0:?} (doctalk voices list shows the voices here)")]
    UnknownVoice(String),

    /// A voice profile that cannot be made or read.
    #[error("{0}")]
    BadProfile(String),

    #[error("speech synthesis failed: {0}")]
    Synthesis(String),

    /// Audio with no speech in it (where speech is required, e.g. a voice sample).
    #[error("{0}")]
    Silent(String),

    /// A model (Whisper) failed.
    #[error(transparent)]
    Model(#[from] doctalk_models::ModelError),

    #[error("a voice engine panicked earlier; restart DocTalk")]
    Poisoned,
}

pub type Result<T> = std::result::Result<T, VoiceError>;
