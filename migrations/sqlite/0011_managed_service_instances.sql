-- Brokered (managed) service instances live beside user-provided ones:
-- the plan they were provisioned with (and its service, which a plan
-- change keeps), the broker's dashboard, and the
-- last operation on them (JSON: type, state, description, created_at,
-- updated_at). While the broker works on one asynchronously, the CC polls
-- it: the broker's operation id, when to ask next and until when (ms since
-- the epoch), how often it asked, and the plan an update moves to.

ALTER TABLE service_instances ADD COLUMN service_plan_guid TEXT REFERENCES service_plans(guid);
ALTER TABLE service_instances ADD COLUMN service_guid TEXT REFERENCES services(guid);
ALTER TABLE service_instances ADD COLUMN dashboard_url TEXT;
ALTER TABLE service_instances ADD COLUMN last_operation TEXT;
ALTER TABLE service_instances ADD COLUMN broker_operation TEXT;
ALTER TABLE service_instances ADD COLUMN poll_at BIGINT;
ALTER TABLE service_instances ADD COLUMN poll_until BIGINT;
ALTER TABLE service_instances ADD COLUMN poll_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE service_instances ADD COLUMN pending_plan_guid TEXT;
CREATE INDEX service_instances_poll_at ON service_instances (poll_at);

-- Credentials a broker made for use outside apps (cf create-service-key).
CREATE TABLE service_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    service_instance_guid TEXT NOT NULL REFERENCES service_instances(guid) ON DELETE CASCADE,
    -- JSON object
    credentials TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (service_instance_guid, name)
);

-- Orphan mitigation (OSB): a broker resource the CC cannot be sure was not
-- created (a provision or bind that failed, timed out or answered nonsense)
-- is deleted at the broker, retried with backoff until the broker agrees.
CREATE TABLE broker_orphans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service_broker_guid TEXT NOT NULL REFERENCES service_brokers(guid) ON DELETE CASCADE,
    -- the broker path to DELETE, with its query
    path TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- ms since the epoch
    next_attempt_at BIGINT NOT NULL
);
