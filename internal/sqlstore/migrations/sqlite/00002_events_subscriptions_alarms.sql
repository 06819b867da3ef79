-- +goose Up
-- The outbox: every inventory or alarm change, written in the transaction
-- that makes the change. seq orders events in commit order.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    event_type INTEGER NOT NULL,
    prior TEXT,
    post TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_stream_seq ON events (stream, seq);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    stream TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'api',
    doc_hash TEXT NOT NULL DEFAULT '',
    dedupe_key TEXT NOT NULL UNIQUE,
    callback TEXT NOT NULL,
    consumer_subscription_id TEXT,
    filter TEXT NOT NULL DEFAULT '',
    doc TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    cursor INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    retrying_since INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    last_delivered_at INTEGER NOT NULL DEFAULT 0,
    delivered_count INTEGER NOT NULL DEFAULT 0,
    expired_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX subscriptions_stream ON subscriptions (stream, id);

CREATE TABLE alarms (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    active INTEGER NOT NULL,
    definition_id TEXT,
    probable_cause_id TEXT,
    resource_type_id TEXT,
    resource_id TEXT,
    severity INTEGER,
    acknowledged TEXT,
    raised_time TEXT,
    changed_time TEXT,
    cleared_time TEXT,
    doc TEXT NOT NULL
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
    doc TEXT NOT NULL
);

-- +goose Down
DROP TABLE alarm_service_configuration;
DROP TABLE alarms;
DROP TABLE subscriptions;
DROP TABLE events;
