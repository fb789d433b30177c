//! The candle tone-colour converter against a PyTorch implementation of the same network
//! (`models/gen/openvoice_tiny.py`), on a tiny random checkpoint stored the way OpenVoice V2's
//! is (`torch.save({"model": state_dict})`, weight-norm `weight_g`/`weight_v` pairs) and two real
//! speech clips. Every stage is compared: spectrogram, speaker embeddings, posterior, flow forward
//! and backward, audio. No OpenVoice weights can be had on this machine; their loading path is
//! the one exercised here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use doctalk_models::ModelError;
use doctalk_speech::vits::converter::{find_converter_files, Revoicing, ToneConverter};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openvoice/tiny")
}

fn expected() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixture().join("expected.safetensors"), &Device::Cpu)
        .expect("expected.safetensors")
}

fn values(expected: &HashMap<String, Tensor>, name: &str) -> Vec<f32> {
    expected[name].flatten_all().unwrap().to_vec1().unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn revoicing<'a>(source: &'a [f32], target: &'a [f32], tau: f32, seed: u64) -> Revoicing<'a> {
    Revoicing {
        source,
        target,
        tau,
        seed,
    }
}

fn converter() -> ToneConverter {
    ToneConverter::load(&fixture(), &Device::Cpu).unwrap_or_else(|e| panic!("loading the converter: {e}"))
}

#[test]
fn every_stage_matches_pytorch() {
    let expected = expected();
    let model = converter();
    assert_eq!(model.sample_rate(), 22050);
    let source = values(&expected, "source");
    let reference = values(&expected, "reference");

    let spec: Vec<f32> = model
        .spectrogram(&source)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let spec_err = max_abs_diff(&spec, &values(&expected, "spec_source"));
    println!("spectrogram max abs error {spec_err:.2e}");
    assert!(spec_err < 2e-3, "spectrogram max abs error {spec_err}");

    let se_src = model.speaker_embedding(&source).unwrap();
    let se_tgt = model.speaker_embedding(&reference).unwrap();
    let se_err = max_abs_diff(&se_src, &values(&expected, "se_source"))
        .max(max_abs_diff(&se_tgt, &values(&expected, "se_target")));
    println!("speaker embeddings max abs error {se_err:.2e}");
    assert!(se_err < 1e-4, "speaker embedding max abs error {se_err}");

    // The reference's own embeddings as conditions, so each stage is checked on its own inputs.
    let (se_src, se_tgt) = (values(&expected, "se_source"), values(&expected, "se_target"));
    let conversion = model
        .convert_detailed(&source, &revoicing(&se_src, &se_tgt, 0.0, 0))
        .unwrap();
    for (name, ours) in [
        ("z", &conversion.mean),
        ("logs_q", &conversion.log_scale),
        ("z_p", &conversion.z_p),
        ("z_hat", &conversion.z_hat),
    ] {
        let reference = values(&expected, name);
        let err = max_abs_diff(ours, &reference);
        let scale = reference.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        println!("{name}: max abs error {err:.2e} (values up to {scale:.2})");
        assert!(err < 1e-3 * scale.max(1.0), "{name} max abs error {err}");
    }
    let audio_ref = values(&expected, "audio");
    assert_eq!(
        conversion.audio.len(),
        source.len(),
        "output as long as the input"
    );
    let audio_err = max_abs_diff(&conversion.audio[..audio_ref.len()], &audio_ref);
    println!(
        "audio max abs error {audio_err:.2e} over {} samples",
        audio_ref.len()
    );
    assert!(audio_err < 1e-3, "audio max abs error {audio_err}");
    let rms = (audio_ref.iter().map(|v| v * v).sum::<f32>() / audio_ref.len() as f32).sqrt();
    assert!(rms > 0.05, "the reference output is not silence (rms {rms})");
}

#[test]
fn the_target_speaker_changes_the_output_and_noise_is_seeded() {
    let expected = expected();
    let model = converter();
    let source = values(&expected, "source");
    let (se_src, se_tgt) = (values(&expected, "se_source"), values(&expected, "se_target"));
    let to_target = model
        .convert(&source, &revoicing(&se_src, &se_tgt, 0.0, 0))
        .unwrap();
    let to_self = model
        .convert(&source, &revoicing(&se_src, &se_src, 0.0, 0))
        .unwrap();
    assert!(
        max_abs_diff(&to_target, &to_self) > 1e-2,
        "the target embedding must matter"
    );
    let noisy_a = model
        .convert(&source, &revoicing(&se_src, &se_tgt, 0.3, 7))
        .unwrap();
    let noisy_b = model
        .convert(&source, &revoicing(&se_src, &se_tgt, 0.3, 7))
        .unwrap();
    let noisy_c = model
        .convert(&source, &revoicing(&se_src, &se_tgt, 0.3, 8))
        .unwrap();
    assert_eq!(noisy_a, noisy_b, "same seed, same audio");
    assert!(
        max_abs_diff(&noisy_a, &noisy_c) > 0.0,
        "another seed, other noise"
    );
}

#[test]
fn bad_files_and_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    match ToneConverter::load(dir.path(), &Device::Cpu) {
        Err(ModelError::Catalog(doctalk_models::CatalogError::MissingFile { file, .. })) => {
            assert!(file.contains("config.json"), "{file}")
        }
        Err(e) => panic!("wrong error for an empty directory: {e}"),
        Ok(_) => panic!("an empty directory loaded"),
    }

    let copy = |to: &Path| {
        std::fs::create_dir_all(to.join("converter")).unwrap();
        std::fs::copy(
            fixture().join("converter/config.json"),
            to.join("converter/config.json"),
        )
        .unwrap();
    };
    // config without checkpoint
    copy(dir.path());
    let err = ToneConverter::load(dir.path(), &Device::Cpu)
        .err()
        .expect("no checkpoint");
    assert!(err.to_string().contains("checkpoint.pth"), "{err}");
    // a truncated checkpoint
    let bytes = std::fs::read(fixture().join("converter/checkpoint.pth")).unwrap();
    std::fs::write(
        dir.path().join("converter/checkpoint.pth"),
        &bytes[..bytes.len() / 3],
    )
    .unwrap();
    match ToneConverter::load(dir.path(), &Device::Cpu) {
        Err(ModelError::CorruptFile { reason, .. }) => {
            assert!(reason.contains("PyTorch checkpoint"), "{reason}")
        }
        Err(e) => panic!("wrong error for a truncated checkpoint: {e}"),
        Ok(_) => panic!("a truncated checkpoint loaded"),
    }
    // a config whose decoder does not fit the hop
    std::fs::write(dir.path().join("converter/checkpoint.pth"), &bytes).unwrap();
    let config = std::fs::read_to_string(fixture().join("converter/config.json")).unwrap();
    std::fs::write(
        dir.path().join("converter/config.json"),
        config.replace("\"hop_length\": 256", "\"hop_length\": 300"),
    )
    .unwrap();
    let err = ToneConverter::load(dir.path(), &Device::Cpu)
        .err()
        .expect("bad hop");
    assert!(matches!(err, ModelError::BadConfig { .. }), "{err}");
    for broken in [
        config.replace("\"win_length\": 1024", "\"win_length\": 0"),
        config.replace("\"hop_length\": 256", "\"hop_length\": 2048"),
        config.replace(
            "\"resblock_dilation_sizes\": [",
            "\"resblock_dilation_sizes\": [], \"unused\": [",
        ),
        "{\"data\": {}}".to_string(),
    ] {
        std::fs::write(dir.path().join("converter/config.json"), &broken).unwrap();
        let err = ToneConverter::load(dir.path(), &Device::Cpu)
            .err()
            .expect("a broken config");
        assert!(matches!(err, ModelError::BadConfig { .. }), "{err}");
    }
    assert!(find_converter_files(&fixture()).is_ok());

    // an embedding of the wrong size
    let model = converter();
    let err = model
        .convert(&[0.0; 4000], &revoicing(&[0.0; 3], &[0.0; 16], 0.0, 0))
        .expect_err("bad embedding");
    assert!(err.to_string().contains("3 values"), "{err}");
}

#[test]
fn streamed_pieces_join_into_the_whole_conversion() {
    let expected = expected();
    let model = converter();
    let source = values(&expected, "source");
    let (se_src, se_tgt) = (values(&expected, "se_source"), values(&expected, "se_target"));
    let whole = model
        .convert(&source, &revoicing(&se_src, &se_tgt, 0.3, 5))
        .unwrap();
    let mut pieces: Vec<Vec<f32>> = Vec::new();
    model
        .convert_streaming(&source, &revoicing(&se_src, &se_tgt, 0.3, 5), 8, &mut |piece| {
            pieces.push(piece.to_vec());
            Ok(())
        })
        .unwrap();
    assert!(pieces.len() >= 3, "{} pieces", pieces.len());
    assert_eq!(pieces[0].len(), 8 * 256, "the first piece is the first 8 frames");
    let joined: Vec<f32> = pieces.concat();
    let err = max_abs_diff(&joined, &whole);
    println!(
        "streamed vs whole: max abs error {err:.2e} in {} pieces",
        pieces.len()
    );
    assert!(
        err < 1e-4,
        "streamed pieces differ from the whole conversion by {err}"
    );
}
