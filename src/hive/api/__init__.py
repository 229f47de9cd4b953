"""HTTP API: one router per resource, errors mapped to HTTP in one place."""
