//! What the CC does once a change to an app is stored, as CCNG's
//! AppObserver does after the commit: a stopped app's instances are
//! stopped; a started app is staged first if it has no droplet for its
//! version, rolled out to a new version ([`super::rollout`]), or scaled up
//! and down in place.

use super::error::ApiResult;
use super::model::app::App;
use super::{Cc, rollout, runner, stager};
use crate::bus::BusExt;
use crate::protocol::messages::{DeaStop, subjects};

/// Acts on a stored change of an app from `before` to `after`.
pub async fn react_to_change(cc: &Cc, before: &App, after: &App) -> ApiResult<()> {
    let guid = &after.guid;
    if !after.is_started() {
        if before.is_started() {
            runner::stop_all(cc, guid).await?;
        }
        return Ok(());
    }
    let instances = after.instances;
    if !before.is_started() || after.version != before.version {
        // A started app's old instances serve on until the new ones run.
        if after.is_staged() {
            rollout::roll_out_app(cc, after, None).await?;
        } else {
            tokio::spawn(stager::stage_and_start(cc.clone(), guid.to_string()));
        }
    } else if after.is_staged() {
        let previous = before.instances;
        if instances > previous {
            runner::start_instances(cc, guid, previous..instances).await?;
        } else if instances < previous {
            let stop = DeaStop {
                droplet: guid.into(),
                version: None,
                instances: None,
                indices: Some((instances..previous).collect()),
            };
            cc.bus.publish(subjects::DEA_STOP, &stop).await?;
        }
    }
    Ok(())
}
