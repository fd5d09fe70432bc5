-- Service brokers (the Open Service Broker API) and the catalog each one
-- offers: its services and their plans, as the CC last read them from the
-- broker's GET /v2/catalog. A broker scoped to a space (space_guid) offers
-- its services there only.

CREATE TABLE service_brokers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    broker_url TEXT NOT NULL UNIQUE,
    auth_username TEXT NOT NULL,
    auth_password TEXT NOT NULL,
    space_guid TEXT REFERENCES spaces(guid) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE TABLE services (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    description TEXT NOT NULL,
    bindable INTEGER NOT NULL,
    -- JSON arrays
    tags TEXT NOT NULL DEFAULT '[]',
    requires TEXT NOT NULL DEFAULT '[]',
    plan_updateable INTEGER NOT NULL DEFAULT 0,
    -- the catalog's metadata, as JSON text
    extra TEXT,
    unique_id TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    service_broker_guid TEXT NOT NULL REFERENCES service_brokers(guid) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (service_broker_guid, unique_id)
);

CREATE TABLE service_plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    free INTEGER NOT NULL DEFAULT 1,
    public INTEGER NOT NULL DEFAULT 1,
    active INTEGER NOT NULL DEFAULT 1,
    bindable INTEGER,
    extra TEXT,
    unique_id TEXT NOT NULL,
    service_guid TEXT NOT NULL REFERENCES services(guid) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (service_guid, unique_id)
);
