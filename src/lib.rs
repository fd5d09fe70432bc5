//! wasmfoundry: Cloud Foundry's v2 platform where everything run for a user
//! is a WebAssembly component.
//!
//! The roles are CF's: the Cloud Controller ([`cc`]) owns desired state and
//! the API; Droplet Execution Agents ([`dea`]) stage apps and run their
//! instances in wasmtime ([`runtime`]); the [`router`] puts instances on
//! their routes; the health manager ([`hm`]) keeps what runs equal to what
//! the CC wants; service brokers ([`broker`], a built-in one for
//! PostgreSQL) provision what apps bind to. No role imports another: they
//! share what they say to each other ([`protocol`]: every bus subject and
//! message, the VCAP_* shapes, the stack, limits), the message [`bus`], the
//! [`blobstore`] and the CC database ([`ccdb`]); what both the CC and the
//! HM know of instances is in [`lifecycle`]. Every process serves its
//! Prometheus [`metrics`] (each role keeps its own), and HTTPS through
//! [`tls`]. [`server`] wires whichever
//! roles a process runs, [`deployment`] runs many such processes from one
//! manifest, [`bench`](mod@bench) measures them, and [`cli`] is the `wf` client.
//! `scripts/check-layers.py` keeps the layers so.

pub mod bench;
pub mod blobstore;
pub mod broker;
pub mod bus;
pub mod cc;
pub mod ccdb;
pub mod cli;
pub mod config;
pub mod dea;
pub mod deployment;
pub mod file_cache;
pub mod hm;
pub mod lifecycle;
pub mod metrics;
pub mod protocol;
pub mod router;
pub mod runtime;
pub mod server;
pub mod tls;
pub mod write_aside;
