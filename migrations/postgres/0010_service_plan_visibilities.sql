-- Which orgs may use a plan that is not public (cf enable-service-access
-- -o ORG).
CREATE TABLE service_plan_visibilities (
    id BIGSERIAL PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    service_plan_guid TEXT NOT NULL REFERENCES service_plans(guid) ON DELETE CASCADE,
    organization_guid TEXT NOT NULL REFERENCES organizations(guid) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (service_plan_guid, organization_guid)
);
