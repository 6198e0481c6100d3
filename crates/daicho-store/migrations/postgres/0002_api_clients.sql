-- Who may call the collector's API: agents post their reports, readers read
-- the ledger. A token is a 256-bit random secret printed once; only its
-- SHA-256 is kept.
CREATE TABLE api_clients (
    name       TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('agent', 'reader')),
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT
);

-- Each agent's latest report is what detection across agents reads.
CREATE INDEX scans_by_agent ON scans(agent_id, finished_at);
