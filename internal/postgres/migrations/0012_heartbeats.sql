-- One row per node: the health check's write (GET /healthz), at most once a second.
CREATE TABLE heartbeats (
    node text PRIMARY KEY,
    at   timestamptz NOT NULL
);
