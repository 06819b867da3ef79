-- +goose Up
-- Recommendations of the advisor follow the object table shape.
CREATE TABLE recommendations (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    doc TEXT NOT NULL
);

-- +goose Down
DROP TABLE recommendations;
