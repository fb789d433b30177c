//! `doctalk-fuzz TARGET [FILE…]`: runs one fuzz target. Built with `--features afl` by
//! `cargo afl build`, it is the program afl-fuzz drives; built plainly it runs the target on each
//! FILE (or on standard input), which is how a crash the fuzzer found is reproduced.

#[cfg(not(feature = "afl"))]
use std::io::Read;
use std::process::ExitCode;

use doctalk_fuzz::Target;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(target) = args
        .next()
        .as_deref()
        .and_then(Target::from_name)
        .filter(|t| t.available())
    else {
        let names: Vec<&str> = Target::ALL
            .iter()
            .filter(|t| t.available())
            .map(|t| t.name())
            .collect();
        eprintln!(
            "usage: doctalk-fuzz TARGET [FILE…]\ntargets: {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    #[cfg(feature = "afl")]
    {
        let _ = args;
        afl::fuzz!(|data: &[u8]| target.run(data));
        ExitCode::SUCCESS
    }
    #[cfg(not(feature = "afl"))]
    {
        let files: Vec<String> = args.collect();
        if files.is_empty() {
            let mut data = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut data) {
                eprintln!("cannot read standard input: {e}");
                return ExitCode::FAILURE;
            }
            target.run(&data);
        }
        for file in files {
            match std::fs::read(&file) {
                Ok(data) => target.run(&data),
                Err(e) => {
                    eprintln!("{file}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        ExitCode::SUCCESS
    }
}
