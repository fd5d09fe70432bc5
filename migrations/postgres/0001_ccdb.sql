-- The Cloud Controller database (CCDB), v2 model. GUIDs and timestamps
-- (RFC 3339, UTC) are text so one set of queries serves SQLite and PostgreSQL.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    email TEXT,
    password_hash TEXT NOT NULL,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE TABLE organizations (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'active',
    billing_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE TABLE spaces (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    organization_guid TEXT NOT NULL REFERENCES organizations(guid),
    allow_ssh BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (organization_guid, name)
);

CREATE TABLE stacks (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);

-- Shared domains have no owning organization; private domains have one.
CREATE TABLE domains (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    owning_organization_guid TEXT REFERENCES organizations(guid),
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE TABLE routes (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    port BIGINT,
    domain_guid TEXT NOT NULL REFERENCES domains(guid),
    space_guid TEXT NOT NULL REFERENCES spaces(guid),
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (host, domain_guid, path)
);

CREATE TABLE apps (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    space_guid TEXT NOT NULL REFERENCES spaces(guid),
    stack_guid TEXT NOT NULL REFERENCES stacks(guid),
    production BOOLEAN NOT NULL DEFAULT FALSE,
    buildpack TEXT,
    detected_buildpack TEXT,
    detected_buildpack_guid TEXT,
    command TEXT,
    detected_start_command TEXT NOT NULL DEFAULT '',
    environment_json TEXT NOT NULL DEFAULT '{}',
    memory BIGINT NOT NULL,
    disk_quota BIGINT NOT NULL,
    instances BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'STOPPED',
    version TEXT NOT NULL,
    package_state TEXT NOT NULL DEFAULT 'PENDING',
    package_hash TEXT,
    package_updated_at TEXT,
    droplet_hash TEXT,
    staging_task_id TEXT,
    staging_failed_reason TEXT,
    staging_failed_description TEXT,
    health_check_type TEXT NOT NULL DEFAULT 'port',
    health_check_timeout BIGINT,
    health_check_http_endpoint TEXT,
    enable_ssh BOOLEAN NOT NULL DEFAULT FALSE,
    docker_image TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (space_guid, name)
);

CREATE TABLE route_mappings (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    route_guid TEXT NOT NULL REFERENCES routes(guid) ON DELETE CASCADE,
    app_port BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (app_guid, route_guid)
);

CREATE TABLE buildpacks (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    stack TEXT,
    position BIGINT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    filename TEXT,
    blob_key TEXT,
    sha1 TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    error_details TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
