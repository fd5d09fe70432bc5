//! What a resource is to the CC, once for every resource: its table, its
//! fields and their kinds, its relations and who may see its rows
//! ([`Resource`]); and reading its rows by guid or by [`Condition`]s,
//! with the resource's own NotFound error. The API versions render these
//! rows (the v2 envelope: [`crate::cc::v2::presenter`]).

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::sql::Condition;
use crate::cc::auth::User;
use crate::cc::error::{ApiError, ApiResult};
use crate::cc::permissions::Visibility;

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Int,
    Bool,
    /// Stored as JSON text, rendered as JSON.
    Json,
    /// Not stored: always this JSON value (fields CF shows that mean nothing here).
    Const(&'static str),
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
}

pub const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

/// A to-one relation: the entity has `<name>_guid` and `<name>_url`.
#[derive(Debug)]
pub struct ToOne {
    pub name: &'static str,
    pub resource: &'static Resource,
}

/// A to-many relation, linked as `<path>/<guid>/<name>`. With a resource,
/// it is also served there and can be inlined: the rows of `resource`
/// meeting `condition`, whose one `?` is this row's guid.
#[derive(Debug)]
pub struct ToMany {
    pub name: &'static str,
    pub resource: Option<&'static Resource>,
    pub condition: &'static str,
    /// Served as an empty list: CF has such rows, this platform none yet
    /// (service instances, security groups…).
    pub always_empty: bool,
}

/// A relation served and inlinable.
pub const fn to_many(name: &'static str, resource: &'static Resource, condition: &'static str) -> ToMany {
    ToMany { name, resource: Some(resource), condition, always_empty: false }
}

/// A relation CF links that is not served here.
pub const fn link(name: &'static str) -> ToMany {
    ToMany { name, resource: None, condition: "", always_empty: false }
}

/// A relation to things this platform does not have yet: an empty list.
pub const fn none_yet(name: &'static str) -> ToMany {
    ToMany { name, resource: None, condition: "", always_empty: true }
}

#[derive(Debug)]
pub struct Resource {
    pub table: &'static str,
    /// The collection path, e.g. `/v2/apps`.
    pub path: &'static str,
    pub fields: &'static [Field],
    pub to_one: &'static [ToOne],
    pub to_many: &'static [ToMany],
    /// The CF error for an unknown guid, e.g. `AppNotFound`.
    pub not_found: &'static str,
    /// Entity fields clients may filter and order on with `q`.
    pub filters: &'static [&'static str],
    /// A condition every row of this resource meets (e.g. shared domains are
    /// the domains without an owning organization).
    pub scope: Option<&'static str>,
    pub visibility: Visibility,
}

impl Resource {
    pub fn url(&self, guid: &str) -> String {
        format!("{}/{guid}", self.path)
    }

    /// Rows meeting all conditions (and the scope), then `tail` (ORDER/LIMIT).
    pub async fn select(&self, db: &AnyPool, conditions: &[Condition], tail: &str) -> ApiResult<Vec<AnyRow>> {
        let (where_sql, binds) = self.where_clause(conditions);
        let mut query_sql = format!("SELECT * FROM {}{where_sql} {tail}", self.table);
        query_sql.truncate(query_sql.trim_end().len());
        let mut query = sqlx::query(&query_sql);
        for b in binds {
            query = query.bind(b);
        }
        Ok(query.fetch_all(db).await?)
    }

    fn where_clause(&self, conditions: &[Condition]) -> (String, Vec<String>) {
        let mut binds = Vec::new();
        let mut clauses: Vec<String> = self.scope.iter().map(|s| s.to_string()).collect();
        for condition in conditions {
            clauses.push(condition.to_sql(&mut binds));
        }
        let where_sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
        (where_sql, binds)
    }

    /// How many rows meet all conditions (and the scope).
    pub async fn count(&self, db: &AnyPool, conditions: &[Condition]) -> ApiResult<i64> {
        let (where_sql, binds) = self.where_clause(conditions);
        let sql = format!("SELECT COUNT(*) FROM {}{where_sql}", self.table);
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for bind in binds {
            query = query.bind(bind);
        }
        Ok(query.fetch_one(db).await?)
    }

    /// One row by guid, whoever asks (for the platform's own use), if
    /// there is one.
    pub async fn find_optional(&self, db: &AnyPool, guid: &str) -> ApiResult<Option<AnyRow>> {
        Ok(self.select(db, &[Condition::eq("guid", guid)], "").await?.pop())
    }

    /// One row by guid, whoever asks, or this resource's NotFound error.
    pub async fn find(&self, db: &AnyPool, guid: &str) -> ApiResult<AnyRow> {
        self.find_optional(db, guid).await?.ok_or_else(|| ApiError::new(self.not_found, &[guid]))
    }

    /// One row by guid if `user` may see it; NotFound otherwise, as if it
    /// did not exist.
    pub async fn find_for(&self, db: &AnyPool, guid: &str, user: &User) -> ApiResult<AnyRow> {
        let mut conditions = vec![Condition::eq("guid", guid)];
        conditions.extend(self.visibility.condition(user));
        self.select(db, &conditions, "").await?.pop().ok_or_else(|| ApiError::new(self.not_found, &[guid]))
    }

    /// The app a row of one of an app's own resources (packages, droplets,
    /// builds, tasks, revisions, deployments) belongs to, if `user` sees
    /// the row.
    pub async fn app_of(&self, db: &AnyPool, guid: &str, user: &User) -> ApiResult<String> {
        Ok(text_column(&self.find_for(db, guid, user).await?, "app_guid").unwrap_or_default())
    }

    /// The guids of the rows whose `column` is `value`, oldest first.
    pub async fn guids_where(&self, db: &AnyPool, column: &str, value: &str) -> ApiResult<Vec<String>> {
        self.guids(db, &[Condition::eq(column, value)]).await
    }

    /// The guids of the rows meeting all conditions, oldest first.
    pub async fn guids(&self, db: &AnyPool, conditions: &[Condition]) -> ApiResult<Vec<String>> {
        let rows = self.select(db, conditions, "ORDER BY id").await?;
        Ok(rows.iter().filter_map(|row| text_column(row, "guid")).collect())
    }

    /// Deletes one row by guid (rows that hang on it go by their foreign
    /// keys' ON DELETE CASCADE, or are the caller's to delete first).
    pub async fn delete(&self, db: &AnyPool, guid: &str) -> ApiResult<()> {
        sqlx::query(&format!("DELETE FROM {} WHERE guid = $1", self.table)).bind(guid).execute(db).await?;
        Ok(())
    }
}

/// A resource's typed record: what handlers and services read instead of
/// a row's columns by name. It is found as its [`Resource`] finds rows, so
/// the same NotFound error and the same visibility hold.
pub trait Record: Sized {
    const RESOURCE: &'static Resource;

    fn from_row(row: &AnyRow) -> Self;

    /// By guid, whoever asks, or the resource's NotFound.
    fn find(db: &AnyPool, guid: &str) -> impl Future<Output = ApiResult<Self>> + Send {
        async move { Ok(Self::from_row(&Self::RESOURCE.find(db, guid).await?)) }
    }

    /// By guid if `user` may see it, or the resource's NotFound.
    fn find_for(db: &AnyPool, guid: &str, user: &User) -> impl Future<Output = ApiResult<Self>> + Send {
        async move { Ok(Self::from_row(&Self::RESOURCE.find_for(db, guid, user).await?)) }
    }
}

/// Reads a text column; NULL (or none of that name) is None.
pub fn text_column(row: &AnyRow, name: &str) -> Option<String> {
    row.try_get::<Option<String>, _>(name).ok().flatten()
}

/// Reads a boolean column, which SQLite hands back as an integer.
pub fn bool_column(row: &AnyRow, name: &str) -> Option<bool> {
    match row.try_get::<Option<bool>, _>(name) {
        Ok(v) => v,
        Err(_) => row.try_get::<Option<i64>, _>(name).ok().flatten().map(|v| v != 0),
    }
}
