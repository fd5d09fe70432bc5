//! The native side of Node's built-in modules (src/node/*.js): their
//! sources, the file system calls of node:fs (the app's files, read-only,
//! through [`super::files`]) and the digests of node:crypto.
//!
//! A failed file call throws an Error whose message is Node's code
//! (`ENOENT`, `EACCES`…); node/fs.js turns it into Node's error.

use hmac::{Hmac, Mac};
use rquickjs::{Array, Ctx, Exception, Result, TypedArray};
use sha1::Digest;
use wasi::filesystem::types::{DescriptorType, ErrorCode};

use super::files;

/// Node's built-in modules the runtime has, by name.
pub const MODULES: &[(&str, &str)] = &[
    ("assert", include_str!("node/assert.js")),
    ("buffer", include_str!("node/buffer.js")),
    ("crypto", include_str!("node/crypto.js")),
    ("events", include_str!("node/events.js")),
    ("fs", include_str!("node/fs.js")),
    ("http", include_str!("node/http.js")),
    ("net", include_str!("node/net.js")),
    ("os", include_str!("node/os.js")),
    ("path", include_str!("node/path.js")),
    ("querystring", include_str!("node/querystring.js")),
    ("stream", include_str!("node/stream.js")),
    ("stream/web", include_str!("node/stream_web.js")),
    ("string_decoder", include_str!("node/string_decoder.js")),
    ("timers", include_str!("node/timers.js")),
    ("tty", include_str!("node/tty.js")),
    ("url", include_str!("node/url.js")),
    ("util", include_str!("node/util.js")),
    ("zlib", include_str!("node/zlib.js")),
];

pub fn source(ctx: Ctx<'_>, name: String) -> Result<String> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, source)| (*source).to_string())
        .ok_or_else(|| Exception::throw_message(&ctx, &format!("no built-in module {name}")))
}

fn fail(ctx: &Ctx<'_>, error: ErrorCode) -> rquickjs::Error {
    Exception::throw_message(ctx, files::code(error))
}

/// `[kind, size, mtimeMs, mode]`, following a symbolic link or not.
pub fn stat<'js>(ctx: Ctx<'js>, path: String, follow: bool) -> Result<Array<'js>> {
    let stat = files::stat(&path, follow).map_err(|e| fail(&ctx, e))?;
    let (kind, mode) = match stat.type_ {
        DescriptorType::Directory => ("dir", 0o40755),
        DescriptorType::SymbolicLink => ("symlink", 0o120777),
        DescriptorType::RegularFile => ("file", 0o100644),
        _ => ("other", 0o100644),
    };
    let mtime = stat
        .data_modification_timestamp
        .map_or(0.0, |t| t.seconds as f64 * 1000.0 + f64::from(t.nanoseconds / 1_000_000));
    let answer = Array::new(ctx)?;
    answer.set(0, kind)?;
    answer.set(1, stat.size as f64)?;
    answer.set(2, mtime)?;
    answer.set(3, mode)?;
    Ok(answer)
}

/// Up to `length` bytes from `offset` (all of the rest for a negative length).
pub fn read_bytes<'js>(ctx: Ctx<'js>, path: String, offset: f64, length: f64) -> Result<TypedArray<'js, u8>> {
    let length = (length >= 0.0).then_some(length as u64);
    let bytes = files::read(&path, offset.max(0.0) as u64, length).map_err(|e| fail(&ctx, e))?;
    TypedArray::new(ctx, bytes)
}

/// `[[name, kind], …]` of a directory.
pub fn read_dir(ctx: Ctx<'_>, path: String) -> Result<Vec<Vec<String>>> {
    let entries = files::list(&path).map_err(|e| fail(&ctx, e))?;
    Ok(entries
        .into_iter()
        .map(|(name, kind)| {
            let kind = match kind {
                DescriptorType::SymbolicLink => "symlink",
                DescriptorType::Directory => "dir",
                DescriptorType::RegularFile => "file",
                _ => "other",
            };
            vec![name, kind.to_string()]
        })
        .collect())
}

/// The path itself, once it is known to exist: the app's files are one
/// tree, and links in it are resolved where they are read.
pub fn realpath(ctx: Ctx<'_>, path: String) -> Result<String> {
    files::stat(&path, true).map(|_| path).map_err(|e| fail(&ctx, e))
}

fn digest<D: Digest>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

fn keyed<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// node/crypto.js has checked the name: one of md5, sha1, sha256, sha384, sha512.
pub fn hash<'js>(ctx: Ctx<'js>, algorithm: String, data: TypedArray<'js, u8>) -> Result<TypedArray<'js, u8>> {
    let data = super::host::copy_bytes(&data);
    let out = match algorithm.as_str() {
        "md5" => digest::<md5::Md5>(&data),
        "sha1" => digest::<sha1::Sha1>(&data),
        "sha256" => digest::<sha2::Sha256>(&data),
        "sha384" => digest::<sha2::Sha384>(&data),
        "sha512" => digest::<sha2::Sha512>(&data),
        other => return Err(Exception::throw_type(&ctx, &format!("Digest method not supported: {other}"))),
    };
    TypedArray::new(ctx, out)
}

pub fn hmac<'js>(
    ctx: Ctx<'js>,
    algorithm: String,
    key: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<TypedArray<'js, u8>> {
    let (key, data) = (super::host::copy_bytes(&key), super::host::copy_bytes(&data));
    let out = match algorithm.as_str() {
        "md5" => keyed::<Hmac<md5::Md5>>(&key, &data),
        "sha1" => keyed::<Hmac<sha1::Sha1>>(&key, &data),
        "sha256" => keyed::<Hmac<sha2::Sha256>>(&key, &data),
        "sha384" => keyed::<Hmac<sha2::Sha384>>(&key, &data),
        "sha512" => keyed::<Hmac<sha2::Sha512>>(&key, &data),
        other => return Err(Exception::throw_type(&ctx, &format!("Digest method not supported: {other}"))),
    };
    TypedArray::new(ctx, out)
}
