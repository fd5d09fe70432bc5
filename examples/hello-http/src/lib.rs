//! hello-http: the smallest useful Cloud Foundry app as a wasi:http component.
//!
//! Every request is answered with JSON showing what the platform told this
//! instance: its index, its port and the parsed VCAP_APPLICATION.

use wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

struct Hello;

impl wasi::exports::http::incoming_handler::Guest for Hello {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let env = |name: &str| std::env::var(name).ok();
        let vcap_application = env("VCAP_APPLICATION")
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .unwrap_or(serde_json::Value::Null);
        let body = serde_json::json!({
            "message": "hello from wasmfoundry",
            "path": request.path_with_query(),
            "instance_index": env("CF_INSTANCE_INDEX")
                .and_then(|i| i.parse::<u64>().ok())
                .or_else(|| vcap_application["instance_index"].as_u64()),
            "port": env("PORT"),
            "memory_limit": env("MEMORY_LIMIT"),
            "vcap_application": vcap_application,
        })
        .to_string();

        let headers = Fields::from_list(&[("content-type".to_string(), b"application/json".to_vec())])
            .expect("static header is valid");
        let response = OutgoingResponse::new(headers);
        let outgoing = response.body().expect("body is taken once");
        ResponseOutparam::set(out, Ok(response));
        let stream = outgoing.write().expect("stream is taken once");
        for chunk in body.as_bytes().chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                return; // the client went away
            }
        }
        drop(stream);
        OutgoingBody::finish(outgoing, None).expect("body finishes once");
    }
}

wasi::http::proxy::export!(Hello);
