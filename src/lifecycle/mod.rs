//! What the Cloud Controller and the health manager both know of the lives
//! of app instances, kept apart from either role so neither reaches into
//! the other:
//!
//! - [`desired`]: what the CC wants run, as the HM reads it from the CCDB;
//! - [`actual`]: what runs now, as DEAs report it in `dea.heartbeat`;
//! - [`crashes`]: each app index's crash record in the CCDB (written by the
//!   CC when `droplet.exited` says CRASHED, read by the HM for its backoff
//!   and by `/v2/apps/:guid/crashes`);
//! - [`policy`]: when a crashed instance is started again;
//! - [`handover`]: when an old version's instance gives way to a new one;
//! - [`lease`]: which health manager acts (taken and renewed by HMs, shown
//!   to admins by the CC).

pub mod actual;
pub mod crashes;
pub mod desired;
pub mod handover;
pub mod lease;
pub mod policy;
