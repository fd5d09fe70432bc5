-- The key the UAA-compatible login signs tokens with, kept in the CCDB so
-- every CC of a deployment issues and accepts the same tokens.
CREATE TABLE cc_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
