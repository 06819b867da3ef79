-- +goose Up
-- Providers registered through the API. config holds the sealed
-- (encrypted) provider configuration; doc the public representation.
CREATE TABLE providers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    config TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE providers;
