//! The offline default voice: eSpeak NG (formant synthesis, Mandarin and English) through
//! libespeak-ng, opened at run time so that DocTalk starts where it is missing and says what to
//! install.
//!
//! libespeak-ng keeps global state, so one process-wide instance serves every caller under a lock.
//! It runs in synchronous mode: `espeak_Synth` calls our callback with the samples before it
//! returns.

use std::ffi::{c_char, c_int, c_short, c_uint, c_void, CString};
use std::sync::{Mutex, OnceLock};

use libloading::Library;

use crate::error::{Result, VoiceError};

const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
const POS_CHARACTER: c_int = 1;
const ESPEAK_CHARS_UTF8: c_uint = 1;
const EE_OK: c_int = 0;
const RATE: c_int = 1;
/// `espeak_TextToPhonemes` phoneme mode: IPA as UTF-8 (what Piper voices are trained on).
const PHONEMES_IPA: c_int = 0x02;

/// `espeak_EVENT` (40 bytes on 64-bit Linux); only its presence matters to us.
#[repr(C)]
struct Event {
    kind: c_int,
    unique_identifier: c_uint,
    text_position: c_int,
    length: c_int,
    audio_position: c_int,
    sample: c_int,
    user_data: *mut c_void,
    id: [u8; 8],
}

type SynthCallback = unsafe extern "C" fn(*mut c_short, c_int, *mut Event) -> c_int;

struct Api {
    // Kept alive for the function pointers below.
    _lib: Library,
    set_voice_by_name: unsafe extern "C" fn(*const c_char) -> c_int,
    set_parameter: unsafe extern "C" fn(c_int, c_int, c_int) -> c_int,
    synth: unsafe extern "C" fn(
        *const c_void,
        usize,
        c_uint,
        c_int,
        c_uint,
        c_uint,
        *mut c_uint,
        *mut c_void,
    ) -> c_int,
    synchronize: unsafe extern "C" fn() -> c_int,
    text_to_phonemes: unsafe extern "C" fn(*mut *const c_void, c_int, c_int) -> *const c_char,
    sample_rate: u32,
}

// The library is only ever called under ENGINE's lock.
unsafe impl Send for Api {}

static ENGINE: OnceLock<std::result::Result<Mutex<Api>, String>> = OnceLock::new();
/// Samples of the utterance being synthesised; filled by the callback while ENGINE is locked.
static SAMPLES: Mutex<Vec<i16>> = Mutex::new(Vec::new());

unsafe extern "C" fn collect(wav: *mut c_short, count: c_int, _events: *mut Event) -> c_int {
    if !wav.is_null() && count > 0 {
        // SAFETY: espeak hands us `count` valid samples for the duration of the call.
        let chunk = unsafe { std::slice::from_raw_parts(wav, count as usize) };
        if let Ok(mut buf) = SAMPLES.lock() {
            buf.extend_from_slice(chunk);
        }
    }
    0
}

fn open() -> std::result::Result<Mutex<Api>, String> {
    const NAMES: [&str; 3] = ["libespeak-ng.so.1", "libespeak-ng.so", "libespeak-ng.dylib"];
    // SAFETY: loading libespeak-ng runs no initialisers with preconditions; symbols are checked below.
    let lib = NAMES
        .iter()
        .find_map(|n| unsafe { Library::new(*n) }.ok())
        .ok_or_else(|| {
            "libespeak-ng is not installed (Debian/Ubuntu: apt-get install libespeak-ng1 espeak-ng-data)"
                .to_string()
        })?;
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the types match speak_lib.h of eSpeak NG 1.49 and later.
            *unsafe { lib.get(&$name[..]) }
                .map_err(|e| format!("libespeak-ng lacks {}: {e}", String::from_utf8_lossy($name)))?
        };
    }
    let initialize: unsafe extern "C" fn(c_int, c_int, *const c_char, c_int) -> c_int =
        sym!(b"espeak_Initialize\0");
    let set_callback: unsafe extern "C" fn(SynthCallback) = sym!(b"espeak_SetSynthCallback\0");
    let api = Api {
        set_voice_by_name: sym!(b"espeak_SetVoiceByName\0"),
        set_parameter: sym!(b"espeak_SetParameter\0"),
        synth: sym!(b"espeak_Synth\0"),
        synchronize: sym!(b"espeak_Synchronize\0"),
        text_to_phonemes: sym!(b"espeak_TextToPhonemes\0"),
        sample_rate: 0,
        _lib: lib,
    };
    // SAFETY: called once, before any other espeak call; a null path means the default data dir.
    let rate = unsafe { initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, std::ptr::null(), 0) };
    if rate <= 0 {
        return Err("libespeak-ng could not start: its data (espeak-ng-data) is missing".into());
    }
    // SAFETY: `collect` has the callback signature and lives for the whole program.
    unsafe { set_callback(collect) };
    Ok(Mutex::new(Api {
        sample_rate: rate as u32,
        ..api
    }))
}

fn engine() -> Result<&'static Mutex<Api>> {
    ENGINE
        .get_or_init(open)
        .as_ref()
        .map_err(|reason| VoiceError::EngineUnavailable {
            engine: "espeak-ng",
            reason: reason.clone(),
        })
}

/// Whether libespeak-ng can be used here, or why not.
pub fn check() -> Result<()> {
    engine().map(|_| ())
}

/// Speaks `text` with the eSpeak NG voice `voice` (e.g. `en-us`, `cmn-latn-pinyin`) at `rate`
/// words per minute; returns 16-bit samples and their rate (22050 Hz).
pub fn synthesize(text: &str, voice: &str, rate_wpm: u32) -> Result<(Vec<i16>, u32)> {
    let api = engine()?.lock().map_err(|_| VoiceError::Poisoned)?;
    let voice_c = CString::new(voice).map_err(|_| VoiceError::UnknownVoice(voice.to_string()))?;
    // SAFETY: a valid C string; espeak copies what it needs.
    if unsafe { (api.set_voice_by_name)(voice_c.as_ptr()) } != EE_OK {
        return Err(VoiceError::UnknownVoice(voice.to_string()));
    }
    // SAFETY: plain integer parameter.
    unsafe { (api.set_parameter)(RATE, rate_wpm.clamp(80, 450) as c_int, 0) };
    let text_c = CString::new(text.replace('\0', " ")).expect("NULs were replaced");
    SAMPLES.lock().map_err(|_| VoiceError::Poisoned)?.clear();
    let bytes = text_c.as_bytes_with_nul();
    // SAFETY: the text is NUL-terminated UTF-8 of the given size; synchronous mode calls `collect`
    // before returning, while we hold the engine lock.
    let status = unsafe {
        (api.synth)(
            bytes.as_ptr().cast(),
            bytes.len(),
            0,
            POS_CHARACTER,
            0,
            ESPEAK_CHARS_UTF8,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    // SAFETY: no arguments; waits for synthesis to finish (a no-op in synchronous mode).
    unsafe { (api.synchronize)() };
    if status != EE_OK {
        return Err(VoiceError::Synthesis(format!("espeak_Synth returned {status}")));
    }
    let samples = std::mem::take(&mut *SAMPLES.lock().map_err(|_| VoiceError::Poisoned)?);
    Ok((samples, api.sample_rate))
}

/// The IPA phonemes eSpeak NG gives `text` in voice `voice`, one string per clause (eSpeak drops
/// the punctuation between clauses; the caller keeps track of it).
pub fn phonemize(text: &str, voice: &str) -> Result<Vec<String>> {
    let api = engine()?.lock().map_err(|_| VoiceError::Poisoned)?;
    let voice_c = CString::new(voice).map_err(|_| VoiceError::UnknownVoice(voice.to_string()))?;
    // SAFETY: a valid C string; espeak copies what it needs.
    if unsafe { (api.set_voice_by_name)(voice_c.as_ptr()) } != EE_OK {
        return Err(VoiceError::UnknownVoice(voice.to_string()));
    }
    let text_c = CString::new(text.replace('\0', " ")).expect("NULs were replaced");
    let mut cursor: *const c_void = text_c.as_ptr().cast();
    let mut clauses = Vec::new();
    // Each call phonemizes one clause and moves the cursor past it (null at the end). The bound
    // guards against a library that never advances.
    for _ in 0..=text.len() {
        if cursor.is_null() {
            break;
        }
        // SAFETY: `cursor` points into `text_c`, NUL-terminated UTF-8 that outlives the loop; the
        // returned string is espeak's own buffer, copied before the next call.
        let out = unsafe { (api.text_to_phonemes)(&mut cursor, ESPEAK_CHARS_UTF8 as c_int, PHONEMES_IPA) };
        if out.is_null() {
            break;
        }
        // SAFETY: espeak returns a NUL-terminated string.
        let ipa = unsafe { std::ffi::CStr::from_ptr(out) }
            .to_string_lossy()
            .trim()
            .to_string();
        if !ipa.is_empty() {
            clauses.push(ipa);
        }
    }
    Ok(clauses)
}
