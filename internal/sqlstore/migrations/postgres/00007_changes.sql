-- +goose Up
-- The last change of every inventory object, by the seq of its event:
-- lists asked for what changed since a stamp read it, and deleted
-- objects stay as tombstones.
CREATE TABLE changes (
    object_type TEXT COLLATE "C" NOT NULL,
    object_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL,
    PRIMARY KEY (object_type, object_id)
);
CREATE INDEX changes_seq ON changes (object_type, seq);

-- +goose Down
DROP TABLE changes;
