//! `wasm_buildpack`: the app is already a WebAssembly component (built with
//! Rust, TinyGo, componentize-py, jco…) or a WASI preview 1 module. Staging
//! finds it, proves it is valid and something the DEA can run — a component
//! exporting `wasi:http/incoming-handler` or (WASI 0.3) `wasi:http/handler`
//! (served per request) or `wasi:cli/run` of WASI 0.2 or 0.3 (a
//! long-running program), or a preview 1 module exporting `_start` (a
//! program too) — and releases it as the start command.
//!
//! Which one: the `web:` line of a `Procfile` when it names a `.wasm`,
//! otherwise the only `.wasm` in the app.

use std::fs;
use std::path::{Path, PathBuf};

use wasmfoundry_guest::{Buildpack, Release, procfile_web};
use wasmparser::{Parser, Payload, Validator, WasmFeatures};

/// Components this deep below the app root are still found (CF apps keep
/// build output in folders like `target/wasm32-wasip2/release`).
const MAX_DEPTH: usize = 4;

/// The exports that make a component, or a core module, something the DEA
/// can run.
const RUNNABLE_EXPORTS: [&str; 5] =
    ["wasi:http/incoming-handler@0.2", "wasi:http/handler@0.3", "wasi:cli/run@0.2", "wasi:cli/run@0.3", "_start"];

struct WasmBuildpack;

impl Buildpack for WasmBuildpack {
    fn detect(build_dir: &Path) -> Option<String> {
        // A Procfile that starts something else (`web: node app.js`) is
        // another buildpack's app.
        let web_is_wasm = procfile_web(build_dir)
            .is_some_and(|command| command.split_whitespace().next().is_some_and(|first| first.ends_with(".wasm")));
        let any = web_is_wasm || !find_programs(build_dir).is_empty();
        any.then(|| "wasm".to_string())
    }

    fn compile(build_dir: &Path, _cache_dir: &Path) -> Result<(), String> {
        let (path, _) = start_program(build_dir)?;
        let rel = relative(build_dir, &path);
        println!("-----> WebAssembly program: {rel}");
        let bytes = fs::read(&path).map_err(|e| format!("cannot read {rel}: {e}"))?;
        Validator::new_with_features(WasmFeatures::all())
            .validate_all(&bytes)
            .map_err(|e| format!("{rel} is not valid WebAssembly: {e}"))?;
        let exports = top_level_exports(&bytes).map_err(|e| format!("{rel}: {e}"))?;
        let runnable = exports
            .iter()
            .find(|name| RUNNABLE_EXPORTS.iter().any(|r| name.starts_with(r)))
            .ok_or_else(|| {
                format!(
                    "{rel} exports neither a wasi:http handler nor wasi:cli/run, nor (a preview 1 module) _start (it exports: {})",
                    if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
                )
            })?;
        println!("       validated ({} KiB), exports {runnable}", bytes.len() / 1024);
        Ok(())
    }

    fn release(build_dir: &Path) -> Result<Release, String> {
        let (_, command) = start_program(build_dir)?;
        Ok(Release::new(command))
    }
}

wasmfoundry_guest::export_buildpack!(WasmBuildpack);

/// The program to start and the full start command.
fn start_program(build_dir: &Path) -> Result<(PathBuf, String), String> {
    if let Some(command) = procfile_web(build_dir) {
        let first = command.split_whitespace().next().unwrap_or_default();
        let path = build_dir.join(first);
        if !is_wasm(&path) {
            return Err(format!("Procfile web command names {first}, which is not a WebAssembly component or module in the app"));
        }
        return Ok((path, command));
    }
    let mut found = find_programs(build_dir);
    match found.len() {
        0 => Err("no WebAssembly component or module (.wasm) found in the app".to_string()),
        1 => {
            let path = found.remove(0);
            let command = relative(build_dir, &path);
            Ok((path, command))
        }
        _ => Err(format!(
            "several WebAssembly programs found ({}); name the one to start in a Procfile (web: app.wasm)",
            found.iter().map(|p| relative(build_dir, p)).collect::<Vec<_>>().join(", ")
        )),
    }
}


fn find_programs(build_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(build_dir, 0, &mut found);
    found.sort();
    found
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() && depth < MAX_DEPTH {
            walk(&path, depth + 1, found);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "wasm") && is_wasm(&path) {
            found.push(path);
        }
    }
}

/// A component starts with the wasm magic and the component-model layer; a
/// core module with the magic and version 1.
fn is_wasm(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 8];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok()
        && header[..4] == *b"\0asm"
        && (header[6..8] == [1, 0] || header[4..8] == [1, 0, 0, 0])
}

/// Names the outermost exports of a component, or a core module's exports
/// (nested modules and components have exports of their own, which do not
/// count).
fn top_level_exports(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut depth = 0usize;
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            Payload::Version { .. } => depth += 1,
            Payload::ExportSection(section) if depth == 1 => {
                for export in section {
                    exports.push(export.map_err(|e| e.to_string())?.name.to_string());
                }
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentExportSection(section) if depth == 1 => {
                for export in section {
                    exports.push(export.map_err(|e| e.to_string())?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(exports)
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base).unwrap_or(path).to_string_lossy().into_owned()
}
