"""python_buildpack's runtime: a WSGI application served as a wasi:http handler.

The droplet starts `.wf/python.wasm MODULE:CALLABLE` (CPython for WASI, built
with componentize-py). At staging the DEA calls `initialize` (our preinit
interface): the app's module is imported with `/home/vcap/app` and its vendored
packages on `sys.path`, and the memory is snapshotted, so an instance's first
request finds the app imported. Each request becomes a PEP 3333 environ
whose `wsgi.input` reads the body as it arrives; the response goes out as the
app's iterable yields it (the head with the first non-empty chunk), as under
gunicorn.

What WASI lacks is bridged here: `sys.stdout`/`sys.stderr` write to the
instance's log streams, `os.environ` is the instance's CF environment (read
again per request: PORT, CF_INSTANCE_INDEX and VCAP_APPLICATION are the
instance's, not staging's), and `urllib.request.urlopen` goes out through
wasi:http, held to the app's security groups like every egress.
"""

import email.message
import gc
import http.client
import io
import os
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request
import urllib.response

import _wasmfoundry_wasi

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import environment, outgoing_handler, stderr, stdout, streams, types

APP_ROOT = "/home/vcap/app"
# The standard library, beside the runtime in the droplet: the runtime
# holds only the modules it imported when it was built.
STDLIB_ZIP = os.path.join(APP_ROOT, ".wf", "python-stdlib.zip")
# blocking-write-and-flush takes at most this many bytes per call.
WRITE_CHUNK = 4096
READ_CHUNK = 65536

_app = None
_load_error = None


class _LogStream(io.TextIOBase):
    """sys.stdout / sys.stderr, line-buffered as under gunicorn: whole lines
    go to the instance's stream as they are completed (`print` writes its
    text and its newline apart: one write to the host for both), the rest
    when flushed — at the latest when the request ends. The stream is
    opened at the first write and kept for the store's life, but closed
    before the snapshot is taken (a stream of staging's is not an
    instance's)."""

    def __init__(self, open_stream, name):
        self._open_stream = open_stream
        self._name = name
        self._stream = None
        self._pending = ""

    @property
    def name(self):
        return self._name

    def writable(self):
        return True

    def write(self, text):
        self._pending += text
        end = self._pending.rfind("\n") + 1
        if end:
            lines, self._pending = self._pending[:end], self._pending[end:]
            self._send(lines)
        return len(text)

    def flush(self):
        if self._pending:
            text, self._pending = self._pending, ""
            self._send(text)

    def close_stream(self):
        """Flushes, and lets go of the host's stream (before a snapshot)."""
        self.flush()
        if self._stream is not None:
            self._stream.__exit__(None, None, None)
            self._stream = None

    def _send(self, text):
        if self._stream is None:
            self._stream = self._open_stream()
        _write_all(self._stream, text.encode("utf-8", "replace"))


sys.stdout = _LogStream(stdout.get_stdout, "<stdout>")
sys.stderr = _LogStream(stderr.get_stderr, "<stderr>")


# Whether os.environ is this instance's yet: a snapshot holds staging's, and
# a store belongs to one instance for its life, so its first request reads
# the instance's and the rest keep it.
_environ_is_instances = False


def _refresh_environ():
    """os.environ becomes the environment this instance (or staging) was given."""
    current = dict(environment.get_environment())
    for name in [name for name in os.environ if name not in current]:
        del os.environ[name]
    for name, value in current.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def _site_dirs():
    """Where a push keeps its pure-Python packages: `vendor/` (pip install
    --target vendor) or a site-packages layout under vendor/, .python_packages
    or a virtualenv pushed with the app."""
    version = "python%d.%d" % sys.version_info[:2]
    candidates = [os.path.join(APP_ROOT, "vendor")]
    for base in ("vendor", ".python_packages", "venv", ".venv"):
        candidates.append(os.path.join(APP_ROOT, base, "lib", version, "site-packages"))
        candidates.append(os.path.join(APP_ROOT, base, "lib", "site-packages"))
    return [path for path in candidates if os.path.isdir(path)]


def _add_stdlib_zip():
    """Puts the droplet's standard library on sys.path, and on the path of
    each standard package already imported (urllib, email…): their
    submodules are found there too."""
    built_with = os.path.dirname(traceback.__file__)
    sys.path.append(STDLIB_ZIP)
    for module in list(sys.modules.values()):
        for directory in list(getattr(module, "__path__", None) or []):
            if isinstance(directory, str) and directory.startswith(built_with + "/"):
                module.__path__.append(os.path.join(STDLIB_ZIP, directory[len(built_with) + 1 :]))


def _load(target):
    """Imports `module:callable`; with no callable named, the module's
    `app`, else its `application` (Django's wsgi.py)."""
    module_name, _, attribute = target.partition(":")
    module = __import__(module_name)
    for part in module_name.split(".")[1:]:
        module = getattr(module, part)
    for name in [attribute] if attribute else ["app", "application"]:
        app = module
        for part in name.split("."):
            app = getattr(app, part, None)
        if app is not None:
            break
    else:
        raise RuntimeError(f"{module_name} has no WSGI callable {attribute or 'app'!r}")
    if not callable(app):
        raise RuntimeError(f"{module_name}:{name} is not callable")
    return app


def _ensure_loaded():
    global _app, _load_error
    if _app is None and _load_error is None:
        _refresh_environ()
        arguments = environment.get_arguments()
        target = arguments[1] if len(arguments) > 1 else "app"
        sys.path[:0] = [APP_ROOT] + _site_dirs()
        _add_stdlib_zip()
        try:
            os.chdir(APP_ROOT)
            _install_urllib_handler()
            _app = _load(target)
        except BaseException:  # noqa: BLE001 - what the app raised is its error
            _load_error = traceback.format_exc()
        # What the app built as it loaded lives as long as the store: the
        # cycle collector leaves it be (as gunicorn's preloading apps
        # freeze it), rather than walk it again, and write to every page
        # of it, in each full collection.
        gc.collect()
        gc.freeze()
    return _load_error


class Preinit(exports.Preinit):
    def initialize(self):
        error = _ensure_loaded()
        # What the snapshot keeps must not name this store's host handles
        # (the log streams, wasi-libc's preopens, the preview 1 adapter's
        # descriptors): they are looked up again in each instance.
        sys.stdout.close_stream()
        sys.stderr.close_stream()
        _wasmfoundry_wasi.forget_host_handles()
        if error is not None:
            raise Err(error)


# ---- outgoing HTTP: urllib through wasi:http --------------------------------

_METHODS = {
    "GET": types.Method_Get(),
    "HEAD": types.Method_Head(),
    "POST": types.Method_Post(),
    "PUT": types.Method_Put(),
    "DELETE": types.Method_Delete(),
    "CONNECT": types.Method_Connect(),
    "OPTIONS": types.Method_Options(),
    "TRACE": types.Method_Trace(),
    "PATCH": types.Method_Patch(),
}


def _read_all(body):
    chunks = []
    with body.stream() as stream:
        while True:
            try:
                chunks.append(stream.blocking_read(READ_CHUNK))
            except Err as error:
                if isinstance(error.value, streams.StreamError_Closed):
                    break
                raise
    return b"".join(chunks)


def _write_all(stream, data):
    if len(data) <= WRITE_CHUNK:
        stream.blocking_write_and_flush(data)
        return
    for start in range(0, len(data), WRITE_CHUNK):
        stream.blocking_write_and_flush(data[start : start + WRITE_CHUNK])


# Headers wasi:http sets itself (from the authority and the body) and
# refuses from a guest; urllib adds Host and Connection.
_HOP_BY_HOP = {"host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"}


def _send(method, url, headers, data, timeout):
    """One request through wasi:http: (status, [(name, value)], body)."""
    parts = urllib.parse.urlsplit(url)
    fields = types.Fields.from_list(
        [(name.lower(), value.encode("latin-1")) for name, value in headers if name.lower() not in _HOP_BY_HOP]
    )
    request = types.OutgoingRequest(fields)
    request.set_method(_METHODS.get(method.upper(), types.Method_Other(method.upper())))
    request.set_scheme(types.Scheme_Https() if parts.scheme == "https" else types.Scheme_Http())
    request.set_authority(parts.netloc)
    request.set_path_with_query(parts.path + ("?" + parts.query if parts.query else "") or "/")
    body = request.body()
    options = types.RequestOptions()
    if isinstance(timeout, (int, float)):
        nanos = int(timeout * 1e9)
        options.set_connect_timeout(nanos)
        options.set_first_byte_timeout(nanos)
    try:
        future = outgoing_handler.handle(request, options)
        with body.write() as stream:
            if data:
                _write_all(stream, data)
        types.OutgoingBody.finish(body, None)
        with future.subscribe() as pollable:
            pollable.block()
        response = future.get().value  # Ok(response) or Err(error code), once ready
    except Err as error:
        raise OSError(f"{method} {url} failed: {_describe(error.value)}") from None
    if isinstance(response, Err):
        raise OSError(f"{method} {url} failed: {_describe(response.value)}")
    response = response.value
    status = response.status()
    response_headers = [(name, value.decode("latin-1")) for name, value in response.headers().entries()]
    return status, response_headers, _read_all(response.consume())


def _describe(error_code):
    """An ErrorCode as words: its case's name, and its detail if any."""
    if isinstance(error_code, types.ErrorCode_HttpRequestDenied):
        return "denied by the app's security groups"
    name = type(error_code).__name__.removeprefix("ErrorCode_")
    detail = getattr(error_code, "value", None)
    return f"{name} ({detail})" if detail else name


def _install_urllib_handler():
    class WasiHttpHandler(urllib.request.BaseHandler):
        handler_order = 100

        def _open(self, req):
            try:
                status, headers, body = _send(
                    req.get_method(), req.full_url, req.header_items(), req.data, req.timeout
                )
            except OSError as error:
                raise urllib.error.URLError(error) from None
            message = email.message.Message()
            for name, value in headers:
                message[name] = value
            response = urllib.response.addinfourl(io.BytesIO(body), message, req.full_url, status)
            response.msg = http.client.responses.get(status, "")
            return response

        http_open = _open
        https_open = _open

    urllib.request.install_opener(urllib.request.build_opener(WasiHttpHandler))


# ---- serving ----------------------------------------------------------------

def _environ(request):
    """The PEP 3333 environ of `request`, but for `wsgi.input`."""
    path_with_query = request.path_with_query() or "/"
    path, _, query = path_with_query.partition("?")
    authority = request.authority() or "localhost"
    host, _, port = authority.partition(":")
    scheme = request.scheme()
    environ = {
        "REQUEST_METHOD": _method_name(request.method()),
        "SCRIPT_NAME": "",
        # PEP 3333: the path's bytes, %-decoded, as latin-1 text.
        "PATH_INFO": urllib.parse.unquote_to_bytes(path).decode("latin-1") if "%" in path or not path.isascii() else path,
        "QUERY_STRING": query,
        "SERVER_NAME": host,
        "SERVER_PORT": port or os.environ.get("PORT", "8080"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https" if isinstance(scheme, types.Scheme_Https) else "http",
        # The body ends where the stream does (a chunked upload has no
        # Content-Length): Werkzeug and Django read to the end, as under gunicorn.
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    with request.headers() as headers:
        for name, value in headers.entries():
            value = value.decode("latin-1")
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                key = "HTTP_" + key
                environ[key] = environ[key] + "," + value if key in environ else value
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO")
    if forwarded:
        environ["wsgi.url_scheme"] = forwarded.split(",")[0].strip()
    if "HTTP_X_FORWARDED_FOR" in environ:
        environ["REMOTE_ADDR"] = environ["HTTP_X_FORWARDED_FOR"].split(",")[0].strip()
    return environ


def _method_name(method):
    if isinstance(method, types.Method_Other):
        return method.value
    return type(method).__name__.split("_", 1)[1].upper()


class _RequestBody(io.RawIOBase):
    """wsgi.input's source: the request body, read from wasi:http as the app
    asks for it (a large upload is not held whole in memory first). Taken
    from the request at the first read: most requests (GETs) never read
    one, and skip the calls to the host."""

    def __init__(self, request):
        self._request = request
        self._incoming = None
        self._stream = None
        self._pending = b""
        self._ended = False

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._incoming is None and not self._ended:
            self._incoming = self._request.consume()
            self._stream = self._incoming.stream()
        while not self._pending and not self._ended:
            try:
                self._pending = self._stream.blocking_read(max(len(buffer), READ_CHUNK))
            except Err as error:
                if not isinstance(error.value, streams.StreamError_Closed):
                    raise
                self._ended = True
        taken = min(len(buffer), len(self._pending))
        buffer[:taken] = self._pending[:taken]
        self._pending = self._pending[taken:]
        return taken

    def close(self):
        if not self.closed and self._incoming is not None:
            self._stream.__exit__(None, None, None)
            types.IncomingBody.finish(self._incoming)
        super().close()


class _Input:
    """wsgi.input: the request body as a buffered stream, made when the
    app first reads (most requests, GETs, never do: they skip making the
    stream and its buffer)."""

    __slots__ = ("_request", "_raw", "_reader")

    def __init__(self, request):
        self._request = request
        self._raw = None
        self._reader = None

    def _open(self):
        if self._reader is None:
            self._raw = _RequestBody(self._request)
            # io's default buffer: a larger read goes past it, to the stream.
            self._reader = io.BufferedReader(self._raw)
        return self._reader

    def read(self, size=-1):
        return self._open().read(size)

    def readline(self, size=-1):
        return self._open().readline(size)

    def readlines(self, hint=-1):
        return self._open().readlines(hint)

    def __iter__(self):
        return iter(self._open())

    def __getattr__(self, name):
        # What else a file has (readinto, read1, peek, closed…).
        return getattr(self._open(), name)

    def close(self):
        if self._raw is not None:
            self._raw.close()


class _Response:
    """The response, sent as the app makes it: the head when the first
    non-empty chunk comes (or the body ends empty), each chunk at once."""

    def __init__(self, response_out):
        self._out = response_out
        self._body = None
        self._stream = None

    @property
    def sent(self):
        return self._body is not None

    def head(self, code, headers):
        fields = types.Fields.from_list([(name.lower(), value.encode("latin-1")) for name, value in headers])
        response = types.OutgoingResponse(fields)
        if code != 200:  # what an outgoing-response starts with
            response.set_status_code(code)
        self._body = response.body()
        types.ResponseOutparam.set(self._out, Ok(response))
        self._stream = self._body.write()

    def write(self, data):
        _write_all(self._stream, data)

    def finish(self):
        self._stream.__exit__(None, None, None)
        types.OutgoingBody.finish(self._body, None)

    def abandon(self):
        """Ends the body unfinished, so the client sees it cut off."""
        self._stream.__exit__(None, None, None)
        self._body.__exit__(None, None, None)


def _error_response(response_out, status, text):
    response = _Response(response_out)
    response.head(status, [("Content-Type", "text/plain; charset=utf-8")])
    response.write(text.encode())
    response.finish()


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out):
        error = _ensure_loaded()
        if error is not None:
            print(error, file=sys.stderr, flush=True)
            _error_response(response_out, 500, "Internal Server Error\n")
            return
        global _environ_is_instances
        if not _environ_is_instances:
            _refresh_environ()
            _environ_is_instances = True
        environ = _environ(request)
        environ["wsgi.input"] = body = _Input(request)
        response = _Response(response_out)
        started = []

        def start_response(status, headers, exc_info=None):
            if exc_info is not None:
                try:
                    if response.sent:
                        raise exc_info[1].with_traceback(exc_info[2])
                finally:
                    exc_info = None
            elif started:
                raise AssertionError("start_response called twice without exc_info")
            started[:] = [(status, list(headers))]
            return write

        def send_head():
            if not started:
                raise AssertionError("the app returned without calling start_response")
            status, headers = started[0]
            try:
                code = int(status.split(" ", 1)[0])
            except ValueError:
                raise AssertionError(f"the app gave an invalid status {status!r}") from None
            response.head(code, headers)

        def write(data):
            if not response.sent:
                send_head()
            if data:
                response.write(bytes(data))

        try:
            result = _app(environ, start_response)
            try:
                for chunk in result:
                    if chunk:
                        write(chunk)
                if not response.sent:
                    send_head()
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except BaseException:  # noqa: BLE001 - the app's error is a 500 (or a cut-off body) and a log entry
            traceback.print_exc()
            if response.sent:
                response.abandon()
            else:
                _error_response(response_out, 500, "Internal Server Error\n")
            return
        finally:
            body.close()
            sys.stdout.flush()
            sys.stderr.flush()
        response.finish()
