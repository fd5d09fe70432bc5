-- Deployments keep their status (CF's status.value and status.reason) and
-- strategy. A deployment rolls an app out `max_in_flight` indices at a
-- time; a canary one stops after each of its steps (`canary_steps`, the
-- percentages of instances) until it is continued. Meanwhile the app's
-- `rolled_out_instances` says how many of each process's indices (from 0)
-- run its new version; the health manager keeps the other indices'
-- instances of the version before. NULL: every index.
ALTER TABLE deployments ADD COLUMN strategy TEXT NOT NULL DEFAULT 'rolling';
ALTER TABLE deployments ADD COLUMN status_value TEXT NOT NULL DEFAULT 'FINALIZED';
ALTER TABLE deployments ADD COLUMN status_reason TEXT NOT NULL DEFAULT 'DEPLOYED';
ALTER TABLE deployments ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 1;
ALTER TABLE deployments ADD COLUMN canary_steps TEXT;
ALTER TABLE deployments ADD COLUMN canary_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN last_status_change TEXT;
ALTER TABLE apps ADD COLUMN rolled_out_instances INTEGER;
-- A deployment of the version its app still runs may be in flight: the
-- deployment updater finalizes it.
UPDATE deployments SET status_value = 'ACTIVE', status_reason = 'DEPLOYING'
    WHERE version IN (SELECT version FROM apps);
