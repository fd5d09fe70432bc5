//! The HTTP apps a process serves, by the address they listen on. A
//! router in the same process (`wf up`, one node) need not reach an app
//! over a loopback connection: whoever wires the process hands the router
//! and the DEA's runtime one [`LocalApps`]; the router finds an app there
//! ([`LocalApps::find`]) and hands it the request in memory, the same
//! request with the same headers. An app is listed from when it accepts
//! connections until it starts draining ([`Listed`]); after that, and in
//! other processes, routers connect as to any instance.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};

/// The apps served in this process; clones share one list.
pub struct LocalApps<App> {
    apps: Arc<Mutex<HashMap<SocketAddr, Weak<App>>>>,
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
    /// The app this process serves on `address`, if it is not draining.
    pub fn find(&self, address: SocketAddr) -> Option<Arc<App>> {
        self.apps.lock().expect("in-process apps").get(&address)?.upgrade()
    }

    /// Lists `app` on `address` until the returned entry is dropped.
    pub fn list(&self, address: SocketAddr, app: &Arc<App>) -> Listed<App> {
        let app = Arc::downgrade(app);
        self.apps.lock().expect("in-process apps").insert(address, app.clone());
        Listed { apps: self.clone(), address, app }
    }
}

/// An app's entry, removed when this is dropped.
pub struct Listed<App> {
    apps: LocalApps<App>,
    address: SocketAddr,
    app: Weak<App>,
}

impl<App> Drop for Listed<App> {
    fn drop(&mut self) {
        let mut apps = self.apps.apps.lock().expect("in-process apps");
        // The port may have gone to another app since.
        if apps.get(&self.address).is_some_and(|app| app.ptr_eq(&self.app)) {
            apps.remove(&self.address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_is_found_while_listed_and_only_its_own_entry_goes() {
        let apps = LocalApps::<String>::default();
        let address: SocketAddr = "127.0.0.1:61001".parse().unwrap();
        let first = Arc::new("first".to_string());
        let listed = apps.list(address, &first);
        assert_eq!(apps.find(address).as_deref().map(String::as_str), Some("first"));
        // The port went to another app before the first one's entry dropped.
        let second = Arc::new("second".to_string());
        let relisted = apps.list(address, &second);
        drop(listed);
        assert_eq!(apps.find(address).as_deref().map(String::as_str), Some("second"));
        drop(relisted);
        assert!(apps.find(address).is_none());
    }
}
