//! `wf`, the client: a cf CLI for wasmfoundry, speaking the same v2 API.
//! [`args`] is the whole command line as clap parses it (the server roles'
//! commands too).
//! [`session`] keeps the target and tokens in the user's config dir;
//! [`client`] makes authenticated calls (refreshing the token when it
//! expires) and turns CF errors into readable messages; the commands live
//! one group per file.

pub mod admin;
pub mod apps;
pub mod args;
pub mod bits;
pub mod brokers;
pub mod client;
pub mod deployments;
pub mod login;
pub mod logs;
pub mod manifest;
pub mod push;
pub mod routes;
pub mod service_keys;
pub mod services;
pub mod session;
pub mod target;
pub mod tasks;
pub mod wait;
pub mod wasm;
