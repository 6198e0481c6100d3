-- As migrations/sqlite/0006.
-- Weak evidence that two devices are one host (issue #15): a name shared
-- with a device on another segment, with or without adjacent MACs. A person
-- confirms a link (the newer device merges into the older, device_a) or
-- rejects it (the pair stays apart and the link stays rejected). No foreign
-- keys: a confirmed link outlives device_b, as the record of the merge.
CREATE TABLE device_links (
    device_a   BIGINT NOT NULL,
    device_b   BIGINT NOT NULL,
    confidence TEXT NOT NULL,
    evidence   TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'confirmed', 'rejected')),
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    note       TEXT,
    PRIMARY KEY (device_a, device_b)
);
CREATE INDEX device_links_by_b ON device_links(device_b);

-- What a settlement of a flag records beyond its note (the maintainer and
-- the connection method of sanctioned remote maintenance), as JSON.
ALTER TABLE settlements ADD COLUMN detail TEXT NOT NULL DEFAULT '{}';

-- The MAC each address was seen with: a device's interfaces.
ALTER TABLE device_addresses ADD COLUMN mac TEXT;

-- Identities a device showed that identify nothing (issue #15): a known
-- placeholder (why = 'placeholder', detail = the table's source) or one
-- several devices with different MACs showed on one segment (why =
-- 'shared', detail = that segment). Kept to be shown, never to join.
CREATE TABLE shared_identities (
    device_id  BIGINT NOT NULL REFERENCES devices(id),
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    why        TEXT NOT NULL,
    detail     TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    PRIMARY KEY (device_id, kind, value)
);
