-- +goose Up
CREATE TABLE ocloud (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    ocloud_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE resource_types (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C",
    vendor TEXT COLLATE "C",
    model TEXT COLLATE "C",
    resource_kind TEXT COLLATE "C",
    resource_class TEXT COLLATE "C",
    doc JSONB NOT NULL
);
CREATE INDEX resource_types_source ON resource_types (source);
CREATE INDEX resource_types_name ON resource_types (name, id);

CREATE TABLE resource_pools (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C",
    global_location_id TEXT COLLATE "C",
    doc JSONB NOT NULL
);
CREATE INDEX resource_pools_source ON resource_pools (source);
CREATE INDEX resource_pools_name ON resource_pools (name, id);

CREATE TABLE resources (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    pool_id TEXT COLLATE "C",
    type_id TEXT COLLATE "C",
    global_asset_id TEXT COLLATE "C",
    parent_id TEXT COLLATE "C",
    doc JSONB NOT NULL
);
CREATE INDEX resources_source ON resources (source);
CREATE INDEX resources_pool ON resources (pool_id, id);
CREATE INDEX resources_type ON resources (type_id, id);
CREATE INDEX resources_asset ON resources (global_asset_id, id);
CREATE INDEX resources_parent ON resources (parent_id, id);

CREATE TABLE deployment_managers (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C",
    doc JSONB NOT NULL
);
CREATE INDEX deployment_managers_source ON deployment_managers (source);
CREATE INDEX deployment_managers_name ON deployment_managers (name, id);

-- +goose Down
DROP TABLE deployment_managers;
DROP TABLE resources;
DROP TABLE resource_pools;
DROP TABLE resource_types;
DROP TABLE ocloud;
