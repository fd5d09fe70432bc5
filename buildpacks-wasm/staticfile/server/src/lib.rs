//! The file server of `staticfile_buildpack`: a wasi:http component that
//! serves the app's files the way CF's staticfile buildpack (nginx) does —
//! content types by extension, `index.html` for directories (and a
//! redirect to add their trailing slash), 404 for what is missing or
//! hidden (dotfiles), single byte ranges, `ETag`/`Last-Modified` with
//! conditional requests, and gzip for clients that accept it.
//!
//! Arguments (from the buildpack's start command): `--root DIR` (under
//! `$HOME`, default the app itself) and `--pushstate` (unknown paths get
//! `/index.html`, for single-page apps).

mod http_date;
mod mime;

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasi::io::streams::{OutputStream, StreamError};

/// Files at least this big are gzipped when the client accepts it.
const MIN_GZIP_BYTES: u64 = 256;
/// Bodies are written in chunks of this size.
const CHUNK: usize = 64 * 1024;

struct Server;

impl wasi::exports::http::incoming_handler::Guest for Server {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let request = Request::read(&request);
        let reply = answer(&request, &Site::from_args());
        send(out, reply, request.method == Verb::Head);
    }
}

wasi::http::proxy::export!(Server);

struct Site {
    root: PathBuf,
    pushstate: bool,
}

impl Site {
    fn from_args() -> Site {
        let args: Vec<String> = std::env::args().collect();
        let home = std::env::var("HOME").unwrap_or_else(|_| "/home/vcap/app".into());
        let root = args.iter().position(|a| a == "--root").and_then(|i| args.get(i + 1));
        Site {
            root: Path::new(&home).join(root.map(String::as_str).unwrap_or(".")),
            pushstate: args.iter().any(|a| a == "--pushstate"),
        }
    }
}

/// The methods a file server tells apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Head,
    Other,
}

struct Request {
    method: Verb,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn read(request: &IncomingRequest) -> Request {
        let target = request.path_with_query().unwrap_or_else(|| "/".into());
        let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
        let headers = request
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let method = match request.method() {
            Method::Get => Verb::Get,
            Method::Head => Verb::Head,
            _ => Verb::Other,
        };
        Request { method, path, headers }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

enum Body {
    Empty,
    Bytes(Vec<u8>),
    File { file: File, start: u64, len: u64 },
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
}

impl Reply {
    fn text(status: u16, text: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: Body::Bytes(text.as_bytes().to_vec()),
        }
    }
}

fn answer(request: &Request, site: &Site) -> Reply {
    if request.method == Verb::Other {
        let mut reply = Reply::text(405, "405 Method Not Allowed\n");
        reply.headers.push(("allow".into(), "GET, HEAD".into()));
        return reply;
    }
    let Some(relative) = safe_relative(&request.path) else { return not_found(site) };
    let mut path = site.root.join(&relative);
    if path.is_dir() {
        if !request.path.ends_with('/') {
            let mut reply = Reply::text(301, "301 Moved Permanently\n");
            reply.headers.push(("location".into(), format!("{}/", request.path)));
            return reply;
        }
        path = path.join("index.html");
    }
    if !path.is_file() {
        if site.pushstate && site.root.join("index.html").is_file() {
            path = site.root.join("index.html");
        } else {
            return not_found(site);
        }
    }
    serve_file(request, &path, 200).unwrap_or_else(|e| Reply::text(500, &format!("500 Internal Server Error: {e}\n")))
}

/// The request path as a relative path under the root, or None when it
/// leaves the root or names a hidden file.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let mut relative = PathBuf::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            s if s.starts_with('.') || s.contains('\\') || s.contains('\0') => return None,
            s => relative.push(s),
        }
    }
    Some(relative)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The site's `404.html` if it has one, else a plain 404.
fn not_found(site: &Site) -> Reply {
    let page = site.root.join("404.html");
    if page.is_file() {
        if let Ok(mut reply) = serve_file(&Request { method: Verb::Get, path: String::new(), headers: Vec::new() }, &page, 404) {
            reply.status = 404;
            return reply;
        }
    }
    Reply::text(404, "404 Not Found\n")
}

fn serve_file(request: &Request, path: &Path, status: u16) -> std::io::Result<Reply> {
    let metadata = fs::metadata(path)?;
    let len = metadata.len();
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let content_type = mime::of(path);
    let tag = format!("\"{modified:x}-{len:x}\"");
    let last_modified = http_date::format(modified);
    let mut headers = vec![
        ("content-type".to_string(), content_type.to_string()),
        ("last-modified".to_string(), last_modified.clone()),
        ("accept-ranges".to_string(), "bytes".to_string()),
    ];

    if status == 200 && not_modified(request, &tag, &last_modified) {
        headers.push(("etag".into(), tag));
        return Ok(Reply { status: 304, headers, body: Body::Empty });
    }

    let gzip = status == 200
        && request.header("range").is_none()
        && len >= MIN_GZIP_BYTES
        && mime::compressible(content_type)
        && accepts_gzip(request.header("accept-encoding").unwrap_or(""));
    if gzip {
        let mut encoder = flate2::read::GzEncoder::new(File::open(path)?, flate2::Compression::fast());
        let mut compressed = Vec::new();
        encoder.read_to_end(&mut compressed)?;
        headers.push(("etag".into(), format!("W/{tag}")));
        headers.push(("content-encoding".into(), "gzip".into()));
        headers.push(("vary".into(), "Accept-Encoding".into()));
        return Ok(Reply { status, headers, body: Body::Bytes(compressed) });
    }

    headers.push(("etag".into(), tag));
    if mime::compressible(content_type) {
        headers.push(("vary".into(), "Accept-Encoding".into()));
    }
    let file = File::open(path)?;
    match request.header("range").filter(|_| status == 200).map(|r| byte_range(r, len)) {
        Some(Some((start, end))) => {
            headers.push(("content-range".into(), format!("bytes {start}-{end}/{len}")));
            Ok(Reply { status: 206, headers, body: Body::File { file, start, len: end - start + 1 } })
        }
        Some(None) => {
            let mut reply = Reply::text(416, "416 Range Not Satisfiable\n");
            reply.headers.push(("content-range".into(), format!("bytes */{len}")));
            Ok(reply)
        }
        None => Ok(Reply { status, headers, body: Body::File { file, start: 0, len } }),
    }
}

/// `If-None-Match` (weak comparison, as for GET), else an exact
/// `If-Modified-Since` (as nginx compares it).
fn not_modified(request: &Request, tag: &str, last_modified: &str) -> bool {
    if let Some(tags) = request.header("if-none-match") {
        let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
        return tags.split(',').any(|t| t.trim() == "*" || bare(t) == bare(tag));
    }
    request.header("if-modified-since").is_some_and(|since| since.trim() == last_modified)
}

fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
        (name == "gzip" || name == "*") && !refused
    })
}

/// The first and last byte of a single `bytes=` range, or None when it
/// cannot be satisfied. (Several ranges are answered with the whole file.)
fn byte_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return if len == 0 { None } else { Some((0, len - 1)) };
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let suffix: u64 = last.parse().ok().filter(|&n| n > 0)?;
        return Some((len.saturating_sub(suffix), len - 1));
    }
    let start: u64 = first.parse().ok()?;
    let end: u64 = if last.is_empty() { len - 1 } else { last.parse::<u64>().ok()?.min(len - 1) };
    (start <= end && start < len).then_some((start, end))
}

fn send(out: ResponseOutparam, reply: Reply, head_only: bool) {
    let mut headers = reply.headers;
    let length = match &reply.body {
        Body::Empty => None,
        Body::Bytes(bytes) => Some(bytes.len() as u64),
        Body::File { len, .. } => Some(*len),
    };
    if let Some(length) = length {
        headers.push(("content-length".into(), length.to_string()));
    }
    let fields: Vec<(String, Vec<u8>)> = headers.into_iter().map(|(n, v)| (n, v.into_bytes())).collect();
    let response = OutgoingResponse::new(Fields::from_list(&fields).unwrap_or_else(|_| Fields::new()));
    let _ = response.set_status_code(reply.status);
    let outgoing = response.body().expect("body is taken once");
    ResponseOutparam::set(out, Ok(response));
    if !head_only {
        let stream = outgoing.write().expect("stream is taken once");
        let _ = write_body(&stream, reply.body);
        drop(stream);
    }
    let _ = OutgoingBody::finish(outgoing, None);
}

fn write_body(stream: &OutputStream, body: Body) -> Result<(), StreamError> {
    match body {
        Body::Empty => Ok(()),
        Body::Bytes(bytes) => write_all(stream, &bytes),
        Body::File { mut file, start, len } => {
            if file.seek(SeekFrom::Start(start)).is_err() {
                return Ok(());
            }
            let mut left = len;
            let mut buffer = vec![0u8; CHUNK];
            while left > 0 {
                let want = (left as usize).min(CHUNK);
                let Ok(read) = file.read(&mut buffer[..want]) else { break };
                if read == 0 {
                    break;
                }
                write_all(stream, &buffer[..read])?;
                left -= read as u64;
            }
            Ok(())
        }
    }
}

fn write_all(stream: &OutputStream, mut data: &[u8]) -> Result<(), StreamError> {
    while !data.is_empty() {
        let permitted = stream.check_write()? as usize;
        if permitted == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = permitted.min(data.len());
        stream.write(&data[..n])?;
        data = &data[n..];
    }
    stream.blocking_flush()
}
