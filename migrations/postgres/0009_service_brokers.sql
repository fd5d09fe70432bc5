-- Service brokers (the Open Service Broker API) and the catalog each one
-- offers: its services and their plans, as the CC last read them from the
-- broker's GET /v2/catalog. A broker scoped to a space (space_guid) offers
-- its services there only.

CREATE TABLE service_brokers (
    id BIGSERIAL PRIMARY KEY,
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
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    description TEXT NOT NULL,
    bindable BOOLEAN NOT NULL,
    -- JSON arrays
    tags TEXT NOT NULL DEFAULT '[]',
    requires TEXT NOT NULL DEFAULT '[]',
    plan_updateable BOOLEAN NOT NULL DEFAULT FALSE,
    -- the catalog's metadata, as JSON text
    extra TEXT,
    unique_id TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    service_broker_guid TEXT NOT NULL REFERENCES service_brokers(guid) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (service_broker_guid, unique_id)
);

CREATE TABLE service_plans (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    free BOOLEAN NOT NULL DEFAULT TRUE,
    public BOOLEAN NOT NULL DEFAULT TRUE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    bindable BOOLEAN,
    extra TEXT,
    unique_id TEXT NOT NULL,
    service_guid TEXT NOT NULL REFERENCES services(guid) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (service_guid, unique_id)
);
