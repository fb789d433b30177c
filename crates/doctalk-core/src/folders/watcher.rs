//! Keeping watched folders in sync while the app or server runs: filesystem notifications,
//! debounced, trigger a pass; a timer runs one anyway now and then (notifications can be lost:
//! network drives, an overflowing kernel queue), and one runs at start for changes made while
//! DocTalk was closed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::sync::{SyncReport, SETTLE};
use super::Folders;
use crate::KnowledgeBase;

/// Quiet time after the last notification before a pass starts: a burst of 500 files (a copy,
/// an unzip) becomes one pass, not 500.
pub const DEBOUNCE: Duration = Duration::from_millis(800);
/// The safety-net rescan interval.
pub const RESCAN: Duration = Duration::from_secs(300);

enum Signal {
    /// Something changed under a watched folder.
    Changed,
    /// The list of watched folders changed: watch the new list and run a pass.
    Refresh,
    Stop,
}

/// A running watcher for one knowledge base. Dropping it stops it.
pub struct FolderWatcher {
    signals: mpsc::UnboundedSender<Signal>,
}

impl FolderWatcher {
    /// Starts watching `folders`' list for `kb`, running a first pass at once. `on_pass` sees
    /// every pass's report (logs, the UI's status); pass errors are logged and retried later.
    pub fn start(
        kb: KnowledgeBase,
        folders: Arc<Folders>,
        on_pass: impl Fn(&crate::Result<SyncReport>) + Send + Sync + 'static,
    ) -> FolderWatcher {
        let (tx, rx) = mpsc::unbounded_channel();
        let notify_tx = tx.clone();
        tokio::spawn(run(kb, folders, notify_tx, rx, on_pass));
        let _ = tx.send(Signal::Refresh);
        FolderWatcher { signals: tx }
    }

    /// Call after adding or removing a watched folder.
    pub fn refresh(&self) {
        let _ = self.signals.send(Signal::Refresh);
    }
}

impl Drop for FolderWatcher {
    fn drop(&mut self) {
        let _ = self.signals.send(Signal::Stop);
    }
}

/// Watches the current list; folders that cannot be watched (gone) are left to the rescan.
fn watch_list(folders: &Folders, tx: &mpsc::UnboundedSender<Signal>) -> Option<RecommendedWatcher> {
    let events = tx.clone();
    let own = folders.own_dir();
    let list_file = own.join(super::LIST_FILE);
    let own_dir = own.clone();
    let mut watcher = match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // The list itself changed (`doctalk watch add|rm` beside a running server): follow it.
        if matches!(&event, Ok(e) if !e.kind.is_access() && e.paths.iter().any(|p| p == &list_file)) {
            let _ = events.send(Signal::Refresh);
            return;
        }
        // Reads change nothing, and neither do DocTalk's own writes (its index inside a watched
        // folder would otherwise trigger pass after pass); anything else, errors included, asks
        // for a pass.
        let ignored = matches!(&event, Ok(e) if e.kind.is_access()
            || (!e.paths.is_empty() && e.paths.iter().all(|p| p.starts_with(&own) || is_hidden(p))));
        if !ignored {
            let _ = events.send(Signal::Changed);
        }
    }) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "filesystem notifications are unavailable; relying on rescans");
            return None;
        }
    };
    let list: Vec<PathBuf> = folders
        .list()
        .map(|l| l.into_iter().map(|f| f.path).collect())
        .unwrap_or_default();
    for path in list {
        if let Err(e) = watcher.watch(&path, RecursiveMode::Recursive) {
            tracing::warn!(folder = %path.display(), error = %e, "cannot watch the folder; it is rescanned periodically");
        }
    }
    if let Err(e) = watcher.watch(&own_dir, RecursiveMode::NonRecursive) {
        tracing::warn!(dir = %own_dir.display(), error = %e, "changes to the folder list are picked up at the next rescan");
    }
    Some(watcher)
}

fn is_hidden(path: &std::path::Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

async fn run(
    kb: KnowledgeBase,
    folders: Arc<Folders>,
    tx: mpsc::UnboundedSender<Signal>,
    mut rx: mpsc::UnboundedReceiver<Signal>,
    on_pass: impl Fn(&crate::Result<SyncReport>) + Send + Sync + 'static,
) {
    let mut _watcher: Option<RecommendedWatcher> = None;
    // When the next pass is due; `None`: only at the rescan.
    let mut due: Option<tokio::time::Instant> = None;
    let mut rescan = tokio::time::Instant::now() + RESCAN;
    loop {
        let wake = due.map_or(rescan, |d| d.min(rescan));
        tokio::select! {
            signal = rx.recv() => match signal {
                None | Some(Signal::Stop) => return,
                Some(Signal::Changed) => due = Some(tokio::time::Instant::now() + DEBOUNCE),
                Some(Signal::Refresh) => {
                    _watcher = watch_list(&folders, &tx);
                    due = Some(tokio::time::Instant::now());
                }
            },
            _ = tokio::time::sleep_until(wake) => {
                due = None;
                rescan = tokio::time::Instant::now() + RESCAN;
                let result = folders.sync(&kb, &|_| {}).await;
                if let Ok(report) = &result {
                    // Files still being written get another look once they may have settled,
                    // even if no further notification comes.
                    if report.queued > 0 {
                        due = Some(tokio::time::Instant::now() + SETTLE);
                    }
                }
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "a sync pass of the watched folders failed; retrying later");
                }
                on_pass(&result);
            }
        }
    }
}
