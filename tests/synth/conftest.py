"""Synth fixtures: a small corpus with metadata, the bundled SmolLM2 (loaded once per session), and a
real OpenAI-compatible HTTP server on 127.0.0.1 that answers with that model."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ragkit.data.types import Document

TEXTS = {
    "pricing.md": (
        "Pricing 2025",
        {"author": "Camila Reyes", "owner": "sales-ops@example.com", "last_modified": "2025-06-03", "department": "Sales"},
        "The Team plan costs 449 dollars per month and includes up to 25 users. Annual billing gives two months free. "
        "The SKU for the annual plan is SKU-TEAM-ANNUAL-25. Enterprise customers get a 99.95 percent uptime commitment "
        "with service credits when it is missed. Credits must be requested within 30 days of the end of the month.",
    ),
    "runbook.md": (
        "Connector timeout runbook",
        {"author": "Tomas Herrera", "owner": "sre@example.com", "last_modified": "2025-02-11", "department": "Engineering"},
        "Error LF-ERR-4012 means a connector did not answer within the deadline. First check the source database load, "
        "then raise flow.retry.max_backoff_ms in config.yaml if the source is slow but healthy. Page the on-call "
        "engineer when more than ten pipelines fail with this error within an hour.",
    ),
    "travel.md": (
        "Travel policy",
        {"author": "Priya Raman", "department": "People Operations"},
        "Employees book flights through the travel portal at least fourteen days before departure. Economy class is "
        "the default for flights shorter than six hours. Hotel costs are reimbursed up to the city limit listed in the "
        "expense tool, and receipts must be uploaded within a week of returning.",
    ),
}


@pytest.fixture(scope="session")
def small_docs() -> list[Document]:
    return [Document(i, text, title, {"title": title, **meta}) for i, (title, meta, text) in TEXTS.items()]


@pytest.fixture(scope="session")
def smol():
    """The bundled SmolLM2-135M-Instruct behind the ``transformers`` backend, on CPU, short greedy replies."""
    from ragkit.registry import LLMS

    llm = LLMS.create("transformers", {"model": "default", "device": "cpu", "max_new_tokens": 16, "batch_size": 8})
    llm.lm  # load now (once per session)
    return llm


class ChatServer:
    """``/v1/chat/completions`` served by the local model, with scripted misbehaviour for tests.

    ``fail_next``: HTTP status codes returned (in order) before real answers; ``replies``: fixed reply
    texts returned instead of the model's (hostile output); ``echo``: reply with the last message's
    content; ``raw_body``: bytes sent as the whole 200 response; ``delay_s``: sleep per request;
    ``reply_fn``: body -> reply text (a scripted, deterministic writer); ``fail_after``: answer that
    many requests, then HTTP 500 for good (the endpoint dies mid-run).
    """

    def __init__(self, llm_factory) -> None:
        self.llm_factory, self.lock = llm_factory, threading.Lock()
        self.fail_next: list[int] = []
        self.replies: list[str] | None = None
        self.echo, self.raw_body, self.reply_fn, self.fail_after = False, None, None, None
        self.delay_s = 0.0
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reset(self) -> None:
        deadline = time.monotonic() + 10
        while self.in_flight and time.monotonic() < deadline:  # a request a client gave up on may still sleep
            time.sleep(0.01)
        self.fail_next, self.replies, self.delay_s, self.echo, self.raw_body = [], None, 0.0, False, None
        self.reply_fn = self.fail_after = None
        self.requests.clear()
        self.headers.clear()
        self.max_in_flight = 0

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            body = json.loads(h.rfile.read(int(h.headers["Content-Length"])))
            with self.lock:
                self.requests.append(body)
                self.headers.append(dict(h.headers))
                status = self.fail_next.pop(0) if self.fail_next else 200
                if self.fail_after is not None and len(self.requests) > self.fail_after:
                    status = 500
                canned = self.replies.pop(0) if self.replies else None
            time.sleep(self.delay_s)
            if h.path != "/v1/chat/completions":
                return self._send(h, 404, b'{"error": "not found"}')
            if status != 200:
                return self._send(h, status, b'{"error": "scripted failure"}', {"Retry-After": "0"})
            if self.raw_body is not None:
                return self._send(h, 200, self.raw_body)
            if self.reply_fn is not None:
                content = self.reply_fn(body)
            elif canned is not None or self.echo:
                content = canned if canned is not None else body["messages"][-1]["content"]
            else:
                content = self.llm_factory().chat([body["messages"]], seed=body.get("seed", 0))[0]
                last = body["messages"][-1]
                if body.get("continue_final_message") and last["role"] == "assistant":
                    content = content[len(last["content"]):]  # like vLLM: only the continuation
            reply = {"object": "chat.completion", "model": body["model"],
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}
            self._send(h, 200, json.dumps(reply).encode())
        finally:
            with self.lock:
                self.in_flight -= 1

    @staticmethod
    def _send(h, status: int, data: bytes, headers: dict | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        try:
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass


@pytest.fixture(scope="session")
def _server(request):
    server = ChatServer(lambda: request.getfixturevalue("smol"))  # the model loads only when a test needs its answers
    yield server
    server.httpd.shutdown()


@pytest.fixture
def chat_server(_server):
    _server.reset()
    yield _server
    _server.reset()
