"""hello-python: a small JSON API, written as a WSGI application (the
interface Flask, Django and every Python web framework serve through).
python_buildpack runs it on CPython.

  GET  /        what the platform told this instance (VCAP_APPLICATION)
  POST /echo    the JSON body it was sent, with the time it came back
"""

import datetime
import json
import os
import sys

# At staging: the snapshot keeps it.
LOADED_AT = datetime.datetime.now(datetime.timezone.utc).isoformat()


def app(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if method == "GET" and path == "/":
        # Per-instance facts are read per request, never at load time.
        vcap = json.loads(os.environ.get("VCAP_APPLICATION", "{}"))
        print(f"GET / on instance {vcap.get('instance_index')}")
        return respond(start_response, "200 OK", {
            "message": "hello from wasmfoundry, in Python",
            "instance_index": vcap.get("instance_index"),
            "port": os.environ.get("PORT"),
            "memory_limit": os.environ.get("MEMORY_LIMIT"),
            "python": sys.version.split()[0],
            "loaded_at": LOADED_AT,
            "vcap_application": vcap,
        })
    if method == "POST" and path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            body = json.loads(environ["wsgi.input"].read(length))
        except ValueError:
            return respond(start_response, "400 Bad Request", {"error": "send a JSON body"})
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        return respond(start_response, "200 OK", {"echo": body, "at": now})
    return respond(start_response, "404 Not Found", {"error": f"no route for {method} {path}"})


def respond(start_response, status, document):
    body = json.dumps(document, ensure_ascii=False).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
