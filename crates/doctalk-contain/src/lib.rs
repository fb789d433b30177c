//! Containing what a parser or model-reading library does wrong: its panics become errors with their message and
//! location (kept off stderr), and work that may hang runs on a thread of its own under a time
//! budget. Threads get a large stack, because a stack overflow (deeply nested PDF objects) aborts
//! the whole process and no `catch_unwind` can stop that.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Once};
use std::thread;
use std::time::Duration;

/// Stack for the threads parsers run on. Only touched pages are committed, so this costs address
/// space, not memory.
pub const THREAD_STACK_BYTES: usize = 128 << 20;

thread_local! {
    /// Set on threads running a parser (inside [`contained`], [`stream_isolated`] or a PDF
    /// engine's thread): their panics are expected and reported as diagnostics, so the default
    /// hook's stderr message is suppressed there.
    pub static QUIET_PANICS: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic on this thread happened, captured by the hook.
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL_HOOK: Once = Once::new();

/// Wraps the current panic hook once per process: on quiet threads (see `QUIET_PANICS`) it only
/// records the location; every other thread still gets the previous hook, unchanged.
pub fn install_quiet_hook() {
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
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
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
pub fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_quiet_hook();
    let was_quiet = QUIET_PANICS.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_text(&*payload));
    QUIET_PANICS.with(|q| q.set(was_quiet));
    result
}

/// How a [`stream_isolated`] run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// The producer returned.
    Finished,
    /// No next item came within the budget: the producer was abandoned.
    TimedOut(Duration),
    Panicked(String),
}

/// Runs `produce` on its own thread (named `name`, with a stack of [`THREAD_STACK_BYTES`]) and
/// hands each item it sends to `each` here: the producer makes the next item while `each` works on
/// the last one, and waits for it to be taken (a rendezvous), so at most two items exist at once.
/// Each item must arrive within `budget` of being asked for; a producer that overruns is abandoned
/// (Rust cannot stop a thread: it stops at its next send, which finds nobody listening). `send`
/// returns `false` once nobody listens, so a producer can stop early.
pub fn stream_isolated<T: Send + 'static>(
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
    let (tx, rx) = mpsc::sync_channel::<Message<T>>(0);
    let spawned = thread::Builder::new()
        .name(name.to_string())
        .stack_size(THREAD_STACK_BYTES)
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
        let (late_tx, late_rx) = mpsc::channel();
        let mut got = Vec::new();
        let end = stream_isolated(
            "test-stream",
            Duration::from_millis(200),
            move |send| {
                send(1);
                send(2);
                thread::sleep(Duration::from_secs(1));
                // Abandoned by now: this send finds nobody listening, and says so.
                let _ = late_tx.send(send(3));
            },
            |i| got.push(i),
        );
        assert_eq!(end, StreamEnd::TimedOut(Duration::from_millis(200)));
        assert_eq!(got, [1, 2]);
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(late_rx.recv_timeout(Duration::from_secs(10)), Ok(false));
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
