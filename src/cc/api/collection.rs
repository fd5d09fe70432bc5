//! Read-only routes any resource gets from its declaration alone: its list,
//! one member, and nested lists (`/v2/spaces/:guid/apps`).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{MethodRouter, get};

use crate::cc::Cc;
use crate::cc::auth::CurrentUser;
use crate::cc::query::{Condition, ListParams};
use crate::cc::resource::Resource;

/// `GET <resource.path>`.
pub fn list(resource: &'static Resource) -> MethodRouter<Cc> {
    get(move |State(cc): State<Cc>, _user: CurrentUser, RawQuery(query): RawQuery| async move {
        let params = ListParams::parse(query.as_deref())?;
        resource.list(&cc.db, &params, vec![], resource.path).await.map(Json)
    })
}

/// `GET <resource.path>/:guid`.
pub fn show(resource: &'static Resource) -> MethodRouter<Cc> {
    get(move |State(cc): State<Cc>, _user: CurrentUser, Path(guid): Path<String>| async move {
        resource.get(&cc.db, &guid).await.map(Json)
    })
}

/// `GET <parent.path>/:guid/<name>`: the `child` rows meeting `condition`,
/// whose one `?` is the parent's guid.
pub fn nested(
    parent: &'static Resource,
    name: &'static str,
    child: &'static Resource,
    condition: &'static str,
) -> MethodRouter<Cc> {
    get(
        move |State(cc): State<Cc>, _user: CurrentUser, Path(guid): Path<String>, RawQuery(query): RawQuery| async move {
            parent.find(&cc.db, &guid).await?;
            let params = ListParams::parse(query.as_deref())?;
            let base = format!("{}/{guid}/{name}", parent.path);
            child.list(&cc.db, &params, vec![Condition::raw(condition, &[&guid])], &base).await.map(Json)
        },
    )
}
