//! Running a `wasi:cli/run` program to its end, as `wf wasm run` does and
//! as command instances will: a component, or a WASI preview 1 core module
//! made into one with wasmtime's preview1 command adapter; its memory
//! quota and deadline enforced; its exit code as a process's would be.
//! (WASI 0.2 carries exit codes other than 0 and 1 only through
//! `exit-with-code`; Rust's std and the preview 1 adapter report any failure
//! as 1.)

use std::time::Instant;

use anyhow::{Context, Result};
use wasmtime::component::Component;
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi::p2::bindings::Command;

use super::Runtime;
use super::cpu::metered;
use super::limits::{Ending, Limits};
use super::linker::linker;

/// Exit codes for endings that are not the program's own, as shells report
/// them: a trap is an abort (128 + SIGABRT), running out of time is
/// `timeout`'s.
pub const EXIT_TRAP: i32 = 134;
pub const EXIT_TIMEOUT: i32 = 124;

/// A component from component or preview 1 module bytes.
pub fn as_component(bytes: &[u8]) -> Result<Vec<u8>> {
    let is_core_module = bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0];
    if !is_core_module {
        return Ok(bytes.to_vec());
    }
    wit_component::ComponentEncoder::default()
        .module(bytes)
        .context("reading the core module")?
        .adapter(
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        )
        .context("adapting WASI preview 1")?
        .validate(true)
        .encode()
        .context("making the module a component")
}

/// How a program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub code: i32,
    /// Why, when the runtime stopped the program.
    pub ending: Option<Ending>,
}

/// Runs the component's `wasi:cli/run` to its end within `limits`, cut off
/// at `deadline` if there is one.
pub async fn run(
    runtime: &Runtime,
    component: &Component,
    wasi: WasiCtx,
    limits: Limits,
    deadline: Option<Instant>,
) -> Result<Exit> {
    let linker = linker(runtime.engine(), false)?;
    let cpu = limits.cpu.clone();
    let mut store = runtime.store(wasi, limits, deadline);
    let program = async move {
        let command = Command::instantiate_async(&mut store, component, &linker).await.map_err(|e| {
            anyhow::Error::from(e).context("the component is not a wasi:cli command (it must export wasi:cli/run)")
        })?;
        let outcome = command.wasi_cli_run().call_run(&mut store).await;
        Ok(match outcome {
            Ok(Ok(())) => Exit { code: 0, ending: None },
            Ok(Err(())) => Exit { code: 1, ending: None },
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
    metered(program, cpu).await
}
