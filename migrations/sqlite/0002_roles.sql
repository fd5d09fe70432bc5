-- CF's v2 roles: who belongs to an org or space, and as what.

CREATE TABLE organization_roles (
    organization_guid TEXT NOT NULL REFERENCES organizations(guid) ON DELETE CASCADE,
    user_guid TEXT NOT NULL REFERENCES users(guid) ON DELETE CASCADE,
    -- users, managers, billing_managers or auditors
    role TEXT NOT NULL,
    PRIMARY KEY (organization_guid, user_guid, role)
);

CREATE TABLE space_roles (
    space_guid TEXT NOT NULL REFERENCES spaces(guid) ON DELETE CASCADE,
    user_guid TEXT NOT NULL REFERENCES users(guid) ON DELETE CASCADE,
    -- developers, managers or auditors
    role TEXT NOT NULL,
    PRIMARY KEY (space_guid, user_guid, role)
);

CREATE INDEX organization_roles_user ON organization_roles (user_guid);
CREATE INDEX space_roles_user ON space_roles (user_guid);
