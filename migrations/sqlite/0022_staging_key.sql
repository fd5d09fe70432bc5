-- What a droplet was staged from (package, buildpacks, environment,
-- stack, services: a hash of them), so staging the same again reuses it.
ALTER TABLE droplets ADD COLUMN staging_key TEXT;
CREATE INDEX droplets_staging_key ON droplets (app_guid, staging_key);
