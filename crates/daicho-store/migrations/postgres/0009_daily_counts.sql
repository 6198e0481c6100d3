-- The dashboard's charts over time (issue #18): each day's devices,
-- undeclared and flagged counts, as the last reconciliation of that day
-- (in the site's time zone) found them.
CREATE TABLE daily_counts (
    day        TEXT PRIMARY KEY,
    devices    BIGINT NOT NULL,
    undeclared BIGINT NOT NULL,
    flagged    BIGINT NOT NULL,
    at         TEXT NOT NULL
);
