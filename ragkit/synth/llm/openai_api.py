"""``openai`` backend: any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp server, OpenAI).

Requests go out with the standard library (``urllib``), ``concurrency`` at a time; each is
retried with exponential backoff on connection errors, timeouts, HTTP 429 and 5xx
(``Retry-After`` is honoured). The API key is read from the environment variable named by
``api_key_env`` and is never logged or written anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from pydantic import Field

from ragkit.errors import ConfigError
from ragkit.registry import ComponentConfig
from ragkit.synth.llm.base import LLM, LLMBackendError

log = logging.getLogger(__name__)

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_MAX_BODY = 1 << 22  # read at most 4 MiB of a response


class OpenAILLM(LLM):
    """Chat completions from an OpenAI-compatible server.

    Args:
        base_url: the API root, e.g. ``http://localhost:8000/v1`` (vLLM), ``http://localhost:11434/v1``
            (Ollama), ``https://api.openai.com/v1``; ``/chat/completions`` is appended.
        model: the model name the server expects.
        api_key_env: name of the environment variable holding the API key (None: send no key).
        max_tokens: reply length cap.
        temperature: 0 = greedy; > 0 samples (``seed`` is sent; servers that support it are reproducible).
        top_p: nucleus sampling mass.
        timeout_s: per-request timeout.
        max_retries: retries after the first attempt (connection errors, timeouts, 429, 5xx).
        backoff_s: first retry delay; doubles on each retry.
        concurrency: requests in flight at once.
        prefill: how a final assistant message (the start the reply must have) is sent: ``instruct``
            (default, works everywhere) turns it into an instruction ("Start your reply with ..."),
            ``continue`` sends it as an assistant message with vLLM's ``continue_final_message``.
        extra_body: extra JSON fields sent with every request (e.g. ``{stop: ["\\n"]}``).
    """

    class Config(ComponentConfig):
        base_url: str
        model: str
        api_key_env: str | None = None
        max_tokens: int = Field(48, gt=0)
        temperature: float = Field(0.0, ge=0.0)
        top_p: float = Field(1.0, gt=0.0, le=1.0)
        timeout_s: float = Field(60.0, gt=0)
        max_retries: int = Field(4, ge=0)
        backoff_s: float = Field(1.0, ge=0)
        concurrency: int = Field(4, gt=0)
        prefill: Literal["instruct", "continue"] = "instruct"
        extra_body: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, **params) -> None:
        super().__init__(**params)
        if not self.config.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"llm.base_url: expected an http(s) URL such as http://localhost:8000/v1, got {self.config.base_url!r}")
        self.url = self.config.base_url.rstrip("/") + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        env = self.config.api_key_env
        if env:
            key = os.environ.get(env)
            if not key:
                raise ConfigError(f"llm.api_key_env: environment variable '{env}' is not set; export it with your API key (or set api_key_env: null for a server without keys)")
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _body(self, messages: Sequence[Mapping[str, str]], seed: int) -> bytes:
        c = self.config
        messages = [dict(m) for m in messages]
        body = {"model": c.model, "messages": messages, "max_tokens": c.max_tokens,
                "temperature": c.temperature, "top_p": c.top_p, "seed": seed, **c.extra_body}
        if _prefill(messages) and c.prefill == "continue":
            body.update(continue_final_message=True, add_generation_prompt=False)
        elif messages and messages[-1]["role"] == "assistant":
            start = messages.pop()["content"].strip()
            if start and messages:
                messages[-1] = {**messages[-1], "content": f"{messages[-1]['content']}\nStart your reply with \"{start}\"."}
        return json.dumps(body).encode()

    def _post(self, data: bytes, headers: dict[str, str]) -> str:
        """One request with retries; returns the reply text ("" when the reply is malformed)."""
        c = self.config
        delay, last = c.backoff_s, ""
        for attempt in range(c.max_retries + 1):
            req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            retry_after = None
            try:
                with urllib.request.urlopen(req, timeout=c.timeout_s) as resp:
                    return _reply_text(resp.read(_MAX_BODY))
            except urllib.error.HTTPError as err:
                detail = err.read(300).decode("utf-8", "replace") if err.fp else ""
                if err.code not in _RETRY_STATUS:
                    raise LLMBackendError(f"LLM endpoint {self.url} refused the request: HTTP {err.code} {err.reason}: {detail.strip()[:300]}") from None
                last = f"HTTP {err.code} {err.reason}"
                retry_after = _seconds(err.headers.get("Retry-After") if err.headers else None)
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
                last = str(getattr(err, "reason", err))
            if attempt < c.max_retries:
                wait = min(max(delay, retry_after or 0.0), 60.0)
                log.warning("LLM endpoint %s: %s; retry %d/%d in %.1fs", self.url, last, attempt + 1, c.max_retries, wait)
                time.sleep(wait)
                delay *= 2
        raise LLMBackendError(
            f"LLM endpoint {self.url} unreachable or failing after {c.max_retries + 1} attempts (last error: {last}). "
            "Is the server running, and is llm.base_url right (it should end in /v1)?"
        )

    def chat(self, conversations: Sequence[Sequence[Mapping[str, str]]], *, seed: int = 0, stop: Sequence[str] | None = None) -> list[str]:
        # ``stop`` is not sent: the API would drop the stop string ("?") from the reply
        headers = self._headers()
        bodies = [self._body(conv, seed + i) for i, conv in enumerate(conversations)]
        if len(bodies) <= 1 or self.config.concurrency == 1:
            replies = [self._post(b, headers) for b in bodies]
        else:
            with ThreadPoolExecutor(max_workers=min(self.config.concurrency, len(bodies))) as pool:
                replies = list(pool.map(lambda b: self._post(b, headers), bodies))
        if self.config.prefill == "continue":  # the server returned the continuation only
            replies = [_prefill(conv) + r for conv, r in zip(conversations, replies)]
        return replies


def _prefill(messages: Sequence[Mapping[str, str]]) -> str:
    return messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else ""


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _reply_text(raw: bytes) -> str:
    """``choices[0].message.content`` of a chat-completions response, or "" if it is not one."""
    try:
        content = json.loads(raw)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        log.warning("LLM endpoint returned a malformed response (%d bytes); counted as an empty reply", len(raw))
        return ""
    return content if isinstance(content, str) else ""
