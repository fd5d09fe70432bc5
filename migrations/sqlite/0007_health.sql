-- What the health manager needs beside the apps' desired state: one lease
-- row (the HM whose lease is current acts, the others wait), and each app
-- index's crash record, so a new HM continues the restart backoff and
-- /v2/apps/:guid/crashes can tell when the next restart comes.

CREATE TABLE hm_lease (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    -- milliseconds since the epoch
    expires_at BIGINT NOT NULL
);

INSERT INTO hm_lease (name, holder, expires_at) VALUES ('health_manager', '', 0);

CREATE TABLE app_crashes (
    app_guid TEXT NOT NULL REFERENCES apps(guid) ON DELETE CASCADE,
    instance_index BIGINT NOT NULL,
    -- the app version the crashes belong to; a new version starts afresh
    version TEXT NOT NULL,
    crash_count BIGINT NOT NULL,
    -- seconds since the epoch
    last_crash_at BIGINT NOT NULL,
    -- the instance whose crash was counted last
    last_instance TEXT NOT NULL,
    last_reason TEXT NOT NULL,
    PRIMARY KEY (app_guid, instance_index)
);

-- A staging in flight: the CC following it, and when it counts as lost
-- (seconds since the epoch); both NULL when none is in flight. A CC that
-- restarts stages again what it was following; any CC stages again what
-- is past its deadline.
ALTER TABLE apps ADD COLUMN staging_cc TEXT;
ALTER TABLE apps ADD COLUMN staging_deadline BIGINT;

-- The CC running a job: one that restarts fails the jobs it was running
-- (their work died with it) instead of leaving them queued forever.
ALTER TABLE jobs ADD COLUMN cc_id TEXT;
