//! Running a `wasi:cli/run` program to its end, as `wf wasm run` does and
//! as command instances will: a component, or a WASI preview 1 core module
//! made into one with wasmtime's preview1 command adapter; its memory
//! quota and deadline enforced; its exit code as a process's would be.
//! (WASI 0.2 carries exit codes other than 0 and 1 only through
//! `exit-with-code`; Rust's std and the preview 1 adapter report any failure
//! as 1.)

use std::time::Duration;

use anyhow::{Context, Result};
use wasmtime::Store;
use wasmtime::component::Linker;
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi::p2::bindings::Command;

use super::Runtime;
use super::guest::{GuestState, Quota};

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
    /// Why, when the program did not end by itself.
    pub reason: Option<String>,
}

/// Runs the component's `wasi:cli/run` within `memory_bytes` and `timeout`.
pub async fn run(
    runtime: &Runtime,
    component_bytes: &[u8],
    wasi: WasiCtx,
    memory_bytes: u64,
    timeout: Option<Duration>,
) -> Result<Exit> {
    let component = runtime.component(component_bytes).await?;
    let mut linker = Linker::new(runtime.engine());
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    let mut store = Store::new(runtime.engine(), GuestState::new(wasi, Quota::new(memory_bytes)));
    store.limiter(|state| &mut state.quota);
    // Without a timeout: a deadline no program reaches (the epoch is added to it).
    store.set_epoch_deadline(timeout.map(Runtime::ticks).unwrap_or(u64::MAX / 2));
    store.epoch_deadline_trap();
    let command = Command::instantiate_async(&mut store, &component, &linker).await.map_err(|e| {
        anyhow::Error::from(e).context("the component is not a wasi:cli command (it must export wasi:cli/run)")
    })?;
    let outcome = command.wasi_cli_run().call_run(&mut store).await;
    Ok(match outcome {
        Ok(Ok(())) => Exit { code: 0, reason: None },
        Ok(Err(())) => Exit { code: 1, reason: None },
        Err(error) => {
            if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Exit { code: exit.0, reason: None }
            } else if store.data().quota.exceeded {
                Exit {
                    code: EXIT_TRAP,
                    reason: Some(format!("out of memory: more than {} MB", store.data().quota.limit_mb())),
                }
            } else if error.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
                Exit { code: EXIT_TIMEOUT, reason: Some("ran past its time limit".into()) }
            } else {
                Exit { code: EXIT_TRAP, reason: Some(format!("{error:#}")) }
            }
        }
    })
}
