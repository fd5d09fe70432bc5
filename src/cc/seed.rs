//! What a fresh CC needs before anyone logs in: the token signing secret,
//! an admin user (its random password printed once and kept in the data
//! dir), the default org and space, the stack, the shared app domain, and
//! the built-in buildpacks — each created only if missing, so every start
//! is idempotent.

use std::path::Path;

use anyhow::{Context, Result};
use rand::Rng;
use rand::distributions::Alphanumeric;
use sqlx::AnyPool;

use super::model::{cc_secret, security_group, sql, user};
use super::{Cc, auth};
use crate::protocol::{STACK, STACK_DESCRIPTION};

pub const DEFAULT_ORG: &str = "default";
pub const DEFAULT_SPACE: &str = "dev";
pub const ADMIN: &str = "admin";
/// Where the first start leaves the admin password.
pub const ADMIN_PASSWORD_FILE: &str = "admin-password";

/// The key tokens are signed with: one per CCDB, so every CC of a
/// deployment accepts the tokens any of them issued. Made on first start —
/// from the `token-secret` file a CC of an earlier release kept in its data
/// dir, so its tokens stay valid, else at random. Of CCs starting at once,
/// the first to store it wins and all use that one.
pub async fn token_secret(db: &AnyPool, data_dir: &Path) -> Result<Vec<u8>> {
    const NAME: &str = "token_signing_key";
    let stored = || async { cc_secret::get(db, NAME).await.map_err(|e| anyhow::anyhow!("{}", e.description)) };
    if let Some(key) = stored().await? {
        return Ok(key.into_bytes());
    }
    let candidate = match std::fs::read_to_string(data_dir.join("token-secret")) {
        Ok(earlier) => earlier,
        Err(_) => rand::thread_rng().sample_iter(&Alphanumeric).take(64).map(char::from).collect(),
    };
    cc_secret::insert_if_missing(db, NAME, &candidate).await.map_err(|e| anyhow::anyhow!("{}", e.description))?;
    Ok(stored().await?.context("the token signing key is not stored")?.into_bytes())
}

/// This CC's lasting id (kept in the data dir): a CC that restarts knows
/// which stagings it was following when it stopped.
pub fn cc_id(data_dir: &Path) -> Result<String> {
    let path = data_dir.join("cc-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        return Ok(id.trim().to_string());
    }
    std::fs::create_dir_all(data_dir)?;
    let id = format!("cc-{}", uuid::Uuid::new_v4().simple());
    std::fs::write(&path, &id)?;
    Ok(id)
}

pub async fn seed(cc: &Cc) -> Result<()> {
    let db = &cc.db;
    if seed_admin(db, &cc.config.data_dir).await? {
        seed_security_groups(db).await?;
    }
    let quota = ensure(db, "quota_definitions", "name", super::model::quota::DEFAULT_QUOTA, &[]).await?;
    let org = ensure(db, "organizations", "name", DEFAULT_ORG, &[("quota_definition_guid", &quota)]).await?;
    ensure(db, "spaces", "name", DEFAULT_SPACE, &[("organization_guid", &org)]).await?;
    ensure(db, "stacks", "name", STACK, &[("description", STACK_DESCRIPTION)]).await?;
    ensure(db, "domains", "name", &cc.config.app_domain, &[]).await?;
    super::release::install_builtin_buildpacks(cc).await
}

/// Creates the admin on a new CCDB; says whether it did (a first start).
async fn seed_admin(db: &AnyPool, data_dir: &Path) -> Result<bool> {
    let exists = user::guid_of_name(db, ADMIN).await.map_err(|e| anyhow::anyhow!("{}", e.description))?;
    if exists.is_some() {
        return Ok(false);
    }
    let password: String = rand::thread_rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect();
    if let Err(e) = auth::create_user(db, ADMIN, &password, true).await {
        // Another CC seeding the same CCDB made the admin first.
        let taken = e
            .downcast_ref::<sqlx::Error>()
            .and_then(|e| e.as_database_error())
            .is_some_and(|e| e.is_unique_violation());
        return if taken { Ok(false) } else { Err(e) };
    }
    let path = data_dir.join(ADMIN_PASSWORD_FILE);
    write_private(&path, password.as_bytes())?;
    println!("Created user {ADMIN} with password {password} (also in {})", path.display());
    Ok(true)
}

/// cf-deployment's default security groups, for running and staging: the
/// public internet and DNS. Unlike a container's, an instance's loopback is
/// the host's, where the platform itself listens, so 127.0.0.0/8 (and
/// 0.0.0.0/8, which reaches it too) are left out of the public networks
/// like the private ranges are.
const DEFAULT_SECURITY_GROUPS: [(&str, &str); 2] = [
    (
        "public_networks",
        r#"[{"protocol":"all","destination":"1.0.0.0-9.255.255.255"},
            {"protocol":"all","destination":"11.0.0.0-126.255.255.255"},
            {"protocol":"all","destination":"128.0.0.0-169.253.255.255"},
            {"protocol":"all","destination":"169.255.0.0-172.15.255.255"},
            {"protocol":"all","destination":"172.32.0.0-192.167.255.255"},
            {"protocol":"all","destination":"192.169.0.0-255.255.255.255"}]"#,
    ),
    (
        "dns",
        r#"[{"protocol":"tcp","destination":"0.0.0.0/0","ports":"53"},
            {"protocol":"udp","destination":"0.0.0.0/0","ports":"53"}]"#,
    ),
];

async fn seed_security_groups(db: &AnyPool) -> Result<()> {
    for (name, rules) in DEFAULT_SECURITY_GROUPS {
        let rules: serde_json::Value = serde_json::from_str(rules)?;
        security_group::insert_default(db, name, &rules.to_string())
            .await
            .map_err(|e| anyhow::anyhow!("seeding security group {name}: {}", e.description))?;
    }
    Ok(())
}

/// The guid of the row whose `key_column` is `key`, inserted when missing.
async fn ensure(db: &AnyPool, table: &str, key_column: &str, key: &str, extra: &[(&str, &str)]) -> Result<String> {
    sql::ensure(db, table, key_column, key, extra).await.with_context(|| format!("seeding {table}"))
}

/// Writes a secret readable by its owner only. (On Windows the file takes
/// its directory's ACL: in a data directory under the user's profile, the
/// user, SYSTEM and administrators.)
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}
