//! The contract between the roles: what the Cloud Controller, DEAs, routers
//! and health managers say to each other and to the apps they run, and
//! nothing else. Every role imports it; it imports no role.
//!
//! - [`messages`]: every NATS subject and the JSON message it carries;
//! - [`vcap`]: VCAP_APPLICATION and VCAP_SERVICES as apps see them;
//! - [`manifest`]: manifest.yml, as the client and the CC read it;
//! - [`droplet`]: a droplet's format (tar.gz of `app/` and `staging_info.yml`);
//! - [`STACK`]: the one stack apps stage and run on;
//! - [`INSTANCE_ID`], [`INSTANCE_GONE`]: how a router reaches an instance
//!   at its DEA's gateway.

pub mod droplet;
pub mod manifest;
pub mod messages;
pub mod vcap;

/// The stack every app stages and runs on (CF's `cflinuxfs*`): the CC seeds
/// it, DEAs advertise it and stage with it as `CF_STACK`.
pub const STACK: &str = "wasi-p2";
/// Process types an app may have (web and those its Procfile or manifest
/// name).
pub const MAX_PROCESS_TYPES: usize = 20;
/// How `/v2/stacks` describes [`STACK`].
pub const STACK_DESCRIPTION: &str = "WebAssembly components on WASI 0.2, run by wasmtime";

/// The header naming the instance a request is for, as gorouter sets it
/// on every request to a backend: a DEA serves its HTTP instances on one
/// port (its gateway) and hands each request to the instance it names.
pub const INSTANCE_ID: &str = "x-cf-instanceid";
/// The header of a DEA's answer when the named instance is not served
/// there (any more): the request reached no app, so a router forgets that
/// instance and tries another, as for a refused connection.
pub const INSTANCE_GONE: &str = "x-wf-instance-gone";
