-- +goose Up
-- Deployments follow the object table shape; name is unique.
CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);

-- Capacity a deployment holds on a pool until its workloads run. Only HELD
-- rows whose expires_at (Unix milliseconds) lies ahead count against a
-- pool's free capacity.
CREATE TABLE capacity_reservations (
    id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    pool_id TEXT NOT NULL,
    cpu_milli INTEGER NOT NULL,
    memory_bytes INTEGER NOT NULL,
    pods INTEGER NOT NULL,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX capacity_reservations_pool ON capacity_reservations (pool_id, state, expires_at);
CREATE INDEX capacity_reservations_deployment ON capacity_reservations (deployment_id);

-- +goose Down
DROP TABLE capacity_reservations;
DROP TABLE deployments;
