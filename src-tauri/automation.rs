//! Test automation hooks. An end-to-end run starts the app through tauri-driver and
//! WebKitWebDriver; a driver that dies or forgets the app must not leave it running (an orphaned
//! window once kept a CI run waiting until its limit). When `DOCTALK_PID_DIR` is set (only the
//! e2e harness sets it), the app
//! - asks the kernel to kill it when the process that started it exits (Linux `PR_SET_PDEATHSIG`),
//! - writes its pid to `DOCTALK_PID_DIR/desktop-<pid>.pid`, so the harness can end it by pid.
//!
//! A user's app never sees the variable, and nothing changes for it.

use std::path::PathBuf;

pub fn bind_to_test_harness() {
    let Some(dir) = std::env::var_os("DOCTALK_PID_DIR").map(PathBuf::from) else {
        return;
    };
    die_with_parent();
    let pid = std::process::id();
    if let Err(e) = std::fs::write(dir.join(format!("desktop-{pid}.pid")), pid.to_string()) {
        tracing::warn!(error = %e, dir = %dir.display(), "could not write the pid file");
    }
}

#[cfg(target_os = "linux")]
fn die_with_parent() {
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag of this process; getppid cannot fail.
    unsafe {
        let parent = libc::getppid();
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // The parent may have died before the flag was set: then nobody would send the signal.
        if libc::getppid() != parent {
            std::process::exit(1);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent() {}
