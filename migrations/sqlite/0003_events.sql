-- The audit trail: what happened to which resource, done by whom.

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_name TEXT,
    actee TEXT NOT NULL,
    actee_type TEXT NOT NULL,
    actee_name TEXT,
    timestamp TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    space_guid TEXT NOT NULL DEFAULT '',
    organization_guid TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE INDEX events_actee ON events (actee);
CREATE INDEX events_space ON events (space_guid);
