-- v3 tasks (cf run-task): one-off programs run from an app's droplet to
-- their end, on a DEA, within their own memory and disk.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    -- the app's own numbering of its tasks, from 1 (cf terminate-task APP ID)
    sequence_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    command TEXT NOT NULL,
    -- PENDING, RUNNING, CANCELING, SUCCEEDED or FAILED
    state TEXT NOT NULL,
    memory_in_mb BIGINT NOT NULL,
    disk_in_mb BIGINT NOT NULL,
    droplet_guid TEXT,
    -- the droplet's SHA1, what the DEA fetches
    droplet_sha1 TEXT NOT NULL,
    failure_reason TEXT,
    -- the DEA that runs it, once one took it
    dea_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (app_guid, sequence_id)
);
CREATE INDEX tasks_state ON tasks (state);

-- The last sequence id an app's tasks got (kept when old tasks are pruned).
ALTER TABLE apps ADD COLUMN max_task_sequence_id BIGINT NOT NULL DEFAULT 0;
