-- +goose Up
-- Provisioning requests (O2ims_InfrastructureProvisioning) follow the
-- object table shape; doc is the ProvisioningRequestInfo the API shows.
-- The other columns are the worker's own and never shown: parameters are
-- the request's templateParameters in full (doc leaves out the template's
-- writeOnly parameters, such as tokens), realizer_state is handed back to
-- the realizer on its next call, next_attempt (Unix milliseconds, 0 for
-- none) is when the worker calls it again, started_at when the current
-- apply or delete began (for its timeout), attempts counts transient
-- failures, generation counts the request's changes so that a result
-- computed for an older one is not recorded, and deleting marks a request
-- whose infrastructure is being removed.
CREATE TABLE provisioning_requests (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    doc JSONB NOT NULL,
    parameters TEXT,
    realizer_state TEXT,
    next_attempt BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 0,
    deleting INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX provisioning_requests_due ON provisioning_requests (next_attempt);

-- +goose Down
DROP TABLE provisioning_requests;
