-- +goose Up
-- When each change was recorded (Unix milliseconds; 0 for the changes
-- recorded before this version), so tombstones can be pruned by age, and
-- per object type the newest pruned seq: a change stamp older than it can
-- no longer list every deletion since.
ALTER TABLE changes ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE change_horizon (
    object_type TEXT COLLATE "C" PRIMARY KEY,
    seq BIGINT NOT NULL
);

-- +goose Down
DROP TABLE change_horizon;
ALTER TABLE changes DROP COLUMN changed_at;
