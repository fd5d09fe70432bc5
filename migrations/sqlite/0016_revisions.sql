-- v3 revisions: what an app ran as — its droplet, environment and
-- command — recorded each time a started app rolls out with one of them
-- changed, numbered per app from 1 (cf revisions, cf rollback).
CREATE TABLE revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    droplet_guid TEXT,
    droplet_hash TEXT,
    environment_json TEXT NOT NULL,
    command TEXT,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (app_guid, version)
);
