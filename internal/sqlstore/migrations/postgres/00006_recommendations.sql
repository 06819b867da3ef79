-- +goose Up
-- Recommendations of the advisor follow the object table shape.
CREATE TABLE recommendations (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    doc JSONB NOT NULL
);

-- +goose Down
DROP TABLE recommendations;
