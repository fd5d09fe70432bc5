//! What the built-in broker does to its PostgreSQL server. An instance is a
//! database owned by a role of its own that cannot log in; a binding is a
//! login role with a random password, a member of the owner role whose
//! sessions act as the owner (so every binding sees the same tables), and
//! allowed to connect to that database only. Names come from the ids the
//! CC gives, so the broker keeps no state of its own.

use rand::Rng;
use rand::distributions::Alphanumeric;
use sqlx::PgPool;

/// An OSB id (a UUID from the CC) as part of a PostgreSQL identifier.
fn ident(prefix: &str, id: &str) -> String {
    let safe: String = id.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    format!("{prefix}{}", &safe[..safe.len().min(40)])
}

pub fn database(instance: &str) -> String {
    ident("wf_db_", instance)
}

fn owner(instance: &str) -> String {
    ident("wf_owner_", instance)
}

pub fn binding_role(binding: &str) -> String {
    ident("wf_bind_", binding)
}

async fn exists(db: &PgPool, sql: &str, name: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>(sql).bind(name).fetch_one(db).await? > 0)
}

pub async fn database_exists(db: &PgPool, instance: &str) -> sqlx::Result<bool> {
    exists(db, "SELECT COUNT(*) FROM pg_database WHERE datname = $1", &database(instance)).await
}

async fn role_exists(db: &PgPool, role: &str) -> sqlx::Result<bool> {
    exists(db, "SELECT COUNT(*) FROM pg_roles WHERE rolname = $1", role).await
}

/// Creates the instance's owner role and database with `connections` at most.
pub async fn provision(db: &PgPool, instance: &str, connections: i64) -> sqlx::Result<()> {
    let (name, owner) = (database(instance), owner(instance));
    if !role_exists(db, &owner).await? {
        sqlx::raw_sql(&format!("CREATE ROLE {owner} NOLOGIN")).execute(db).await?;
    }
    sqlx::raw_sql(&format!("CREATE DATABASE {name} OWNER {owner} CONNECTION LIMIT {connections}")).execute(db).await?;
    sqlx::raw_sql(&format!("REVOKE ALL ON DATABASE {name} FROM PUBLIC")).execute(db).await?;
    Ok(())
}

pub async fn set_connection_limit(db: &PgPool, instance: &str, connections: i64) -> sqlx::Result<()> {
    let name = database(instance);
    sqlx::raw_sql(&format!("ALTER DATABASE {name} CONNECTION LIMIT {connections}")).execute(db).await?;
    Ok(())
}

/// Ends the sessions of `role` (or, with `on_database`, of everyone on it).
async fn disconnect(db: &PgPool, column: &str, name: &str) -> sqlx::Result<()> {
    let sql = format!("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {column} = $1");
    sqlx::query_scalar::<_, i64>(&sql).bind(name).fetch_one(db).await?;
    Ok(())
}

/// Drops the database (its sessions ended first) and its owner role.
pub async fn deprovision(db: &PgPool, instance: &str) -> sqlx::Result<()> {
    let (name, owner) = (database(instance), owner(instance));
    disconnect(db, "datname", &name).await?;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}")).execute(db).await?;
    sqlx::raw_sql(&format!("DROP ROLE IF EXISTS {owner}")).execute(db).await?;
    Ok(())
}

/// Makes the binding's login role; returns its password.
pub async fn bind(db: &PgPool, instance: &str, binding: &str) -> sqlx::Result<String> {
    let (name, owner, role) = (database(instance), owner(instance), binding_role(binding));
    let password: String = rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect();
    if role_exists(db, &role).await? {
        sqlx::raw_sql(&format!("ALTER ROLE {role} PASSWORD '{password}'")).execute(db).await?;
    } else {
        sqlx::raw_sql(&format!("CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE {owner}")).execute(db).await?;
    }
    sqlx::raw_sql(&format!("ALTER ROLE {role} SET role = '{owner}'")).execute(db).await?;
    sqlx::raw_sql(&format!("GRANT CONNECT, TEMPORARY ON DATABASE {name} TO {role}")).execute(db).await?;
    Ok(password)
}

/// Drops the binding's role after ending its sessions; false if it was gone.
pub async fn unbind(db: &PgPool, instance: &str, binding: &str) -> sqlx::Result<bool> {
    let (name, role) = (database(instance), binding_role(binding));
    if !role_exists(db, &role).await? {
        return Ok(false);
    }
    disconnect(db, "usename", &role).await?;
    if database_exists(db, instance).await? {
        sqlx::raw_sql(&format!("REVOKE ALL ON DATABASE {name} FROM {role}")).execute(db).await?;
    }
    sqlx::raw_sql(&format!("DROP ROLE {role}")).execute(db).await?;
    Ok(true)
}
