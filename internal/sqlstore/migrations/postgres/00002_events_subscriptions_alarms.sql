-- +goose Up
-- The outbox: every inventory or alarm change, written in the transaction
-- that makes the change. seq orders events in commit order.
CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    stream TEXT COLLATE "C" NOT NULL,
    object_type TEXT COLLATE "C" NOT NULL,
    object_id TEXT COLLATE "C" NOT NULL,
    event_type BIGINT NOT NULL,
    prior JSONB,
    post JSONB,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_stream_seq ON events (stream, seq);

CREATE TABLE subscriptions (
    id TEXT COLLATE "C" PRIMARY KEY,
    stream TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL DEFAULT 'api',
    doc_hash TEXT COLLATE "C" NOT NULL DEFAULT '',
    dedupe_key TEXT COLLATE "C" NOT NULL UNIQUE,
    callback TEXT COLLATE "C" NOT NULL,
    consumer_subscription_id TEXT COLLATE "C",
    filter TEXT COLLATE "C" NOT NULL DEFAULT '',
    doc JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    cursor BIGINT NOT NULL,
    lease_owner TEXT COLLATE "C",
    lease_until BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    retrying_since BIGINT NOT NULL DEFAULT 0,
    last_error TEXT COLLATE "C" NOT NULL DEFAULT '',
    last_delivered_at BIGINT NOT NULL DEFAULT 0,
    delivered_count BIGINT NOT NULL DEFAULT 0,
    expired_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX subscriptions_stream ON subscriptions (stream, id);

CREATE TABLE alarms (
    id TEXT COLLATE "C" PRIMARY KEY,
    fingerprint TEXT COLLATE "C" NOT NULL,
    active BIGINT NOT NULL,
    definition_id TEXT COLLATE "C",
    probable_cause_id TEXT COLLATE "C",
    resource_type_id TEXT COLLATE "C",
    resource_id TEXT COLLATE "C",
    severity NUMERIC,
    acknowledged TEXT COLLATE "C",
    raised_time TEXT COLLATE "C",
    changed_time TEXT COLLATE "C",
    cleared_time TEXT COLLATE "C",
    doc JSONB NOT NULL
);
-- At most one open alarm per condition; a cleared alarm may be raised again.
CREATE UNIQUE INDEX alarms_open_fingerprint ON alarms (fingerprint) WHERE active = 1;
CREATE INDEX alarms_resource ON alarms (resource_id, id);
CREATE INDEX alarms_definition ON alarms (definition_id, id);
CREATE INDEX alarms_severity ON alarms (severity, id);
CREATE INDEX alarms_raised ON alarms (raised_time, id);
CREATE INDEX alarms_cleared ON alarms (cleared_time);

CREATE TABLE alarm_service_configuration (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    doc JSONB NOT NULL
);

-- +goose Down
DROP TABLE alarm_service_configuration;
DROP TABLE alarms;
DROP TABLE subscriptions;
DROP TABLE events;
