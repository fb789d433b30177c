//! The user's settings (`<data dir>/settings.json`): what the desktop app and the server's UI
//! change, and what `doctalk serve` and the desktop app start with when no flag says otherwise.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{CoreError, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub language: LanguagePref,
    pub script: ScriptPref,
    pub model: ModelChoice,
    /// Where a local model runs.
    pub device: Device,
    pub voice: VoiceChoice,
}

/// The interface language: the system locale's (`auto`), Chinese or English; `"auto"`, `"zh"` or
/// `"en"` in the file and on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum LanguagePref {
    #[default]
    Auto,
    Zh,
    En,
}

/// The Chinese script of answers and transcripts: the system locale's (`auto`), 简体 (zh-CN) or
/// 繁體 (zh-TW/HK); `"auto"`, `"simplified"` or `"traditional"` in the file and on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum ScriptPref {
    #[default]
    Auto,
    Simplified,
    Traditional,
}

/// `as_str` (the lower-case name in the file and on the wire) and the `TryFrom<String>` serde
/// reads it with, whose error names the choices ("device must be cpu or cuda, not \"tpu\"";
/// serde's own would say "unknown variant").
macro_rules! named_choices {
    ($ty:ident, $what:literal, $choices:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(s: String) -> std::result::Result<Self, String> {
                [$($ty::$variant),+]
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!(concat!($what, " must be ", $choices, ", not {:?}"), s))
            }
        }
    };
}

named_choices!(LanguagePref, "language", "auto, zh or en", { Auto => "auto", Zh => "zh", En => "en" });
named_choices!(ScriptPref, "script", "auto, simplified or traditional", {
    Auto => "auto",
    Simplified => "simplified",
    Traditional => "traditional",
});
named_choices!(ModelKind, "model kind", "local, remote or none", {
    Local => "local",
    Remote => "remote",
    None => "none",
});
named_choices!(Device, "device", "cpu or cuda", { Cpu => "cpu", Cuda => "cuda" });

/// Which language model answers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct ModelChoice {
    pub kind: ModelKind,
    /// A model store name, for "local".
    pub id: Option<String>,
    /// A model file or directory, for "local" (wins over `id`).
    pub path: Option<String>,
    /// The endpoint, for "remote" (`http://host:port/v1`).
    pub url: Option<String>,
    /// A LoRA adapter applied to the local model: a name in `<data dir>/adapters/` or a path.
    pub adapter: Option<String>,
}

/// The kind of language model that answers; `"local"`, `"remote"` or `"none"` in the file and on
/// the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum ModelKind {
    /// A model from the store or a file, run here.
    #[default]
    Local,
    /// An OpenAI-compatible endpoint (`ModelChoice::url`).
    Remote,
    /// No language model: extractive answers only.
    None,
}

/// Where a local model runs; `"cpu"` or `"cuda"` in the file and on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Device {
    #[default]
    Cpu,
    /// The first CUDA GPU.
    Cuda,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct VoiceChoice {
    /// Speak answers aloud.
    pub enabled: bool,
    /// A voice id from `doctalk voices list`; `None`: the default voice per language.
    pub voice: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            language: LanguagePref::Auto,
            script: ScriptPref::Auto,
            model: ModelChoice::default(),
            device: Device::Cpu,
            voice: VoiceChoice::default(),
        }
    }
}

impl Settings {
    /// The Chinese script this setting names (`auto`: the system locale's).
    pub fn chinese_script(&self) -> crate::ChineseScript {
        crate::ChineseScript::from_setting(self.script.as_str())
            .unwrap_or_else(crate::ChineseScript::from_locale)
    }

    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("settings.json")
    }

    /// The saved settings, or the defaults when none were saved. A damaged file is an error that
    /// names it (it is not silently replaced: the user may want what is in it).
    pub fn load(data_dir: &Path) -> Result<Settings> {
        let path = Self::path(data_dir);
        match std::fs::read_to_string(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(CoreError::Settings {
                path,
                reason: e.to_string(),
            }),
            Ok(text) => serde_json::from_str(&text).map_err(|e| CoreError::Settings {
                path,
                reason: e.to_string(),
            }),
        }
    }

    /// Checks the values, then writes them atomically (a crash leaves the old file or the new one).
    pub fn save(&self, data_dir: &Path) -> Result<()> {
        self.validate()?;
        let path = Self::path(data_dir);
        let err = |reason: String| CoreError::Settings {
            path: path.clone(),
            reason,
        };
        std::fs::create_dir_all(data_dir).map_err(|e| err(e.to_string()))?;
        let partial = data_dir.join(".settings.json.partial");
        let text = serde_json::to_string_pretty(self).map_err(|e| err(e.to_string()))?;
        std::fs::write(&partial, text).map_err(|e| err(e.to_string()))?;
        std::fs::rename(&partial, &path).map_err(|e| err(e.to_string()))
    }

    /// These settings with the fields of `patch` (a partial JSON object of the same shape) applied.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<Settings> {
        let mut value = serde_json::to_value(self).map_err(|e| CoreError::BadSettings(e.to_string()))?;
        merge(&mut value, patch);
        let merged: Settings =
            serde_json::from_value(value).map_err(|e| CoreError::BadSettings(e.to_string()))?;
        merged.validate()?;
        Ok(merged)
    }

    /// Whether going from `self` to `new` needs the language model reloaded.
    pub fn model_changed(&self, new: &Settings) -> bool {
        self.model != new.model || self.device != new.device
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(CoreError::BadSettings(m));
        match self.model.kind {
            ModelKind::Local | ModelKind::None => Ok(()),
            ModelKind::Remote => match self.model.url.as_deref() {
                Some(u) if u.starts_with("http://") || u.starts_with("https://") => Ok(()),
                _ => bad("a remote model needs an http:// or https:// URL".into()),
            },
        }
    }
}

/// JSON merge patch (RFC 7386) without deletion: objects merge key by key, anything else replaces.
fn merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_until_saved_then_what_was_saved() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap(), Settings::default());
        let s = Settings::default()
            .merged(&json!({"language": "zh", "model": {"kind": "remote", "url": "http://gpu:8000/v1"}}))
            .unwrap();
        assert_eq!(s.model.kind, ModelKind::Remote);
        assert_eq!(s.device, Device::Cpu, "untouched fields keep their values");
        s.save(dir.path()).unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap(), s);
        assert!(Settings::default().model_changed(&s));
    }

    #[test]
    fn the_script_setting_names_a_chinese_script() {
        let d = Settings::default();
        let tw = d.merged(&json!({"script": "traditional"})).unwrap();
        assert_eq!(tw.chinese_script(), crate::ChineseScript::Traditional);
        let cn = d.merged(&json!({"script": "simplified"})).unwrap();
        assert_eq!(cn.chinese_script(), crate::ChineseScript::Simplified);
    }

    #[test]
    fn bad_values_are_refused_and_a_damaged_file_is_named() {
        let d = Settings::default();
        for patch in [
            json!({"language": "fr"}),
            json!({"script": "klingon"}),
            json!({"device": "tpu"}),
            json!({"model": {"kind": "remote"}}),
            json!({"model": {"kind": "remote", "url": "ftp://x"}}),
            json!({"voice": {"enabled": "yes"}}),
        ] {
            assert!(d.merged(&patch).is_err(), "{patch}");
        }
        // The message names the choices (serde's own would say "unknown variant").
        let e = d.merged(&json!({"device": "tpu"})).unwrap_err().to_string();
        assert!(e.contains("device must be cpu or cuda, not \"tpu\""), "{e}");
        let e = d
            .merged(&json!({"model": {"kind": "gpt"}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("model kind must be local, remote or none"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(Settings::path(dir.path()), "{not json").unwrap();
        let e = Settings::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("settings.json"), "{e}");
    }
}
