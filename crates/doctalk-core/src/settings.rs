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
        let patch = SettingsPatch::deserialize(patch).map_err(|e| CoreError::BadSettings(e.to_string()))?;
        self.patched(&patch)
    }

    /// These settings with what `patch` names changed (and checked: a remote model needs a URL).
    pub fn patched(&self, patch: &SettingsPatch) -> Result<Settings> {
        let mut new = self.clone();
        let set = |field: &mut Option<String>, to: &Option<Option<String>>| {
            if let Some(to) = to {
                field.clone_from(to);
            }
        };
        new.language = patch.language.unwrap_or(new.language);
        new.script = patch.script.unwrap_or(new.script);
        if let Some(m) = &patch.model {
            new.model.kind = m.kind.unwrap_or(new.model.kind);
            set(&mut new.model.id, &m.id);
            set(&mut new.model.path, &m.path);
            set(&mut new.model.url, &m.url);
            set(&mut new.model.adapter, &m.adapter);
        }
        if let Some(d) = patch.device {
            new.device = d.device();
        }
        if let Some(v) = &patch.voice {
            new.voice.enabled = v.enabled.unwrap_or(new.voice.enabled);
            set(&mut new.voice.voice, &v.voice);
        }
        new.validate()?;
        Ok(new)
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

/// A change of settings: any subset of them, a nested object changing only the fields it names
/// (`null` clears an optional one). Fields it does not know (the read-only ones `settings`
/// returns, sent back with the rest) are passed over.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct SettingsPatch {
    #[ts(optional)]
    pub language: Option<LanguagePref>,
    #[ts(optional)]
    pub script: Option<ScriptPref>,
    #[ts(optional)]
    pub model: Option<ModelPatch>,
    #[ts(optional)]
    pub device: Option<DevicePatch>,
    #[ts(optional)]
    pub voice: Option<VoicePatch>,
}

impl SettingsPatch {
    /// The names of the settings it changes (for the audit log, which keeps no values).
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("language", self.language.is_some()),
            ("script", self.script.is_some()),
            ("model", self.model.is_some()),
            ("device", self.device.is_some()),
            ("voice", self.voice.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, named)| named.then_some(name))
        .collect()
    }

    /// Whether it chooses the language model or where it runs.
    pub fn chooses_model(&self) -> bool {
        self.model.is_some() || self.device.is_some()
    }
}

/// Part of [`ModelChoice`]: an absent field stays, `null` clears it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct ModelPatch {
    #[ts(optional)]
    pub kind: Option<ModelKind>,
    #[serde(deserialize_with = "present")]
    #[ts(optional)]
    pub id: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    #[ts(optional)]
    pub path: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    #[ts(optional)]
    pub url: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    #[ts(optional)]
    pub adapter: Option<Option<String>>,
}

/// Part of [`VoiceChoice`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct VoicePatch {
    #[ts(optional)]
    pub enabled: Option<bool>,
    #[serde(deserialize_with = "present")]
    #[ts(optional)]
    pub voice: Option<Option<String>>,
}

/// The device as saved (`"cuda"`) or as `settings` shows it (`{"current": "cuda", …}`).
#[derive(Debug, Clone, Copy, PartialEq, ts_rs::TS)]
#[ts(untagged)]
pub enum DevicePatch {
    Device(Device),
    Shown { current: Device },
}

impl<'de> Deserialize<'de> for DevicePatch {
    /// By hand, so that a wrong name gets [`Device`]'s message naming the choices (serde's untagged
    /// enums only say that nothing matched).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Shown { current: String },
        }
        let device = |name: String| Device::try_from(name).map_err(serde::de::Error::custom);
        Ok(match Raw::deserialize(d)? {
            Raw::Name(name) => DevicePatch::Device(device(name)?),
            Raw::Shown { current } => DevicePatch::Shown {
                current: device(current)?,
            },
        })
    }
}

impl DevicePatch {
    pub fn device(self) -> Device {
        match self {
            DevicePatch::Device(d) | DevicePatch::Shown { current: d } => d,
        }
    }
}

/// A field that is present, `null` included: `Some(None)` clears, absent (`#[serde(default)]`)
/// leaves it.
fn present<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
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
    fn a_patch_changes_what_it_names_and_null_clears() {
        let d = Settings::default()
            .merged(&json!({"model": {"id": "qwen", "adapter": "faq"}, "voice": {"voice": "joe"}}))
            .unwrap();
        let p: SettingsPatch = serde_json::from_value(json!({
            "script": "traditional",
            "model": {"adapter": null},
            "device": {"current": "cpu", "available": ["cpu"]},
            "kb": "ignored", "model_loaded": "read-only fields are passed over"
        }))
        .unwrap();
        assert_eq!(p.names(), ["script", "model", "device"]);
        let s = d.patched(&p).unwrap();
        assert_eq!(s.script, ScriptPref::Traditional);
        assert_eq!(s.model.id.as_deref(), Some("qwen"), "absent: kept");
        assert_eq!(s.model.adapter, None, "null: cleared");
        assert_eq!(s.voice.voice.as_deref(), Some("joe"));
        let plain: SettingsPatch = serde_json::from_value(json!({"device": "cuda"})).unwrap();
        assert_eq!(d.patched(&plain).unwrap().device, Device::Cuda);
        assert!(!SettingsPatch::default().chooses_model() && plain.chooses_model());
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
