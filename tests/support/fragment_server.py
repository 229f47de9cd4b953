"""A local HTTP server serving one prompt fragment (`/rules.md`), for URL sources."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"# Remote rules\n"


class _Fragment(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/rules.md":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


class FragmentServer:
    def __init__(self) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Fragment)
        self._port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self._stopped = False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._port}{path}"

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._httpd.shutdown()
            self._httpd.server_close()
