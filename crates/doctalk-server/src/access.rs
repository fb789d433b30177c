//! Who may call which route.
//!
//! Every route is registered together with its [`Rule`] (the role it needs and where its knowledge
//! base is named), so a route cannot exist without one; [`route_rules`] lists them for the
//! authorisation tests. [`authorize`] runs after routing, on every route:
//!
//! - **No users** (a one-person server on loopback, or one shared `--token`): the caller may do
//!   everything, as before.
//! - **`--auth users`**: the bearer token names a user (401 without a known one); their role must
//!   reach the rule's (403), and the knowledge base the request is about must be one of theirs
//!   (403). Each user has a request budget per minute (429). Conversations are private to the user
//!   who started them (see `service::chat`).
//!
//! Changes (`Edit` and `Admin` routes) are written to the audit log with the user, the knowledge
//! base, the target and the reply's status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::handler::Handler;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use doctalk_app::{AppError, Auth, Caller};
use doctalk_core::audit::{AuditEntry, AuditLog};
use doctalk_core::users::{Role, Users};

use crate::{AppState, ServerError};

/// The least a caller must be to use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Search, ask, read.
    Read,
    /// Change the documents of a knowledge base.
    Edit,
    /// Change the server: knowledge bases, settings, models, voices, watched folders, users.
    Admin,
}

impl Need {
    fn role(self) -> Role {
        match self {
            Need::Read => Role::Reader,
            Need::Edit => Role::Editor,
            Need::Admin => Role::Admin,
        }
    }
}

/// Where a route names the knowledge base it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KbOf {
    /// `?kb=NAME`; absent: the server's own knowledge base.
    Query,
    /// The `{name}` path segment.
    Path,
    /// Always the server's own knowledge base (`/v1`).
    Server,
    /// None: the route is about the server, or filters what it returns itself (`GET /api/kbs`).
    Unscoped,
}

/// One route and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub method: Method,
    /// The path as registered, with `{param}` segments.
    pub path: &'static str,
    pub need: Need,
    pub kb: KbOf,
}

/// The routes being registered and their rules: the only way routes are added.
pub(crate) struct RouteTable {
    router: Router<AppState>,
    rules: Vec<Rule>,
}

impl RouteTable {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            rules: Vec::new(),
        }
    }

    pub fn add<H, T>(mut self, method: Method, path: &'static str, need: Need, kb: KbOf, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
        self.router = self.router.route(path, on(filter, handler));
        self.rules.push(Rule {
            method,
            path,
            need,
            kb,
        });
        self
    }

    pub fn merge(mut self, other: RouteTable) -> Self {
        self.router = self.router.merge(other.router);
        self.rules.extend(other.rules);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<Rule>) {
        (self.router, self.rules)
    }
}

/// Every route of the server with its rule.
pub fn route_rules() -> Vec<Rule> {
    crate::routes().into_parts().1
}

/// Requests per minute per user, refilled continuously; a full minute's worth may come at once.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` 0: no limit.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when `who` has used up their budget.
    fn take(&self, who: &str) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = buckets.entry(who.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_second).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

/// What a change was about when the request's path and query do not say (a name in the body):
/// handlers put it in their response's extensions for the audit log.
#[derive(Debug, Clone)]
pub(crate) struct AuditNote(pub String);

/// State of the [`authorize`] middleware.
#[derive(Clone)]
pub(crate) struct Guard {
    pub state: AppState,
    pub rules: Arc<Vec<Rule>>,
}

/// The middleware (see the module comment).
pub(crate) async fn authorize(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    match admit(&guard, request).await {
        Ok((request, rule, kb, caller)) => {
            let audited = rule.need >= Need::Edit;
            let action = format!("{} {}", rule.method, rule.path);
            let target = audited.then(|| target_of(&request));
            let response = next.run(request).await;
            if audited {
                let mut entry = AuditEntry::new(caller.name(), action);
                entry.kb = kb;
                entry.target = response
                    .extensions()
                    .get::<AuditNote>()
                    .map(|n| n.0.clone())
                    .or(target.flatten());
                entry.status = Some(response.status().as_u16());
                AuditLog::new(guard.state.engine.workspace.data_dir()).record(&entry);
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

type Admitted = (Request, Rule, Option<String>, Caller);

async fn admit(guard: &Guard, request: Request) -> Result<Admitted, ServerError> {
    let (mut parts, body) = request.into_parts();
    let matched = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let method = if parts.method == Method::HEAD {
        Method::GET
    } else {
        parts.method.clone()
    };
    // Deny by default: a route without a rule cannot be registered, but say so if one appears.
    let rule = guard
        .rules
        .iter()
        .find(|r| r.method == method && r.path == matched)
        .cloned()
        .ok_or_else(|| ServerError::Forbidden(format!("{method} {matched} has no access rule")))?;
    let state = &guard.state;
    let kb = match rule.kb {
        KbOf::Query => Some(query_kb(parts.uri.query()).unwrap_or_else(|| default_kb(state))),
        KbOf::Path => {
            let params = RawPathParams::from_request_parts(&mut parts, state)
                .await
                .map_err(|e| ServerError::App(AppError::BadRequest(e.to_string())))?;
            params
                .iter()
                .find(|(k, _)| *k == "name")
                .map(|(_, v)| v.to_string())
        }
        KbOf::Server => Some(default_kb(state)),
        KbOf::Unscoped => None,
    };
    let caller = match &state.config.auth {
        Auth::Open | Auth::Token(_) => Caller::Local,
        Auth::Users(directory) => {
            let token = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(ServerError::Unauthorized)?;
            let users = directory.current()?;
            let user = Users::find_by_token(&users, token)
                .cloned()
                .ok_or(ServerError::Unauthorized)?;
            if let Err(wait) = state.rate_limiter.take(&user.name) {
                return Err(ServerError::RateLimited(wait));
            }
            if user.role < rule.need.role() {
                return Err(ServerError::Forbidden(format!(
                    "{} is a {} and may not use {method} {matched} (it needs {})",
                    user.name,
                    user.role,
                    rule.need.role()
                )));
            }
            // A search across several ("a,b") needs each of them.
            if let Some(kb) = kb.as_deref() {
                if let Some(kb) = kb.split(',').map(str::trim).find(|k| !user.may_use(k)) {
                    return Err(ServerError::Forbidden(format!(
                        "{} may not use knowledge base {kb:?}",
                        user.name
                    )));
                }
            }
            Caller::User(user)
        }
    };
    if let Auth::Token(_) = state.config.auth {
        if let Err(wait) = state.rate_limiter.take("token") {
            return Err(ServerError::RateLimited(wait));
        }
    }
    parts.extensions.insert(caller.clone());
    Ok((Request::from_parts(parts, body), rule, kb, caller))
}

fn default_kb(state: &AppState) -> String {
    state.engine.workspace.default_kb().to_string()
}

/// `kb` of a query string, percent-decoded; empty counts as absent.
fn query_kb(query: Option<&str>) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Kb {
        kb: Option<String>,
    }
    let uri: axum::http::Uri = format!("/?{}", query?).parse().ok()?;
    axum::extract::Query::<Kb>::try_from_uri(&uri)
        .ok()?
        .0
        .kb
        .filter(|k| !k.is_empty())
}

/// What a change is about, for the audit log: the path's ids and names, or an upload's file name.
fn target_of(request: &Request) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        name: Option<String>,
        path: Option<String>,
    }
    let pattern = request.extensions().get::<MatchedPath>()?.as_str();
    let values: Vec<&str> = pattern
        .split('/')
        .zip(request.uri().path().split('/'))
        .filter(|(p, _)| p.starts_with('{'))
        .map(|(_, v)| v)
        .collect();
    if !values.is_empty() {
        return Some(values.join("/"));
    }
    let q = axum::extract::Query::<Named>::try_from_uri(request.uri()).ok()?.0;
    q.name.or(q.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refills_with_time_and_is_kept_per_user() {
        let limiter = RateLimiter::new(3);
        for _ in 0..3 {
            assert!(limiter.take("a").is_ok());
        }
        let wait = limiter.take("a").unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.take("b").is_ok(), "another user has their own budget");
        assert!(RateLimiter::new(0).take("a").is_ok());
    }

    #[test]
    fn the_knowledge_base_of_a_query_is_decoded_and_empty_is_absent() {
        assert_eq!(
            query_kb(Some("kb=%E4%BA%BA%E4%BA%8B&x=1")).as_deref(),
            Some("人事")
        );
        assert_eq!(query_kb(Some("kb=")), None);
        assert_eq!(query_kb(Some("q=kb")), None);
        assert_eq!(query_kb(None), None);
    }

    #[test]
    fn every_route_has_exactly_one_rule_and_changes_need_more_than_reading() {
        let rules = route_rules();
        let mut seen = std::collections::HashSet::new();
        for r in &rules {
            assert!(
                seen.insert((r.method.clone(), r.path)),
                "two rules for {} {}",
                r.method,
                r.path
            );
            // Deleting one's own conversation is the one change a reader may make.
            let own_conversation = r.path == "/api/conversations/{id}";
            if (r.method == Method::DELETE || r.method == Method::PUT) && !own_conversation {
                assert!(r.need >= Need::Edit, "{} {} changes something", r.method, r.path);
            }
        }
        assert!(rules
            .iter()
            .any(|r| r.path == "/api/users" && r.need == Need::Admin));
    }
}
