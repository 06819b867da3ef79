-- +goose Up
-- Readers of the outbox besides the subscriptions (the event stream
-- publisher): events after a reader's cursor are kept for it, as they are
-- for a subscription, until they pass the outbox's age limit.
CREATE TABLE outbox_readers (
    name TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (name, stream)
);

-- +goose Down
DROP TABLE outbox_readers;
