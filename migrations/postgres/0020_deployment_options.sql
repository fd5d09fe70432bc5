-- What a deployment scales the app's web process to as it rolls out
-- (v3's options.web_instances, memory_in_mb and disk_in_mb; cf push
-- --strategy rolling --instances N -m M -k D). NULL: as it was.
ALTER TABLE deployments ADD COLUMN web_instances INTEGER;
ALTER TABLE deployments ADD COLUMN memory_in_mb INTEGER;
ALTER TABLE deployments ADD COLUMN disk_in_mb INTEGER;
