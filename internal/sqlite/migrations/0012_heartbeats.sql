-- One row per node: the health check's write (GET /healthz), at most once a second.
CREATE TABLE heartbeats (
    node TEXT PRIMARY KEY,
    at   INTEGER NOT NULL
) STRICT;
