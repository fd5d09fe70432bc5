-- Quotas: what an org (and optionally a space) may use. -1 means no limit.

CREATE TABLE quota_definitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    non_basic_services_allowed INTEGER NOT NULL DEFAULT 1,
    total_services INTEGER NOT NULL DEFAULT 100,
    total_routes INTEGER NOT NULL DEFAULT 1000,
    total_private_domains INTEGER NOT NULL DEFAULT -1,
    memory_limit INTEGER NOT NULL DEFAULT 10240,
    trial_db_allowed INTEGER NOT NULL DEFAULT 0,
    instance_memory_limit INTEGER NOT NULL DEFAULT -1,
    app_instance_limit INTEGER NOT NULL DEFAULT -1,
    app_task_limit INTEGER NOT NULL DEFAULT -1,
    total_service_keys INTEGER NOT NULL DEFAULT -1,
    total_reserved_route_ports INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE TABLE space_quota_definitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    organization_guid TEXT NOT NULL REFERENCES organizations(guid) ON DELETE CASCADE,
    non_basic_services_allowed INTEGER NOT NULL DEFAULT 1,
    total_services INTEGER NOT NULL DEFAULT -1,
    total_routes INTEGER NOT NULL DEFAULT -1,
    memory_limit INTEGER NOT NULL DEFAULT -1,
    instance_memory_limit INTEGER NOT NULL DEFAULT -1,
    app_instance_limit INTEGER NOT NULL DEFAULT -1,
    app_task_limit INTEGER NOT NULL DEFAULT -1,
    total_service_keys INTEGER NOT NULL DEFAULT -1,
    total_reserved_route_ports INTEGER NOT NULL DEFAULT -1,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (organization_guid, name)
);

ALTER TABLE organizations ADD COLUMN quota_definition_guid TEXT REFERENCES quota_definitions(guid);
ALTER TABLE spaces ADD COLUMN space_quota_definition_guid TEXT REFERENCES space_quota_definitions(guid);
