"""A fake OpenAI-compatible model server for the OpenCode tests, offline.

`POST /v1/chat/completions` answers with streaming `chat.completion.chunk` SSE. A test
scripts the replies to its agent turns (`FakeLLM.script`): plain text, a tool call, a
hang, or an HTTP error.
Requests without tools (OpenCode asking for a session title) get a short title, and a
request whose last message is a tool result gets `after_tool` text, so the script
holds only what the test cares about. Every request body is kept for assertions.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "fake-model"


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Hang:
    """Holds the response open (a model that never answers) until `FakeLLM.release`."""


@dataclass(frozen=True)
class Fail:
    """Answers with an HTTP error, as a provider refusing the request does."""

    status: int
    message: str


Reply = Text | ToolCall | Hang | Fail


@dataclass
class _State:
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    after_tool: str = "Done."
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            self.requests.append(body)
            messages = body.get("messages") or [{}]
            if not body.get("tools"):
                return Text("Fake session")
            if messages[-1].get("role") == "tool":
                return Text(self.after_tool)
            return self.replies.popleft() if self.replies else Text("ok")


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _chunks(reply: Text | ToolCall) -> list[dict[str, Any]]:
    if isinstance(reply, Text):
        words = reply.text.split(" ")
        parts = [w if i == 0 else f" {w}" for i, w in enumerate(words)]
        body = [_chunk({"role": "assistant", "content": ""})]
        body += [_chunk({"content": p}) for p in parts]
        last = _chunk({}, "stop")
    else:
        call = {
            "index": 0,
            "id": "call_fake_1",
            "type": "function",
            "function": {"name": reply.name, "arguments": json.dumps(reply.arguments)},
        }
        body = [_chunk({"role": "assistant", "content": None, "tool_calls": [call]})]
        last = _chunk({}, "tool_calls")
    last["usage"] = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    return [*body, last]


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet in test output
            pass

        def _json(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "hive"}
                self._json(200, {"object": "list", "data": [model]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            reply = state.next_reply(body)
            if isinstance(reply, Hang):
                state.hanging.set()
                state.released.wait(timeout=60)
                return
            if isinstance(reply, Fail):
                error = {"message": reply.message, "type": "invalid_request_error"}
                self._json(reply.status, {"error": error})
                return
            # HTTP/1.0 without a length: the stream ends when the connection closes.
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.end_headers()
            for chunk in _chunks(reply):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


class FakeLLM:
    """The server on 127.0.0.1 with an ephemeral port, served from a daemon thread."""

    def __init__(self) -> None:
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._state.lock:
            return list(self._state.requests)

    def script(self, *replies: Reply, after_tool: str = "Done.") -> None:
        """The replies to the next agent turns, in order (then "ok" for any more)."""
        with self._state.lock:
            self._state.replies = deque(replies)
            self._state.after_tool = after_tool
            self._state.hanging.clear()
            self._state.released.clear()

    def wait_hanging(self, timeout: float = 30) -> bool:
        """Whether a request reached a Hang reply (blocks: call it in a thread)."""
        return self._state.hanging.wait(timeout)

    def release(self) -> None:
        self._state.released.set()

    def start(self) -> FakeLLM:
        self._thread.start()
        return self

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
