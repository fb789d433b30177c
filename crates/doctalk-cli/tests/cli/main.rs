//! End-to-end tests that drive the built `doctalk` binary on real files, a real LanceDB
//! directory and the real embedding model (fetched by scripts/setup.sh).

mod adapters;
mod ask;
mod bench;
mod crash;
mod faults;
mod folders;
mod generate;
mod harness;
mod ingest;
mod injection;
mod library_api;
mod models;
mod ocr;
mod passwords;
mod scale_out;
mod search;
mod serve;
mod summarize;
mod team;
mod unfaithful;
mod voice;
