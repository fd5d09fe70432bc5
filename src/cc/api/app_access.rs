//! What handlers of an app's resources share: the app a request may
//! change, and the audit event of a change to it.

use serde_json::Value;
use sqlx::any::AnyRow;

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::error::ApiResult;
use crate::cc::model::APPS;
use crate::cc::model::event::{self, Actee, Actor};
use crate::cc::permissions::{is_space_developer, require};

/// The app, if the user sees it (else AppNotFound) and may change it (else NotAuthorized).
pub async fn writable_app(cc: &Cc, user: &CurrentUser, guid: &str) -> ApiResult<AnyRow> {
    let app = APPS.find_for(&cc.db, guid, &user.user).await?;
    let space: String = sqlx::Row::try_get(&app, "space_guid").unwrap_or_default();
    require(is_space_developer(&cc.db, &user.user, &space).await?)?;
    Ok(app)
}

/// Records `kind` (audit.app.*) about the app whose entity this is.
pub async fn app_event(cc: &Cc, user: &CurrentUser, kind: &str, guid: &str, entity: &Value, metadata: Value) {
    let space = entity["space_guid"].as_str().unwrap_or_default();
    let org = event::org_of_space(&cc.db, space).await;
    let actee = Actee {
        guid,
        kind: "app",
        name: entity["name"].as_str().unwrap_or_default(),
        space_guid: space,
        organization_guid: &org,
    };
    event::record(&cc.db, kind, Actor::User(&user.user), &actee, metadata).await;
}
