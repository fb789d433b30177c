//! Downloads from a HuggingFace hub (or a mirror) into the standard HuggingFace cache layout, so that
//! files are shared with `huggingface_hub`, `hf-hub` and every other tool that reads that cache:
//!
//! ```text
//! <hub cache>/models--org--name/blobs/<etag>            the file's bytes
//!                              /snapshots/<commit>/<path>  a relative symlink to the blob
//!                              /refs/<revision>            the commit the revision pointed at
//! ```
//!
//! A download goes to `blobs/<etag>.incomplete` first and is resumed from there with an HTTP range
//! request, so an interrupted pull of a 500 MB file continues where it stopped. The finished file is
//! checked against the sha256 we know (from the manifest, else the hub's LFS etag, which is the file's
//! sha256) before it becomes visible under `snapshots/`.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{CatalogError, Result};

const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// Attempts per file; each retry resumes from the bytes already on disk.
const ATTEMPTS: usize = 4;

/// Where the hub is and how to talk to it, from the same variables `huggingface_hub` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSettings {
    /// `HF_ENDPOINT`: a mirror such as `https://hf-mirror.com`, or the hub itself.
    pub endpoint: String,
    /// The folder holding `models--*` (`HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`).
    pub cache_dir: PathBuf,
    /// `HF_HUB_OFFLINE=1`: never touch the network; only what the cache holds.
    pub offline: bool,
    /// `HF_TOKEN`, for gated or private repositories.
    pub token: Option<String>,
}

impl HubSettings {
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// [`HubSettings::from_env`] with the environment passed in (tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let text = |name: &str| {
            var(name)
                .map(|v| v.to_string_lossy().trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let path = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let cache_dir = path("HF_HUB_CACHE")
            .or_else(|| path("HF_HOME").map(|h| h.join("hub")))
            .or_else(|| path("XDG_CACHE_HOME").map(|c| c.join("huggingface/hub")))
            .or_else(|| path("HOME").map(|h| h.join(".cache/huggingface/hub")))
            .unwrap_or_else(|| PathBuf::from(".cache/huggingface/hub"));
        let offline = text("HF_HUB_OFFLINE")
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"));
        HubSettings {
            endpoint: text("HF_ENDPOINT")
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
                .trim_end_matches('/')
                .to_string(),
            cache_dir,
            offline,
            token: text("HF_TOKEN").or_else(|| text("HUGGING_FACE_HUB_TOKEN")),
        }
    }

    /// `models--org--name` under the cache.
    pub fn repo_dir(&self, repo: &str) -> PathBuf {
        self.cache_dir
            .join(format!("models--{}", repo.replace('/', "--")))
    }

    /// The snapshot directory `revision` points at in the cache, if the cache knows it.
    pub fn cached_snapshot(&self, repo: &str, revision: &str) -> Option<PathBuf> {
        let dir = self.repo_dir(repo);
        let commit = std::fs::read_to_string(dir.join("refs").join(revision))
            .map(|c| c.trim().to_string())
            .unwrap_or_else(|_| revision.to_string());
        let snapshot = dir.join("snapshots").join(commit);
        snapshot.is_dir().then_some(snapshot)
    }
}

/// Progress of one file: bytes on disk so far and the total when known.
pub type ProgressFn<'a> = dyn Fn(&str, u64, Option<u64>) + Send + Sync + 'a;

/// What the hub says about a file before we fetch it.
struct Remote {
    commit: String,
    etag: String,
    size: Option<u64>,
}

/// Downloads `files` of `repo@revision` into the cache (skipping those already complete) and returns
/// the snapshot directory. `expected` pairs a file with the sha256 we know for it, if any.
pub async fn download(
    settings: &HubSettings,
    repo: &str,
    revision: &str,
    files: &[(String, Option<String>)],
    progress: &ProgressFn<'_>,
) -> Result<PathBuf> {
    if settings.offline {
        return offline_snapshot(settings, repo, revision, files);
    }
    let clients = Clients::new()?;
    let mut snapshot = None;
    for (file, sha256) in files {
        let remote = head(&clients.no_redirect, settings, repo, revision, file).await?;
        let dir = settings.repo_dir(repo);
        let snap = dir.join("snapshots").join(&remote.commit);
        let link = snap.join(file);
        if !link.exists() {
            let blob = dir.join("blobs").join(&remote.etag);
            if !blob.is_file() {
                fetch_blob(
                    &clients.follow,
                    settings,
                    repo,
                    &remote,
                    file,
                    &blob,
                    sha256.as_deref(),
                    progress,
                )
                .await?;
            }
            link_snapshot(&blob, &link)?;
        }
        progress(file, remote.size.unwrap_or(0), remote.size);
        if revision != remote.commit {
            let refs = dir.join("refs");
            std::fs::create_dir_all(&refs).map_err(|e| CatalogError::io(&refs, e))?;
            let r = refs.join(revision);
            std::fs::write(&r, &remote.commit).map_err(|e| CatalogError::io(&r, e))?;
        }
        snapshot = Some(snap);
    }
    snapshot.ok_or_else(|| CatalogError::Download {
        url: format!("{}/{repo}", settings.endpoint),
        reason: "the model lists no files to download".into(),
    })
}

fn offline_snapshot(
    settings: &HubSettings,
    repo: &str,
    revision: &str,
    files: &[(String, Option<String>)],
) -> Result<PathBuf> {
    let snapshot = settings.cached_snapshot(repo, revision);
    let missing: Vec<String> = files
        .iter()
        .filter(|(f, _)| !snapshot.as_ref().is_some_and(|s| s.join(f).is_file()))
        .map(|(f, _)| f.clone())
        .collect();
    match snapshot {
        Some(s) if missing.is_empty() => Ok(s),
        _ => Err(CatalogError::Offline {
            id: repo.to_string(),
            cache: settings.repo_dir(repo),
            missing,
        }),
    }
}

fn url(settings: &HubSettings, repo: &str, revision: &str, file: &str) -> String {
    format!("{}/{repo}/resolve/{revision}/{file}", settings.endpoint)
}

/// Two clients: metadata requests must see the hub's redirect; downloads must follow it.
struct Clients {
    no_redirect: reqwest::Client,
    follow: reqwest::Client,
}

impl Clients {
    fn new() -> Result<Self> {
        let build = |redirect| {
            reqwest::Client::builder()
                .redirect(redirect)
                .connect_timeout(Duration::from_secs(20))
                .user_agent(concat!("doctalk/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| CatalogError::Download {
                    url: String::new(),
                    reason: format!("cannot start the HTTP client: {e}"),
                })
        };
        Ok(Clients {
            no_redirect: build(reqwest::redirect::Policy::none())?,
            follow: build(reqwest::redirect::Policy::limited(10))?,
        })
    }
}

async fn head(
    client: &reqwest::Client,
    settings: &HubSettings,
    repo: &str,
    revision: &str,
    file: &str,
) -> Result<Remote> {
    let url = url(settings, repo, revision, file);
    let failed = |reason: String| CatalogError::Download {
        url: url.clone(),
        reason,
    };
    // Not following redirects: the hub answers for LFS files with a redirect to its CDN, and the
    // X-Linked-* headers of that first answer describe the real file.
    let response = authorized(client.head(&url), settings)
        .send()
        .await
        .map_err(|e| failed(describe(&e)))?;
    let status = response.status();
    if !(status.is_success() || status.is_redirection()) {
        return Err(failed(http_reason(status, repo, file)));
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
    };
    let etag = header("x-linked-etag")
        .or_else(|| header("etag"))
        .map(|e| e.trim_start_matches("W/").trim_matches('"').to_string())
        .filter(|e| !e.is_empty() && !e.contains(['/', '\\', '.']))
        .ok_or_else(|| {
            failed("the server sent no usable ETag: is HF_ENDPOINT a HuggingFace hub or mirror?".into())
        })?;
    let commit = header("x-repo-commit")
        .filter(|c| !c.is_empty() && !c.contains(['/', '\\', '.']))
        .ok_or_else(|| {
            failed(
                "the server sent no X-Repo-Commit header: is HF_ENDPOINT a HuggingFace hub or mirror?".into(),
            )
        })?;
    let size = header("x-linked-size")
        .or_else(|| header("content-length"))
        .and_then(|s| s.parse().ok());
    Ok(Remote { commit, etag, size })
}

#[allow(clippy::too_many_arguments)]
async fn fetch_blob(
    client: &reqwest::Client,
    settings: &HubSettings,
    repo: &str,
    remote: &Remote,
    file: &str,
    blob: &Path,
    sha256: Option<&str>,
    progress: &ProgressFn<'_>,
) -> Result<()> {
    let url = url(settings, repo, &remote.commit, file);
    let part = blob.with_extension("incomplete");
    if let Some(dir) = blob.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CatalogError::io(dir, e))?;
    }
    let mut last_error = String::new();
    for attempt in 1..=ATTEMPTS {
        match fetch_into(client, settings, &url, &part, remote.size, file, progress).await {
            Ok(()) => {
                last_error.clear();
                break;
            }
            Err(reason) => {
                tracing::warn!(file, attempt, %reason, "download interrupted; resuming");
                last_error = reason;
                tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
            }
        }
    }
    if !last_error.is_empty() {
        return Err(CatalogError::Download {
            url,
            reason: last_error,
        });
    }
    // The sha256 we trust: the manifest's, else the hub's LFS etag (a sha256 of the content).
    let expected = sha256
        .map(str::to_ascii_lowercase)
        .or_else(|| is_sha256(&remote.etag).then(|| remote.etag.to_ascii_lowercase()));
    if let Some(expected) = expected {
        let actual = sha256_file(&part)?;
        if actual != expected {
            let _ = std::fs::remove_file(&part);
            return Err(CatalogError::ChecksumMismatch {
                file: file.to_string(),
                expected,
                actual,
            });
        }
    }
    std::fs::rename(&part, blob).map_err(|e| CatalogError::io(blob, e))
}

/// One attempt: appends to `part` from its current length. Errors are messages: the caller retries.
async fn fetch_into(
    client: &reqwest::Client,
    settings: &HubSettings,
    url: &str,
    part: &Path,
    size: Option<u64>,
    file: &str,
    progress: &ProgressFn<'_>,
) -> std::result::Result<(), String> {
    let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if size.is_some_and(|s| have == s) {
        return Ok(());
    }
    let mut request = authorized(client.get(url), settings);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let mut response = request.send().await.map_err(|e| describe(&e))?;
    let status = response.status();
    let resumed = status.as_u16() == 206;
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(resumed)
        .write(true)
        .truncate(!resumed)
        .open(part)
        .map_err(|e| format!("{}: {e}", part.display()))?;
    let mut done = if resumed { have } else { 0 };
    while let Some(bytes) = response.chunk().await.map_err(|e| e.to_string())? {
        out.write_all(&bytes)
            .map_err(|e| format!("{}: {e}", part.display()))?;
        done += bytes.len() as u64;
        progress(file, done, size);
    }
    out.flush().map_err(|e| e.to_string())?;
    match size {
        Some(s) if done < s => Err(format!("connection closed after {done} of {s} bytes")),
        _ => Ok(()),
    }
}

fn authorized(request: reqwest::RequestBuilder, settings: &HubSettings) -> reqwest::RequestBuilder {
    match &settings.token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

fn http_reason(status: reqwest::StatusCode, repo: &str, file: &str) -> String {
    match status.as_u16() {
        401 | 403 => format!("HTTP {status}: {repo} is gated or private; set HF_TOKEN"),
        404 => format!("HTTP {status}: {repo} has no file {file} at this revision"),
        _ => format!("HTTP {status}"),
    }
}

fn describe(err: &dyn std::fmt::Display) -> String {
    format!("{err} (no network? set HF_ENDPOINT to a reachable mirror, or HF_HUB_OFFLINE=1 to use the cache only)")
}

/// Makes `link` point at `blob`: a relative symlink like huggingface_hub's, or a copy where symlinks
/// are not allowed.
fn link_snapshot(blob: &Path, link: &Path) -> Result<()> {
    let dir = link.parent().expect("snapshot file has a parent");
    std::fs::create_dir_all(dir).map_err(|e| CatalogError::io(dir, e))?;
    let _ = std::fs::remove_file(link);
    #[cfg(unix)]
    {
        // From snapshots/<commit>/<path> up to the repo directory, then into blobs/.
        let depth = link
            .strip_prefix(blob.parent().and_then(Path::parent).unwrap_or(Path::new("")))
            .map(|rel| rel.components().count() - 1)
            .unwrap_or(0);
        let mut target = PathBuf::new();
        for _ in 0..depth {
            target.push("..");
        }
        target.push("blobs");
        target.push(blob.file_name().unwrap_or_default());
        if std::os::unix::fs::symlink(&target, link).is_ok() {
            return Ok(());
        }
    }
    std::fs::copy(blob, link).map_err(|e| CatalogError::io(link, e))?;
    Ok(())
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Hex sha256 of a file's contents.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| CatalogError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(|e| CatalogError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn settings_follow_huggingface_hub_variables() {
        let s = HubSettings::from_vars(vars(&[
            ("HF_ENDPOINT", "https://hf-mirror.com/"),
            ("HF_HOME", "/data/hf"),
            ("HF_HUB_OFFLINE", "1"),
            ("HOME", "/home/u"),
        ]));
        assert_eq!(s.endpoint, "https://hf-mirror.com");
        assert_eq!(s.cache_dir, PathBuf::from("/data/hf/hub"));
        assert!(s.offline);
        let s = HubSettings::from_vars(vars(&[("HOME", "/home/u"), ("HF_HUB_OFFLINE", "0")]));
        assert_eq!(s.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(s.cache_dir, PathBuf::from("/home/u/.cache/huggingface/hub"));
        assert!(!s.offline);
        assert_eq!(
            s.repo_dir("intfloat/multilingual-e5-small"),
            PathBuf::from("/home/u/.cache/huggingface/hub/models--intfloat--multilingual-e5-small")
        );
    }
}
