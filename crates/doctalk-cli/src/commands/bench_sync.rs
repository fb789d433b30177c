//! `doctalk bench sync`: the cost of keeping a big watched folder current. Makes a folder of
//! `--files` short notes, indexes it once, then times passes over it unchanged, beside a bare
//! listing (`stat` of every entry) of the same tree in the same run: the floor any sync has.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use doctalk_core::folders::{Folders, SETTLE};
use doctalk_core::KnowledgeBase;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::BenchSyncArgs;
use crate::output::{out_line, Progress};

pub async fn run(ctx: &Ctx, args: BenchSyncArgs) -> anyhow::Result<ExitCode> {
    let scratch = tempfile::tempdir()?;
    let tree = scratch.path().join("docs");
    for i in 0..args.files {
        let dir = tree.join(format!("d{:03}", i % 100));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join(format!("note-{i:05}.md")),
            format!(
                "# Note {i}\n\nRoom {} is booked by team {} on day {i}.\n",
                i % 37,
                i % 11
            ),
        )?;
    }
    let kb = KnowledgeBase::open(&scratch.path().join("kb"), ctx.load_embedder()?).await?;
    let folders = Folders::new(scratch.path().join("kb"));
    let folder = folders.add(&tree, vec![], vec![])?;
    tokio::time::sleep(SETTLE).await;

    let bar = Progress::new(args.files as u64, "first sync");
    let started = Instant::now();
    let first = folders
        .sync(&kb, &|event| {
            if let doctalk_core::folders::SyncEvent::Ingest(doctalk_core::IngestEvent::FileFinished(_)) =
                event
            {
                bar.inc();
            }
        })
        .await?;
    bar.finish();
    let first_s = started.elapsed().as_secs_f64();

    let mut passes = Vec::new();
    let mut listings = Vec::new();
    let mut read = 0;
    for _ in 0..args.passes {
        let t = Instant::now();
        let entries = list_tree(&folder.path)?;
        listings.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let report = folders.sync(&kb, &|_| {}).await?;
        passes.push(t.elapsed().as_secs_f64());
        read += report.files.len();
        anyhow::ensure!(
            report.unchanged == args.files && entries >= args.files,
            "the folder changed under the benchmark: {} unchanged of {}",
            report.unchanged,
            args.files
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (pass_s, list_s) = (median(&mut passes.clone()), median(&mut listings.clone()));
    let result = json!({
        "files": args.files,
        "first_sync_s": first_s,
        "first_sync_files_per_s": args.files as f64 / first_s,
        "first_sync": {"added": first.added, "failed": first.failed},
        "unchanged_pass_s": passes,
        "unchanged_pass_median_s": pass_s,
        "bare_listing_s": listings,
        "bare_listing_median_s": list_s,
        "ratio_to_listing": pass_s / list_s.max(1e-9),
        "files_read_in_unchanged_passes": read,
        "peak_rss_mib": super::bench::peak_rss_kib().map(|k| k / 1024),
    });
    if args.json {
        out_line(&result.to_string())?;
    } else {
        out_line(&format!(
            "{} files: first sync {:.1} s ({:.0} files/s); unchanged pass median {:.3} s vs bare listing {:.3} s ({:.1}×); files read by unchanged passes: {read}",
            args.files,
            first_s,
            args.files as f64 / first_s,
            pass_s,
            list_s,
            pass_s / list_s.max(1e-9)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Lists the tree with one `stat` per entry, as the sync pass must at least do.
fn list_tree(dir: &Path) -> std::io::Result<usize> {
    let mut count = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        count += 1;
        if meta.is_dir() {
            count += list_tree(&entry.path())?;
        }
    }
    Ok(count)
}
