//! Every stored input of every fuzz target — the corpus the fuzzer grew and minimised, and each
//! input that once crashed a parser — goes through its target again: none may panic, and none
//! may take longer than a user would wait for one file. This is the bounded fuzz run of the test
//! suite; scripts/fuzz.sh is the open-ended one.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use doctalk_fuzz::{stored_inputs, Target};

/// One input's limit: the PDF engines get 5 s each (the harness's budget), so two engines and the
/// chunker fit well inside.
const PER_INPUT: Duration = Duration::from_secs(30);

#[test]
fn every_stored_input_of_every_target_is_handled_without_a_panic() {
    let mut replayed = 0;
    let mut slowest = (Duration::ZERO, String::new());
    for target in Target::ALL {
        let inputs = stored_inputs(target);
        assert!(!inputs.is_empty(), "{} has no stored inputs", target.name());
        for path in inputs {
            let data = std::fs::read(&path).unwrap();
            let what = format!("{} on {}", target.name(), path.display());
            let (tx, rx) = mpsc::channel();
            let started = Instant::now();
            std::thread::Builder::new()
                .stack_size(64 << 20)
                .spawn(move || {
                    let outcome = panic::catch_unwind(AssertUnwindSafe(|| target.run(&data)));
                    let _ = tx.send(outcome.is_ok());
                })
                .unwrap();
            match rx.recv_timeout(PER_INPUT) {
                Ok(true) => {}
                Ok(false) => panic!("{what} panicked"),
                Err(_) => panic!("{what} took longer than {PER_INPUT:?}"),
            }
            let took = started.elapsed();
            if took > slowest.0 {
                slowest = (took, what);
            }
            replayed += 1;
        }
    }
    eprintln!(
        "replayed {replayed} inputs; slowest {:?}: {}",
        slowest.0, slowest.1
    );
    assert!(replayed >= 40, "only {replayed} stored inputs");
}

#[test]
fn targets_are_named_for_the_command_line_and_their_folders() {
    for target in Target::ALL {
        assert_eq!(Target::from_name(target.name()), Some(target));
    }
    assert_eq!(Target::from_name("nothing"), None);
}
