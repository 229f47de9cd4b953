"""A tiny service for tests: `service_app.py ROLE PORT` serves /health and /env on PORT;
an `api` notes whether its dependency (DEP_PORT) was already listening when it started."""

import json
import os
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

role = sys.argv[1]
if os.environ.get("DEP_PORT"):
    try:
        socket.create_connection(("127.0.0.1", int(os.environ["DEP_PORT"])), timeout=1).close()
        seen = "listening"
    except OSError:
        seen = "not listening"
    Path(f"{role}-saw-dependency.txt").write_text(seen)
if os.environ.get("CRASH_AFTER_START"):
    sys.exit(3)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(dict(os.environ) if self.path == "/env" else {"ok": True}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


# The port comes as an argument (`service_app.py api $PORT`), as a real server takes it.
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Handler)
print(f"{role} listening on {server.server_address[1]}", flush=True)
server.serve_forever()
