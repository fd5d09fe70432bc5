//! `python_buildpack`: the app is Python source — a WSGI application
//! (Flask, Bottle, Falcon, Django's `wsgi.py`, or a plain function), as
//! the Cloud Foundry Python buildpack runs under gunicorn.
//!
//! Detect: `app.py`, `main.py`, `wsgi.py`, `requirements.txt`, or a
//! Procfile whose web line runs Python (`gunicorn hello:app`,
//! `waitress-serve hello:app`, `python app.py`). Compile checks the
//! vendored packages (pure Python only: a compiled extension fails staging
//! naming its package; requirements.txt without vendored packages fails
//! saying how to vendor them, since nothing is downloaded at staging) and
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
        let packages = check_packages(build_dir)?;
        if packages > 0 {
            println!("       {packages} packages vendored");
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

/// The number of packages vendored with the app; a compiled extension
/// module (`.so`, `.pyd`) is an error naming its package.
fn check_packages(build_dir: &Path) -> Result<usize, String> {
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
    let mut packages = 0;
    for dir in PACKAGE_DIRS {
        let root = build_dir.join(dir);
        let mut found = Vec::new();
        walk(&root, &mut found);
        for path in found {
            if path.file_name().is_some_and(|n| n == "METADATA") {
                // One installed distribution: NAME-VERSION.dist-info/METADATA.
                packages += usize::from(path.parent().is_some_and(|p| p.to_string_lossy().ends_with(".dist-info")));
                continue;
            }
            let relative = path.strip_prefix(build_dir).unwrap_or(&path);
            return Err(format!(
                "{} is a compiled extension module, which cannot run in WebAssembly: package {} needs a \
                 pure-Python version (or one built for WASI)",
                relative.display(),
                package_of(&root, &path)
            ));
        }
    }
    Ok(packages)
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
