-- +goose Up
-- O2ims v11: locations and O-Cloud sites, the places resource pools are
-- in; and the inventory API major version a subscription was made with,
-- which decides the shape of its notifications.
CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    name TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX locations_source ON locations (source);
CREATE INDEX locations_name ON locations (name, id);

CREATE TABLE ocloud_sites (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    name TEXT,
    global_location_id TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX ocloud_sites_source ON ocloud_sites (source);
CREATE INDEX ocloud_sites_name ON ocloud_sites (name, id);
CREATE INDEX ocloud_sites_location ON ocloud_sites (global_location_id, id);

ALTER TABLE resource_pools ADD COLUMN ocloud_site_id TEXT;
CREATE INDEX resource_pools_site ON resource_pools (ocloud_site_id, id);

ALTER TABLE subscriptions ADD COLUMN api_major INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN api_major;
DROP INDEX resource_pools_site;
ALTER TABLE resource_pools DROP COLUMN ocloud_site_id;
DROP TABLE ocloud_sites;
DROP TABLE locations;
