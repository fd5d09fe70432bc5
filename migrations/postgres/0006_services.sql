-- Services apps bind to. User-provided service instances hold credentials
-- the user gives (a database elsewhere, an API key…); a binding hands them
-- to an app's instances in VCAP_SERVICES (and DATABASE_URL).

CREATE TABLE service_instances (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    space_guid TEXT NOT NULL REFERENCES spaces(guid) ON DELETE CASCADE,
    type TEXT NOT NULL DEFAULT 'user_provided_service_instance',
    -- JSON object
    credentials TEXT NOT NULL DEFAULT '{}',
    syslog_drain_url TEXT,
    route_service_url TEXT,
    -- JSON array of strings
    tags TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (space_guid, name)
);

CREATE TABLE service_bindings (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    service_instance_guid TEXT NOT NULL REFERENCES service_instances(guid) ON DELETE CASCADE,
    name TEXT,
    -- the instance's credentials when bound (and whenever it is updated)
    credentials TEXT NOT NULL DEFAULT '{}',
    syslog_drain_url TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (app_guid, service_instance_guid)
);
CREATE INDEX service_bindings_app ON service_bindings (app_guid);
