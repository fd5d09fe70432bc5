//! HTTP both ways: each incoming request (wasi:http/incoming-handler) goes
//! to the app's handler through `__wf.dispatch`, whose answer goes back
//! through `respondHead`, `respondWrite` and `respondEnd` as the app makes
//! it, so a Node server's response streams; `fetch` goes out through
//! wasi:http/outgoing-handler, which the DEA holds to the app's security
//! groups like every other egress.

use std::cell::RefCell;

use rquickjs::{Array, Ctx, Exception, Function, Object, Result, TypedArray, Value};
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingRequest, InputStream, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, OutputStream, ResponseOutparam, Scheme,
};

use super::host::copy_bytes;
use super::{describe, settle, with_app};

/// Where the response of the request being handled is.
enum Answer {
    /// Nothing is sent yet.
    Waiting(ResponseOutparam),
    /// The head is sent; the body is being written.
    Streaming(OutgoingBody, OutputStream),
    /// Ended, or no request is being handled.
    Done,
}

thread_local! {
    static ANSWER: RefCell<Answer> = const { RefCell::new(Answer::Done) };
}

struct Server;

impl wasi::exports::http::incoming_handler::Guest for Server {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        ANSWER.set(Answer::Waiting(out));
        let outcome = with_app(|app| app.context.with(|ctx| dispatch(&ctx, &request))).and_then(|r| r);
        let error = match outcome {
            Ok(()) => None,
            Err(error) => {
                super::host_print_error(&error);
                Some(error)
            }
        };
        match ANSWER.replace(Answer::Done) {
            Answer::Waiting(out) => {
                if error.is_none() {
                    super::host_print_error("the app ended the request without answering it");
                }
                let text = ("content-type".to_string(), "text/plain; charset=utf-8".to_string());
                if let Ok((body, stream)) = start(out, 500, vec![text]) {
                    let _ = stream.blocking_write_and_flush(b"Internal Server Error\n");
                    finish(body, stream);
                }
            }
            // A response cut off by an error ends without its last chunk,
            // so the client sees it was cut off.
            Answer::Streaming(body, stream) if error.is_none() => finish(body, stream),
            Answer::Streaming(..) | Answer::Done => {}
        }
        let _ = with_app(|app| app.context.with(|ctx| after_response(&ctx)));
    }
}

wasi::http::proxy::export!(Server with_types_in wasi);

fn dispatch(ctx: &Ctx<'_>, request: &IncomingRequest) -> std::result::Result<(), String> {
    let method = method_name(&request.method());
    let scheme = match request.scheme() {
        Some(Scheme::Https) => "https".to_string(),
        Some(Scheme::Other(other)) => other,
        _ => "http".to_string(),
    };
    let headers: Vec<Vec<String>> = request
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| vec![name, String::from_utf8_lossy(&value).into_owned()])
        .collect();
    let host = request
        .authority()
        .or_else(|| headers.iter().find(|line| line[0].eq_ignore_ascii_case("host")).map(|line| line[1].clone()))
        .unwrap_or_else(|| "localhost".into());
    let url = format!("{scheme}://{host}{}", request.path_with_query().unwrap_or_else(|| "/".into()));
    let encrypted = scheme == "https";
    let body = read_incoming(request.consume().map_err(|()| "the request body was already taken".to_string())?)?;
    let call = || -> Result<rquickjs::Promise<'_>> {
        let wf: Object = ctx.globals().get("__wf")?;
        let body = if body.is_empty() { None } else { Some(TypedArray::<u8>::new(ctx.clone(), body)?) };
        wf.get::<_, Function>("dispatch")?.call((method, url, headers, body, encrypted))
    };
    let promise = call().map_err(|e| describe(ctx, e))?;
    settle::<rquickjs::Value>(ctx, promise).map(|_| ())
}

fn pair(line: Vec<String>) -> Option<(String, String)> {
    let mut line = line.into_iter();
    Some((line.next()?, line.next()?))
}

/// Lets `waitUntil` promises finish after the response has gone.
fn after_response(ctx: &Ctx<'_>) {
    let pending =
        ctx.globals().get::<_, Object>("__wf").and_then(|wf| wf.get::<_, Option<rquickjs::Promise>>("afterResponse"));
    if let Ok(Some(pending)) = pending {
        if let Err(error) = settle::<rquickjs::Value>(ctx, pending) {
            super::host_print_error(&error);
        }
    }
}

/// Fields about the connection, not the response: framing is the
/// platform's, so these never reach the client from the app (wasi:http
/// refuses them), as Node and Workers leave them out.
const HOP_BY_HOP: [&str; 7] =
    ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"];

/// Sends the head; what is returned takes the body.
fn start(
    out: ResponseOutparam,
    status: u16,
    lines: Vec<(String, String)>,
) -> std::result::Result<(OutgoingBody, OutputStream), (ResponseOutparam, String)> {
    let fields: Vec<(String, Vec<u8>)> = lines
        .into_iter()
        .filter(|(name, _)| !HOP_BY_HOP.iter().any(|hop| name.eq_ignore_ascii_case(hop)))
        .map(|(n, v)| (n, v.into_bytes()))
        .collect();
    let headers = match Fields::from_list(&fields) {
        Ok(headers) => headers,
        Err(e) => return Err((out, format!("the response's headers are not valid: {e:?}"))),
    };
    let response = OutgoingResponse::new(headers);
    if response.set_status_code(status).is_err() {
        return Err((out, format!("{status} is not an HTTP status")));
    }
    let body = response.body().expect("the body is taken once");
    ResponseOutparam::set(out, Ok(response));
    let stream = body.write().expect("the stream is taken once");
    Ok((body, stream))
}

fn finish(body: OutgoingBody, stream: OutputStream) {
    drop(stream);
    let _ = OutgoingBody::finish(body, None);
}

/// `__wf.respondHead(status, lines)`: sends the response's status and
/// fields; a TypeError when they are not valid (nothing is sent then).
pub fn respond_head(ctx: Ctx<'_>, status: u16, lines: Vec<Vec<String>>) -> Result<()> {
    match ANSWER.replace(Answer::Done) {
        Answer::Waiting(out) => match start(out, status, lines.into_iter().filter_map(pair).collect()) {
            Ok((body, stream)) => {
                ANSWER.set(Answer::Streaming(body, stream));
                Ok(())
            }
            Err((out, why)) => {
                ANSWER.set(Answer::Waiting(out));
                Err(Exception::throw_type(&ctx, &why))
            }
        },
        other => {
            ANSWER.set(other);
            Err(Exception::throw_message(&ctx, "the response's head was sent already"))
        }
    }
}

/// `__wf.respondWrite(piece)`: a piece of the body (bytes, or text sent
/// as UTF-8), sent at once; false when the client has gone (or nothing is
/// being answered).
pub fn respond_write(ctx: Ctx<'_>, piece: Value<'_>) -> Result<bool> {
    let bytes = match piece.as_string() {
        Some(text) => text.to_string()?.into_bytes(),
        None => match TypedArray::<u8>::from_value(piece) {
            Ok(bytes) => copy_bytes(&bytes),
            Err(_) => return Err(Exception::throw_type(&ctx, "a body is written as a string or a Uint8Array")),
        },
    };
    Ok(ANSWER.with_borrow(|answer| match answer {
        Answer::Streaming(_, stream) => bytes.chunks(4096).all(|chunk| stream.blocking_write_and_flush(chunk).is_ok()),
        _ => false,
    }))
}

/// `__wf.respondEnd()`: the body is complete.
pub fn respond_end() {
    if let Answer::Streaming(body, stream) = ANSWER.replace(Answer::Done) {
        finish(body, stream);
    }
}

/// `__wf.respondAbort()`: the body stops short, and the client is told so
/// (the body is dropped unfinished); before the head, the request is
/// answered with a 500.
pub fn respond_abort() {
    ANSWER.with_borrow_mut(|answer| {
        if matches!(answer, Answer::Streaming(..)) {
            *answer = Answer::Done;
        }
    });
}

fn read_incoming(body: IncomingBody) -> std::result::Result<Vec<u8>, String> {
    let stream = body.stream().map_err(|()| "the request body stream was already taken".to_string())?;
    let bytes = read_all(&stream);
    drop(stream);
    let _ = IncomingBody::finish(body);
    Ok(bytes)
}

fn read_all(stream: &InputStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 * 1024) {
        bytes.extend_from_slice(&chunk);
    }
    bytes
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(other) => other,
    }
    .to_string()
}

/// `__wf.fetch(method, url, lines, body)`: one outgoing request, answered
/// as `[status, lines, body]`; a refusal (security groups, DNS, connect)
/// is a TypeError as in browsers.
pub fn fetch<'js>(
    ctx: Ctx<'js>,
    method: String,
    url: String,
    lines: Vec<Vec<String>>,
    body: Option<TypedArray<'js, u8>>,
) -> Result<Array<'js>> {
    let fail = |why: String| Exception::throw_type(&ctx, &format!("fetch failed: {url}: {why}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(|| fail("not an absolute http(s) URL".into()))?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => return Err(fail(format!("the {other}: scheme is not supported"))),
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = path.split('#').next().unwrap_or("/");
    let path = if path.starts_with('?') { format!("/{path}") } else { path.to_string() };
    let fields: Vec<(String, Vec<u8>)> = lines.into_iter().filter_map(pair).map(|(n, v)| (n, v.into_bytes())).collect();
    let headers = Fields::from_list(&fields).map_err(|e| fail(format!("invalid headers: {e:?}")))?;
    let request = OutgoingRequest::new(headers);
    let method = match method.as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_string()),
    };
    let _ = request.set_method(&method);
    let _ = request.set_scheme(Some(&scheme));
    request.set_authority(Some(authority)).map_err(|()| fail("invalid host".into()))?;
    request.set_path_with_query(Some(&path)).map_err(|()| fail("invalid path".into()))?;
    let outgoing = request.body().map_err(|()| fail("body taken".into()))?;
    let pending = wasi::http::outgoing_handler::handle(request, None).map_err(|e| fail(format!("{e:?}")))?;
    {
        let stream = outgoing.write().map_err(|()| fail("body stream taken".into()))?;
        if let Some(body) = &body {
            for chunk in copy_bytes(body).chunks(4096) {
                stream.blocking_write_and_flush(chunk).map_err(|e| fail(format!("sending the body: {e:?}")))?;
            }
        }
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| fail(format!("{e:?}")))?;
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(fail(describe_error(&code))),
        _ => return Err(fail("no response".into())),
    };
    let status = response.status();
    let lines = response
        .headers()
        .entries()
        .into_iter()
        .map(|(n, v)| vec![n, String::from_utf8_lossy(&v).into_owned()])
        .collect::<Vec<_>>();
    let body = response.consume().map_err(|()| fail("response body taken".into()))?;
    let stream = body.stream().map_err(|()| fail("response body stream taken".into()))?;
    let bytes = read_all(&stream);
    drop(stream);
    drop(body);
    let answer = Array::new(ctx.clone())?;
    answer.set(0, status)?;
    answer.set(1, lines)?;
    answer.set(2, TypedArray::new(ctx.clone(), bytes)?)?;
    Ok(answer)
}

fn describe_error(code: &ErrorCode) -> String {
    match code {
        ErrorCode::DnsError(e) => format!("DNS error {}", e.rcode.clone().unwrap_or_default()),
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::DestinationNotFound => "destination not found".into(),
        ErrorCode::HttpRequestDenied => "denied by the app's security groups".into(),
        other => format!("{other:?}"),
    }
}
