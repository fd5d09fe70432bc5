//! `staticfile_buildpack`: the app is a static site — an `index.html`, or a
//! `Staticfile` saying how to serve it. Compile puts a file server
//! component (`server/`, a wasi:http app) in the droplet as
//! `.staticfile/server.wasm`; release starts it on the site's root.
//!
//! `Staticfile` takes CF's keys: `root: public` (serve that directory) and
//! `pushstate: enabled` (unknown paths get `/index.html`).
//!
//! The buildpack cache keeps a fingerprint of every file, so each staging
//! says what changed since the last one.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use wasmfoundry_guest::{Buildpack, Release, write_into_app};

/// The file server, built from `server/` by scripts/build-wasm.sh.
const SERVER: &[u8] = include_bytes!(env!("WF_STATIC_SERVER_WASM"));
const SERVER_PATH: &str = ".staticfile/server.wasm";
const FINGERPRINTS: &str = "staticfile-fingerprints";

struct Staticfile;

#[derive(Default)]
struct Options {
    root: Option<String>,
    pushstate: bool,
}

impl Buildpack for Staticfile {
    fn detect(build_dir: &Path) -> Option<String> {
        let site = build_dir.join("Staticfile").is_file() || build_dir.join("index.html").is_file();
        site.then(|| "staticfile".to_string())
    }

    fn compile(build_dir: &Path, cache_dir: &Path) -> Result<(), String> {
        let options = options(build_dir)?;
        let root = build_dir.join(options.root.as_deref().unwrap_or("."));
        if !root.is_dir() {
            return Err(format!("the Staticfile root {:?} is not a directory of the app", options.root.unwrap_or_default()));
        }
        let files = fingerprints(&root);
        println!("-----> Static site: {} files under {}", files.len(), options.root.as_deref().unwrap_or("the app"));
        report_changes(cache_dir, &files);
        write_into_app(build_dir, SERVER_PATH, SERVER)?;
        println!("       file server: {SERVER_PATH} ({} KiB)", SERVER.len() / 1024);
        Ok(())
    }

    fn release(build_dir: &Path) -> Result<Release, String> {
        let options = options(build_dir)?;
        let mut command = SERVER_PATH.to_string();
        if let Some(root) = &options.root {
            command.push_str(&format!(" --root {root}"));
        }
        if options.pushstate {
            command.push_str(" --pushstate");
        }
        Ok(Release::new(command))
    }

    const RUNTIMES: &'static [(&'static str, &'static [u8])] = &[("server.wasm", SERVER)];
}

wasmfoundry_guest::export_buildpack!(Staticfile);

/// The app's Staticfile, if it has one (`key: value` lines).
fn options(build_dir: &Path) -> Result<Options, String> {
    let Ok(text) = fs::read_to_string(build_dir.join("Staticfile")) else { return Ok(Options::default()) };
    let mut options = Options::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim().trim_matches(['"', '\'']);
        match key.trim() {
            "root" => {
                if value.split('/').any(|part| part == "..") || value.starts_with('/') {
                    return Err(format!("Staticfile root {value:?} must be a directory inside the app"));
                }
                options.root = Some(value.to_string()).filter(|v| !v.is_empty() && v != ".");
            }
            "pushstate" => options.pushstate = value == "enabled",
            _ => {}
        }
    }
    Ok(options)
}

/// Every file under `dir` (relative path → FNV-1a of its bytes).
fn fingerprints(dir: &Path) -> BTreeMap<String, u64> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, u64>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => walk(base, &path, out),
                Ok(kind) if kind.is_file() => {
                    let bytes = fs::read(&path).unwrap_or_default();
                    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
                    let name = path.strip_prefix(base).unwrap_or(&path).to_string_lossy().into_owned();
                    out.insert(name, hash);
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Says how the site changed since the fingerprints in the cache, and
/// stores the new ones there.
fn report_changes(cache_dir: &Path, files: &BTreeMap<String, u64>) {
    let cache = cache_dir.join(FINGERPRINTS);
    match fs::read_to_string(&cache) {
        Ok(text) => {
            let before: BTreeMap<String, u64> = text
                .lines()
                .filter_map(|line| line.split_once(' '))
                .filter_map(|(hash, name)| Some((name.to_string(), u64::from_str_radix(hash, 16).ok()?)))
                .collect();
            let changed = files.iter().filter(|(name, hash)| before.get(*name) != Some(*hash)).count();
            let removed = before.keys().filter(|name| !files.contains_key(*name)).count();
            println!("       since the last staging (from the buildpack cache): {changed} new or changed, {removed} removed");
        }
        Err(_) => println!("       first staging of this app: nothing in the buildpack cache yet"),
    }
    let text: String = files.iter().map(|(name, hash)| format!("{hash:016x} {name}\n")).collect();
    if let Err(e) = fs::write(&cache, text) {
        println!("       (could not update the buildpack cache: {e})");
    }
}
