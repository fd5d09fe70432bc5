//! `js_buildpack`: the app is JavaScript source — a module exporting a
//! fetch handler (`export default { fetch }`, `module.exports = { fetch }`
//! or `addEventListener('fetch', …)`), as on Workers, Deno Deploy or Spin.
//!
//! Detect: a `package.json` with `main`, an `index.js` / `app.js` /
//! `server.js` (or `.mjs`), or a Procfile whose web line runs one with
//! `node`. Compile checks what the pushed `node_modules` holds (a native
//! addon cannot run in WebAssembly: staging fails naming it) and puts the
//! runtime component (`runtime/`, QuickJS) in the droplet as
//! `.wf/js.wasm`; release starts it on the main module. The runtime
//! exports `wasmfoundry:buildpack/preinit`, so the DEA loads the app once
//! at staging and instances start from that snapshot; a syntax error, or a
//! module that throws while loading, fails staging there.

use std::fs;
use std::path::{Path, PathBuf};

use wasmfoundry_guest::{Buildpack, Release, procfile_web, write_into_app};

/// The runtime, built from `runtime/` by scripts/build-wasm.sh.
const RUNTIME: &[u8] = include_bytes!(env!("WF_JS_RUNTIME_WASM"));
const RUNTIME_PATH: &str = ".wf/js.wasm";
const CANDIDATES: [&str; 6] = ["index.js", "index.mjs", "server.js", "server.mjs", "app.js", "app.mjs"];

struct JavaScript;

impl Buildpack for JavaScript {
    fn detect(build_dir: &Path) -> Option<String> {
        main_module(build_dir).ok().flatten().map(|_| "javascript".to_string())
    }

    fn compile(build_dir: &Path, _cache_dir: &Path) -> Result<(), String> {
        let main = main_module(build_dir)?.ok_or("no JavaScript main module: add index.js, or name one in package.json's \"main\"")?;
        println!("-----> JavaScript app: {main}");
        let packages = check_node_modules(build_dir)?;
        if packages > 0 {
            println!("       {packages} packages in node_modules");
        } else if declares_dependencies(build_dir) {
            return Err("package.json declares dependencies but node_modules was not pushed: run `npm install --omit=dev` \
                        before pushing (the runtime loads pure-JavaScript packages from the app's node_modules)"
                .into());
        }
        write_into_app(build_dir, RUNTIME_PATH, RUNTIME)?;
        println!("       runtime: {RUNTIME_PATH} (QuickJS, {} KiB)", RUNTIME.len() / 1024);
        Ok(())
    }

    fn release(build_dir: &Path) -> Result<Release, String> {
        let main = main_module(build_dir)?.ok_or("no JavaScript main module")?;
        Ok(Release::new(format!("{RUNTIME_PATH} {main}")))
    }

    const RUNTIMES: &'static [(&'static str, &'static [u8])] = &[("js.wasm", RUNTIME)];
}

wasmfoundry_guest::export_buildpack!(JavaScript);

/// The app's main module, relative to the app: the Procfile's web command
/// (`node server.js`, or `npm start` with package.json's start script),
/// then package.json's `main`, then the usual file names.
fn main_module(build_dir: &Path) -> Result<Option<String>, String> {
    let package = fs::read_to_string(build_dir.join("package.json")).ok();
    if let Some(web) = procfile_web(build_dir) {
        let command = if web.split_whitespace().take(2).eq(["npm", "start"]) {
            package.as_deref().and_then(|p| json_string(p, "start")).unwrap_or_default()
        } else {
            web
        };
        let mut words = command.split_whitespace();
        if words.next() == Some("node") {
            if let Some(file) = words.find(|w| !w.starts_with('-')) {
                return existing(build_dir, file).map(Some);
            }
        }
    }
    if let Some(main) = package.as_deref().and_then(|p| json_string(p, "main")) {
        return existing(build_dir, &main).map(Some);
    }
    Ok(CANDIDATES.iter().find(|name| build_dir.join(name).is_file()).map(|name| name.to_string()))
}

/// `file` as a path inside the app that exists (with `.js` added if need be).
fn existing(build_dir: &Path, file: &str) -> Result<String, String> {
    let file = file.trim_start_matches("./");
    if file.starts_with('/') || file.split('/').any(|part| part == "..") {
        return Err(format!("the main module {file:?} must be a file inside the app"));
    }
    for candidate in [file.to_string(), format!("{file}.js"), format!("{file}/index.js")] {
        if build_dir.join(&candidate).is_file() {
            return Ok(candidate);
        }
    }
    Err(format!("the main module {file} is not in the app"))
}


/// The string value of the first `"key": "value"` in a JSON text: enough
/// for package.json's `main` and `scripts.start` without a JSON parser.
fn json_string(text: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\"");
    let rest = &text[text.find(&needle)? + needle.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn declares_dependencies(build_dir: &Path) -> bool {
    let Ok(text) = fs::read_to_string(build_dir.join("package.json")) else { return false };
    let Some(at) = text.find("\"dependencies\"") else { return false };
    let rest = text[at..].split_once('{').map(|(_, r)| r.trim_start()).unwrap_or("}");
    !rest.starts_with('}')
}

/// The number of packages under node_modules; a native addon (a
/// `binding.gyp` or a compiled `.node` file) is an error naming its package.
fn check_node_modules(build_dir: &Path) -> Result<usize, String> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => walk(&path, found),
                Ok(kind) if kind.is_file() => {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if name == "binding.gyp" || name.ends_with(".node") || name == "package.json" {
                        found.push(path);
                    }
                }
                _ => {}
            }
        }
    }
    let modules = build_dir.join("node_modules");
    let mut found = Vec::new();
    walk(&modules, &mut found);
    let mut packages = 0;
    for path in &found {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name == "package.json" {
            // A package is a directory straight under node_modules (or a scope).
            let parent = path.parent().and_then(Path::parent);
            packages += usize::from(parent.is_some_and(|p| p.file_name().is_some_and(|n| n == "node_modules" || n.to_string_lossy().starts_with('@'))));
            continue;
        }
        let package = package_of(&modules, path);
        return Err(format!(
            "node_modules/{package} is a native addon ({}), which cannot run in WebAssembly: use a pure-JavaScript package instead",
            path.strip_prefix(&modules).unwrap_or(path).display()
        ));
    }
    Ok(packages)
}

/// The package a file under node_modules belongs to (`name` or `@scope/name`).
fn package_of(modules: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(modules).unwrap_or(file);
    let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    // The innermost node_modules holds it.
    let start = parts.iter().rposition(|p| p == "node_modules").map_or(0, |i| i + 1);
    let take = if parts.get(start).is_some_and(|p| p.starts_with('@')) { 2 } else { 1 };
    parts[start..].iter().take(take).cloned().collect::<Vec<_>>().join("/")
}
