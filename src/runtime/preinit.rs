//! Pre-initialisation (guest-sdk/wit/preinit.wit): a component that
//! exports `wasmfoundry:buildpack/preinit` — a language runtime with the
//! app to load — is run once through `initialize`, and its memories and
//! globals are snapshotted into a new component (wasmtime's wizer), which
//! instances then start from. Staging does it for the droplet's start
//! component; a component without the export is left as it is.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use wasmtime::component::{Component, Instance, Lift, TypedFunc, WasmList};
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use super::Runtime;
use super::cpu::metered;
use super::ending::Ending;
use super::guest::{GuestState, Wasi};
use super::instrumented::Instrumented;
use super::limits::GuestLimits;

/// The interface a pre-initialisable component exports.
pub const PREINIT: &str = "wasmfoundry:buildpack/preinit@0.1.0";

/// Why pre-initialisation failed.
#[derive(Debug)]
pub enum Failure {
    /// `initialize` returned this error (the app did not load).
    Refused(String),
    /// The guest trapped or ran into a limit.
    Crashed(Ending),
    /// The component cannot be snapshotted (or another host-side error).
    Unsupported(anyhow::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(message) => f.write_str(message),
            Failure::Crashed(ending) => write!(f, "it stopped: {ending}"),
            Failure::Unsupported(error) => write!(f, "it cannot be snapshotted: {error:#}"),
        }
    }
}

/// Whether the component in `wasm` exports [`PREINIT`] (read from its
/// export section; nothing is compiled).
pub fn exports_preinit(wasm: &[u8]) -> bool {
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(wasmparser::Payload::ModuleSection { .. } | wasmparser::Payload::ComponentSection { .. }) => depth += 1,
            Ok(wasmparser::Payload::End(_)) => depth = depth.saturating_sub(1),
            Ok(wasmparser::Payload::ComponentExportSection(exports)) if depth == 0 => {
                if exports.into_iter().flatten().any(|export| export.name.name == PREINIT) {
                    return true;
                }
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// Whether a compiled `component` exports [`PREINIT`] (a snapshot does:
/// the export stays).
pub fn is_preinitialisable(component: &Component, engine: &Engine) -> bool {
    component.component_type().exports(engine).any(|(name, _)| name == PREINIT)
}

/// The `initialize` of an instance of a pre-initialisable component.
pub fn initialize_func(
    store: &mut Store<GuestState>,
    instance: &Instance,
) -> Option<TypedFunc<(), (Result<(), String>,)>> {
    let interface = instance.get_export_index(&mut *store, None, PREINIT)?;
    let func = instance.get_export_index(&mut *store, Some(&interface), "initialize")?;
    instance.get_typed_func(&mut *store, func).ok()
}

/// Runs `initialize` of the component in `wasm` with `wasi`, within
/// `limits` and `deadline` (`on_compile` is told first if the runtime must
/// be compiled for it), and returns the snapshot: the same component
/// with its state as `initialize` left it, naming the component it was
/// taken of ([`super::snapshot_base`]).
pub async fn snapshot(
    runtime: &Runtime,
    wasm: &[u8],
    mut wasi: WasiCtxBuilder,
    limits: GuestLimits,
    deadline: Instant,
    on_compile: impl FnOnce(),
) -> Result<Vec<u8>, Failure> {
    let began = Instant::now();
    let wizer = wizer();
    let (instrumented, component) = prepare(runtime, wasm, on_compile).await.map_err(Failure::Unsupported)?;
    let prepared_at = began.elapsed();
    let cpu = limits.cpu.clone();
    let mut store = runtime.store(Wasi::Component(wasi.build()), limits, Some(deadline));
    let crashed = |store: &Store<GuestState>, error: wasmtime::Error| Failure::Crashed(store.data().ending(&error));
    let linker = runtime.linker();
    let instance = match metered(linker.instantiate_async(&mut store, &component), cpu.clone()).await {
        Ok(instance) => instance,
        Err(e) => return Err(crashed(&store, e)),
    };
    let initialize = initialize_func(&mut store, &instance)
        .ok_or_else(|| Failure::Unsupported(anyhow!("{PREINIT} has no `initialize: func() -> result<_, string>`")))?;
    match metered(initialize.call_async(&mut store, ()), cpu.clone()).await {
        Ok((Ok(()),)) => {}
        Ok((Err(message),)) => return Err(Failure::Refused(message)),
        Err(e) => return Err(crashed(&store, e)),
    }
    let initialized_at = began.elapsed();
    let mut state = Snapshotting { store: &mut store, instance };
    let snapshotting = std::panic::AssertUnwindSafe(wizer.snapshot_component(instrumented.context(), &mut state));
    let snapshot = futures::FutureExt::catch_unwind(snapshotting)
        .await
        .map_err(wizer_panicked)?
        .map_err(|e| Failure::Unsupported(e.into()))?;
    tracing::debug!(
        "snapshot: instrumented and compiled in {prepared_at:?}, initialized by {initialized_at:?}, taken by {:?}",
        began.elapsed()
    );
    Ok(super::snapshot_base::mark(snapshot, &instrumented.bytes))
}

/// The runtime in `wasm` instrumented for snapshots and compiled: what
/// [`snapshot`] runs `initialize` in. Both are kept (in memory, and the
/// compiled code on disk), so a DEA that prepares its buildpacks' runtimes
/// when it starts spares their first staging the work. `on_compile` is
/// told when it was not compiled before (in memory or on disk).
pub async fn prepare(
    runtime: &Runtime,
    wasm: &[u8],
    on_compile: impl FnOnce(),
) -> Result<(Arc<Instrumented>, Component)> {
    let instrumented = super::instrumented::instrument(&wizer(), wasm)?;
    if !runtime.is_compiled(&instrumented.sha1) {
        on_compile();
    }
    let component = runtime.compile_known(&instrumented.sha1, &instrumented.bytes).await?.into_component()?;
    Ok((instrumented, component))
}

/// Wizer as snapshots are taken: the export stays (wizer removes only
/// function exports, not an interface; calling `initialize` again returns
/// at once).
fn wizer() -> Wizer {
    let mut wizer = Wizer::new();
    wizer.init_func(PREINIT).keep_init_func(true);
    wizer
}

/// A panic in wizer (a component shape it does not expect) is this app's
/// failure, not the DEA's.
fn wizer_panicked(panic: Box<dyn std::any::Any + Send>) -> Failure {
    Failure::Unsupported(super::instrumented::wizer_failed(&*panic))
}

/// Reads the instrumented instance's state for wizer, through the
/// accessor functions instrumentation exported.
struct Snapshotting<'a> {
    store: &'a mut Store<GuestState>,
    instance: Instance,
}

impl Snapshotting<'_> {
    async fn call<R: Lift + Send + Sync + 'static>(&mut self, interface: &str, func: &str) -> Result<R> {
        let interface_index = self
            .instance
            .get_export_index(&mut *self.store, None, interface)
            .with_context(|| format!("no export {interface}"))?;
        let func_index = self
            .instance
            .get_export_index(&mut *self.store, Some(&interface_index), func)
            .with_context(|| format!("no export {interface}#{func}"))?;
        let typed = self.instance.get_typed_func::<(), (R,)>(&mut *self.store, &func_index)?;
        let (value,) = typed.call_async(&mut *self.store, ()).await?;
        Ok(value)
    }
}

impl ComponentInstanceState for Snapshotting<'_> {
    async fn call_func_ret_list_u8(&mut self, instance: &str, func: &str, contents: impl FnOnce(&[u8]) + Send) {
        let list: WasmList<u8> = self.call(instance, func).await.expect("wizer's accessor");
        contents(list.as_le_slice(&*self.store));
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func).await.expect("wizer's accessor")
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func).await.expect("wizer's accessor")
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func).await.expect("wizer's accessor").to_bits()
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func).await.expect("wizer's accessor").to_bits()
    }
}
