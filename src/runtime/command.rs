//! Running a program to its end, as `wf wasm run` does and as command
//! instances do: a `wasi:cli/run` component (WASI 0.2, or 0.3 on the
//! component model's async ABI), or a WASI preview 1 core module's
//! `_start` on wasmtime-wasi's own preview 1 — so exit codes, arguments
//! and environment behave exactly as under `wasmtime run`. Its memory
//! quota and deadline are enforced; its exit code is a process's.

use std::time::Instant;

use anyhow::{Context, Result};
use wasmtime::Store;
use wasmtime::component::Component;
use wasmtime_wasi::WasiCtxBuilder;

use super::cpu::metered;
use super::ending::Ending;
use super::guest::{GuestState, Wasi};
use super::limits::GuestLimits;
use super::{Compiled, Runtime};

/// Exit codes for endings that are not the program's own, as shells report
/// them: a trap is an abort (128 + SIGABRT), running out of time is
/// `timeout`'s.
pub const EXIT_TRAP: i32 = 134;
pub const EXIT_TIMEOUT: i32 = 124;

/// How a program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub code: i32,
    /// Why, when the runtime stopped the program.
    pub ending: Option<Ending>,
}

/// Which `wasi:cli/run` a component exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliVersion {
    P2,
    P3,
}

impl CliVersion {
    /// The `wasi:cli/run` version `component` exports, if any; 0.3 when
    /// it exports both (as a wasip2 std binary exporting 0.3's `run`
    /// does, its 0.2 `main` left unreachable), as wasmtime picks.
    pub fn of(component: &Component, engine: &wasmtime::Engine) -> Option<CliVersion> {
        let exports: Vec<String> =
            component.component_type().exports(engine).map(|(name, _)| name.to_string()).collect();
        let exports_run =
            |version: &str| exports.iter().any(|name| name.starts_with(&format!("wasi:cli/run@{version}")));
        if exports_run("0.3") {
            Some(CliVersion::P3)
        } else if exports_run("0.2") {
            Some(CliVersion::P2)
        } else {
            None
        }
    }
}

/// Runs the program to its end within `limits`, cut off at `deadline` if
/// there is one.
pub async fn run(
    runtime: &Runtime,
    program: &Compiled,
    mut wasi: WasiCtxBuilder,
    limits: GuestLimits,
    deadline: Option<Instant>,
) -> Result<Exit> {
    let cpu = limits.cpu.clone();
    let (program, wasi) = match program {
        Compiled::Module(module) => (Program::Module(module.clone()), Wasi::Module(wasi.build_p1())),
        Compiled::Component(component) => {
            let version = CliVersion::of(component, runtime.engine()).context(
                "the component is not a wasi:cli command (it must export wasi:cli/run@0.2 or wasi:cli/run@0.3)",
            )?;
            (Program::Component(component.clone(), version), Wasi::Component(wasi.build()))
        }
    };
    let mut store = runtime.store(wasi, limits, deadline);
    let runtime = runtime.clone();
    let running = async move {
        let outcome = program.run(&runtime, &mut store).await?;
        Ok(match outcome {
            Ok(true) => Exit { code: 0, ending: None },
            Ok(false) => Exit { code: 1, ending: None },
            Err(error) => match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => Exit { code: exit.0, ending: None },
                None => {
                    let ending = store.data().ending(&error);
                    let code = if ending == Ending::Deadline { EXIT_TIMEOUT } else { EXIT_TRAP };
                    Exit { code, ending: Some(ending) }
                }
            },
        })
    };
    metered(running, cpu).await
}

/// A program ready to run, by its kind.
enum Program {
    Module(wasmtime::Module),
    Component(Component, CliVersion),
}

impl Program {
    /// Instantiates and runs the program: an error if it cannot start,
    /// else whether it succeeded, or the trap (or exit) it ended with.
    async fn run(self, runtime: &Runtime, store: &mut Store<GuestState>) -> Result<wasmtime::Result<bool>> {
        match self {
            Program::Module(module) => {
                let mut linker = wasmtime::Linker::new(runtime.engine());
                wasmtime_wasi::p1::add_to_linker_async(&mut linker, GuestState::preview1)?;
                let instance = linker
                    .instantiate_async(&mut *store, &module)
                    .await
                    .map_err(|e| failed(e, "instantiating the module"))?;
                let start = instance
                    .get_typed_func::<(), ()>(&mut *store, "_start")
                    .map_err(|e| failed(e, "the module is not a WASI command (it must export _start)"))?;
                Ok(start.call_async(&mut *store, ()).await.map(|()| true))
            }
            Program::Component(component, CliVersion::P2) => {
                let linker = runtime.linker();
                let command = wasmtime_wasi::p2::bindings::Command::instantiate_async(&mut *store, &component, linker)
                    .await
                    .map_err(|e| failed(e, "instantiating the wasi:cli command"))?;
                Ok(command.wasi_cli_run().call_run(&mut *store).await.map(|ran| ran.is_ok()))
            }
            Program::Component(component, CliVersion::P3) => {
                let linker = runtime.linker();
                let command = wasmtime_wasi::p3::bindings::Command::instantiate_async(&mut *store, &component, linker)
                    .await
                    .map_err(|e| failed(e, "instantiating the wasi:cli command"))?;
                let ran = store.run_concurrent(async move |store| command.wasi_cli_run().call_run(store).await).await;
                Ok(ran.and_then(|ran| ran).map(|ran| ran.is_ok()))
            }
        }
    }
}

/// A wasmtime error, with what was being done.
fn failed(error: wasmtime::Error, doing: &'static str) -> anyhow::Error {
    anyhow::Error::from(error).context(doing)
}
