//! Builds (v3): staging one package of an app. The app's own staging does
//! the work ([`super::staging`]) and records the droplet; a build follows
//! it: STAGED with that droplet once the app is staged from the build's
//! package, FAILED if that staging failed or a newer package took the
//! app's place.

use sqlx::{AnyPool, Row};

use super::app::App;
use super::resource::{Kind::*, Resource, field};
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::permissions::Visibility;
use crate::cc::{new_guid, now};

pub static BUILDS: Resource = Resource {
    table: "builds",
    path: "/v3/builds",
    fields: &[field("state", Text), field("error", Text)],
    to_one: &[],
    to_many: &[],
    not_found: "BuildNotFound",
    filters: &[],
    scope: None,
    visibility: Visibility::InSpace("(SELECT space_guid FROM apps WHERE apps.guid = builds.app_guid)"),
};

/// A new STAGING build of the package (its bits' `sha1`) by `user`, the
/// app's package from now on, PENDING staging; its guid. An app stages
/// one build at a time.
pub async fn create(
    db: &AnyPool,
    app: &str,
    package: &str,
    sha1: Option<&str>,
    user: (&str, &str),
) -> ApiResult<String> {
    let staging: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM builds WHERE app_guid = $1 AND state = 'STAGING'")
        .bind(app)
        .fetch_one(db)
        .await?;
    if staging > 0 {
        let detail = "Only one build can be STAGING at a time per application.";
        return Err(ApiError::new("UnprocessableEntity", &[detail]));
    }
    let guid = new_guid();
    sqlx::query(
        "INSERT INTO builds (guid, app_guid, package_guid, state, created_by_guid, created_by_name, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&guid)
    .bind(app)
    .bind(package)
    .bind("STAGING")
    .bind(user.0)
    .bind(user.1)
    .bind(now())
    .execute(db)
    .await?;
    App::take_package(db, app, sha1).await?;
    Ok(guid)
}

/// Brings a STAGING build up to date with its app's staging: STAGED with a
/// new droplet, or FAILED. Of several callers at once, one makes the droplet.
pub async fn follow(db: &AnyPool, build: &str) -> ApiResult<()> {
    let Some(row) = sqlx::query("SELECT b.app_guid, p.sha1 FROM builds b JOIN packages p ON p.guid = b.package_guid WHERE b.guid = $1 AND b.state = $2")
        .bind(build)
        .bind("STAGING")
        .fetch_optional(db)
        .await?
    else {
        return Ok(());
    };
    let app_guid: String = row.try_get(0)?;
    let sha1: Option<String> = row.try_get(1)?;
    let Some(app) = App::find_optional(db, &app_guid).await? else { return Ok(()) };
    let (state, error) = if app.package_hash != sha1 {
        ("FAILED", Some("StagingError - a newer package of the app is being staged".to_string()))
    } else if app.is_staged() {
        ("STAGED", None)
    } else if app.package_state == "FAILED" {
        let row = sqlx::query("SELECT staging_failed_reason, staging_failed_description FROM apps WHERE guid = $1")
            .bind(&app_guid)
            .fetch_one(db)
            .await?;
        let reason: Option<String> = row.try_get(0)?;
        let description: Option<String> = row.try_get(1)?;
        (
            "FAILED",
            Some(format!("{} - {}", reason.unwrap_or_else(|| "StagingError".into()), description.unwrap_or_default())),
        )
    } else {
        return Ok(());
    };
    // The staging recorded the droplet, the app's current one.
    let droplet: Option<String> = if state == "STAGED" {
        sqlx::query_scalar("SELECT droplet_guid FROM apps WHERE guid = $1").bind(&app_guid).fetch_one(db).await?
    } else {
        None
    };
    sqlx::query(
        "UPDATE builds SET state = $1, error = $2, droplet_guid = $3, updated_at = $4 WHERE guid = $5 AND state = $6",
    )
    .bind(state)
    .bind(&error)
    .bind(&droplet)
    .bind(now())
    .bind(build)
    .bind("STAGING")
    .execute(db)
    .await?;
    Ok(())
}
