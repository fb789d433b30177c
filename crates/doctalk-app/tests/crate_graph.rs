//! The crate graph keeps its rules (ARCHITECTURE.md, "Crate graph"): the doors (CLI, HTTP server,
//! desktop app) stand on `doctalk-app`, never on one another, and only the door that speaks a
//! protocol knows its framework (axum, tauri, clap). Read from `cargo metadata`, so a new
//! dependency that breaks a rule fails here, not in review.

use std::collections::BTreeMap;
use std::process::Command;

/// Each workspace package's normal (not dev or build) dependencies.
fn normal_dependencies() -> BTreeMap<String, Vec<String>> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().expect("name").to_string())
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

/// The doors, the app and the doors' frameworks: what the engine's crates may not depend on.
const DOORS_AND_FRAMEWORKS: &[&str] = &[
    "doctalk-app",
    "doctalk-server",
    "doctalk-cli",
    "doctalk-desktop",
    "axum",
    "tauri",
    "clap",
];

/// What each crate may not depend on: the app nothing above it, each door no other door.
const RULES: &[(&str, &[&str])] = &[
    ("doctalk-app", DOORS_AND_FRAMEWORKS.split_at(1).1),
    (
        "doctalk-server",
        &["doctalk-cli", "doctalk-desktop", "tauri", "clap"],
    ),
    (
        "doctalk-desktop",
        &["doctalk-server", "doctalk-cli", "axum", "clap"],
    ),
    ("doctalk-cli", &["doctalk-desktop", "tauri"]),
];

/// The engine's crates know no door at all.
const ENGINE: &[&str] = &[
    "doctalk-catalog",
    "doctalk-contain",
    "doctalk-core",
    "doctalk-ingest",
    "doctalk-store",
    "doctalk-models",
    "doctalk-speech",
    "doctalk-voice",
    "doctalk-qgemm",
    "doctalk-ocr",
];

#[test]
fn doors_stand_on_the_app_and_never_on_each_other() {
    let graph = normal_dependencies();
    let mut broken = Vec::new();
    let rules = RULES
        .iter()
        .map(|(c, banned)| (*c, *banned))
        .chain(ENGINE.iter().map(|c| (*c, DOORS_AND_FRAMEWORKS)));
    for (krate, banned) in rules {
        let deps = graph
            .get(krate)
            .unwrap_or_else(|| panic!("{krate} is not in the workspace"));
        for dep in deps.iter().filter(|d| banned.contains(&d.as_str())) {
            broken.push(format!("{krate} depends on {dep}"));
        }
    }
    assert!(broken.is_empty(), "crate graph rules broken: {broken:?}");
    // The three doors reach the application through doctalk-app.
    for door in ["doctalk-server", "doctalk-cli", "doctalk-desktop"] {
        assert!(
            graph[door].iter().any(|d| d == "doctalk-app"),
            "{door} does not use doctalk-app"
        );
    }
}

#[test]
fn only_the_server_knows_axum() {
    let graph = normal_dependencies();
    let knowing: Vec<&String> = graph
        .iter()
        .filter(|(_, deps)| deps.iter().any(|d| d == "axum"))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(knowing, ["doctalk-server"]);
}

/// The catalogue (manifests, where model files are, downloads) builds without candle or any model
/// code, so what only lists or fetches models does not wait for the tensor library.
#[test]
fn the_catalogue_knows_no_model_code() {
    let graph = normal_dependencies();
    let heavy: Vec<&String> = graph["doctalk-catalog"]
        .iter()
        .filter(|d| d.starts_with("candle") || d.starts_with("doctalk-"))
        .collect();
    assert!(heavy.is_empty(), "doctalk-catalog depends on {heavy:?}");
}
