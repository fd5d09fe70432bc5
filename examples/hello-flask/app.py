"""hello-flask: a Flask 3 app as it runs under gunicorn — routes with
parameters, query strings, JSON and form bodies, a Jinja2 template, a
streamed response, Flask's error handling. `wf push hello-flask` runs it
(with its packages vendored: scripts/example-deps.sh examples/hello-flask).
"""

import json
import os

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, stream_with_context

app = Flask(__name__)
items = {}


@app.get("/")
def index():
    vcap = json.loads(os.environ.get("VCAP_APPLICATION", "{}"))
    return jsonify(
        message="hello from wasmfoundry, in Flask",
        application_name=vcap.get("application_name"),
        instance_index=int(os.environ.get("CF_INSTANCE_INDEX", "-1")),
        port=os.environ.get("PORT"),
    )


@app.get("/hello/<name>")
def hello(name):
    return render_template("hello.html", name=name, punct=request.args.get("punct", ""))


@app.post("/items")
def create_item():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return jsonify(error='send {"name": "..."}'), 422
    item_id = str(len(items) + 1)
    items[item_id] = {"id": item_id, "name": body["name"], "tags": body.get("tags", [])}
    return jsonify(items[item_id]), 201, {"Location": f"/items/{item_id}"}


@app.get("/items/<item_id>")
def get_item(item_id):
    if item_id not in items:
        abort(404)
    return jsonify(items[item_id])


@app.post("/form")
def form():
    return jsonify(form=request.form.to_dict())


@app.get("/headers")
def headers():
    response = jsonify(user_agent=request.headers.get("User-Agent"), scheme=request.scheme, host=request.host)
    response.set_cookie("seen", "yes", httponly=True)
    response.headers["X-Greeting"] = "yes"
    return response


@app.get("/stream")
def stream():
    count = min(int(request.args.get("lines", 5)), 100)

    def lines():
        for n in range(1, count + 1):
            yield f"line {n}\n"
        yield "done\n"

    return Response(stream_with_context(lines()), mimetype="text/plain")


@app.get("/redirect")
def to_hello():
    return redirect("/hello/redirected")


@app.get("/boom")
def boom():
    raise RuntimeError("boom, as asked")


@app.errorhandler(404)
def not_found(error):
    return jsonify(error=f"no route for {request.method} {request.path}"), 404
