//! The CC registers the built-in `postgresql` broker ([`crate::broker`]) by
//! itself when the platform has one (`postgresql_broker_url`), as an admin
//! would with `cf create-service-broker`, and — the first time — makes its
//! plans public so `cf create-service postgresql small db` works at once.
//! The broker may start after the CC: registration is tried again every
//! second until it answers.

use std::time::Duration;

use super::registration::register_as_platform;
use crate::cc::Cc;
use crate::cc::model::service_plan_visibility;

pub const NAME: &str = "postgresql";

pub fn register(cc: Cc) -> Option<tokio::task::JoinHandle<()>> {
    cc.config.postgresql_broker_url.as_ref()?;
    Some(tokio::spawn(async move {
        let mut tries = 0u32;
        loop {
            match try_register(&cc).await {
                Ok(()) => return,
                // Say so now and then, not every second.
                Err(e) if tries.is_multiple_of(30) => tracing::warn!("registering the postgresql broker: {e}"),
                Err(_) => {}
            }
            tries += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}

async fn try_register(cc: &Cc) -> anyhow::Result<()> {
    let password = cc.config.broker_password()?;
    let url = cc.config.builtin_broker_url();
    let new = register_as_platform(cc, NAME, &url, crate::config::Config::BROKER_USERNAME, &password)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.description))?;
    if new {
        service_plan_visibility::publish_broker_plans(&cc.db, &url)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.description))?;
    }
    tracing::info!("the postgresql broker is registered at {url}");
    Ok(())
}
