//! The speech models, in candle: Whisper turns a spoken question into text (`whisper`: safetensors
//! or CTranslate2 weights, the catalogue finds them); VITS reads answers aloud in a Piper voice and
//! the OpenVoice tone-colour converter re-voices them in a cloned voice (`vits`); `fft` is the
//! spectrogram maths both sides share. The text models (encoders, LLMs) are `doctalk-models`'s,
//! whose error type (`ModelError`) and device choice these use.

pub mod fft;
pub mod vits;
pub mod whisper;
