//! A small builder around the real binary: one temporary data directory per test.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Every file under `dir`, at any depth (links are not followed).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

pub fn sample_kb() -> PathBuf {
    repo_root().join("examples/sample-kb")
}

pub fn models_dir() -> PathBuf {
    std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".models"))
}

pub struct Doctalk {
    pub data: tempfile::TempDir,
}

impl Doctalk {
    pub fn new() -> Self {
        Doctalk {
            data: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_doctalk"));
        cmd.env("DOCTALK_DATA_DIR", self.data.path())
            .env("DOCTALK_MODELS_DIR", models_dir())
            .env_remove("DOCTALK_KB")
            .env("RUST_LOG", "warn");
        cmd
    }

    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).bounded_output().expect("run doctalk")
    }

    /// Runs bound by file permissions (see [`Doctalk::unprivileged_command`]): for tests of files
    /// the user may not read.
    pub fn run_unprivileged(&self, args: &[&str]) -> Output {
        self.unprivileged_command()
            .args(args)
            .bounded_output()
            .expect("run doctalk unprivileged")
    }

    /// The command bound by file permissions: as root (CI and this machine run tests as root)
    /// through `setpriv` without the two capabilities that let root read any file
    /// (`CAP_DAC_OVERRIDE`, `CAP_DAC_READ_SEARCH`), still uid 0, so it reads what root owns (a
    /// private checkout, the models) but not a file whose mode denies its owner; as anyone else, as
    /// is.
    pub fn unprivileged_command(&self) -> Command {
        use std::os::unix::fs::MetadataExt;
        let root = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        if !root {
            return self.command();
        }
        let plain = self.command();
        let mut cmd = Command::new("setpriv");
        let drop = "-dac_override,-dac_read_search";
        cmd.args([
            &format!("--inh-caps={drop}"),
            &format!("--bounding-set={drop}"),
            "--",
        ])
        .arg(plain.get_program());
        for (key, value) in plain.get_envs() {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }

    /// Runs and parses stdout as JSON lines.
    #[track_caller]
    pub fn json_lines(&self, args: &[&str]) -> (Output, Vec<serde_json::Value>) {
        let out = self.run(args);
        let lines = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect();
        (out, lines)
    }

    /// Runs and parses the whole stdout as one JSON value.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The sample knowledge base, indexed once and shared by the tests that only read it (search, ask,
/// serve); they may add conversations, never documents.
pub fn indexed_sample() -> &'static Doctalk {
    static SAMPLE: OnceLock<Doctalk> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let dt = Doctalk::new();
        let out = dt.run(&["ingest", sample_kb().to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        dt
    })
}

/// How long one child process of a test may run before the test fails naming it: well under the
/// stage limit in `scripts/test.sh`, so a hung child is reported by the test that started it.
/// `DOCTALK_TEST_CHILD_TIMEOUT_S` overrides it (a slow machine, or a check of this very guard).
pub fn child_limit() -> Duration {
    let secs = std::env::var("DOCTALK_TEST_CHILD_TIMEOUT_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    Duration::from_secs(secs)
}

/// `Command::output`, but bounded: a child still running after [`child_limit`] is killed and the
/// test panics with the command line, the time it ran and what it had written to stderr.
pub trait BoundedOutput {
    fn bounded_output(&mut self) -> io::Result<Output>;
}

impl BoundedOutput for Command {
    fn bounded_output(&mut self) -> io::Result<Output> {
        let what = format!("{self:?}");
        let child = self
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        Ok(wait_within(child, child_limit(), &what))
    }
}

/// Waits for `child` (its stdout/stderr piped, if at all) for at most `limit`; on time-out kills it
/// and panics naming `what`. Pipes are drained on their own threads so a chatty child cannot block.
#[track_caller]
pub fn wait_within(mut child: Child, limit: Duration, what: &str) -> Output {
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
                panic!(
                    "timed out: {what} still running after {:.0} s (pid {}, killed); its stderr:\n{stderr}",
                    started.elapsed().as_secs_f64(),
                    child.id()
                );
            }
        }
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Reads the first line a child prints, or panics naming `what` when none comes within `limit`
/// (a server that never says it is listening must not hang the test).
#[track_caller]
pub fn first_line_within(stdout: impl Read + Send + 'static, limit: Duration, what: &str) -> String {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = io::BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep draining so the child never blocks on a full pipe.
        let _ = io::copy(&mut reader, &mut io::sink());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("timed out: {what} printed nothing for {limit:?}"))
}
