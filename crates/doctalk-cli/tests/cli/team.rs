//! `doctalk serve --auth users`: users with their own tokens, roles and knowledge bases, checked
//! on every route of the server's own route table; private conversations; tokens stored hashed;
//! `doctalk users` changes taking effect on the running server; rate limits; the audit log.

use std::path::Path;

use doctalk_server::{route_rules, KbOf, Need, Rule};

use crate::harness::{stderr, Doctalk};
use crate::serve::{http, start, Reply};

const OWN: &str = "default";
const OTHER: &str = "finance";
const OWN_CANARY: &str = "OWNCANARY7781";
const OTHER_CANARY: &str = "OTHERCANARY9034";
const CONVERSATION_CANARY: &str = "CONVCANARY5512";

/// Ids the example requests need.
pub struct Ids {
    /// A document of each knowledge base (own, other).
    pub own_doc: String,
    pub other_doc: String,
    /// A conversation someone else started in the own knowledge base.
    pub conversation: String,
}

/// A request that exercises `rule` on knowledge base `kb`: its concrete path and body, and the
/// least role that may make it (the intended policy, written here independently of the server's
/// table so that a loosened rule fails). Bodies are harmless (unknown ids, a tiny upload), so an
/// allowed request changes little. A route without an example fails every test that walks the
/// route table, so no route escapes them.
pub fn example(rule: &Rule, kb: &str, ids: &Ids) -> (String, Vec<u8>, Need) {
    use Need::{Admin, Edit, Read};
    let doc = if kb == OWN { &ids.own_doc } else { &ids.other_doc };
    let here = || rule.path.to_string();
    let (path, body, need): (String, &[u8], Need) = match (rule.method.as_str(), rule.path) {
        ("GET", "/api/health" | "/api/me" | "/api/kbs" | "/api/documents" | "/api/folders") => {
            (here(), b"", Read)
        }
        ("GET", "/api/settings" | "/api/setup" | "/api/conversations") => (here(), b"", Read),
        ("GET", "/api/users") => (here(), b"", Admin),
        ("POST", "/api/kbs") => (here(), br#"{"name": "matrixmade"}"#, Admin),
        ("POST", "/api/kbs/import") => ("/api/kbs/import?name=imported".into(), b"not an archive", Admin),
        ("GET", "/api/kbs/{name}/export") => (format!("/api/kbs/{kb}/export"), b"", Edit),
        ("DELETE", "/api/documents/{id}") => ("/api/documents/0000000000".into(), b"", Edit),
        ("GET", "/api/documents/{id}/file") => (format!("/api/documents/{doc}/file"), b"", Read),
        ("POST", "/api/documents/{id}/reindex") => ("/api/documents/0000000000/reindex".into(), b"", Edit),
        ("POST", "/api/documents/{id}/summary") => ("/api/documents/0000000000/summary".into(), b"", Read),
        ("POST", "/api/ingest") => ("/api/ingest?name=matrix.txt".into(), b"A note added by the matrix.", Edit),
        ("POST", "/api/folders") => (here(), br#"{"path": "/nonexistent/matrix"}"#, Admin),
        ("DELETE", "/api/folders") => ("/api/folders?path=/nonexistent/matrix".into(), b"", Admin),
        ("POST", "/api/folders/sync" | "/api/sample") => (here(), b"", Edit),
        ("GET", "/api/search") => ("/api/search?q=canary%20code".into(), b"", Read),
        ("POST", "/api/ask" | "/api/ask/stream") => {
            (here(), br#"{"question": "What is the canary code?", "no_llm": true}"#, Read)
        }
        ("POST", "/api/check-answers") => (here(), br#"{"questions": []}"#, Read),
        // Refused before anything is read or trained: resume and restart at once.
        ("POST", "/api/tune/estimate" | "/api/tune") => (here(), br#"{"resume": true, "restart": true}"#, Admin),
        ("GET", "/api/conversations/{id}") => (format!("/api/conversations/{}", ids.conversation), b"", Read),
        ("DELETE", "/api/conversations/{id}") => ("/api/conversations/000000000000".into(), b"", Read),
        ("PUT", "/api/settings") => (here(), b"{}", Admin),
        ("POST", "/api/models/{id}/download") => ("/api/models/no-such-model/download".into(), b"", Admin),
        ("POST", "/api/speak") => (here(), br#"{"text": ""}"#, Read),
        ("POST", "/api/transcribe") => (here(), b"not a recording", Read),
        ("POST", "/api/voices") => ("/api/voices?name=matrix&consent=".into(), b"", Admin),
        ("DELETE", "/api/voices/{name}") => ("/api/voices/no-such-voice".into(), b"", Admin),
        ("POST", "/api/users") => (here(), br#"{"name": "matrixmade", "role": "reader"}"#, Admin),
        ("DELETE", "/api/users/{name}") => ("/api/users/nobody".into(), b"", Admin),
        ("POST", "/api/users/{name}/token") => ("/api/users/nobody/token".into(), b"", Admin),
        ("GET", "/v1/models") => (here(), b"", Read),
        ("POST", "/v1/chat/completions") => (
            here(),
            br#"{"model": "doctalk-default", "messages": [{"role": "user", "content": "What is the canary code?"}]}"#,
            Read,
        ),
        ("POST", "/v1/embeddings") => (here(), br#"{"input": "canary"}"#, Read),
        _ => panic!(
            "no example request for {} {}: add one here so the access tests cover it",
            rule.method, rule.path
        ),
    };
    let path = if rule.kb == KbOf::Query {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}kb={kb}")
    } else {
        path
    };
    (path, body.to_vec(), need)
}

struct Member {
    name: &'static str,
    token: String,
    /// `None`: every knowledge base.
    kb: Option<&'static str>,
    need: Need,
}

fn add_user(dt: &Doctalk, name: &str, role: &str, kbs: &[&str]) -> String {
    let mut args = vec!["users", "add", name, "--role", role, "--json"];
    for kb in kbs {
        args.extend(["--allow-kb", kb]);
    }
    let reply = dt.json(&args);
    reply["token"].as_str().expect("a token").to_string()
}

fn note(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Every route × no token, reader, editor, admin × own and other knowledge base: the status the
/// rules say, and no byte of a knowledge base or a conversation the caller may not see.
#[test]
fn every_route_checks_the_role_and_the_knowledge_base_of_its_caller() {
    let dt = Doctalk::new();
    let files = tempfile::tempdir().unwrap();
    let own = note(
        files.path(),
        "own.md",
        &format!("# Own\n\nThe canary code of this team is {OWN_CANARY}.\n"),
    );
    let other = note(
        files.path(),
        "other.md",
        &format!("# Other\n\nThe canary code of finance is {OTHER_CANARY}.\n"),
    );
    assert!(dt.run(&["ingest", &own]).status.success());
    let out = dt.run(&["--kb", OTHER, "ingest", &other]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Without users, --auth users refuses to start rather than lock everyone out.
    let out = dt.run(&["serve", "--bind", "127.0.0.1:0", "--auth", "users"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("doctalk users add"), "{}", stderr(&out));

    let members = [
        Member {
            name: "rd",
            token: add_user(&dt, "rd", "reader", &[OWN]),
            kb: Some(OWN),
            need: Need::Read,
        },
        Member {
            name: "ed",
            token: add_user(&dt, "ed", "editor", &[OWN]),
            kb: Some(OWN),
            need: Need::Edit,
        },
        Member {
            name: "boss",
            token: add_user(&dt, "boss", "admin", &[]),
            kb: None,
            need: Need::Admin,
        },
    ];
    let stored = std::fs::read_to_string(dt.data.path().join("users.json")).unwrap();
    for m in &members {
        assert!(!stored.contains(&m.token), "a token is stored in the clear");
    }

    let server = start(&dt, &["--no-llm", "--auth", "users", "--rate-limit", "0"]);
    let a = server.addr.as_str();
    let boss = members[2].token.as_str();
    let doc_of = |kb: &str| {
        let docs = http(a, "GET", &format!("/api/documents?kb={kb}"), Some(boss), b"").json();
        docs[0]["id"].as_str().expect("a document").to_string()
    };
    // Someone else's conversation in the own knowledge base: the admin's.
    let asked = http(
        a,
        "POST",
        "/api/ask",
        Some(boss),
        format!(r#"{{"question": "{CONVERSATION_CANARY} what is the canary code?", "conversation": "new", "no_llm": true}}"#)
            .as_bytes(),
    );
    assert_eq!(asked.status, 200, "{}", asked.body);
    let ids = Ids {
        own_doc: doc_of(OWN),
        other_doc: doc_of(OTHER),
        conversation: asked.json()["conversation"].as_str().unwrap().to_string(),
    };

    let rules = route_rules();
    assert!(rules.len() >= 30, "{} routes", rules.len());
    let mut checked = 0;
    for rule in &rules {
        let kbs: &[&str] = match rule.kb {
            KbOf::Query | KbOf::Path => &[OWN, OTHER],
            KbOf::Server | KbOf::Unscoped => &[OWN],
        };
        for kb in kbs {
            let (path, body, intended) = example(rule, kb, &ids);
            let what = format!("{} {path}", rule.method);
            assert_eq!(
                rule.need, intended,
                "{what}: the server's rule is not the intended one"
            );

            let anonymous = http(a, rule.method.as_str(), &path, None, &body);
            assert_eq!(
                anonymous.status, 401,
                "{what} without a token: {}",
                anonymous.body
            );
            assert_no_canary(
                &anonymous,
                &[OWN_CANARY, OTHER_CANARY, CONVERSATION_CANARY],
                &what,
            );
            let wrong = http(a, rule.method.as_str(), &path, Some("dt_0123"), &body);
            assert_eq!(wrong.status, 401, "{what} with a made-up token");

            for m in &members {
                let kb_allowed = match rule.kb {
                    KbOf::Query | KbOf::Path => m.kb.is_none_or(|k| k == *kb),
                    KbOf::Server => m.kb.is_none_or(|k| k == OWN),
                    KbOf::Unscoped => true,
                };
                let allowed = m.need >= intended && kb_allowed;
                let r = http(a, rule.method.as_str(), &path, Some(&m.token), &body);
                let who = format!("{what} as {} ({:?})", m.name, m.need);
                if allowed {
                    assert!(
                        r.status != 401 && r.status != 403,
                        "{who} is refused: {} {}",
                        r.status,
                        r.body
                    );
                } else {
                    assert_eq!(r.status, 403, "{who}: {}", r.body);
                    assert_eq!(r.json()["error"]["code"], "forbidden", "{who}");
                    assert_no_canary(&r, &[OWN_CANARY, OTHER_CANARY, CONVERSATION_CANARY], &who);
                }
                // Nobody but the admin reads the other knowledge base, and nobody else's
                // conversation, whatever the route.
                if m.kb.is_some() {
                    assert_no_canary(&r, &[OTHER_CANARY], &who);
                }
                if m.name != "boss" {
                    assert_no_canary(&r, &[CONVERSATION_CANARY], &who);
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 3 * 40, "{checked} requests checked");

    // A search across knowledge bases needs every one of them: the reader of the own one is refused
    // the pair and sees no byte of the other; the admin gets both, each hit naming its own.
    let across = format!("/api/search?kb={OWN},{OTHER}&q=canary%20code&k=5");
    let r = http(a, "GET", &across, Some(&members[0].token), b"");
    assert_eq!(r.status, 403, "{}", r.body);
    assert_no_canary(&r, &[OTHER_CANARY], "a reader searching two knowledge bases");
    let r = http(a, "GET", &across, Some(boss), b"");
    assert_eq!(r.status, 200, "{}", r.body);
    let hits = r.json();
    let from: std::collections::HashSet<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kb"].as_str().unwrap())
        .collect();
    assert_eq!(
        from,
        [OWN, OTHER].into_iter().collect::<std::collections::HashSet<_>>(),
        "{hits}"
    );
    assert!(
        r.body.contains(OWN_CANARY) && r.body.contains(OTHER_CANARY),
        "{}",
        r.body
    );
    let r = http(
        a,
        "GET",
        &format!("/api/search?kb={OWN},nosuch&q=code"),
        Some(boss),
        b"",
    );
    assert_eq!(r.status, 404, "{}", r.body);

    // What readers and editors are shown of the knowledge bases is theirs only.
    let kbs = http(a, "GET", "/api/kbs", Some(&members[0].token), b"").json();
    let names: Vec<&str> = kbs["kbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [OWN], "{kbs}");
    let me = http(a, "GET", "/api/me", Some(&members[1].token), b"").json();
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str(), me["auth"].as_str()),
        (Some("ed"), Some("editor"), Some("users"))
    );
    // The editor's upload went in; the reader's did not.
    let docs = http(a, "GET", "/api/documents", Some(&members[0].token), b"").json();
    assert!(docs.to_string().contains("matrix.txt"), "{docs}");
}

fn assert_no_canary(r: &Reply, canaries: &[&str], what: &str) {
    for c in canaries {
        assert!(
            !r.body.contains(c) && !r.head.contains(c),
            "{what} leaked {c}: {}",
            r.body
        );
    }
}

/// Conversations are their starter's; users made, removed or given a new token with the CLI take
/// effect on the running server; budgets per token; the audit log names who changed what.
#[test]
fn conversations_are_private_and_user_changes_reach_a_running_server() {
    let dt = Doctalk::new();
    let files = tempfile::tempdir().unwrap();
    let own = note(
        files.path(),
        "own.md",
        "# Hours\n\nThe office opens at 9:00 and closes at 18:00.\n",
    );
    assert!(dt.run(&["ingest", &own]).status.success());
    let alice = add_user(&dt, "alice", "reader", &[]);
    let admin = add_user(&dt, "root", "admin", &[]);
    let server = start(&dt, &["--no-llm", "--auth", "users", "--rate-limit", "8"]);
    let a = server.addr.as_str();

    let ask = br#"{"question": "When does the office open?", "conversation": "new", "no_llm": true}"#;
    let mine = http(a, "POST", "/api/ask", Some(&alice), ask).json();
    let id = mine["conversation"].as_str().unwrap().to_string();
    assert!(mine["answer"].as_str().unwrap().contains("9:00"), "{mine}");
    let theirs = http(a, "GET", "/api/conversations", Some(&admin), b"").json();
    assert!(
        !theirs.to_string().contains(&id),
        "the admin lists alice's conversation: {theirs}"
    );
    let peek = http(a, "GET", &format!("/api/conversations/{id}"), Some(&admin), b"");
    assert_eq!(peek.status, 404, "{}", peek.body);
    let steal = format!(r#"{{"question": "and closes?", "conversation": "{id}", "no_llm": true}}"#);
    assert_eq!(
        http(a, "POST", "/api/ask", Some(&admin), steal.as_bytes()).status,
        404
    );
    assert_eq!(
        http(
            a,
            "DELETE",
            &format!("/api/conversations/{id}"),
            Some(&admin),
            b""
        )
        .status,
        404
    );
    let own_list = http(a, "GET", "/api/conversations", Some(&alice), b"").json();
    assert!(own_list.to_string().contains(&id), "{own_list}");

    // The CLI's changes reach the running server at its next request.
    let bob = add_user(&dt, "bob", "editor", &["default"]);
    assert_eq!(http(a, "GET", "/api/documents", Some(&bob), b"").status, 200);
    let renewed = dt.json(&["users", "token", "bob", "--json"]);
    let new_bob = renewed["token"].as_str().unwrap();
    assert_eq!(http(a, "GET", "/api/documents", Some(&bob), b"").status, 401);
    assert_eq!(http(a, "GET", "/api/documents", Some(new_bob), b"").status, 200);
    let out = dt.run(&["users", "rm", "bob"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(http(a, "GET", "/api/documents", Some(new_bob), b"").status, 401);
    let list = dt.json(&["users", "list", "--json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "root"]);
    assert!(!list.to_string().contains("sha256"), "{list}");

    // The admin page's API: add, renew, remove.
    let made = http(
        a,
        "POST",
        "/api/users",
        Some(&admin),
        br#"{"name": "carol", "role": "editor", "kbs": ["default"]}"#,
    );
    assert_eq!(made.status, 200, "{}", made.body);
    let carol = made.json()["token"].as_str().unwrap().to_string();
    assert_eq!(
        http(a, "GET", "/api/me", Some(&carol), b"").json()["role"],
        "editor"
    );
    let again = http(
        a,
        "POST",
        "/api/users",
        Some(&admin),
        br#"{"name": "carol", "role": "reader"}"#,
    );
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(
        http(a, "DELETE", "/api/users/carol", Some(&admin), b"").status,
        200
    );
    assert_eq!(http(a, "GET", "/api/me", Some(&carol), b"").status, 401);

    // A budget of 8 requests a minute per token: the admin has used 7 above, so within a few
    // more (the budget refills by one every 7.5 s) the next is refused; alice's is her own.
    let limited = (0..6)
        .map(|_| http(a, "GET", "/api/me", Some(&admin), b""))
        .find(|r| r.status != 200)
        .expect("the admin's budget never ran out");
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
    assert!(
        limited.head.to_ascii_lowercase().contains("retry-after"),
        "{}",
        limited.head
    );
    assert_eq!(http(a, "GET", "/api/me", Some(&alice), b"").status, 200);

    // Who changed what; never a token.
    let log = std::fs::read_to_string(dt.data.path().join("audit.log")).unwrap();
    let entries: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let has = |who: &str, action: &str, target: &str| {
        entries.iter().any(|e| {
            e["who"] == who
                && e["action"] == action
                && e["target"].as_str().is_some_and(|t| t.contains(target))
        })
    };
    assert!(has("local", "users add", "bob"), "{log}");
    assert!(has("local", "users token", "bob"), "{log}");
    assert!(has("local", "users rm", "bob"), "{log}");
    assert!(has("root", "POST /api/users", "carol editor"), "{log}");
    assert!(has("root", "DELETE /api/users/{name}", "carol"), "{log}");
    for token in [&alice, &admin, &bob, &carol] {
        assert!(!log.contains(token.as_str()), "the audit log holds a token");
    }
}
