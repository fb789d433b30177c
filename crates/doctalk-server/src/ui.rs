//! The built web UI (`ui/dist`) at `/`: the same front-end as the desktop app, for a team's browser.
//! Files are read from the UI directory on each request (small, and the OS caches them); paths
//! that could leave it are refused.

use std::path::{Component, PathBuf};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use doctalk_app::AppError;

use crate::{AppState, ServerError};

/// What the page may do: its own scripts, styles, workers and API, nothing from elsewhere.
/// `wasm-unsafe-eval`: pdf.js decodes some image formats with WebAssembly.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; worker-src 'self' blob:; media-src 'self' blob:; \
connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// Serves a UI file for any GET outside `/api` and `/v1`; unknown paths get `index.html`.
pub async fn serve(State(s): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if method != Method::GET || path.starts_with("/api/") || path.starts_with("/v1/") {
        return ServerError::App(AppError::NotFound("no such endpoint".into())).into_response();
    }
    let Some(dir) = &s.config.ui_dir else {
        return (StatusCode::NOT_FOUND, Html(NOT_BUILT)).into_response();
    };
    let Some(relative) = safe_relative(path) else {
        return ServerError::App(AppError::NotFound("no such file".into())).into_response();
    };
    let candidate = dir.join(&relative);
    let file = if candidate.is_file() {
        candidate
    } else {
        dir.join("index.html")
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let mut response = (
                [(header::CONTENT_TYPE, doctalk_app::content_type(&file))],
                Body::from(bytes),
            )
                .into_response();
            if file.extension().is_some_and(|e| e == "html") {
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_SECURITY_POLICY,
                    header::HeaderValue::from_static(CONTENT_SECURITY_POLICY),
                );
                headers.insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static("no-cache"),
                );
            }
            response
        }
        Err(_) => (StatusCode::NOT_FOUND, Html(NOT_BUILT)).into_response(),
    }
}

/// `/a/b.js` → `a/b.js`; `None` for anything with `..`, a root or a drive.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let decoded = doctalk_app::percent_decode(path.trim_start_matches('/'))?;
    let relative = PathBuf::from(decoded);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(relative)
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>DocTalk</title>\
<p>The DocTalk web UI is not built. Run <code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code> \
(or pass <code>--ui-dir</code>); the API is available at <code>/api</code> and <code>/v1</code>.</p>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_ui_directory() {
        assert_eq!(
            safe_relative("/assets/app.js"),
            Some(PathBuf::from("assets/app.js"))
        );
        assert_eq!(safe_relative("/"), Some(PathBuf::from("")));
        assert_eq!(safe_relative("/../etc/passwd"), None);
        assert_eq!(safe_relative("/assets/%2e%2e/%2e%2e/x"), None);
        assert_eq!(safe_relative("/%zz"), None);
    }
}
