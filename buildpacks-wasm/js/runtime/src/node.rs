//! The native side of Node's built-in modules (src/node/*.js): their
//! sources, the file system calls of node:fs (the app's files, read-only)
//! and the digests of node:crypto.
//!
//! A failed file call throws an Error whose message is Node's code
//! (`ENOENT`, `EACCES`…); node/fs.js turns it into Node's error.

use std::io::{Read, Seek, SeekFrom};

use hmac::{Hmac, Mac};
use rquickjs::{Array, Ctx, Exception, Result, TypedArray};
use sha1::Digest;

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

fn code(ctx: &Ctx<'_>, error: &std::io::Error) -> rquickjs::Error {
    use std::io::ErrorKind::*;
    let code = match error.kind() {
        NotFound => "ENOENT",
        PermissionDenied => "EACCES",
        NotADirectory => "ENOTDIR",
        IsADirectory => "EISDIR",
        ReadOnlyFilesystem => "EROFS",
        _ => "EIO",
    };
    Exception::throw_message(ctx, code)
}

/// `[kind, size, mtimeMs, mode]`, following a symbolic link or not.
pub fn stat<'js>(ctx: Ctx<'js>, path: String, follow: bool) -> Result<Array<'js>> {
    let meta = if follow { std::fs::metadata(&path) } else { std::fs::symlink_metadata(&path) };
    let meta = meta.map_err(|e| code(&ctx, &e))?;
    let kind = if meta.is_symlink() {
        "symlink"
    } else if meta.is_dir() {
        "dir"
    } else if meta.is_file() {
        "file"
    } else {
        "other"
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_millis() as f64);
    let mode = match kind {
        "dir" => 0o40755,
        "symlink" => 0o120777,
        _ => 0o100644,
    };
    let answer = Array::new(ctx)?;
    answer.set(0, kind)?;
    answer.set(1, meta.len() as f64)?;
    answer.set(2, mtime)?;
    answer.set(3, mode)?;
    Ok(answer)
}

/// Up to `length` bytes from `offset` (all of the rest for a negative length).
pub fn read_bytes<'js>(ctx: Ctx<'js>, path: String, offset: f64, length: f64) -> Result<TypedArray<'js, u8>> {
    let read = || -> std::io::Result<Vec<u8>> {
        let mut file = std::fs::File::open(&path)?;
        if file.metadata()?.is_dir() {
            return Err(std::io::ErrorKind::IsADirectory.into());
        }
        file.seek(SeekFrom::Start(offset.max(0.0) as u64))?;
        let mut bytes = Vec::new();
        if length < 0.0 {
            file.read_to_end(&mut bytes)?;
        } else {
            file.take(length as u64).read_to_end(&mut bytes)?;
        }
        Ok(bytes)
    };
    let bytes = read().map_err(|e| code(&ctx, &e))?;
    TypedArray::new(ctx, bytes)
}

/// `[[name, kind], …]` of a directory.
pub fn read_dir(ctx: Ctx<'_>, path: String) -> Result<Vec<Vec<String>>> {
    let entries = std::fs::read_dir(&path).map_err(|e| code(&ctx, &e))?;
    Ok(entries
        .filter_map(|entry| entry.ok())
        .map(|entry| {
            let kind = match entry.file_type() {
                Ok(t) if t.is_symlink() => "symlink",
                Ok(t) if t.is_dir() => "dir",
                Ok(t) if t.is_file() => "file",
                _ => "other",
            };
            vec![entry.file_name().to_string_lossy().into_owned(), kind.to_string()]
        })
        .collect())
}

pub fn realpath(ctx: Ctx<'_>, path: String) -> Result<String> {
    std::fs::canonicalize(&path).map(|p| p.to_string_lossy().into_owned()).map_err(|e| code(&ctx, &e))
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
