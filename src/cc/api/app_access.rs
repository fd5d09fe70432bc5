//! What handlers of an app's resources (v2's and v3's) share: the
//! environment its instances get.

use serde_json::{Map, Value};

use crate::cc::error::ApiResult;
use crate::cc::model::app::App;
use crate::cc::model::environment_variable_group;
use crate::cc::{Cc, runner};

/// An app's environment, as CF shows it apart: the user's variables, and
/// what the platform adds (VCAP_SERVICES, VCAP_APPLICATION).
pub struct Environment {
    pub user: Map<String, Value>,
    /// The environment variable groups every app gets beneath its own.
    pub running_group: Map<String, Value>,
    pub staging_group: Map<String, Value>,
    pub vcap_services: Value,
    pub vcap_application: Value,
}

pub async fn environment(cc: &Cc, app: &App) -> ApiResult<Environment> {
    let start = runner::start_message(cc, &app.guid, 0).await?;
    Ok(Environment {
        user: app.environment(),
        running_group: environment_variable_group::get(&cc.db, "running").await?,
        staging_group: environment_variable_group::get(&cc.db, "staging").await?,
        vcap_services: crate::protocol::vcap::vcap_services(&start.services),
        vcap_application: crate::protocol::vcap::vcap_application(&start, None),
    })
}
