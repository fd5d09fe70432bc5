-- v3 metadata: the labels and annotations of any resource, by its guid.
-- Label selectors (`?label_selector=env=prod`) read the index.
CREATE TABLE resource_metadata (
    resource_guid TEXT NOT NULL,
    -- 'label' or 'annotation'
    kind TEXT NOT NULL,
    -- the key, with its prefix if it has one: example.org/team
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (resource_guid, kind, name)
);
CREATE INDEX resource_metadata_by_label ON resource_metadata (kind, name, value);

-- v3 jobs say what they do (app.delete, space.apply_manifest…).
ALTER TABLE jobs ADD COLUMN operation TEXT;
