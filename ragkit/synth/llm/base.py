"""The LLM backend contract: ``LLM.chat(conversations, seed) -> list[str]``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ragkit.errors import RagkitError
from ragkit.registry import Component, config_hash


class LLMBackendError(RagkitError, RuntimeError):
    """The LLM endpoint failed for good (unreachable, refused the request, retries exhausted)."""


class LLM(Component):
    """Writes one reply per conversation.

    Subclasses implement :meth:`chat`. A conversation is a list of ``{"role", "content"}``
    messages; when the last one is an ``assistant`` message, it is a prefill: the reply
    starts with it (a backend that cannot continue a message asks for it instead), and the
    returned text includes it. Replies are raw text: a backend
    never raises on a malformed reply, it returns what it got (possibly ``""``) and the
    parsing gate rejects it.
    """

    kind = "llm backend"

    def chat(self, conversations: Sequence[Sequence[Mapping[str, str]]], *, seed: int = 0, stop: Sequence[str] | None = None) -> list[str]:
        """One reply per conversation. ``stop``: a hint that a reply may end after any of these
        strings (a backend that honours it keeps the string in the reply; others ignore it)."""
        raise NotImplementedError

    def signature(self) -> str:
        """Identity of what writes the replies (model weights + decoding settings), for cache keys.

        Settings that do not change the replies (batch size, concurrency, timeouts) are left out.
        """
        skip = {"batch_size", "concurrency", "timeout_s", "max_retries", "backoff_s", "device", "api_key_env"}
        return config_hash({"name": self.name, **{k: v for k, v in self.config_dict().items() if k not in skip}})
