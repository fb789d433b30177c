//! Command-line grammar (clap). Only this module knows clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// DocTalk: ask questions of your own documents, offline, with cited sources.
#[derive(Debug, Parser)]
#[command(name = "doctalk", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Where DocTalk keeps its index and settings [default: the platform data directory]
    #[arg(long, global = true, env = "DOCTALK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Knowledge base to use (several can live in one data directory)
    #[arg(
        long,
        global = true,
        env = "DOCTALK_KB",
        default_value = "default",
        value_name = "NAME"
    )]
    pub kb: String,

    /// Directory holding model folders (overrides the usual search places)
    #[arg(long, global = true, env = "DOCTALK_MODELS_DIR", value_name = "DIR")]
    pub models_dir: Option<PathBuf>,

    /// Sentence encoder: multilingual-e5-small (default; Chinese and English), all-MiniLM-L6-v2, or a
    /// model directory. A knowledge base built with another encoder is re-embedded when opened.
    #[arg(long, global = true, env = "DOCTALK_ENCODER", value_name = "ID|DIR")]
    pub encoder: Option<String>,

    /// Keep the index on shared object storage instead of the data directory, e.g.
    /// s3://bucket/doctalk (each knowledge base in a folder of its own). Credentials, region and
    /// endpoint come from the usual AWS_* variables (AWS_ENDPOINT and AWS_ALLOW_HTTP=true for MinIO
    /// and other S3-compatible servers). Conversations and uploads stay in the data directory.
    #[arg(long, global = true, env = "DOCTALK_STORE_URI", value_name = "URI")]
    pub store_uri: Option<String>,

    /// More logging (-v info, -vv debug); RUST_LOG also works
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

pub const EXIT_CODES: &str = "Exit codes:\n  0  success (for ingest: every file indexed or unchanged)\n  1  error (nothing done, or the store/model failed)\n  2  usage error\n  3  ingest finished but some files failed (the others were indexed)";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add files or folders (recursively) to the knowledge base
    Ingest(IngestArgs),
    /// Hybrid search (dense + BM25) over the knowledge base
    Search(SearchArgs),
    /// List indexed documents
    List(ListArgs),
    /// Remove documents (by id, id prefix or path); your files are not touched
    Remove(RemoveArgs),
    /// Where the data lives and what the index holds
    Status(ListArgs),
    /// Back up or move a knowledge base: export it to one file, import it (here or on another
    /// machine)
    #[command(subcommand)]
    Kb(KbCommand),
    /// Folders the knowledge base follows: add, list (with each file's state), rm
    #[command(subcommand)]
    Watch(WatchCommand),
    /// One pass over the watched folders (or the given ones): index new and changed files, move
    /// renamed ones, drop deleted ones; --watch keeps following them until Ctrl+C
    Sync(SyncArgs),
    /// Answer a question from the knowledge base, with cited sources (streams; Ctrl+C stops)
    Ask(AskArgs),
    /// Interactive conversation over the knowledge base (/new, /sources, /history, /quit)
    Chat(ChatArgs),
    /// Summarise one document, with cited passages (Ctrl+C stops)
    Summarize(SummarizeArgs),
    /// Serve the knowledge base over HTTP: REST + SSE for the UI, an OpenAI-compatible /v1 API
    Serve(ServeArgs),
    /// People a team server answers (`serve --auth users`): add (prints their token once), list,
    /// rm, token (a new one)
    #[command(subcommand)]
    Users(UsersCommand),
    /// Serve the knowledge base to other AI tools over the Model Context Protocol (stdio)
    Mcp(McpArgs),
    /// Known models: list, download (from the hub or HF_ENDPOINT mirror), inspect, remove
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Run the local LLM on a prompt (no knowledge base): streams the answer; Ctrl+C stops it
    Generate(GenerateArgs),
    /// Fine-tune a LoRA adapter on question–answer pairs (an FAQ export, or the knowledge base's FAQ
    /// entries); Ctrl+C stops at a checkpoint that --resume continues
    Tune(TuneArgs),
    /// Speak text aloud (or into a WAV file) in the default voice; Chinese and English sentences
    /// each get their language's voice
    Say(SayArgs),
    /// Voices: which exist, which languages they speak, whether they work on this machine
    #[command(subcommand)]
    Voices(VoicesCommand),
    /// Transcribe a recording (WAV) with Whisper; Chinese and English detected automatically
    Transcribe(TranscribeArgs),
    /// Voice assistant: hear a question (microphone, or --input-wav), answer it from the knowledge
    /// base, speak the answer while it is written
    Voice(VoiceArgs),
    /// Benchmarks (throughput and memory), never part of the tests
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, clap::Args)]
pub struct VoiceArgs {
    /// A recorded question instead of the microphone (WAV)
    #[arg(long, value_name = "FILE.wav")]
    pub input_wav: Option<PathBuf>,
    /// Write the spoken answer to a WAV file instead of playing it
    #[arg(long, value_name = "FILE.wav")]
    pub out: Option<PathBuf>,
    /// Language of the question (zh, en; zh-CN / zh-TW choose the script of the transcript); detected
    /// when omitted
    #[arg(long)]
    pub language: Option<String>,
    /// Voice for the answers (see `doctalk voices list`) [default: the saved setting, else espeak-ng]
    #[arg(long)]
    pub voice: Option<String>,
    /// Speech recognition model: a directory or a name (whisper-base, whisper-small,
    /// whisper-medium) [default: whisper-base]
    #[arg(long, value_name = "DIR|NAME")]
    pub whisper: Option<PathBuf>,
    /// Print one JSON object: question, answer, sources, timings
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub answer: AnswerArgs,
}

#[derive(Debug, Subcommand)]
pub enum VoicesCommand {
    /// Every voice, its languages and licence, and whether it can speak here
    List {
        #[arg(long)]
        json: bool,
    },
    /// Make a cloned voice from a recording of one person speaking (10–30 s is best)
    Add {
        /// The new voice's name (letters, digits, - and _)
        name: String,
        /// The reference recording (WAV)
        #[arg(long, value_name = "FILE.wav")]
        sample: PathBuf,
        /// Whose voice it is and that they agreed to its use (stored with the voice)
        #[arg(long)]
        consent: String,
        /// The voice whose speech is tone-matched to the recording [default: the Piper voice when
        /// installed, else espeak-ng]
        #[arg(long)]
        base: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a cloned voice and its recording
    Rm { name: String },
}

#[derive(Debug, clap::Args)]
pub struct SayArgs {
    /// What to say ("-" reads standard input)
    #[arg(required = true)]
    pub text: String,
    /// Voice (see `doctalk voices list`) [default: the saved setting, else espeak-ng]
    #[arg(long)]
    pub voice: Option<String>,
    /// Write a WAV file instead of playing
    #[arg(long, value_name = "FILE.wav")]
    pub out: Option<PathBuf>,
    /// Words per minute (the espeak-ng voice)
    #[arg(long, default_value_t = 165)]
    pub rate: u32,
    /// Print one JSON object (file, seconds, sample rate, sentences)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct TranscribeArgs {
    /// A WAV recording (any sample rate, mono or stereo)
    #[arg(required = true, value_name = "FILE.wav")]
    pub file: PathBuf,
    /// Language code (zh, en, …; zh-CN / zh-TW / zh-HK also choose 简体 or 繁體); detected when omitted
    #[arg(long)]
    pub language: Option<String>,
    /// Whisper model: a directory, or a model name (whisper-base, whisper-small, whisper-medium;
    /// `doctalk models pull NAME` downloads one) [default: whisper-base]
    #[arg(long, value_name = "DIR|NAME")]
    pub model: Option<PathBuf>,
    /// Print one JSON object: text, language, segments, timings
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Ingest files into a fresh temporary knowledge base and report stage times,
    /// pages/s, chunks/s and peak memory
    Ingest(BenchIngestArgs),
    /// A sync pass over a folder of many unchanged files (made in a temporary folder), beside
    /// a bare listing of the same tree: what keeping a big watched folder current costs
    Sync(BenchSyncArgs),
    /// Retrieval quality on a BEIR-style folder (corpus.jsonl, queries.jsonl, qrels/test.tsv):
    /// recall@1/5/10 and nDCG@10 for dense, BM25 and hybrid
    Retrieval(BenchRetrievalArgs),
    /// Voice: real-time factor of the default voice and of Whisper, time from a complete answer
    /// sentence to its first audio, barge-in stop latency (when a sound card exists)
    Voice(BenchVoiceArgs),
    /// Answer quality on your own documents: asks each question of a JSON Lines file
    /// ({"q", "expect_any": [...], "source"} or {"q", "unanswerable": true}) in LLM and extractive
    /// modes; fact, citation and refusal rates, first-token p50
    Answers(BenchAnswersArgs),
}

#[derive(Debug, clap::Args)]
pub struct BenchAnswersArgs {
    /// The questions (JSON Lines)
    #[arg(long, value_name = "FILE.jsonl")]
    pub qa: PathBuf,
    #[command(flatten)]
    pub answer: AnswerArgs,
    /// Measure the language model only (not the extractive mode)
    #[arg(long, conflicts_with = "no_llm")]
    pub llm_only: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BenchVoiceArgs {
    /// Recordings to transcribe (WAV) [default: the test recordings in tests/fixtures/audio]
    #[arg(value_name = "FILE.wav")]
    pub recordings: Vec<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BenchRetrievalArgs {
    #[arg(long, value_name = "DIR")]
    pub dataset: PathBuf,
    /// Evaluate only the first N judged queries
    #[arg(long, value_name = "N")]
    pub max_queries: Option<usize>,
    /// Also write each query's dense and BM25 candidates (passage id, score) and its judgements to
    /// FILE as JSON lines, for studying fusion offline (bench/retrieval/fusion_sweep.py)
    #[arg(long, value_name = "FILE.jsonl")]
    pub dump: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BenchIngestArgs {
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BenchSyncArgs {
    /// How many files the folder holds
    #[arg(long, default_value_t = 10_000)]
    pub files: usize,
    /// Timed passes over the unchanged folder
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Files or folders
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// One JSON object per file on stdout
    #[arg(long)]
    pub json: bool,
    /// FAQ exports: header of the question column (detected when omitted)
    #[arg(long, value_name = "COLUMN", requires = "faq_answer")]
    pub faq_question: Option<String>,
    /// FAQ exports: header of the answer column
    #[arg(long, value_name = "COLUMN", requires = "faq_question")]
    pub faq_answer: Option<String>,
    /// FAQ exports: header of the similar-questions column
    #[arg(long, value_name = "COLUMN")]
    pub faq_similar: Option<String>,
    /// Password of password-protected PDFs; repeatable, each is tried on each encrypted file.
    /// Other users of this machine can see command lines: prefer --password-file
    #[arg(long, value_name = "PASSWORD")]
    pub password: Vec<String>,
    /// A file of PDF passwords, one per line, for a batch of protected files (never stored)
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// OCR: `auto` reads pages without a usable text layer and pictures; `always` reads every
    /// page from its picture; `never` reports such pages instead
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = parse_ocr_mode)]
    pub ocr: doctalk_ingest::OcrMode,
}

fn parse_ocr_mode(s: &str) -> Result<doctalk_ingest::OcrMode, String> {
    doctalk_ingest::OcrMode::parse(s).ok_or_else(|| format!("{s:?}: expected auto, always or never"))
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The question or keywords
    #[arg(required = true)]
    pub query: String,
    /// Number of results
    #[arg(long, short = 'k', default_value_t = 5)]
    pub top_k: usize,
    /// Print a JSON array (with --explain: the explanation object)
    #[arg(long)]
    pub json: bool,
    /// The retrieval test: each passage's dense and BM25 score and rank, why it ranks where it does,
    /// and which passages an answer would offer the language model
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// Which documents to search: shared by `search`, `ask` and `chat`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ScopeArgs {
    /// Only this document: an id, an id prefix or a path as `doctalk list` shows it; repeatable
    #[arg(long = "doc", value_name = "ID|PATH")]
    pub docs: Vec<String>,
    /// Only the documents inside this folder; repeatable
    #[arg(long = "folder", value_name = "DIR")]
    pub folders: Vec<String>,
}

impl ScopeArgs {
    pub fn request(&self) -> doctalk_core::ScopeRequest {
        doctalk_core::ScopeRequest {
            docs: self.docs.clone(),
            folders: self.folders.clone(),
        }
    }
}

/// How answers are made: shared by `ask` and `chat`.
#[derive(Debug, Clone, clap::Args)]
pub struct AnswerArgs {
    /// Answer without a language model: the best FAQ answer or passages, cited
    #[arg(long)]
    pub no_llm: bool,
    /// Language model: a known name, a .gguf file or a GLM directory [default: the offline default]
    #[arg(long, env = "DOCTALK_LLM", value_name = "ID|PATH")]
    pub model: Option<String>,
    /// LoRA adapter for the local model: a PEFT directory, a llama.cpp .gguf adapter, or the name
    /// of one kept in <data dir>/adapters/ (see `doctalk models list`)
    #[arg(long, env = "DOCTALK_LLM_ADAPTER", value_name = "NAME|PATH")]
    pub adapter: Option<String>,
    /// Passages retrieved and offered to the model
    #[arg(long, default_value_t = 5)]
    pub top_k: usize,
    /// Longest answer in tokens
    #[arg(long, default_value_t = 384)]
    pub max_tokens: usize,
    /// Most prompt tokens offered to a local model (each source is cut to its sentences that best
    /// match the question, then the least relevant are dropped, until the prompt fits) [default:
    /// 768 on the CPU, where fewer made the default model state wrong figures more often; the
    /// context window on a GPU]
    #[arg(long, value_name = "TOKENS")]
    pub prompt_tokens: Option<usize>,
    /// Chinese script of the answer: simplified (简体), traditional (繁體), or zh-CN / zh-TW / zh-HK
    /// [default: the system locale's, 简体 unless it is zh_TW or zh_HK]
    #[arg(long, env = "DOCTALK_ZH_SCRIPT", value_name = "SCRIPT", value_parser = parse_script)]
    pub script: Option<doctalk_core::ChineseScript>,
    /// Use a remote OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, another `doctalk
    /// serve`) as the language model, e.g. http://gpu-box:8000/v1; --model names its model (default:
    /// the first it lists that is not a DocTalk knowledge base)
    #[arg(long, env = "DOCTALK_LLM_URL", value_name = "URL")]
    pub llm_url: Option<String>,
    /// API key for --llm-url, sent as a bearer token
    #[arg(long, env = "DOCTALK_LLM_API_KEY", value_name = "KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,
    /// Context window of the --llm-url model in tokens (prompts are fitted to it)
    #[arg(long, default_value_t = doctalk_models::llm::DEFAULT_CONTEXT_WINDOW, value_name = "TOKENS")]
    pub llm_context: usize,
}

#[derive(Debug, clap::Args)]
pub struct AskArgs {
    #[arg(required = true)]
    pub question: String,
    #[command(flatten)]
    pub answer: AnswerArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Continue this conversation (its history rewrites follow-up questions) and save the turn to it;
    /// `new` starts one (its id is printed)
    #[arg(long, value_name = "ID|new")]
    pub conversation: Option<String>,
    /// One JSON object: answer, sources, query, grounded, mode, evidence
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback needs --token
    #[arg(long, default_value = "127.0.0.1:8765")]
    pub bind: std::net::SocketAddr,
    /// Access token every request must send as `Authorization: Bearer TOKEN`
    #[arg(long, env = "DOCTALK_TOKEN", conflicts_with = "auth")]
    pub token: Option<String>,
    /// `users`: every request needs the token of a user made with `doctalk users add`, whose role
    /// and knowledge bases decide what they may do (401 without a token, 403 beyond their rights)
    #[arg(long, value_enum, value_name = "MODE")]
    pub auth: Option<AuthMode>,
    /// Requests per minute each token may make (users, or the shared token); 0: no limit
    #[arg(long, default_value_t = 600, value_name = "N")]
    pub rate_limit: u32,
    /// Another name this server may be reached by without a token (besides localhost and
    /// 127.0.0.1), e.g. a name in /etc/hosts; repeatable. Requests naming any other host are refused,
    /// so that no website can read the server by pointing its own name at this machine
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// Largest upload in MiB
    #[arg(long, default_value_t = 512)]
    pub max_upload_mib: usize,
    /// Questions that may wait for the language model while it answers another; beyond that they
    /// are answered extractively at once (plain completions get 503)
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub max_waiting: usize,
    /// The built web UI to serve at / [default: the installed one, or ui/dist of this checkout]
    #[arg(long, env = "DOCTALK_UI_DIR", value_name = "DIR")]
    pub ui_dir: Option<PathBuf>,
    #[command(flatten)]
    pub answer: AnswerArgs,
}

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub answer: AnswerArgs,
}

#[derive(Debug, clap::Args)]
pub struct SummarizeArgs {
    /// The document: an id, an id prefix, a path, or a file name only one document has
    #[arg(required = true, value_name = "DOC")]
    pub doc: String,
    /// How long: short (5 points) or long (12)
    #[arg(long, default_value = "short")]
    pub length: doctalk_core::summary::SummaryLength,
    #[command(flatten)]
    pub answer: AnswerArgs,
    /// One JSON object: {summary, sources: [{n, path, page, text}], …}
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub answer: AnswerArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Resume a saved conversation
    #[arg(long, value_name = "ID")]
    pub conversation: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every known model, whether it is installed and where
    List(ListArgs),
    /// Download a model into the HuggingFace cache (resumable, checksums verified; honours
    /// HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE, HF_TOKEN)
    Pull(ModelArgs),
    /// Licence, languages, sources, files and the installed location of one model
    Info(ModelArgs),
    /// Delete the copies DocTalk downloaded (a directory you placed yourself is left alone)
    Rm(ModelArgs),
}

#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Full id (intfloat/multilingual-e5-small) or short name (multilingual-e5-small)
    pub model: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct TuneArgs {
    /// An FAQ export (CSV, TSV, XLSX, JSON, JSONL) to train on [default: the FAQ entries of the
    /// knowledge base --kb names]
    #[arg(long, value_name = "FILE")]
    pub faq: Option<PathBuf>,
    /// The model to adapt: a qwen2 or llama .gguf file or a known name [default: the offline default]
    #[arg(long, value_name = "ID|PATH")]
    pub base: Option<String>,
    /// Where the adapter is written [default: <data dir>/adapters/<knowledge base>-tuned, where
    /// `--adapter NAME` and the settings find it]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the run whose checkpoint is in the output directory
    #[arg(long)]
    pub resume: bool,
    /// Say what the run would do and about how long it would take on this machine (one training
    /// step is timed), without training
    #[arg(long, conflicts_with = "resume")]
    pub estimate: bool,
    /// Stop after this many steps (one pair per step)
    #[arg(long, value_name = "N")]
    pub max_steps: Option<usize>,
    /// Passes over the pairs
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// LoRA rank: the size of the change to each projection
    #[arg(long, default_value_t = 8)]
    pub rank: usize,
    /// LoRA alpha: the change is scaled by alpha / rank
    #[arg(long, default_value_t = 16.0)]
    pub alpha: f64,
    /// AdamW's learning rate
    #[arg(long, default_value_t = 2e-4, value_name = "RATE")]
    pub learning_rate: f64,
    /// Pairs longer than this many tokens (question, answer and the chat format) are left out
    #[arg(long, default_value_t = 512, value_name = "TOKENS")]
    pub max_tokens: usize,
    /// Share of the pairs held out to measure the adapter (one way of asking an FAQ entry whose
    /// other ways are trained on, where the export has several)
    #[arg(long, default_value_t = 0.1, value_name = "FRACTION")]
    pub held_out: f64,
    /// Skip answering the held-out questions with the base and the tuned model at the end
    #[arg(long)]
    pub no_compare: bool,
    /// Before training, have the model write up to N other ways of asking each question, trained
    /// on with its answer (never held out); they are listed in the report
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub paraphrases: usize,
    /// cpu, cuda or cuda:N
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Print the final report as one JSON object (progress still goes to stderr)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What to ask the model
    #[arg(required = true)]
    pub prompt: String,
    /// A known model name, a .gguf file or a GLM safetensors directory [default: the offline default]
    #[arg(long, env = "DOCTALK_LLM", value_name = "ID|PATH")]
    pub model: Option<String>,
    /// LoRA adapter: a PEFT directory, a llama.cpp .gguf adapter, or a name in <data dir>/adapters/
    #[arg(long, env = "DOCTALK_LLM_ADAPTER", value_name = "NAME|PATH")]
    pub adapter: Option<String>,
    /// A system message placed before the prompt
    #[arg(long)]
    pub system: Option<String>,
    /// Send the prompt as-is, without the model's chat template
    #[arg(long, conflicts_with = "system")]
    pub raw: bool,
    /// Most tokens to generate
    #[arg(long, default_value_t = 512)]
    pub max_tokens: usize,
    /// 0 = greedy (deterministic)
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    #[arg(long)]
    pub top_p: Option<f64>,
    #[arg(long)]
    pub top_k: Option<usize>,
    #[arg(long, default_value_t = 1.1)]
    pub repeat_penalty: f32,
    #[arg(long, default_value_t = 299_792_458)]
    pub seed: u64,
    /// Stop before this text (repeatable)
    #[arg(long, value_name = "TEXT")]
    pub stop: Vec<String>,
    /// cpu, or cuda / cuda:N (needs a build with the `cuda` feature)
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Print one JSON object (text, token counts, stop reason, speeds) instead of streaming
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// Users with their own tokens, roles and knowledge bases
    Users,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; their token is printed once (only its hash is kept)
    Add {
        name: String,
        /// reader: search and ask; editor: also add and remove documents; admin: everything
        #[arg(long, value_parser = parse_role)]
        role: doctalk_core::users::Role,
        /// A knowledge base they may use (repeatable) [default: every one]. Not `--kb`: that one
        /// names the knowledge base a command works on
        #[arg(long = "allow-kb", value_name = "NAME")]
        kbs: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// The users, their roles and knowledge bases (never their tokens)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a user; their token stops working at once, also on a running server
    Rm {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Give a user a new token (printed once); the old one stops working
    Token {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

fn parse_role(s: &str) -> Result<doctalk_core::users::Role, String> {
    s.parse()
}

#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// Follow a folder: its supported files are indexed now and kept in sync by `doctalk sync`,
    /// `doctalk serve` and the desktop app
    Add {
        folder: PathBuf,
        /// Only files matching this glob, relative to the folder (repeatable; e.g. '*.pdf')
        #[arg(long, value_name = "GLOB")]
        include: Vec<String>,
        /// Leave out files or folders matching this glob (repeatable; e.g. 'drafts/**')
        #[arg(long, value_name = "GLOB")]
        exclude: Vec<String>,
        /// Only remember the folder; index it at the next sync
        #[arg(long)]
        no_sync: bool,
        #[arg(long)]
        json: bool,
    },
    /// The watched folders, how many of their files are indexed, queued or failed
    List {
        /// Every file with its state (and the reason when it failed)
        #[arg(long)]
        files: bool,
        #[arg(long)]
        json: bool,
    },
    /// Stop following a folder and remove its documents from the index (your files stay)
    Rm {
        folder: PathBuf,
        /// Keep the folder's documents in the index
        #[arg(long)]
        keep_documents: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Write the knowledge base (documents, passages, vectors, copies, watched folders, settings;
    /// checksummed) to FILE
    Export {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Include the knowledge base's conversations
        #[arg(long)]
        conversations: bool,
        #[arg(long)]
        json: bool,
    },
    /// Restore an exported knowledge base as a new one (passages re-embedded when this machine's
    /// encoder differs; its settings adopted only where none were saved); a damaged archive is
    /// refused and leaves nothing behind
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Name of the new knowledge base [default: the exported one's name]
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Rebuild a damaged index (missing or half-written files) from your documents and watched
    /// folders; the damaged tables are kept aside, conversations and settings stay
    Repair {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Folders to sync instead of the watched ones (they are not added to the list)
    pub folders: Vec<PathBuf>,
    /// Keep following the folders (filesystem notifications) until Ctrl+C
    #[arg(long)]
    pub watch: bool,
    /// One JSON object per pass
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    #[arg(required = true, value_name = "DOC")]
    pub docs: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

impl AnswerArgs {
    /// The request for `question` with these options (the model is set by the caller).
    pub fn request(&self, question: impl Into<String>) -> doctalk_core::AnswerRequest {
        let mut req = doctalk_core::AnswerRequest::new(question);
        req.top_k = self.top_k;
        req.max_answer_tokens = self.max_tokens;
        req.prompt_tokens = self.prompt_tokens;
        req.script = self.script;
        req
    }
}

fn parse_script(value: &str) -> Result<doctalk_core::ChineseScript, String> {
    doctalk_core::ChineseScript::from_setting(value)
        .ok_or_else(|| format!("{value:?} is not a Chinese script (simplified, traditional, zh-CN, zh-TW)"))
}
