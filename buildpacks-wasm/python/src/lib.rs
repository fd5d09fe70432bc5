//! `python_buildpack`: the app is Python source — a WSGI application
//! (Flask, Bottle, Falcon, Django's `wsgi.py`, or a plain function), as
//! the Cloud Foundry Python buildpack runs under gunicorn.
//!
//! Detect: `app.py`, `main.py`, `wsgi.py`, `requirements.txt`, or a
//! Procfile whose web line runs Python (`gunicorn hello:app`,
//! `waitress-serve hello:app`, `python app.py`). Compile checks the
//! vendored packages (their compiled extension modules are left out, and
//! a package that cannot do without one fails staging naming it;
//! requirements.txt without vendored packages fails saying how to vendor
//! them, since nothing is downloaded at staging) and
//! puts the runtime component (`runtime/`, CPython) in the droplet as
//! `.wf/python.wasm`; release starts it on `module:callable`. The runtime
//! exports `wasmfoundry:buildpack/preinit`: the DEA imports the app once
//! at staging (a syntax error fails staging there) and instances start
//! from that snapshot.

use std::fs;
use std::path::{Path, PathBuf};

use wasmfoundry_guest::{Buildpack, Release, procfile_web, write_into_app};

/// The runtime, built from `runtime/` by scripts/build-wasm.sh, and the
/// standard library it imports from (it holds only what it imported when
/// it was built); the runtime looks for the library at [`STDLIB_PATH`].
const RUNTIME: &[u8] = include_bytes!(env!("WF_PYTHON_RUNTIME_WASM"));
const RUNTIME_PATH: &str = ".wf/python.wasm";
const STDLIB: &[u8] = include_bytes!(env!("WF_PYTHON_STDLIB_ZIP"));
const STDLIB_PATH: &str = ".wf/python-stdlib.zip";
/// Modules tried when nothing names one, with the callable each holds by
/// convention (the runtime tries `app`, then `application`).
const CANDIDATES: [&str; 3] = ["app", "main", "wsgi"];
/// Programs whose Procfile line is a Python web server.
const SERVERS: [&str; 6] = ["python", "python3", "gunicorn", "waitress-serve", "uwsgi", "flask"];
/// Where a push keeps its packages (the runtime puts each on sys.path).
const PACKAGE_DIRS: [&str; 4] = ["vendor", ".python_packages", "venv", ".venv"];

struct Python;

impl Buildpack for Python {
    fn detect(build_dir: &Path) -> Option<String> {
        let by_files = ["requirements.txt", "app.py", "main.py", "wsgi.py"].iter().any(|f| build_dir.join(f).is_file());
        let by_procfile = procfile_web(build_dir)
            .and_then(|web| web.split_whitespace().next().map(str::to_string))
            .is_some_and(|program| SERVERS.contains(&program.as_str()));
        (by_files || by_procfile).then(|| "python".to_string())
    }

    fn compile(build_dir: &Path, _cache_dir: &Path) -> Result<(), String> {
        let target = wsgi_target(build_dir)?.ok_or(
            "no WSGI module: add app.py (with `app = Flask(__name__)` or a WSGI function named app), \
             or name one in a Procfile (web: gunicorn module:app)",
        )?;
        println!("-----> Python WSGI app: {target}");
        let vendored = vendor_packages(build_dir)?;
        if !vendored.left_out.is_empty() {
            println!("-----> Left out compiled extension modules, which cannot run in WebAssembly");
            println!("       (a package that imports them only if it can runs on its pure-Python code):");
            vendored.left_out.iter().for_each(|module| println!("       {module}"));
        }
        if vendored.packages > 0 {
            println!("       {} packages vendored", vendored.packages);
        } else if lists_requirements(build_dir) {
            return Err("requirements.txt lists packages but none were pushed: run \
                        `pip install --target vendor -r requirements.txt` before pushing \
                        (the runtime imports pure-Python packages from the app's vendor directory)"
                .into());
        }
        write_into_app(build_dir, RUNTIME_PATH, RUNTIME)?;
        write_into_app(build_dir, STDLIB_PATH, STDLIB)?;
        println!("       runtime: {RUNTIME_PATH} (CPython 3.14, {} KiB)", RUNTIME.len() / 1024);
        Ok(())
    }

    fn release(build_dir: &Path) -> Result<Release, String> {
        let target = wsgi_target(build_dir)?.ok_or("no WSGI module")?;
        Ok(Release::new(format!("{RUNTIME_PATH} {target}")))
    }

    const RUNTIMES: &'static [(&'static str, &'static [u8])] = &[("python.wasm", RUNTIME)];
}

wasmfoundry_guest::export_buildpack!(Python);

/// What the runtime imports: `module:callable` from the Procfile's web
/// line (gunicorn's and waitress's argument, or `python FILE.py`), else the
/// first of app.py, main.py, wsgi.py (the callable then found by name).
fn wsgi_target(build_dir: &Path) -> Result<Option<String>, String> {
    if let Some(web) = procfile_web(build_dir) {
        let words: Vec<&str> = web.split_whitespace().collect();
        if let Some(target) = words.iter().skip(1).find(|w| is_wsgi_target(w)) {
            let module = target.split(':').next().unwrap_or_default();
            return existing_module(build_dir, module).map(|_| Some(target.to_string()));
        }
        if let Some(file) = words.iter().skip(1).find(|w| w.ends_with(".py")) {
            let module = file.trim_start_matches("./").trim_end_matches(".py").replace('/', ".");
            return existing_module(build_dir, &module).map(|_| Some(module));
        }
    }
    Ok(CANDIDATES.iter().find(|name| build_dir.join(format!("{name}.py")).is_file()).map(|name| name.to_string()))
}

/// `module:callable`, both dotted Python names (not `0.0.0.0:$PORT`).
fn is_wsgi_target(word: &str) -> bool {
    let dotted_name = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|part| {
                part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
    };
    word.split_once(':').is_some_and(|(module, callable)| dotted_name(module) && dotted_name(callable))
}

fn existing_module(build_dir: &Path, module: &str) -> Result<(), String> {
    let path = module.replace('.', "/");
    if build_dir.join(format!("{path}.py")).is_file() || build_dir.join(&path).join("__init__.py").is_file() {
        Ok(())
    } else {
        Err(format!("the WSGI module {module} is not in the app (no {path}.py)"))
    }
}


fn lists_requirements(build_dir: &Path) -> bool {
    fs::read_to_string(build_dir.join("requirements.txt")).is_ok_and(|text| {
        text.lines().map(|line| line.split('#').next().unwrap_or_default().trim()).any(|line| !line.is_empty())
    })
}

/// What the app vendored: how many packages, and the compiled extension
/// modules (`.so`, `.pyd`) that were left out of it.
#[derive(Default)]
struct Vendored {
    packages: usize,
    left_out: Vec<String>,
}

/// Counts the packages vendored with the app and leaves their compiled
/// extension modules out: each is replaced by a Python module of the same
/// name that raises `ImportError` saying why. Many packages import their
/// extension in a `try` and fall back to pure Python (markupsafe, PyYAML,
/// simplejson, charset-normalizer…): those run as they are. One that
/// cannot do without it fails staging when the app is imported, with that
/// error naming its package.
fn vendor_packages(build_dir: &Path) -> Result<Vendored, String> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => walk(&path, found),
                Ok(kind) if kind.is_file() => {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if name.ends_with(".so") || name.ends_with(".pyd") || name == "METADATA" {
                        found.push(path);
                    }
                }
                _ => {}
            }
        }
    }
    let mut vendored = Vendored::default();
    for dir in PACKAGE_DIRS {
        let root = build_dir.join(dir);
        let mut found = Vec::new();
        walk(&root, &mut found);
        for path in found {
            if path.file_name().is_some_and(|n| n == "METADATA") {
                // One installed distribution: NAME-VERSION.dist-info/METADATA.
                vendored.packages +=
                    usize::from(path.parent().is_some_and(|p| p.to_string_lossy().ends_with(".dist-info")));
                continue;
            }
            let relative = path.strip_prefix(build_dir).unwrap_or(&path).display().to_string();
            leave_out(&root, &path, &relative)?;
            vendored.left_out.push(format!("{relative} (package {})", package_of(&root, &path)));
        }
    }
    vendored.left_out.sort();
    Ok(vendored)
}

/// Removes the compiled module at `path` and, unless a Python module of
/// its name is there too, puts one in its place that fails to import.
fn leave_out(root: &Path, path: &Path, relative: &str) -> Result<(), String> {
    fs::remove_file(path).map_err(|e| format!("removing {relative}: {e}"))?;
    // `_speedups.cpython-314-x86_64-linux-gnu.so` is module `_speedups`.
    let file = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let module = file.split('.').next().unwrap_or_default();
    let stub = path.with_file_name(format!("{module}.py"));
    if module.is_empty() || stub.exists() || path.with_file_name(module).join("__init__.py").exists() {
        return Ok(());
    }
    let message = format!(
        "{relative} is a compiled extension module, which cannot run in WebAssembly: package {} needs a \
         pure-Python version (or one built for WASI)",
        package_of(root, path)
    );
    let text = format!("raise ImportError({message:?})\n");
    fs::write(&stub, text).map_err(|e| format!("writing {}: {e}", stub.display()))
}

/// The importable package a file belongs to: the first directory under
/// the site root (after a `lib/pythonX.Y/site-packages` layout if any).
fn package_of(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let start = parts.iter().position(|p| p == "site-packages").map_or(0, |i| i + 1);
    let name = parts.get(start).cloned().unwrap_or_default();
    name.split('.').next().unwrap_or_default().to_string()
}
