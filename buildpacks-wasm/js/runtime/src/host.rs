//! The native half of the runtime: the `__wf` object `prelude.js` and
//! `modules.js` build the web platform and Node's module system on.
//!
//! Output, environment, clocks, randomness and files go straight to WASI
//! on each call rather than through wasi-libc, which would keep the
//! handles and values of the instance that first asked: after a snapshot
//! that is the staging instance, not this one.

use rquickjs::function::Opt;
use rquickjs::prelude::Func;
use rquickjs::{Ctx, Exception, Function, Object, Result, TypedArray, Value};

use super::{files, node, HOME};

pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    let wf = Object::new(ctx.clone())?;
    wf.set("home", HOME)?;
    wf.set("print", Func::from(print))?;
    wf.set("env", Func::from(env))?;
    wf.set("args", Func::from(args))?;
    wf.set("now", Func::from(now))?;
    wf.set("sleep", Func::from(sleep))?;
    wf.set("randomBytes", Func::from(random_bytes))?;
    wf.set("encodeUtf8", Func::from(encode_utf8))?;
    wf.set("decodeUtf8", Func::from(decode_utf8))?;
    wf.set("isFile", Func::from(|path: String| files::is_file(&path)))?;
    wf.set("isDir", Func::from(|path: String| files::is_dir(&path)))?;
    wf.set("readText", Func::from(read_text))?;
    wf.set("compileCommonJs", Func::from(compile_common_js))?;
    wf.set("fetch", Func::from(super::http::fetch))?;
    wf.set("respondHead", Func::from(super::http::respond_head))?;
    wf.set("respondWrite", Func::from(super::http::respond_write))?;
    wf.set("respondEnd", Func::from(super::http::respond_end))?;
    wf.set("respondAbort", Func::from(super::http::respond_abort))?;
    wf.set("memorySize", Func::from(|| (core::arch::wasm32::memory_size(0) * 65536) as f64))?;
    wf.set("nodeModules", node::MODULES.iter().map(|(name, _)| *name).collect::<Vec<_>>())?;
    wf.set("nodeSource", Func::from(node::source))?;
    wf.set("stat", Func::from(node::stat))?;
    wf.set("readBytes", Func::from(node::read_bytes))?;
    wf.set("readDir", Func::from(node::read_dir))?;
    wf.set("realpath", Func::from(node::realpath))?;
    wf.set("hash", Func::from(node::hash))?;
    wf.set("hmac", Func::from(node::hmac))?;
    ctx.globals().set("__wf", wf)
}

/// One line to the app's log: stdout (1) or stderr (2).
fn print(stream: i32, text: String) {
    print_line(stream, &text);
}

pub fn print_line(stream: i32, text: &str) {
    let mut line = text.as_bytes().to_vec();
    line.push(b'\n');
    let out = if stream == 2 { wasi::cli::stderr::get_stderr() } else { wasi::cli::stdout::get_stdout() };
    for chunk in line.chunks(4096) {
        if out.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
}

fn env<'js>(ctx: Ctx<'js>) -> Result<Object<'js>> {
    let env = Object::new(ctx)?;
    for (name, value) in wasi::cli::environment::get_environment() {
        env.set(name, value)?;
    }
    Ok(env)
}

fn args() -> Vec<String> {
    wasi::cli::environment::get_arguments()
}

/// Monotonic nanoseconds.
fn now() -> f64 {
    wasi::clocks::monotonic_clock::now() as f64
}

fn sleep(milliseconds: f64) {
    let nanos = (milliseconds.max(0.0) * 1e6) as u64;
    wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
}

fn random_bytes<'js>(ctx: Ctx<'js>, len: u32) -> Result<TypedArray<'js, u8>> {
    TypedArray::new(ctx, wasi::random::random::get_random_bytes(u64::from(len.min(65536))))
}

fn encode_utf8<'js>(ctx: Ctx<'js>, text: String) -> Result<TypedArray<'js, u8>> {
    TypedArray::new(ctx, text.into_bytes())
}

fn decode_utf8<'js>(ctx: Ctx<'js>, bytes: TypedArray<'js, u8>, fatal: Opt<bool>) -> Result<String> {
    let raw = copy_bytes(&bytes);
    if fatal.0.unwrap_or(false) {
        String::from_utf8(raw).map_err(|_| Exception::throw_type(&ctx, "The encoded data was not valid utf-8"))
    } else {
        Ok(String::from_utf8_lossy(&raw).into_owned())
    }
}

fn read_text(ctx: Ctx<'_>, path: String) -> Result<String> {
    let bytes = files::read(&path, 0, None)
        .map_err(|e| Exception::throw_message(&ctx, &format!("reading {path}: {}", files::code(e))))?;
    String::from_utf8(bytes).map_err(|_| Exception::throw_message(&ctx, &format!("reading {path}: not UTF-8 text")))
}

/// A CommonJS module's function, compiled under its own file name so
/// that stack traces and syntax errors point into the file.
fn compile_common_js<'js>(ctx: Ctx<'js>, path: String, source: String) -> Result<Function<'js>> {
    // The wrapper opens on the file's first line, so line numbers match.
    let wrapped = format!("(function (exports, require, module, __filename, __dirname) {{ {source}\n}})");
    let value: Value = ctx.eval_with_options(wrapped, super::eval_options(&path))?;
    value.into_function().ok_or_else(|| Exception::throw_type(&ctx, "not a function"))
}

/// The bytes a typed array views, copied out before any more JS runs.
pub fn copy_bytes(array: &TypedArray<'_, u8>) -> Vec<u8> {
    // SAFETY: no JavaScript runs while the slice is borrowed.
    unsafe { array.as_bytes() }.map(<[u8]>::to_vec).unwrap_or_default()
}
