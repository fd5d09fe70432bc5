-- Security groups: where apps may connect (egress rules), bound to spaces
-- for running and for staging, or applied everywhere as platform defaults.

CREATE TABLE security_groups (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    -- JSON array of CF rules: protocol, destination, ports, type, code, log, description
    rules TEXT NOT NULL DEFAULT '[]',
    running_default BOOLEAN NOT NULL DEFAULT FALSE,
    staging_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE TABLE security_group_spaces (
    security_group_guid TEXT NOT NULL REFERENCES security_groups(guid) ON DELETE CASCADE,
    space_guid TEXT NOT NULL REFERENCES spaces(guid) ON DELETE CASCADE,
    PRIMARY KEY (security_group_guid, space_guid)
);

CREATE TABLE staging_security_group_spaces (
    security_group_guid TEXT NOT NULL REFERENCES security_groups(guid) ON DELETE CASCADE,
    space_guid TEXT NOT NULL REFERENCES spaces(guid) ON DELETE CASCADE,
    PRIMARY KEY (security_group_guid, space_guid)
);
