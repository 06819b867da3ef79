-- +goose Up
-- CNF packages, instances and lifecycle operation occurrences. They follow
-- the object table shape (id, source, doc_hash, columns, doc) so that the
-- SOL013 query language and change events work on them as on inventory.
CREATE TABLE cnf_packages (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C",
    version TEXT COLLATE "C",
    vnfd_id TEXT COLLATE "C",
    doc JSONB NOT NULL
);
CREATE INDEX cnf_packages_vnfd ON cnf_packages (vnfd_id, id);

CREATE TABLE cnf_package_content (
    package_id TEXT COLLATE "C" PRIMARY KEY REFERENCES cnf_packages (id) ON DELETE CASCADE,
    checksum TEXT COLLATE "C" NOT NULL,
    content BYTEA NOT NULL
);

CREATE TABLE cnf_instances (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    vnfd_id TEXT COLLATE "C",
    package_id TEXT COLLATE "C",
    instantiation_state TEXT COLLATE "C",
    phase TEXT COLLATE "C",
    doc JSONB NOT NULL
);
CREATE INDEX cnf_instances_package ON cnf_instances (package_id, id);
CREATE INDEX cnf_instances_state ON cnf_instances (instantiation_state, id);

CREATE TABLE lcm_op_occs (
    id TEXT COLLATE "C" PRIMARY KEY,
    source TEXT COLLATE "C" NOT NULL,
    doc_hash TEXT COLLATE "C" NOT NULL,
    cnf_instance_id TEXT COLLATE "C",
    operation TEXT COLLATE "C",
    operation_state TEXT COLLATE "C",
    start_time TEXT COLLATE "C",
    doc JSONB NOT NULL
);
CREATE INDEX lcm_op_occs_instance ON lcm_op_occs (cnf_instance_id, id);
CREATE INDEX lcm_op_occs_state ON lcm_op_occs (operation_state, id);

-- +goose Down
DROP TABLE lcm_op_occs;
DROP TABLE cnf_instances;
DROP TABLE cnf_package_content;
DROP TABLE cnf_packages;
