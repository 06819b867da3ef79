-- +goose Up
-- Deployments follow the object table shape; name is unique.
CREATE TABLE deployments (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    doc JSONB NOT NULL
);

-- Capacity a deployment holds on a pool until its workloads run. Only HELD
-- rows whose expires_at (Unix milliseconds) lies ahead count against a
-- pool's free capacity.
CREATE TABLE capacity_reservations (
    id TEXT COLLATE "C" PRIMARY KEY,
    deployment_id TEXT COLLATE "C" NOT NULL,
    pool_id TEXT COLLATE "C" NOT NULL,
    cpu_milli BIGINT NOT NULL,
    memory_bytes BIGINT NOT NULL,
    pods BIGINT NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX capacity_reservations_pool ON capacity_reservations (pool_id, state, expires_at);
CREATE INDEX capacity_reservations_deployment ON capacity_reservations (deployment_id);

-- +goose Down
DROP TABLE capacity_reservations;
DROP TABLE deployments;
