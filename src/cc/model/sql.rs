//! The pieces of SQL models are read and changed with: a [`Condition`]
//! with its bound values, and an UPDATE's [`Assignments`] of typed values.

use crate::cc::error::{ApiResult, taken_or};

/// One SQL condition with `?` placeholders and its values, bound in order.
#[derive(Debug, Clone)]
pub struct Condition {
    sql: String,
    binds: Vec<String>,
}

impl Condition {
    /// `column = value`.
    pub fn eq(column: &str, value: &str) -> Condition {
        Condition { sql: format!("{column} = ?"), binds: vec![value.to_string()] }
    }

    /// Any condition; `sql` must not contain user input, only `?`s for it.
    pub fn raw(sql: &str, binds: &[&str]) -> Condition {
        Condition { sql: sql.to_string(), binds: binds.iter().map(|b| b.to_string()).collect() }
    }

    /// The SQL with numbered placeholders, appending its values to `binds`.
    pub fn to_sql(&self, binds: &mut Vec<String>) -> String {
        let mut out = String::new();
        let mut values = self.binds.iter();
        for (i, part) in self.sql.split('?').enumerate() {
            if i > 0 {
                binds.push(values.next().cloned().unwrap_or_default());
                out.push_str(&format!("${}", binds.len()));
            }
            out.push_str(part);
        }
        out
    }
}

/// A value bound into SQL with its own type, so PostgreSQL sees integers
/// and booleans as such.
#[derive(Debug, Clone)]
pub enum SqlValue {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
}

/// The `SET` list of an UPDATE, built from whichever fields a request changed.
#[derive(Debug, Default)]
pub struct Assignments {
    columns: Vec<&'static str>,
    values: Vec<SqlValue>,
}

impl Assignments {
    pub fn set(&mut self, column: &'static str, value: SqlValue) {
        self.columns.push(column);
        self.values.push(value);
    }

    /// Stamps `updated_at` and runs the update; a clash with another row's
    /// unique name is the resource's `taken` error about `what`.
    pub async fn save(mut self, db: &sqlx::AnyPool, table: &str, guid: &str, taken: &str, what: &str) -> ApiResult<()> {
        self.set("updated_at", SqlValue::Text(Some(crate::cc::now())));
        self.execute(db, table, guid).await.map_err(|e| taken_or(e, taken, what))
    }

    /// Runs `UPDATE table SET … WHERE guid = guid`.
    pub async fn execute(self, db: &sqlx::AnyPool, table: &str, guid: &str) -> Result<(), sqlx::Error> {
        if self.columns.is_empty() {
            return Ok(());
        }
        let sets: Vec<String> = self.columns.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
        let sql = format!("UPDATE {table} SET {} WHERE guid = ${}", sets.join(", "), self.columns.len() + 1);
        let mut query = sqlx::query(&sql);
        for value in self.values {
            query = match value {
                SqlValue::Text(v) => query.bind(v),
                SqlValue::Int(v) => query.bind(v),
                SqlValue::Bool(v) => query.bind(v),
            };
        }
        query.bind(guid.to_string()).execute(db).await?;
        Ok(())
    }
}

/// The guid of the row of `table` whose `key_column` is `key`, inserting
/// it (with `extra` columns) when missing: what a fresh CCDB is seeded with.
/// Several CCs may seed one CCDB at once: the row one of them inserted is
/// the one every one of them answers with.
pub async fn ensure(
    db: &sqlx::AnyPool,
    table: &str,
    key_column: &str,
    key: &str,
    extra: &[(&str, &str)],
) -> Result<String, sqlx::Error> {
    let select = format!("SELECT guid FROM {table} WHERE {key_column} = $1 ORDER BY id LIMIT 1");
    if let Some(guid) = sqlx::query_scalar::<_, String>(&select).bind(key).fetch_optional(db).await? {
        return Ok(guid);
    }
    let guid = crate::cc::new_guid();
    let mut columns = vec!["guid", key_column, "created_at"];
    columns.extend(extra.iter().map(|(c, _)| *c));
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    let insert = format!(
        "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
        columns.join(", "),
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&insert).bind(&guid).bind(key).bind(crate::cc::now());
    for (_, value) in extra {
        query = query.bind(*value);
    }
    if query.execute(db).await?.rows_affected() == 1 {
        return Ok(guid);
    }
    // Another CC inserted it meanwhile.
    sqlx::query_scalar::<_, String>(&select).bind(key).fetch_one(db).await
}
