-- v3 deployments: a rolling restart of a started app (cf's zero-downtime
-- restart). Each gives the app a new version, which its instances roll
-- over to (see src/lifecycle/rollout.rs); its state is worked out from the
-- app and its instances when asked.
CREATE TABLE deployments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    -- the app version the deployment rolls out, and the one it replaces
    version TEXT NOT NULL,
    previous_version TEXT,
    droplet_hash TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX deployments_app_guid ON deployments (app_guid);
