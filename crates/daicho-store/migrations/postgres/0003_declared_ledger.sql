-- What the probes said of each device, for the ledger's columns (the latest
-- value each probe gave wins).
ALTER TABLE devices ADD COLUMN mac TEXT;
ALTER TABLE devices ADD COLUMN maker TEXT;
ALTER TABLE devices ADD COLUMN model TEXT;
ALTER TABLE devices ADD COLUMN serial TEXT;
ALTER TABLE devices ADD COLUMN os TEXT;

-- The hospital's own ledger (機器台帳), one version per import or settled
-- difference; never changed in place, so its history is the trail.
CREATE TABLE ledger_versions (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    source TEXT NOT NULL,
    note   TEXT NOT NULL
);

-- Rows of a version: devices (diffed) and cloud services (kept, exported).
-- Fields as JSON, keyed by the ledger's column ids.
CREATE TABLE ledger_rows (
    version_id BIGINT NOT NULL REFERENCES ledger_versions(id),
    sheet      TEXT NOT NULL,
    position   BIGINT NOT NULL,
    fields     TEXT NOT NULL,
    PRIMARY KEY (version_id, sheet, position)
);

-- How staff settled a difference: accepted (the ledger was updated) or
-- ignored (hidden while the facts stay as they were, by fingerprint).
CREATE TABLE settlements (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item        TEXT NOT NULL,
    action      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX settlements_by_item ON settlements(item);
