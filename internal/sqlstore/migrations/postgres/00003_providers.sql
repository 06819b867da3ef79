-- +goose Up
-- Providers registered through the API. config holds the sealed
-- (encrypted) provider configuration; doc the public representation.
CREATE TABLE providers (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    type TEXT COLLATE "C" NOT NULL,
    config TEXT NOT NULL,
    doc JSONB NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE providers;
