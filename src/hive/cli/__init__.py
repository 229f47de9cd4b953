"""The `hive` command: a client of the HTTP API, plus `serve` and `demo` to run a server."""
