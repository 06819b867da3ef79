-- +goose Up
-- Edge enrolment (internal/edge): bootstrap tokens, enrolled nodes, their
-- latest inventories and the client certificates the CA issued and
-- revoked. Times are Unix milliseconds, 0 for none, as elsewhere.
CREATE TABLE edge_tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    secret_sha256 BYTEA NOT NULL,
    pool TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL DEFAULT '',
    max_uses INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX edge_tokens_created ON edge_tokens (created_at, id);

CREATE TABLE edge_nodes (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    pool TEXT COLLATE "C" NOT NULL DEFAULT '',
    site TEXT COLLATE "C" NOT NULL DEFAULT '',
    state TEXT COLLATE "C" NOT NULL,
    token_id TEXT COLLATE "C" NOT NULL DEFAULT '',
    key_sha256 TEXT COLLATE "C" NOT NULL DEFAULT '',
    agent_version TEXT COLLATE "C" NOT NULL DEFAULT '',
    addresses JSONB NOT NULL DEFAULT 'null',
    remote_address TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL DEFAULT 0,
    enrolled_at BIGINT NOT NULL DEFAULT 0,
    last_heartbeat BIGINT NOT NULL DEFAULT 0,
    last_sequence BIGINT NOT NULL DEFAULT 0,
    reachable BOOLEAN NOT NULL DEFAULT FALSE,
    cert_serial TEXT COLLATE "C" NOT NULL DEFAULT '',
    cert_not_after BIGINT NOT NULL DEFAULT 0,
    inventory_hash TEXT COLLATE "C" NOT NULL DEFAULT ''
);

CREATE TABLE edge_inventories (
    node_id TEXT COLLATE "C" PRIMARY KEY REFERENCES edge_nodes (id) ON DELETE CASCADE,
    hash TEXT COLLATE "C" NOT NULL,
    document JSONB NOT NULL,
    received_at BIGINT NOT NULL
);

-- No foreign key: a deleted node's certificates are kept.
CREATE TABLE edge_certificates (
    serial TEXT COLLATE "C" PRIMARY KEY,
    node_id TEXT COLLATE "C" NOT NULL,
    key_sha256 TEXT COLLATE "C" NOT NULL DEFAULT '',
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    issued_at BIGINT NOT NULL
);
CREATE INDEX edge_certificates_node ON edge_certificates (node_id, issued_at);

-- Prunable once not_after has passed.
CREATE TABLE edge_revocations (
    serial TEXT COLLATE "C" PRIMARY KEY,
    node_id TEXT COLLATE "C" NOT NULL,
    revoked_at BIGINT NOT NULL,
    not_after BIGINT NOT NULL
);
CREATE INDEX edge_revocations_not_after ON edge_revocations (not_after);

-- +goose Down
DROP TABLE edge_revocations;
DROP TABLE edge_certificates;
DROP TABLE edge_inventories;
DROP TABLE edge_nodes;
DROP TABLE edge_tokens;
