//! The HTTP apps this process serves, by the address they listen on. A
//! router in the same process (`wf up`, one node) need not reach an app
//! over a loopback connection: it finds the app here ([`find`]) and hands
//! it the request in memory, the same request with the same headers. An
//! app is listed from when it accepts connections until it starts
//! draining ([`Listed`]); after that, and in other processes, routers
//! connect as to any instance.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use super::http::HttpApp;

static APPS: LazyLock<Mutex<HashMap<SocketAddr, Weak<HttpApp>>>> = LazyLock::new(Mutex::default);

/// The app this process serves on `address`, if it is not draining.
pub fn find(address: SocketAddr) -> Option<Arc<HttpApp>> {
    APPS.lock().expect("in-process apps").get(&address)?.upgrade()
}

/// An app's entry, removed when this is dropped.
pub struct Listed {
    address: SocketAddr,
    app: Weak<HttpApp>,
}

impl Listed {
    pub fn new(address: SocketAddr, app: &Arc<HttpApp>) -> Listed {
        let app = Arc::downgrade(app);
        APPS.lock().expect("in-process apps").insert(address, app.clone());
        Listed { address, app }
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        let mut apps = APPS.lock().expect("in-process apps");
        // The port may have gone to another app since.
        if apps.get(&self.address).is_some_and(|app| app.ptr_eq(&self.app)) {
            apps.remove(&self.address);
        }
    }
}
