-- Routes shared with other spaces (v3 `cf share-route`): apps of a space a
-- route is shared with may be mapped to it, and its users see it.
CREATE TABLE route_shares (
    route_guid TEXT NOT NULL REFERENCES routes(guid) ON DELETE CASCADE,
    space_guid TEXT NOT NULL REFERENCES spaces(guid) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (route_guid, space_guid)
);
CREATE INDEX route_shares_space_guid ON route_shares (space_guid);
