-- v3 process types other than web (a Procfile's or a manifest's worker…):
-- each has its own instances, memory, disk, command and health check, and
-- runs from the app's droplet. An app's web process is the app's own row.
CREATE TABLE processes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    type TEXT NOT NULL,
    -- the user's command; else the droplet's for this type (detected_command)
    command TEXT,
    detected_command TEXT,
    instances BIGINT NOT NULL DEFAULT 0,
    memory BIGINT NOT NULL,
    disk_quota BIGINT NOT NULL,
    health_check_type TEXT NOT NULL DEFAULT 'process',
    health_check_timeout BIGINT,
    health_check_http_endpoint TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (app_guid, type)
);

-- A droplet's commands by process type (JSON: {"web": "…", "worker": "…"}).
ALTER TABLE droplets ADD COLUMN process_types TEXT;
