//! One module per subcommand: each turns engine results into human or JSON output.

pub mod ask;
pub mod assistant;
pub mod bench;
pub mod bench_answers;
pub mod bench_retrieval;
pub mod bench_sync;
pub mod bench_voice;
pub mod chat;
pub mod generate;
pub mod ingest;
pub mod kb;
pub mod list;
pub mod mcp;
pub mod models;
pub mod remove;
pub mod search;
pub mod serve;
pub mod status;
pub mod summarize;
pub mod sync;
pub mod tune;
pub mod users;
pub mod voice;
pub mod watch;
