//! Write a wasmfoundry buildpack in Rust.
//!
//! A buildpack is a WebAssembly component of the `wasmfoundry:buildpack`
//! world (see `wit/buildpack.wit`): Cloud Foundry's `bin/detect`,
//! `bin/compile` and `bin/release` as three exported functions. Implement
//! [`Buildpack`] for a type and hand it to [`export_buildpack!`]:
//!
//! ```ignore
//! use std::path::Path;
//! use wasmfoundry_guest::{Buildpack, Release};
//!
//! struct Hello;
//! impl Buildpack for Hello {
//!     fn detect(build_dir: &Path) -> Option<String> {
//!         build_dir.join("hello.wasm").exists().then(|| "hello".into())
//!     }
//!     fn compile(_build_dir: &Path, _cache_dir: &Path) -> Result<(), String> {
//!         println!("-----> nothing to compile");
//!         Ok(())
//!     }
//!     fn release(_build_dir: &Path) -> Result<Release, String> {
//!         Ok(Release::new("hello.wasm"))
//!     }
//! }
//! wasmfoundry_guest::export_buildpack!(Hello);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` as a
//! `cdylib`; the `.wasm` is the buildpack. Inside, the usual `std::fs`,
//! `std::env` and `println!` work: the DEA preopens `/app`, `/cache`,
//! `/buildpack` and `/tmp`, passes the app's environment, and shows what the
//! buildpack prints as the staging log. `wf wasm run` is not needed to try
//! one: `wf push` with `-b` pointing at an uploaded buildpack stages with it.

use std::path::Path;

/// What `bin/release` reports: how to start the app the buildpack compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// A component under `/app` and its arguments, e.g. `server.wasm --root public`.
    pub start_command: String,
    /// Environment every instance gets (CF's `config_vars`).
    pub config_vars: Vec<(String, String)>,
}

impl Release {
    /// A release that starts `start_command` with no extra environment.
    pub fn new(start_command: impl Into<String>) -> Self {
        Release {
            start_command: start_command.into(),
            config_vars: Vec::new(),
        }
    }
}

/// The command of the `web:` line of the app's `Procfile`, if it has one.
pub fn procfile_web(build_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(build_dir.join("Procfile")).ok()?;
    text.lines()
        .find_map(|line| line.trim().strip_prefix("web:"))
        .map(|command| command.trim().to_string())
        .filter(|command| !command.is_empty())
}

/// Writes `bytes` (a runtime, a server component the buildpack carries) to
/// `path` under the app, making its directory; the error says what failed.
pub fn write_into_app(build_dir: &Path, path: &str, bytes: &[u8]) -> Result<(), String> {
    let target = build_dir.join(path);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    match write_whole(&target, bytes) {
        Some(written) => written,
        None => std::fs::write(&target, bytes).map_err(|e| e.to_string()),
    }
    .map_err(|e| format!("writing {path}: {e}"))
}

/// Writes `bytes` to `file` through the descriptor of the preopened
/// directory it is under, in one call where the host takes it whole.
/// std writes files 4 KB at a time (what WASI's `blocking-write-and-flush`
/// takes), each call a trip to the host: 0.3 s for a 20 MB runtime. None
/// when `file` is under no preopened directory.
fn write_whole(file: &Path, bytes: &[u8]) -> Option<Result<(), String>> {
    use wasi::filesystem::preopens::get_directories;
    use wasi::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};

    let file = file.to_str()?;
    let (dir, relative) = get_directories()
        .into_iter()
        .filter_map(|(dir, at)| {
            let relative = file.strip_prefix(at.trim_end_matches('/'))?.strip_prefix('/')?.to_string();
            Some((at.len(), dir, relative))
        })
        .max_by_key(|(length, _, _)| *length)
        .map(|(_, dir, relative)| (dir, relative))?;
    let open = dir.open_at(
        PathFlags::empty(),
        &relative,
        OpenFlags::CREATE | OpenFlags::TRUNCATE,
        DescriptorFlags::WRITE,
    );
    let written = open.and_then(|opened| {
        let mut offset = 0;
        while offset < bytes.len() {
            offset += opened.write(&bytes[offset..], offset as u64)? as usize;
        }
        Ok(())
    });
    Some(written.map_err(|code| format!("{code:?}")))
}

/// The three steps of a buildpack. Errors are shown to the user as the
/// reason staging failed, so say what is wrong with their app.
pub trait Buildpack {
    /// `bin/detect`: the framework's name when this buildpack applies to the app.
    fn detect(build_dir: &Path) -> Option<String>;
    /// `bin/compile`: turn the app in `build_dir` into what runs.
    fn compile(build_dir: &Path, cache_dir: &Path) -> Result<(), String>;
    /// `bin/release`: the start command of what `compile` produced.
    fn release(build_dir: &Path) -> Result<Release, String>;
    /// The components `compile` puts in droplets (a language runtime, a
    /// file server), by file name: a DEA compiles them when it starts, so
    /// the first staging that uses one does not wait for its compile.
    const RUNTIMES: &'static [(&'static str, &'static [u8])] = &[];
}

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "buildpack-with-runtimes",
        pub_export_macro: true,
        default_bindings_module: "wasmfoundry_guest::bindings",
    });
}

#[doc(hidden)]
pub use bindings::exports::wasmfoundry::buildpack::lifecycle::{Guest, ReleaseInfo};
#[doc(hidden)]
pub use bindings::exports::wasmfoundry::buildpack::runtimes::Guest as RuntimesGuest;

#[doc(hidden)]
pub fn write_runtimes(runtimes: &[(&str, &[u8])], dir: &str) -> Result<Vec<String>, String> {
    let dir = Path::new(dir);
    runtimes
        .iter()
        .map(|(name, bytes)| write_into_app(dir, name, bytes).map(|()| name.to_string()))
        .collect()
}

#[doc(hidden)]
pub fn into_release_info(release: Release) -> ReleaseInfo {
    ReleaseInfo {
        start_command: release.start_command,
        config_vars: release.config_vars,
    }
}

/// Exports a [`Buildpack`] implementation as the component's
/// `wasmfoundry:buildpack/lifecycle` interface, and its
/// [`Buildpack::RUNTIMES`] as `wasmfoundry:buildpack/runtimes`.
#[macro_export]
macro_rules! export_buildpack {
    ($buildpack:ty) => {
        struct __WasmfoundryBuildpack;

        impl $crate::Guest for __WasmfoundryBuildpack {
            fn detect(build_dir: String) -> Option<String> {
                <$buildpack as $crate::Buildpack>::detect(::std::path::Path::new(&build_dir))
            }
            fn compile(build_dir: String, cache_dir: String) -> Result<(), String> {
                <$buildpack as $crate::Buildpack>::compile(
                    ::std::path::Path::new(&build_dir),
                    ::std::path::Path::new(&cache_dir),
                )
            }
            fn release(build_dir: String) -> Result<$crate::ReleaseInfo, String> {
                <$buildpack as $crate::Buildpack>::release(::std::path::Path::new(&build_dir))
                    .map($crate::into_release_info)
            }
        }

        impl $crate::RuntimesGuest for __WasmfoundryBuildpack {
            fn write(dir: String) -> Result<Vec<String>, String> {
                $crate::write_runtimes(<$buildpack as $crate::Buildpack>::RUNTIMES, &dir)
            }
        }

        $crate::bindings::export!(__WasmfoundryBuildpack with_types_in $crate::bindings);
    };
}
