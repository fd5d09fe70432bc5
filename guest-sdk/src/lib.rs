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
    std::fs::write(&target, bytes).map_err(|e| format!("writing {path}: {e}"))
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
}

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "buildpack",
        pub_export_macro: true,
        default_bindings_module: "wasmfoundry_guest::bindings",
    });
}

#[doc(hidden)]
pub use bindings::exports::wasmfoundry::buildpack::lifecycle::{Guest, ReleaseInfo};

#[doc(hidden)]
pub fn into_release_info(release: Release) -> ReleaseInfo {
    ReleaseInfo {
        start_command: release.start_command,
        config_vars: release.config_vars,
    }
}

/// Exports a [`Buildpack`] implementation as the component's
/// `wasmfoundry:buildpack/lifecycle` interface.
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

        $crate::bindings::export!(__WasmfoundryBuildpack with_types_in $crate::bindings);
    };
}
