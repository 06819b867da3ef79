-- +goose Up
-- Indexes for filters on attributes that live in the JSON document
-- (query.Attr.ElementTable, query.Schema.IndexedPaths): without them such a
-- filter scans the table in id order until a page has matched.
--
-- resource_tags holds the string elements of each resource's tags (or
-- the tag itself when tags is a single string), exactly the values an
-- eq or in filter on tags compares; triggers keep it in step with every
-- write of resources.doc. A page filtered by one tag reads it in
-- (value, object_id) order and stops after the page, however common or
-- rare the tag.
CREATE TABLE resource_tags (
    value TEXT NOT NULL,
    object_id TEXT NOT NULL,
    PRIMARY KEY (value, object_id)
) WITHOUT ROWID;
CREATE INDEX resource_tags_object ON resource_tags (object_id);
INSERT OR IGNORE INTO resource_tags (value, object_id)
    SELECT e.value, r.id FROM resources r, json_each(r.doc, '$."tags"') e
    WHERE e.type = 'text' AND typeof(e.key) <> 'text';

-- +goose StatementBegin
CREATE TRIGGER resource_tags_insert AFTER INSERT ON resources BEGIN
    INSERT OR IGNORE INTO resource_tags (value, object_id)
        SELECT e.value, NEW.id FROM json_each(NEW.doc, '$."tags"') e
        WHERE e.type = 'text' AND typeof(e.key) <> 'text';
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER resource_tags_update AFTER UPDATE OF id, doc ON resources BEGIN
    DELETE FROM resource_tags WHERE object_id = OLD.id;
    INSERT OR IGNORE INTO resource_tags (value, object_id)
        SELECT e.value, NEW.id FROM json_each(NEW.doc, '$."tags"') e
        WHERE e.type = 'text' AND typeof(e.key) <> 'text';
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER resource_tags_delete AFTER DELETE ON resources BEGIN
    DELETE FROM resource_tags WHERE object_id = OLD.id;
END;
-- +goose StatementEnd

-- A range filter on extensions/cpuCores reads this index (the expression
-- must be written exactly so in the query); it holds the id, so that the
-- ids in a range are read from the index alone.
CREATE INDEX resources_ext_cpu_cores ON resources (json_extract(doc, '$."extensions"."cpuCores"'), id);

-- +goose Down
DROP INDEX resources_ext_cpu_cores;
DROP TRIGGER resource_tags_delete;
DROP TRIGGER resource_tags_update;
DROP TRIGGER resource_tags_insert;
DROP TABLE resource_tags;
