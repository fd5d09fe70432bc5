//! js_buildpack's runtime: QuickJS (through rquickjs) as a wasi:http
//! component that serves a JavaScript app's fetch handler.
//!
//! The start command names the app's main module (`.wf/js.wasm index.js`).
//! Starting means: a QuickJS runtime, the web platform of `prelude.js`,
//! Node's module resolution of `modules.js`, then the main module, which
//! must leave a fetch handler behind. The DEA does that once, at staging,
//! through the `preinit` export, and snapshots the result (see
//! guest-sdk/wit/preinit.wit): each request's fresh instance starts with
//! the app loaded. Without a snapshot (`wf wasm serve`), the first request
//! of each instance starts it.
//!
//! A request becomes a `Request`, goes to the handler, and the promise it
//! returns is driven (jobs, then timers) until it settles; an exception is
//! logged with its stack and answered with a 500.

mod files;
mod host;
mod http;
mod node;

use std::cell::OnceCell;

use rquickjs::loader::{Loader, Resolver};
use rquickjs::{CaughtError, Context, Ctx, Function, Module, Object, Promise, Runtime};

wit_bindgen::generate!({
    path: "../../../guest-sdk/wit",
    world: "wasmfoundry:buildpack/preinitialized",
});

/// The app's QuickJS runtime and context, once started.
struct App {
    _runtime: Runtime,
    context: Context,
}

thread_local! {
    static APP: OnceCell<Result<App, String>> = const { OnceCell::new() };
}

/// Runs `f` with the started app, starting it first if need be.
fn with_app<R>(f: impl FnOnce(&App) -> R) -> Result<R, String> {
    APP.with(|cell| cell.get_or_init(start).as_ref().map(f).map_err(Clone::clone))
}

/// What a request may allocate before QuickJS collects garbage.
const GC_HEADROOM: usize = 4 << 20;

/// Where the app is, as an instance sees it.
const HOME: &str = "/home/vcap/app";

fn start() -> Result<App, String> {
    let runtime = Runtime::new().map_err(|e| format!("starting QuickJS: {e}"))?;
    // Deep recursion is a RangeError, not a trap that kills the instance.
    runtime.set_max_stack_size(512 * 1024);
    runtime.set_loader(AppModules, AppModules);
    let context = Context::full(&runtime).map_err(|e| format!("starting QuickJS: {e}"))?;
    let main = std::env::args().nth(1).ok_or_else(|| {
        "no main module: the start command names it after the runtime, e.g. `.wf/js.wasm index.js`".to_string()
    })?;
    context.with(|ctx| -> Result<(), String> {
        host::install(&ctx).map_err(|e| describe(&ctx, e))?;
        for (name, source) in [("wf:prelude", include_str!("prelude.js")), ("wf:modules", include_str!("modules.js"))] {
            ctx.eval_with_options::<(), _>(source, eval_options(name)).map_err(|e| describe(&ctx, e))?;
        }
        let wf: Object = ctx.globals().get("__wf").map_err(|e| describe(&ctx, e))?;
        let resolve: Function = wf.get("resolve").map_err(|e| describe(&ctx, e))?;
        let file: String = resolve
            .call((format!("./{}", main.trim_start_matches("./")), format!("{HOME}/"), "import"))
            .map_err(|e| describe(&ctx, e))?;
        let load: Function = wf.get("loadMain").map_err(|e| describe(&ctx, e))?;
        let loaded: Promise = load.call((file,)).map_err(|e| describe(&ctx, e))?;
        settle::<()>(&ctx, loaded)
    })?;
    // Each request runs in a fresh copy of this heap, thrown away after it:
    // collect once here, then leave requests room to allocate before
    // QuickJS would walk the whole heap (its default is 1.5x the heap).
    runtime.run_gc();
    let heap = usize::try_from(runtime.memory_usage().malloc_size).unwrap_or(0);
    runtime.set_gc_threshold(heap + GC_HEADROOM);
    Ok(App { _runtime: runtime, context })
}

fn eval_options(filename: &str) -> rquickjs::context::EvalOptions {
    let mut options = rquickjs::context::EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some(filename.to_string());
    options
}

/// Drives `promise` to its end: pending jobs, then timers in order.
fn settle<'js, T: rquickjs::FromJs<'js>>(ctx: &Ctx<'js>, promise: Promise<'js>) -> Result<T, String> {
    loop {
        match promise.finish::<T>() {
            Err(rquickjs::Error::WouldBlock) => {
                let run_timer = || -> rquickjs::Result<bool> {
                    let wf: Object = ctx.globals().get("__wf")?;
                    wf.get::<_, Function>("runTimer")?.call(())
                };
                match run_timer() {
                    Ok(true) => continue,
                    Ok(false) => return Err("the promise never settles: nothing is left for it to wait on".into()),
                    Err(e) => return Err(describe(ctx, e)),
                }
            }
            other => return other.map_err(|e| describe(ctx, e)),
        }
    }
}

/// An exception as Node prints it: name, message and stack.
fn describe(ctx: &Ctx<'_>, error: rquickjs::Error) -> String {
    match CaughtError::from_error(ctx, error) {
        CaughtError::Exception(e) => {
            let head = match (e.get::<_, String>("name"), e.message()) {
                (Ok(name), Some(message)) => format!("{name}: {message}"),
                (_, message) => message.unwrap_or_else(|| "Error".into()),
            };
            match e.stack().filter(|s| !s.trim().is_empty()) {
                Some(stack) => format!("{head}\n{}", stack.trim_end()),
                None => head,
            }
        }
        CaughtError::Value(v) => {
            let shown = ctx
                .globals()
                .get::<_, Object>("__wf")
                .and_then(|wf| wf.get::<_, Function>("inspect"))
                .and_then(|inspect| inspect.call::<_, String>((v, 0)));
            format!("Uncaught {}", shown.unwrap_or_else(|_| "a thrown value".into()))
        }
        CaughtError::Error(e) => e.to_string(),
    }
}

/// The module loader QuickJS asks for every `import`: resolution and
/// sources come from modules.js, so import and require agree.
struct AppModules;

impl Resolver for AppModules {
    fn resolve<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        let wf: Object = ctx.globals().get("__wf")?;
        wf.get::<_, Function>("resolve")?.call((name, base, "import"))
    }
}

impl Loader for AppModules {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, rquickjs::module::Declared>> {
        let wf: Object = ctx.globals().get("__wf")?;
        let source: String = wf.get::<_, Function>("moduleSource")?.call((name,))?;
        Module::declare(ctx.clone(), name, source)
    }
}

struct Preinit;

impl exports::wasmfoundry::buildpack::preinit::Guest for Preinit {
    fn initialize() -> Result<(), String> {
        // Nothing here holds a WASI handle past a call (host.rs, files.rs):
        // the snapshot taken after this has none of the staging store's.
        with_app(|_| ())
    }
}

export!(Preinit);

/// An error the app did not catch, to the app's log.
fn host_print_error(text: &str) {
    host::print_line(2, text);
}
