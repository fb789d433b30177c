//! The candle VITS against ONNX Runtime on the real en_US-joe-medium Piper voice.
//!
//! Both noise scales are 0, which makes the network deterministic: the same phoneme ids must give
//! the same waveform in both runtimes. The reference comes from `models/gen/piper_reference.py`
//! (ONNX Runtime from the `onnxruntime` wheel) run in the test venv.
//!
//! Needs `scripts/setup.sh` (the voice in `.models/piper-en_US-joe-medium`, onnxruntime in
//! `.venv-test`); without them the tests fail with that instruction.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use candle_core::Device;
use doctalk_models::ModelError;
use doctalk_speech::vits::{find_voice_file, PiperVoice, Scales};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn voice_dir() -> PathBuf {
    let root = std::env::var_os("DOCTALK_MODELS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".models"));
    let dir = root.join("piper-en_US-joe-medium");
    assert!(
        dir.is_dir(),
        "the Piper voice is missing: no {}. Run scripts/setup.sh (or scripts/fetch-models.sh piper-en_us-joe-medium).",
        dir.display()
    );
    dir
}

fn voice() -> &'static PiperVoice {
    static VOICE: OnceLock<PiperVoice> = OnceLock::new();
    VOICE.get_or_init(|| {
        let file = find_voice_file(&voice_dir()).expect("voice file");
        PiperVoice::load(&file, &Device::Cpu).unwrap_or_else(|e| panic!("loading the voice: {e}"))
    })
}

fn python() -> PathBuf {
    std::env::var_os("DOCTALK_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-test/bin/python"))
}

fn onnx_runtime(ids: &[u32]) -> Vec<f32> {
    let out = tempfile::NamedTempFile::new().unwrap();
    let joined: Vec<String> = ids.iter().map(u32::to_string).collect();
    let status = Command::new(python())
        .arg(repo().join("models/gen/piper_reference.py"))
        .arg(&voice().model_path)
        .arg(out.path())
        .arg(joined.join(","))
        .status()
        .expect("run the ONNX Runtime reference (scripts/setup.sh makes .venv-test)");
    assert!(status.success(), "the ONNX Runtime reference failed");
    std::fs::read(out.path())
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// IPA as eSpeak NG writes it for these sentences, split into characters as Piper does.
fn phonemes(ipa: &str) -> Vec<String> {
    ipa.chars().map(String::from).collect()
}

const DETERMINISTIC: Scales = Scales {
    noise_scale: 0.0,
    length_scale: 1.0,
    noise_w: 0.0,
};

fn max_abs_error(ipa: &str) -> (f32, usize) {
    let (ids, unknown) = voice().phoneme_ids(&phonemes(ipa));
    assert!(unknown.is_empty(), "unknown phonemes {unknown:?}");
    let ours = voice().synthesize_ids(&ids, DETERMINISTIC, 0).unwrap();
    let reference = onnx_runtime(&ids);
    assert_eq!(ours.len(), reference.len(), "different lengths for {ipa}");
    let err = ours
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    (err, ours.len())
}

#[test]
fn candle_matches_onnx_runtime_on_the_real_voice() {
    // "Hello, world." and a longer sentence (longer than the attention window on both sides).
    for ipa in [
        "həlˈoʊ, wˈɜːld.",
        "ðɪ ˈænsɚ ɪz ɪn ðə hˈændbʊk ɑːn pˈeɪdʒ sˈɪks, ˈʌndɚ tɹˈævəl pˈɑːlɪsi.",
    ] {
        let (err, samples) = max_abs_error(ipa);
        eprintln!("{ipa}: {samples} samples, max abs error {err:.2e}");
        assert!(samples > 10_000, "too short: {samples}");
        assert!(err < 1e-3, "max abs error {err} for {ipa}");
    }
}

#[test]
fn noise_is_seeded_and_durations_follow_the_length_scale() {
    let (ids, _) = voice().phoneme_ids(&phonemes("həlˈoʊ wˈɜːld."));
    let scales = voice().config.inference;
    let a = voice().synthesize_ids(&ids, scales, 7).unwrap();
    let b = voice().synthesize_ids(&ids, scales, 7).unwrap();
    let c = voice().synthesize_ids(&ids, scales, 8).unwrap();
    assert_eq!(a, b, "the same seed gives the same audio");
    assert_ne!(a, c, "another seed varies it");
    let slow = voice()
        .synthesize_ids(
            &ids,
            Scales {
                length_scale: 1.5,
                ..DETERMINISTIC
            },
            0,
        )
        .unwrap();
    let normal = voice().synthesize_ids(&ids, DETERMINISTIC, 0).unwrap();
    let ratio = slow.len() as f32 / normal.len() as f32;
    assert!((1.3..1.7).contains(&ratio), "length ratio {ratio}");
    let rms = (a.iter().map(|v| v * v).sum::<f32>() / a.len() as f32).sqrt();
    assert!(rms > 0.01, "speech has energy: rms {rms}");
}

#[test]
fn broken_voices_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        find_voice_file(dir.path()),
        Err(ModelError::Catalog(
            doctalk_models::CatalogError::MissingFile { .. }
        ))
    ));

    // A model without its .onnx.json.
    let onnx = dir.path().join("v.onnx");
    std::fs::copy(&voice().model_path, &onnx).unwrap();
    let err = find_voice_file(dir.path()).unwrap_err();
    assert!(err.to_string().contains("v.onnx.json"), "{err}");

    // A truncated model.
    let json = dir.path().join("v.onnx.json");
    let mut config = voice().model_path.as_os_str().to_owned();
    config.push(".json");
    std::fs::copy(&config, &json).unwrap();
    let bytes = std::fs::read(&voice().model_path).unwrap();
    std::fs::write(&onnx, &bytes[..bytes.len() / 2]).unwrap();
    let err = PiperVoice::load(&onnx, &Device::Cpu)
        .err()
        .expect("truncated file fails");
    assert!(matches!(err, ModelError::CorruptFile { .. }), "{err}");

    // Ids outside the table, and nothing at all.
    let err = voice()
        .synthesize_ids(&[1, 9999, 2], DETERMINISTIC, 0)
        .unwrap_err();
    assert!(err.to_string().contains("9999"), "{err}");
    assert!(voice().synthesize_ids(&[], DETERMINISTIC, 0).is_err());
}

#[test]
fn streamed_pieces_join_into_the_whole_sentence() {
    let (ids, _) = voice().phoneme_ids(&phonemes(
        "ðɪ ˈænsɚ ɪz ɪn ðə hˈændbʊk ɑːn pˈeɪdʒ sˈɪks, ˈʌndɚ tɹˈævəl pˈɑːlɪsi.",
    ));
    let scales = voice().config.inference;
    let whole = voice().synthesize_ids(&ids, scales, 3).unwrap();
    let mut pieces = Vec::new();
    voice()
        .synthesize_streaming(&ids, scales, 3, 20, &mut |p| {
            pieces.push(p.to_vec());
            Ok(())
        })
        .unwrap();
    assert!(pieces.len() >= 3, "{} pieces", pieces.len());
    assert_eq!(pieces[0].len(), 20 * 256, "the first piece is 20 frames");
    let joined: Vec<f32> = pieces.concat();
    assert_eq!(joined.len(), whole.len());
    let err = joined
        .iter()
        .zip(&whole)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    eprintln!(
        "streamed vs whole: {} pieces, max abs difference {err:.1e}",
        pieces.len()
    );
    assert!(err < 1e-3, "seams: {err}");
}
