-- +goose Up
CREATE TABLE ocloud (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    ocloud_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE resource_types (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    name TEXT,
    vendor TEXT,
    model TEXT,
    resource_kind TEXT,
    resource_class TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX resource_types_source ON resource_types (source);
CREATE INDEX resource_types_name ON resource_types (name, id);

CREATE TABLE resource_pools (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    name TEXT,
    global_location_id TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX resource_pools_source ON resource_pools (source);
CREATE INDEX resource_pools_name ON resource_pools (name, id);

CREATE TABLE resources (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    pool_id TEXT,
    type_id TEXT,
    global_asset_id TEXT,
    parent_id TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX resources_source ON resources (source);
CREATE INDEX resources_pool ON resources (pool_id, id);
CREATE INDEX resources_type ON resources (type_id, id);
CREATE INDEX resources_asset ON resources (global_asset_id, id);
CREATE INDEX resources_parent ON resources (parent_id, id);

CREATE TABLE deployment_managers (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    name TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX deployment_managers_source ON deployment_managers (source);
CREATE INDEX deployment_managers_name ON deployment_managers (name, id);

-- +goose Down
DROP TABLE deployment_managers;
DROP TABLE resources;
DROP TABLE resource_pools;
DROP TABLE resource_types;
DROP TABLE ocloud;
