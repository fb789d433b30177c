//! Runs one engine on one file so that nothing it does can take the process down.
//!
//! The engine runs on its own thread under `catch_unwind` (see `doctalk_contain`), with
//! a wall-clock budget. A thread that overruns is abandoned, not killed (Rust cannot kill a
//! thread): it keeps a core busy until it finishes, but the caller goes on.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use super::engine::{EngineError, EngineOutput, PdfEngine};
use doctalk_contain::{install_quiet_hook, panic_text, QUIET_PANICS, THREAD_STACK_BYTES};

/// How one isolated engine run ended.
#[derive(Debug)]
pub(crate) enum EngineRun {
    Done(EngineOutput),
    Encrypted,
    Failed(String),
    Panicked(String),
    TimedOut(Duration),
}

type ThreadResult = Result<Result<EngineOutput, EngineError>, String>;

/// Runs engine `E` on `bytes` in its own thread, waiting at most `budget`.
pub(crate) fn run_isolated<E: PdfEngine + 'static>(
    bytes: Arc<Vec<u8>>,
    passwords: Arc<Vec<Vec<u8>>>,
    budget: Duration,
) -> EngineRun {
    install_quiet_hook();
    let (tx, rx) = mpsc::sync_channel::<ThreadResult>(1);
    let spawned = thread::Builder::new()
        .name(format!("pdf-{}", E::ID.as_str()))
        .stack_size(THREAD_STACK_BYTES)
        .spawn(move || {
            QUIET_PANICS.with(|q| q.set(true));
            let result = panic::catch_unwind(AssertUnwindSafe(|| E::extract_pages(&bytes, &passwords)))
                .map_err(|payload| panic_text(&*payload));
            // The receiver is gone if we overran the budget; nobody is left to tell.
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return EngineRun::Failed(format!("cannot start an engine thread: {e}"));
    }
    match rx.recv_timeout(budget) {
        Ok(Ok(Ok(output))) => EngineRun::Done(output),
        Ok(Ok(Err(EngineError::Encrypted))) => EngineRun::Encrypted,
        Ok(Ok(Err(EngineError::Failed(message)))) => EngineRun::Failed(message),
        Ok(Err(message)) => EngineRun::Panicked(message),
        Err(mpsc::RecvTimeoutError::Timeout) => EngineRun::TimedOut(budget),
        // The thread died without sending: only a panic inside the panic machinery does that.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            EngineRun::Panicked("the engine thread ended without a result".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PdfEngineId;

    struct Panicking;
    impl PdfEngine for Panicking {
        const ID: PdfEngineId = PdfEngineId::PdfExtract;
        fn extract_pages(_: &[u8], _: &[Vec<u8>]) -> Result<EngineOutput, EngineError> {
            panic!("boom from a test engine")
        }
    }

    struct Hanging;
    impl PdfEngine for Hanging {
        const ID: PdfEngineId = PdfEngineId::PdfOxide;
        fn extract_pages(_: &[u8], _: &[Vec<u8>]) -> Result<EngineOutput, EngineError> {
            thread::sleep(Duration::from_secs(5));
            Err(EngineError::Failed("woke up".into()))
        }
    }

    #[test]
    fn a_panic_becomes_panicked_with_its_message() {
        match run_isolated::<Panicking>(Arc::new(vec![]), Arc::new(vec![]), Duration::from_secs(10)) {
            EngineRun::Panicked(m) => {
                assert!(m.contains("boom from a test engine"), "{m}");
                assert!(m.contains("isolate.rs"), "location missing: {m}");
            }
            other => panic!("expected a panic, got {other:?}"),
        }
    }

    #[test]
    fn an_overrun_becomes_timed_out() {
        let started = std::time::Instant::now();
        let run = run_isolated::<Hanging>(Arc::new(vec![]), Arc::new(vec![]), Duration::from_millis(100));
        assert!(matches!(run, EngineRun::TimedOut(_)), "{run:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
