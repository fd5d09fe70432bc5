//! What the Cloud Controller and the health manager both know of the lives
//! of app instances, kept apart from either role so neither reaches into
//! the other:
//!
//! - [`actual`]: what runs now, as DEAs report it in `dea.heartbeat`;
//! - [`crashes`]: each app index's crash record in the CCDB (written by the
//!   CC when `droplet.exited` says CRASHED, read by the HM for its backoff
//!   and by `/v2/apps/:guid/crashes`);
//! - [`policy`]: when a crashed instance is started again;
//! - [`rollout`]: when an old version's instance gives way to a new one.

pub mod actual;
pub mod crashes;
pub mod policy;
pub mod rollout;
