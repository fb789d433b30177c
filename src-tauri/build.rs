fn main() {
    // The UI is compiled into the binary: fail with the fix, not with a codegen error about paths.
    // Read at run time, not with env!(): a build script compiled in another checkout (CI's fresh
    // clone sharing the target directory) must still look in this one.
    let root = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = std::path::Path::new(&root).join("ui/dist/index.html");
    if !dist.is_file() {
        panic!(
            "the desktop app embeds the built UI, and ui/dist is missing: run `npm --prefix ui ci && npm --prefix ui run build` first (scripts/setup.sh does)"
        );
    }
    // The capabilities live in src-tauri/ (the design's layout), not beside Cargo.toml where
    // tauri-build looks by default; without this pattern the app gets none and the window may
    // not listen for drag-and-drop events.
    let attributes = tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/**/*");
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build: {e:#}");
    }
}
