//! `wf bench …`: the platform's speed, each figure beside its reference
//! measured in the same run, the load from a process of its own ([`load`]).
//! Benchmarks start roles through their public entry points (a
//! [`Platform`](crate::server::Platform), a [`Dea`](crate::dea::Dea), a
//! [`Router`](crate::router::Router)) and time what a user feels:
//!
//! - [`api`]: the CC's app listings with 10,000 apps, beside `/v2/info`;
//! - [`dea`]: instance start → first 200, and requests/s, beside `wasmtime serve`;
//! - [`push`]: a push and a re-push under load, counting failed requests;
//! - [`languages`]: apps from source beside a compiled one;
//! - [`hm`]: recovery from a killed DEA and a restarted nats-server.

pub mod api;
pub mod dea;
pub mod hm;
pub mod languages;
pub mod load;
pub mod push;
