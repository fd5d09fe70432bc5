//! The routing table: route (`host` or `host/path`) → the instances
//! registered for it, each remembered with when it last registered so
//! entries whose DEA went quiet are pruned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::header::HeaderValue;
use hyper::http::uri::Authority;

use crate::protocol::messages::RouteRegistration;

/// An instance a route leads to; what a request to it needs is made once,
/// at registration, and shared by every request. An instance is known by
/// its address and id: the HTTP instances of a DEA share its gateway's
/// address.
#[derive(Debug)]
pub struct Backend {
    /// `host:port` of the instance (of its DEA's gateway).
    pub address: String,
    /// Its instance id, if the registration gave one.
    pub instance_id: Option<String>,
    pub authority: Authority,
    /// `X-Cf-InstanceId` for requests to it.
    pub instance_header: Option<HeaderValue>,
    pub app: Option<String>,
    pub index: Option<u32>,
    last_seen: Mutex<Instant>,
}

impl Backend {
    /// Whether this is the instance at `address` with `id` (without an id:
    /// whatever registered at `address` without one).
    fn is(&self, address: &str, id: Option<&str>) -> bool {
        self.address == address && self.instance_id.as_deref() == id
    }
}

/// One instance of an app, as `X-CF-APP-INSTANCE: APP_GUID:INDEX` names it.
#[derive(Debug, PartialEq)]
pub struct AppInstance {
    pub app: String,
    pub index: u32,
}

impl AppInstance {
    /// The header's value, if it is `APP_GUID:INDEX`.
    pub fn parse(value: &str) -> Option<AppInstance> {
        let (app, index) = value.trim().split_once(':')?;
        if app.is_empty() {
            return None;
        }
        Some(AppInstance { app: app.to_string(), index: index.parse().ok()? })
    }
}

#[derive(Default)]
pub struct RoutingTable {
    routes: Mutex<HashMap<String, Route>>,
}

#[derive(Default)]
struct Route {
    backends: Vec<Arc<Backend>>,
    /// Round-robin position.
    next: usize,
    /// The route service its requests go through first, as last registered.
    route_service_url: Option<Arc<str>>,
}

fn normalize(uri: &str) -> String {
    uri.trim_end_matches('/').to_ascii_lowercase()
}

impl RoutingTable {
    pub fn register(&self, registration: &RouteRegistration) {
        let address = format!("{}:{}", registration.host, registration.port);
        let Ok(authority) = address.parse::<Authority>() else {
            return tracing::warn!("ignoring a registration of {address}: not a host:port");
        };
        let mut routes = self.routes.lock().expect("routing table");
        for uri in &registration.uris {
            let route = routes.entry(normalize(uri)).or_default();
            if route.route_service_url.as_deref() != registration.route_service_url.as_deref() {
                route.route_service_url = registration.route_service_url.as_deref().map(Arc::from);
            }
            let now = Instant::now();
            match route.backends.iter().find(|b| b.is(&address, registration.private_instance_id.as_deref())) {
                Some(backend) => *backend.last_seen.lock().expect("backend") = now,
                None => route.backends.push(Arc::new(Backend {
                    address: address.clone(),
                    instance_id: registration.private_instance_id.clone(),
                    authority: authority.clone(),
                    instance_header: registration.private_instance_id.as_deref().and_then(|i| i.parse().ok()),
                    app: registration.app.clone(),
                    index: registration.index,
                    last_seen: Mutex::new(now),
                })),
            }
        }
    }

    pub fn unregister(&self, registration: &RouteRegistration) {
        let address = format!("{}:{}", registration.host, registration.port);
        let mut routes = self.routes.lock().expect("routing table");
        for uri in &registration.uris {
            let key = normalize(uri);
            if let Some(route) = routes.get_mut(&key) {
                route.backends.retain(|b| !b.is(&address, registration.private_instance_id.as_deref()));
                if route.backends.is_empty() {
                    routes.remove(&key);
                }
            }
        }
    }

    /// Forgets every backend at `address` on every route (it refused a
    /// connection: whatever served there is gone).
    pub fn remove_address(&self, address: &str) {
        self.remove_where(|b| b.address == address);
    }

    /// Forgets one instance on every route (its DEA says it is not there).
    pub fn remove_instance(&self, backend: &Backend) {
        self.remove_where(|b| b.is(&backend.address, backend.instance_id.as_deref()));
    }

    fn remove_where(&self, gone: impl Fn(&Backend) -> bool) {
        let mut routes = self.routes.lock().expect("routing table");
        for route in routes.values_mut() {
            route.backends.retain(|b| !gone(b));
        }
        routes.retain(|_, r| !r.backends.is_empty());
    }

    /// Forgets backends not registered again within `threshold`; returns
    /// how many routes are left.
    pub fn prune(&self, threshold: Duration) -> usize {
        let mut routes = self.routes.lock().expect("routing table");
        for route in routes.values_mut() {
            route.backends.retain(|b| b.last_seen.lock().expect("backend").elapsed() < threshold);
        }
        routes.retain(|_, r| !r.backends.is_empty());
        routes.len()
    }

    /// The backend for a request, and the route service its route goes
    /// through first: the route with the longest matching path wins, and
    /// its backends take turns — or, for a request naming one instance
    /// (`X-CF-APP-INSTANCE`), that instance of that app, if the route has it.
    pub fn lookup(
        &self,
        host: &str,
        path: &str,
        instance: Option<&AppInstance>,
    ) -> Option<(Arc<Backend>, Option<Arc<str>>)> {
        self.with_route(host, path, |route| {
            let chosen = match instance {
                Some(wanted) => route
                    .backends
                    .iter()
                    .find(|b| b.app.as_deref() == Some(&*wanted.app) && b.index == Some(wanted.index))?
                    .clone(),
                None => {
                    route.next = route.next.wrapping_add(1);
                    route.backends[(route.next - 1) % route.backends.len()].clone()
                }
            };
            Some((chosen, route.route_service_url.clone()))
        })?
    }

    /// Whether a request for `host` and `path` has a route (no backend's
    /// turn is taken).
    pub fn is_routed(&self, host: &str, path: &str) -> bool {
        self.with_route(host, path, |_| ()).is_some()
    }

    /// `f` of the route with the longest path matching `host` and `path`.
    fn with_route<R>(&self, host: &str, path: &str, f: impl FnOnce(&mut Route) -> R) -> Option<R> {
        let mut key = host.to_ascii_lowercase();
        let host_len = key.len();
        // `host/a/b`, `host/a`, then `host`: the longest path first.
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut routes = self.routes.lock().expect("routing table");
        for n in (0..=segments.len()).rev() {
            key.truncate(host_len);
            for segment in &segments[..n] {
                key.push('/');
                key.push_str(segment);
            }
            if let Some(route) = routes.get_mut(&key) {
                return Some(f(route));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(port: u16, uri: &str) -> RouteRegistration {
        RouteRegistration {
            host: "127.0.0.1".into(),
            port,
            uris: vec![uri.into()],
            route_service_url: None,
            app: None,
            private_instance_id: None,
            index: None,
        }
    }

    #[test]
    fn round_robin_and_longest_path() {
        let table = RoutingTable::default();
        table.register(&registration(1, "a.example"));
        table.register(&registration(2, "a.example"));
        table.register(&registration(3, "a.example/api"));
        let first = table.lookup("A.example", "/", None).unwrap().0;
        let second = table.lookup("a.example", "/x", None).unwrap().0;
        assert_ne!(first.address, second.address);
        assert_eq!(table.lookup("a.example", "/api/v1", None).unwrap().0.address, "127.0.0.1:3");
        table.unregister(&registration(3, "a.example/api"));
        assert_ne!(table.lookup("a.example", "/api/v1", None).unwrap().0.address, "127.0.0.1:3");
        assert!(table.lookup("b.example", "/", None).is_none());
    }

    #[test]
    fn a_route_service_is_the_last_registration_s() {
        let table = RoutingTable::default();
        let through =
            RouteRegistration { route_service_url: Some("https://rs.example/".into()), ..registration(1, "a.example") };
        table.register(&through);
        assert_eq!(table.lookup("a.example", "/", None).unwrap().1.as_deref(), Some("https://rs.example/"));
        table.register(&registration(1, "a.example"));
        assert_eq!(table.lookup("a.example", "/", None).unwrap().1, None, "unbound");
    }
}
