-- What the inspection (立入検査) asks beyond the ledger (issue #18): the
-- 2-② remote-maintenance register, the makers' MDS/SDS (2-③) and the
-- sign-offs of the people who reviewed them. Each write is audited.
CREATE TABLE remote_register (
    device  TEXT PRIMARY KEY,
    answers TEXT NOT NULL,
    actor   TEXT NOT NULL,
    at      TEXT NOT NULL
);

CREATE TABLE disclosures (
    maker    TEXT PRIMARY KEY,
    status   TEXT NOT NULL,
    version  TEXT NOT NULL,
    received TEXT NOT NULL,
    file     TEXT NOT NULL,
    note     TEXT NOT NULL,
    actor    TEXT NOT NULL,
    at       TEXT NOT NULL
);

CREATE TABLE sign_offs (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer TEXT NOT NULL,
    day      TEXT NOT NULL,
    note     TEXT NOT NULL,
    targets  TEXT NOT NULL,
    actor    TEXT NOT NULL,
    at       TEXT NOT NULL
);
