-- Route services (cf bind-route-service; v3 service route bindings): a
-- route bound to a service instance whose route_service_url the routers
-- send the route's requests through first. A route has one at most.
CREATE TABLE route_bindings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    route_guid TEXT NOT NULL UNIQUE REFERENCES routes(guid) ON DELETE CASCADE,
    service_instance_guid TEXT NOT NULL REFERENCES service_instances(guid) ON DELETE CASCADE,
    route_service_url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX route_bindings_service_instance ON route_bindings (service_instance_guid);
