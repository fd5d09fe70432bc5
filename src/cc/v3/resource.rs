//! What a resource is in the v3 API, declared once: the model it renders
//! (table, who sees which rows, its NotFound), where it lives, its fields
//! (dotted names nest: `lifecycle.data.stack`), its relationships (which
//! `include=` follows), links, filters and orderings. The presenter
//! ([`super::presenter`]) renders any of them from this alone.

use futures::future::BoxFuture;
use serde_json::Value;
use sqlx::any::AnyRow;

use crate::cc::Cc;
use crate::cc::error::ApiResult;
use crate::cc::model::resource::{Kind, Resource};

pub struct V3Resource {
    pub model: &'static Resource,
    /// The collection path, e.g. `/v3/apps`.
    pub path: &'static str,
    /// Its key in a response's `included`, e.g. `spaces`.
    pub plural: &'static str,
    pub fields: &'static [Field],
    pub relationships: &'static [Relationship],
    pub links: &'static [Link],
    pub filters: &'static [Filter],
    /// Fields `order_by` takes besides `created_at` and `updated_at`.
    pub order_by: &'static [&'static str],
    /// Whether it has labels and annotations.
    pub metadata: bool,
    /// Fields a list shows as CF's `[PRIVATE DATA HIDDEN IN LISTS]` (a
    /// task's command): only the resource read by its guid shows them.
    pub hidden_in_lists: &'static [&'static str],
    /// Fields read from other tables, added to a page of rendered rows at
    /// once (a route's url and destinations).
    pub extend: Option<Extend>,
}

pub type Extend = for<'a> fn(&'a Cc, &'a [AnyRow], &'a mut [Value]) -> BoxFuture<'a, ApiResult<()>>;

pub struct Field {
    /// Dotted: `lifecycle.data.stack` renders `{"lifecycle":{"data":{"stack":…}}}`.
    pub name: &'static str,
    pub value: Source,
}

pub enum Source {
    Column(&'static str, Kind),
    /// Always this JSON.
    Const(&'static str),
    /// Worked out from the row.
    Row(fn(&AnyRow) -> Value),
}

pub const fn column(name: &'static str, column: &'static str, kind: Kind) -> Field {
    Field { name, value: Source::Column(column, kind) }
}

pub const fn constant(name: &'static str, json: &'static str) -> Field {
    Field { name, value: Source::Const(json) }
}

pub const fn computed(name: &'static str, from: fn(&AnyRow) -> Value) -> Field {
    Field { name, value: Source::Row(from) }
}

/// A to-one relationship: `relationships.<name>.data.guid` from `column`;
/// `include=<name>` brings the related resource along.
pub struct Relationship {
    pub name: &'static str,
    pub column: &'static str,
    pub resource: &'static V3Resource,
}

/// A link; `href` is a path in which `{guid}` and `{<column>}` are the row's.
pub struct Link {
    pub name: &'static str,
    pub href: &'static str,
    /// For links that are actions (`POST`…).
    pub method: Option<&'static str>,
}

pub const fn link(name: &'static str, href: &'static str) -> Link {
    Link { name, href, method: None }
}

pub const fn action(name: &'static str, href: &'static str) -> Link {
    Link { name, href, method: Some("POST") }
}

/// A list filter: `?<param>=a,b` keeps the rows meeting `sql`, in which
/// `LIST` stands for the values' placeholders.
pub struct Filter {
    pub param: &'static str,
    pub sql: &'static str,
}

pub const fn filter(param: &'static str, sql: &'static str) -> Filter {
    Filter { param, sql }
}
