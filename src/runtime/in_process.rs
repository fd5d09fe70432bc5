//! The HTTP apps a process serves, by instance id. The DEA's gateway
//! ([`super::http::serve`] on one port for all its instances) hands each
//! request to the app its `X-Cf-InstanceId` names; a router in the same
//! process (`wf up`, one node) need not even connect: whoever wires the
//! process hands the router and the DEA one [`LocalApps`]; the router
//! finds an app there ([`LocalApps::find`]) and hands it the request in
//! memory, the same request with the same headers. An app is listed from
//! when it serves until it starts draining ([`Listed`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// The apps served in this process; clones share one list.
pub struct LocalApps<App> {
    apps: Arc<Mutex<HashMap<String, Weak<App>>>>,
}

impl<App> Clone for LocalApps<App> {
    fn clone(&self) -> Self {
        LocalApps { apps: self.apps.clone() }
    }
}

impl<App> Default for LocalApps<App> {
    fn default() -> Self {
        LocalApps { apps: Arc::default() }
    }
}

impl<App> LocalApps<App> {
    /// The app of instance `id` this process serves, if it is not draining.
    pub fn find(&self, id: &str) -> Option<Arc<App>> {
        self.apps.lock().expect("in-process apps").get(id)?.upgrade()
    }

    /// Lists `app` as instance `id` until the returned entry is dropped.
    pub fn list(&self, id: &str, app: &Arc<App>) -> Listed<App> {
        let app = Arc::downgrade(app);
        self.apps.lock().expect("in-process apps").insert(id.to_string(), app.clone());
        Listed { apps: self.clone(), id: id.to_string(), app }
    }
}

/// An app's entry, removed when this is dropped.
pub struct Listed<App> {
    apps: LocalApps<App>,
    id: String,
    app: Weak<App>,
}

impl<App> Drop for Listed<App> {
    fn drop(&mut self) {
        let mut apps = self.apps.apps.lock().expect("in-process apps");
        // The id may have gone to another app since (an instance re-adopted).
        if apps.get(&self.id).is_some_and(|app| app.ptr_eq(&self.app)) {
            apps.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_is_found_while_listed_and_only_its_own_entry_goes() {
        let apps = LocalApps::<String>::default();
        let id = "4f1c0e2a";
        let first = Arc::new("first".to_string());
        let listed = apps.list(id, &first);
        assert_eq!(apps.find(id).as_deref().map(String::as_str), Some("first"));
        // The id went to another app before the first one's entry dropped.
        let second = Arc::new("second".to_string());
        let relisted = apps.list(id, &second);
        drop(listed);
        assert_eq!(apps.find(id).as_deref().map(String::as_str), Some("second"));
        drop(relisted);
        assert!(apps.find(id).is_none());
    }
}
