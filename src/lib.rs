//! wasmfoundry: Cloud Foundry's v2 platform where everything run for a user
//! is a WebAssembly component.
//!
//! The roles are CF's: the Cloud Controller ([`cc`]) owns desired state and
//! the API; Droplet Execution Agents ([`dea`]) stage apps and run their
//! instances in wasmtime ([`runtime`]); the [`router`] puts instances on
//! their routes. They share only the message [`bus`] (NATS subjects), the
//! [`blobstore`] and the CC database; [`server`] wires whichever roles a
//! process runs, and [`cli`] is the `wf` client.

pub mod blobstore;
pub mod bus;
pub mod cc;
pub mod cli;
pub mod config;
pub mod dea;
pub mod router;
pub mod runtime;
pub mod server;
