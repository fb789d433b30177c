//! Runs one engine on one file so that nothing it does can take the process down.
//!
//! The engine runs on its own thread under `catch_unwind`, with a wall-clock budget. A
//! thread that overruns is abandoned, not killed (Rust cannot kill a thread): it keeps a
//! core busy until it finishes, but the caller goes on. The thread gets a large stack
//! because a stack overflow — deeply nested PDF objects — aborts the whole process and no
//! `catch_unwind` can stop that.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Once};
use std::thread;
use std::time::Duration;

use super::engine::{EngineError, EngineOutput, PdfEngine};

/// Stack for engine threads. Only touched pages are committed, so this costs address
/// space, not memory.
const ENGINE_STACK_BYTES: usize = 128 << 20;

/// How one isolated engine run ended.
#[derive(Debug)]
pub(crate) enum EngineRun {
    Done(EngineOutput),
    Encrypted,
    Failed(String),
    Panicked(String),
    TimedOut(Duration),
}

thread_local! {
    /// Set on engine threads: their panics are expected and reported as diagnostics, so
    /// the default hook's stderr message is suppressed there.
    static QUIET_PANICS: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic on this thread happened, captured by the hook.
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL_HOOK: Once = Once::new();

/// Wraps the current panic hook once per process: on engine threads it only records the
/// location; every other thread still gets the previous hook, unchanged.
fn install_quiet_hook() {
    INSTALL_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let quiet = QUIET_PANICS.try_with(Cell::get).unwrap_or(false);
            if quiet {
                let location = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
                let _ = LAST_PANIC_LOCATION.try_with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// The message inside a panic payload, with its location when the hook caught one.
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    };
    let location = LAST_PANIC_LOCATION
        .try_with(|slot| slot.borrow_mut().take())
        .ok()
        .flatten();
    match location {
        Some(at) => format!("{message} (at {at})"),
        None => message,
    }
}

/// Runs `f` on this thread with its panics caught and kept quiet (recorded, not printed):
/// `Err` holds the panic's message and location. For parsers of other formats, whose libraries
/// can panic on hostile files too (found by fuzzing: calamine overflowing on a cell reference).
pub(crate) fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_quiet_hook();
    let was_quiet = QUIET_PANICS.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_text(&*payload));
    QUIET_PANICS.with(|q| q.set(was_quiet));
    result
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
        .stack_size(ENGINE_STACK_BYTES)
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

/// How a [`stream_isolated`] run ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// The producer returned.
    Finished,
    /// No next item came within the budget: the producer was abandoned.
    TimedOut(Duration),
    Panicked(String),
}

/// Runs `produce` on its own thread (named `name`, with the engines' large stack) and hands each
/// item it sends to `each` here, as it comes: the producer works one item ahead of the consumer,
/// no further, so at most two items exist at once. Each item must come within `budget` of the
/// previous one; a producer that overruns is abandoned as [`run_isolated`] abandons an engine (it
/// stops at its next send, which finds nobody listening). `send` returns `false` once nobody
/// listens, so a producer can stop early.
pub(crate) fn stream_isolated<T: Send + 'static>(
    name: &str,
    budget: Duration,
    produce: impl FnOnce(&dyn Fn(T) -> bool) + Send + 'static,
    mut each: impl FnMut(T),
) -> StreamEnd {
    install_quiet_hook();
    enum Message<T> {
        Item(T),
        Done(Result<(), String>),
    }
    let (tx, rx) = mpsc::sync_channel::<Message<T>>(1);
    let spawned = thread::Builder::new()
        .name(name.to_string())
        .stack_size(ENGINE_STACK_BYTES)
        .spawn(move || {
            QUIET_PANICS.with(|q| q.set(true));
            let send = |item: T| tx.send(Message::Item(item)).is_ok();
            let result = panic::catch_unwind(AssertUnwindSafe(|| produce(&send)))
                .map_err(|payload| panic_text(&*payload));
            let _ = tx.send(Message::Done(result));
        });
    if let Err(e) = spawned {
        return StreamEnd::Panicked(format!("cannot start a thread: {e}"));
    }
    loop {
        match rx.recv_timeout(budget) {
            Ok(Message::Item(item)) => each(item),
            Ok(Message::Done(Ok(()))) => return StreamEnd::Finished,
            Ok(Message::Done(Err(message))) => return StreamEnd::Panicked(message),
            Err(mpsc::RecvTimeoutError::Timeout) => return StreamEnd::TimedOut(budget),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return StreamEnd::Panicked("the thread ended without a result".to_string())
            }
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
    #[test]
    fn a_stream_hands_over_every_item_in_order() {
        let mut got = Vec::new();
        let end = stream_isolated(
            "test-stream",
            Duration::from_secs(10),
            |send| {
                for i in 0..5 {
                    assert!(send(i));
                }
            },
            |i| got.push(i),
        );
        assert_eq!(end, StreamEnd::Finished);
        assert_eq!(got, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_stream_that_stalls_keeps_what_came_and_times_out() {
        let started = std::time::Instant::now();
        let mut got = Vec::new();
        let end = stream_isolated(
            "test-stream",
            Duration::from_millis(200),
            |send| {
                send(1);
                send(2);
                thread::sleep(Duration::from_secs(5));
                // Abandoned by now: nobody listens, and this send tells the producer so.
                send(3);
            },
            |i| got.push(i),
        );
        assert_eq!(end, StreamEnd::TimedOut(Duration::from_millis(200)));
        assert_eq!(got, [1, 2]);
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_stream_whose_producer_panics_says_why() {
        let mut got = Vec::new();
        let end = stream_isolated(
            "test-stream",
            Duration::from_secs(10),
            |send| {
                send("first");
                panic!("boom from a test producer");
            },
            |s| got.push(s),
        );
        assert!(
            matches!(&end, StreamEnd::Panicked(m) if m.contains("boom from a test producer")),
            "{end:?}"
        );
        assert_eq!(got, ["first"]);
    }
}
