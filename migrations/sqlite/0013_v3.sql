-- v3 metadata: the labels and annotations of any resource, by its guid.
-- Label selectors (`?label_selector=env=prod`) read the index.
CREATE TABLE resource_metadata (
    resource_guid TEXT NOT NULL,
    -- 'label' or 'annotation'
    kind TEXT NOT NULL,
    -- the key, with its prefix if it has one: example.org/team
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (resource_guid, kind, name)
);
CREATE INDEX resource_metadata_by_label ON resource_metadata (kind, name, value);

-- v3 jobs say what they do (app.delete, space.apply_manifest…).
ALTER TABLE jobs ADD COLUMN operation TEXT;

-- v3 packages: each upload of an app's bits (stored under its SHA1).
CREATE TABLE packages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    -- AWAITING_UPLOAD, PROCESSING_UPLOAD, READY or FAILED
    state TEXT NOT NULL,
    sha1 TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX packages_app_guid ON packages (app_guid);

-- v3 droplets: what staging a package made (stored under its SHA1).
CREATE TABLE droplets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    package_guid TEXT,
    state TEXT NOT NULL,
    sha1 TEXT,
    -- the admin buildpack that made it, and what its detect said
    buildpack TEXT,
    detect_output TEXT,
    start_command TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX droplets_app_guid ON droplets (app_guid);

-- v3 builds: staging a package. The app's own staging does the work (see
-- src/cc/stager.rs); a build's outcome is read off the app when asked.
CREATE TABLE builds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    package_guid TEXT NOT NULL,
    -- STAGING, STAGED or FAILED
    state TEXT NOT NULL,
    droplet_guid TEXT,
    error TEXT,
    created_by_guid TEXT,
    created_by_name TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX builds_app_guid ON builds (app_guid);

-- The droplet v3 set as the app's current one.
ALTER TABLE apps ADD COLUMN droplet_guid TEXT;

-- v3 deployments name the droplets they roll from and to (a push with
-- --strategy rolling brings a new one; cancelling goes back).
ALTER TABLE deployments ADD COLUMN droplet_guid TEXT;
ALTER TABLE deployments ADD COLUMN previous_droplet_guid TEXT;
ALTER TABLE deployments ADD COLUMN previous_droplet_hash TEXT;

-- v3 roles are resources of their own: a guid and a creation time each.
ALTER TABLE organization_roles ADD COLUMN guid TEXT;
ALTER TABLE organization_roles ADD COLUMN created_at TEXT;
ALTER TABLE space_roles ADD COLUMN guid TEXT;
ALTER TABLE space_roles ADD COLUMN created_at TEXT;
UPDATE organization_roles SET guid = lower(hex(randomblob(16))), created_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now');
UPDATE space_roles SET guid = lower(hex(randomblob(16))), created_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now');
CREATE UNIQUE INDEX organization_roles_guid ON organization_roles (guid);
CREATE UNIQUE INDEX space_roles_guid ON space_roles (guid);

-- The environment variable groups: variables every app gets while
-- running, and while staging, beneath its own.
CREATE TABLE environment_variable_groups (
    name TEXT PRIMARY KEY,
    -- a JSON object
    var TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT
);
INSERT INTO environment_variable_groups (name) VALUES ('running');
INSERT INTO environment_variable_groups (name) VALUES ('staging');
