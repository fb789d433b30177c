//! Keeps other websites out of a server that runs on the user's own machine.
//!
//! - **Cross-site requests.** A page on any site can make the browser send a "simple" POST (no
//!   preflight) to `http://127.0.0.1:PORT`; without a check the server would obey it (add a planted
//!   document, start a download). A request that changes anything is refused when the browser says
//!   it comes from another site: an `Origin` that is neither this server's own nor a loopback page,
//!   `Origin: null`, or `Sec-Fetch-Site: cross-site` without an `Origin`. Clients that are not
//!   browsers (curl, OpenAI SDKs, the CLI) send neither header and are not affected.
//! - **DNS rebinding.** A site can point its own name at 127.0.0.1, and its pages then read this
//!   server as same-origin. Without an access token (loopback use), every request must therefore
//!   name the server by a loopback host (`localhost`, `127.0.0.1`, `[::1]`, `*.localhost`) or one the
//!   user allowed with `--allow-host`. With a token, the token is what guards: a rebinding page
//!   cannot know it.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{AppState, ServerError};

/// The middleware: refuses a foreign `Host` (no token configured) and cross-site requests that are
/// not read-only.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if state.config.auth.is_open() {
        if let Some(host) = host {
            if !host_allowed(host, &state.config.allowed_hosts) {
                return ServerError::ForeignHost(host.to_string()).into_response();
            }
        }
    }
    if changes_something(request.method()) {
        if let Some(origin) = cross_site(headers, host) {
            return ServerError::CrossSite(origin).into_response();
        }
    }
    next.run(request).await
}

fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The host part of a `Host` header or an origin's authority: without the port, lower-cased, with
/// IPv6 brackets kept.
fn host_name(authority: &str) -> String {
    let authority = authority.trim().to_ascii_lowercase();
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => authority[..=end].to_string(),
            None => authority,
        };
    }
    match authority.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name.to_string(),
        _ => authority,
    }
}

fn is_loopback_name(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host);
    is_loopback_name(&name) || allowed.iter().any(|a| host_name(a) == name)
}

/// `Some(origin)` when the browser says the request comes from a page of another site.
fn cross_site(headers: &HeaderMap, host: Option<&str>) -> Option<String> {
    match headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("?")) {
        Some(origin) => {
            let authority = origin
                .split_once("://")
                .map(|(_, rest)| rest.trim_end_matches('/'))
                .unwrap_or("");
            let same = host.is_some_and(|h| h.eq_ignore_ascii_case(authority));
            let loopback_page = !authority.is_empty() && is_loopback_name(&host_name(authority));
            (!(same || loopback_page)).then(|| origin.to_string())
        }
        None => {
            let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
            (site == Some("cross-site")).then(|| "another site".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn loopback_names_and_allowed_hosts_pass_others_do_not() {
        for ok in [
            "127.0.0.1:8765",
            "localhost:8765",
            "LOCALHOST",
            "[::1]:8765",
            "app.localhost:1",
            "127.1.2.3",
        ] {
            assert!(host_allowed(ok, &[]), "{ok}");
        }
        for bad in [
            "evil.example:8765",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.5:8765",
            "[::2]:1",
        ] {
            assert!(!host_allowed(bad, &[]), "{bad}");
        }
        assert!(host_allowed("doctalk.lan:8765", &["doctalk.lan".into()]));
    }

    #[test]
    fn other_sites_are_cross_site_the_page_itself_and_plain_clients_are_not() {
        let host = Some("127.0.0.1:8765");
        assert_eq!(
            cross_site(&headers(&[("origin", "http://evil.example")]), host).as_deref(),
            Some("http://evil.example")
        );
        assert!(cross_site(&headers(&[("origin", "null")]), host).is_some());
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")]), host).is_some());
        assert!(cross_site(&headers(&[("origin", "http://127.0.0.1:8765")]), host).is_none());
        // The UI's dev server (vite on another loopback port) proxies to this one.
        assert!(cross_site(&headers(&[("origin", "http://localhost:5173")]), host).is_none());
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-origin")]), host).is_none());
        assert!(cross_site(&HeaderMap::new(), host).is_none());
        // A rebinding page is same-origin by name, but its name is refused by the Host check.
        assert!(cross_site(
            &headers(&[("origin", "http://evil.example:8765")]),
            Some("evil.example:8765")
        )
        .is_none());
    }
}
