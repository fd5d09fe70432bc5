//! The CC's secrets kept in the CCDB (the token signing key), one value
//! per name, shared by every CC of a deployment.

use sqlx::AnyPool;

use crate::cc::error::ApiResult;

/// The secret called `name`, if stored.
pub async fn get(db: &AnyPool, name: &str) -> ApiResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM cc_secrets WHERE name = $1").bind(name).fetch_optional(db).await?)
}

/// Stores `value` as the secret `name` unless one is stored already (of
/// CCs starting at once, the first wins).
pub async fn insert_if_missing(db: &AnyPool, name: &str, value: &str) -> ApiResult<()> {
    sqlx::query("INSERT INTO cc_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(value)
        .execute(db)
        .await?;
    Ok(())
}
