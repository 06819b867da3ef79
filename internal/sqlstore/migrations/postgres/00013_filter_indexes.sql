-- +goose Up
-- Indexes for filters on attributes that live in the JSON document
-- (query.Attr.ElementTable, query.Schema.IndexedPaths): without them such
-- a filter scans the table in id order until a page has matched.
--
-- resource_tags holds the string elements of each resource's tags (or
-- the tag itself when tags is a single string), exactly the values an
-- eq or in filter on tags compares; a trigger keeps it in step with
-- every write of resources.doc. A page filtered by one tag reads it in
-- (value, object_id) order and stops after the page, however common or
-- rare the tag.
CREATE TABLE resource_tags (
    value TEXT COLLATE "C" NOT NULL,
    object_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (value, object_id)
);
CREATE INDEX resource_tags_object ON resource_tags (object_id);
INSERT INTO resource_tags (value, object_id)
    SELECT e.v #>> '{}', r.id FROM resources r,
        jsonb_array_elements(CASE WHEN jsonb_typeof(r.doc -> 'tags') = 'array' THEN r.doc -> 'tags' ELSE jsonb_build_array(r.doc -> 'tags') END) AS e(v)
    WHERE jsonb_typeof(e.v) = 'string'
    ON CONFLICT DO NOTHING;

-- +goose StatementBegin
CREATE FUNCTION resource_tags_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM resource_tags WHERE object_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO resource_tags (value, object_id)
            SELECT e.v #>> '{}', NEW.id
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(NEW.doc -> 'tags') = 'array' THEN NEW.doc -> 'tags' ELSE jsonb_build_array(NEW.doc -> 'tags') END) AS e(v)
            WHERE jsonb_typeof(e.v) = 'string'
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER resource_tags_sync AFTER INSERT OR UPDATE OF id, doc OR DELETE ON resources
    FOR EACH ROW EXECUTE FUNCTION resource_tags_sync();

-- in filters on tags with several values test containment
-- (doc -> 'tags' @> value), which this GIN index answers for an array of
-- tags and a single tag.
CREATE INDEX resources_tags_gin ON resources USING gin ((doc -> 'tags'));

-- A range filter on extensions/cpuCores reads these: the value's jsonb
-- order for numbers above the bound, its JSON type for the strings and
-- arrays that may match too.
CREATE INDEX resources_ext_cpu_cores ON resources ((doc -> 'extensions' -> 'cpuCores'));
CREATE INDEX resources_ext_cpu_cores_type ON resources (jsonb_typeof(doc -> 'extensions' -> 'cpuCores'));

-- +goose Down
DROP INDEX resources_ext_cpu_cores_type;
DROP INDEX resources_ext_cpu_cores;
DROP INDEX resources_tags_gin;
DROP TRIGGER resource_tags_sync ON resources;
DROP FUNCTION resource_tags_sync();
DROP TABLE resource_tags;
