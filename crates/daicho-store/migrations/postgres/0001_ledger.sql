-- The discovered side of the ledger, as in migrations/sqlite/0001: reports
-- kept verbatim (append-only) as evidence; everything else can be rebuilt
-- from them. Device ids are assigned by the ingest (under its lock), so
-- they are plain BIGINTs here as in SQLite.

CREATE TABLE scans (
    scan_id     TEXT PRIMARY KEY,
    agent_id    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    report      TEXT NOT NULL
);

CREATE TABLE devices (
    id         BIGINT PRIMARY KEY,
    name       TEXT,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);

-- Each identity belongs to one device.
CREATE TABLE device_keys (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    device_id  BIGINT NOT NULL REFERENCES devices(id),
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX device_keys_by_device ON device_keys(device_id);

CREATE TABLE device_addresses (
    device_id  BIGINT NOT NULL REFERENCES devices(id),
    ip         TEXT NOT NULL,
    agent_id   TEXT NOT NULL,
    interface  TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    PRIMARY KEY (device_id, ip, agent_id, interface)
);

-- Why each observation group went where it went.
CREATE TABLE merge_decisions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scan_id    TEXT NOT NULL REFERENCES scans(scan_id),
    device_id  BIGINT NOT NULL REFERENCES devices(id),
    interface  TEXT NOT NULL,
    ip         TEXT,
    created    BIGINT NOT NULL,
    reasons    TEXT NOT NULL
);
CREATE INDEX merge_decisions_by_device ON merge_decisions(device_id);

CREATE TABLE audit_log (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
