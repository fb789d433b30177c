fn main() {
    // The UI is compiled into the binary: fail with the fix, not with a codegen error about paths.
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/dist/index.html");
    if !dist.is_file() {
        panic!(
            "the desktop app embeds the built UI, and ui/dist is missing: run `npm --prefix ui ci && npm --prefix ui run build` first (scripts/setup.sh does)"
        );
    }
    tauri_build::build()
}
