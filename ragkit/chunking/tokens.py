"""``tokens``: windows of at most ``window`` tokens, counted by the embedder's own tokenizer.

The document is tokenized once (in whitespace-aligned segments of about 32k
characters, batched so the Rust tokenizer can use every core) with character
offsets; windows are then laid over the token list, and every chunk is checked by
re-tokenizing its text, so the guarantee holds for the text the embedder will see.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from pydantic import Field, model_validator

from ragkit.chunking.base import Chunker
from ragkit.chunking.boundaries import cut_kind, first_non_ws, last_non_ws_end
from ragkit.chunking.chars import check_overlap
from ragkit.errors import ConfigError
from ragkit.registry import CHUNKERS, ComponentConfig

log = logging.getLogger(__name__)

_SEGMENT = 32_768  # characters per tokenizer call; whole-document calls use one core only
_WS = re.compile(r"\s")
_WARNED: set[tuple[str, int]] = set()


@dataclass(frozen=True, slots=True)
class _Tokens:
    """The tokens of a document: character ``starts``/``ends`` and whether each begins a word."""

    text: str
    starts: list[int]
    ends: list[int]
    word_start: list[bool]  # token j is the first piece of a pre-tokenizer word

    def ws_before(self, j: int) -> bool:
        """True when whitespace separates token ``j - 1`` from token ``j``."""
        return _WS.search(self.text, self.ends[j - 1], self.starts[j]) is not None

    def char_span(self, a: int, b: int) -> tuple[int, int]:
        """The characters of tokens ``[a, b)``, with the untokenized gap after them up to token ``b``."""
        text = self.text
        start = first_non_ws(text, 0, len(text)) if a == 0 else self.starts[a]
        stop = self.starts[b] if b < len(self.starts) else len(text)
        return start, last_non_ws_end(text, self.ends[b - 1], stop)


def _segments(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` pieces of about ``_SEGMENT`` characters, each ending before whitespace."""
    out, s = [], 0
    while s < len(text):
        m = _WS.search(text, s + _SEGMENT)
        e = m.start() if m else len(text)
        out.append((s, e))
        s = e
    return out


def _tokenize(tokenizer, text: str) -> _Tokens:
    segs = _segments(text)
    enc = tokenizer(
        [text[s:e] for s, e in segs], add_special_tokens=False, return_offsets_mapping=True, verbose=False
    )
    starts, ends, word_start = [], [], []
    for i, (base, _) in enumerate(segs):
        prev = object()
        for (s, e), w in zip(enc["offset_mapping"][i], enc.word_ids(i)):
            starts.append(base + s)
            ends.append(base + e)
            word_start.append(w != prev)
            prev = w
    return _Tokens(text, starts, ends, word_start)


@CHUNKERS.register("tokens")
class TokenChunker(Chunker):
    """Windows of at most ``window`` tokens of the embedder's tokenizer, overlapping by about ``overlap``.

    The window counts the special tokens the model adds (``[CLS]``/``[SEP]`` for
    BERT-style models), so ``window=256`` is exactly all-MiniLM-L6-v2's
    ``max_seq_length``: every chunk is embedded whole, nothing is truncated. The
    tokenizer is the very object of ``get_embedder(model)`` (loaded on first use).

    A window of ``budget = window - specials`` document tokens ends at the best cut
    in its last quarter (the *slack*, ``budget // 4`` tokens): a paragraph break,
    else a sentence end, else whitespace between tokens; failing those, at the last
    whitespace of the window (when the unbroken run after it fits in a window), else
    at a word boundary of the pre-tokenizer (never between the sub-word pieces of one
    word when avoidable). The next window starts ``overlap`` tokens before the
    previous end, moved to a token that follows whitespace (by at most the slack
    when one is that close); when that window could only end inside the word that
    follows the previous chunk, it restarts at that word without overlap, if the
    word then fits whole. Each chunk is re-tokenized and shortened if it would
    exceed ``window`` tokens (possible only with cuts inside words).

    Args:
        window: the most tokens per chunk, special tokens included.
        overlap: tokens shared by consecutive chunks, before snapping (at most
            ``budget - 1`` are used).
        model: the embedder whose tokenizer counts the tokens ("default" is the
            bundled all-MiniLM-L6-v2).

    Example:
        >>> from ragkit.data.types import Document
        >>> chunker = TokenChunker(window=8, overlap=0)  # 6 text tokens + [CLS] + [SEP]
        >>> [c.text for c in chunker.chunk(Document("d", "one two three four five six seven eight"))]
        ['one two three four five six', 'seven eight']
    """

    class Config(ComponentConfig):
        window: int = Field(256, ge=8, description="most tokens per chunk, special tokens included")
        overlap: int = Field(32, ge=0, description="tokens shared by consecutive chunks")
        model: str = Field("default", min_length=1, description="embedder whose tokenizer counts tokens")

        @model_validator(mode="after")
        def _overlap_below_window(self) -> TokenChunker.Config:
            check_overlap(self.overlap, self.window, size_name="window")
            return self

    @property
    def embedder(self):
        """The shared embedder of ``model`` (loads it on first use)."""
        from ragkit.core.models import get_embedder

        emb = get_embedder(self.config.model)
        key = (self.config.model, self.config.window)
        if self.config.window > emb.max_seq_length and key not in _WARNED:
            _WARNED.add(key)
            log.warning(
                "tokens chunker: window=%d exceeds the max_seq_length=%d of model '%s'; the embedder "
                "will truncate longer chunks. Use window<=%d.",
                self.config.window, emb.max_seq_length, self.config.model, emb.max_seq_length,
            )
        return emb

    @property
    def tokenizer(self):
        """The embedder's tokenizer (the same object, not a copy)."""
        return self.embedder.tokenizer

    @property
    def budget(self) -> int:
        """Document tokens per window: ``window`` minus the special tokens the model adds."""
        tok = self.tokenizer
        budget = self.config.window - tok.num_special_tokens_to_add(pair=False)
        if budget < 1:
            raise ConfigError(
                f"tokens chunker: window={self.config.window} leaves no room for text next to the "
                f"{tok.num_special_tokens_to_add(pair=False)} special tokens of model '{self.config.model}'; "
                "raise window"
            )
        return budget

    @property
    def slack(self) -> int:
        """How far (in tokens) a cut or a start may move to reach a boundary: ``budget // 4``."""
        return self.budget // 4

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the chunks of ``text``."""
        tok = self.tokenizer
        if not getattr(tok, "is_fast", False):
            raise ConfigError(
                f"tokens chunker: model '{self.config.model}' has a slow (Python) tokenizer without "
                "character offsets; use a model with a fast tokenizer"
            )
        if not text.strip():
            return []
        tk = _tokenize(tok, text)
        if not tk.starts:  # only characters the tokenizer drops (control characters)
            return [(first_non_ws(text, 0, len(text)), last_non_ws_end(text, 0, len(text)))]
        budget = self.budget
        plan = self._plan(tk, 0, 0, budget, verify=False)
        spans = [tk.char_span(a, b) for a, b in plan]
        counts = self._count([text[s:e] for s, e in spans])
        bad = next((i for i, n in enumerate(counts) if n > self.config.window), None)
        if bad is None:
            return spans
        # Re-plan from the first overlong chunk, checking each chunk as it is made.
        rest = self._plan(tk, plan[bad][0], plan[bad - 1][1] if bad else 0, budget, verify=True)
        return spans[:bad] + [tk.char_span(a, b) for a, b in rest]

    def _count(self, texts: list[str]) -> list[int]:
        enc = self.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]

    def _plan(self, tk: _Tokens, a: int, prev_b: int, budget: int, verify: bool) -> list[tuple[int, int]]:
        """Token spans ``[a, b)`` from token ``a`` on; ``prev_b`` is where the previous chunk ended."""
        n = len(tk.starts)
        overlap = min(self.config.overlap, budget - 1)
        out = []
        while True:
            b = self._window_end(tk, a, prev_b, budget)
            if a < prev_b and self._hard(tk, b) and tk.ws_before(prev_b):
                # cutting the word after the previous chunk only to keep the overlap:
                # restart at that word, without overlap, if it then fits whole
                alt = self._window_end(tk, prev_b, prev_b, budget)
                if not self._hard(tk, alt):
                    a, b = prev_b, alt
            if verify:
                b = self._shrink(tk, a, b, budget)
            out.append((a, b))
            if b >= n:
                return out
            a, prev_b = self._next_start(tk, a, b, overlap, budget), b

    def _window_end(self, tk: _Tokens, a: int, prev_b: int, budget: int) -> int:
        n = len(tk.starts)
        return n if a + budget >= n else self._cut(tk, a, a + budget, max(a + 1, prev_b + 1), budget)

    @staticmethod
    def _hard(tk: _Tokens, b: int) -> bool:
        """True when a chunk ending before token ``b`` splits a whitespace-free run."""
        return b < len(tk.starts) and not tk.ws_before(b)

    @staticmethod
    def _cut(tk: _Tokens, a: int, limit: int, floor: int, budget: int) -> int:
        """End token of the chunk starting at ``a``: a token index in ``[floor, limit]`` (``limit`` < n)."""
        text, slack = tk.text, budget // 4
        region = max(limit - slack, floor)
        best, best_kind = -1, -1
        for j in range(region, limit + 1):
            if tk.ws_before(j):
                kind = cut_kind(text, tk.ends[j - 1], tk.starts[a])
                if kind >= best_kind:
                    best, best_kind = j, kind
        if best >= 0:
            return best
        for j in range(region - 1, floor - 1, -1):
            if tk.ws_before(j):
                # a short chunk pays only if the unbroken run after it then fits in one window
                run_end = j + budget
                if run_end >= len(tk.starts) or any(tk.ws_before(k) for k in range(j + 1, run_end + 1)):
                    return j
                break
        for j in range(limit, floor - 1, -1):
            if tk.word_start[j]:
                return j
        j = limit
        while j > floor and tk.starts[j] < tk.ends[j - 1]:  # pieces of one character stay together
            j -= 1
        return j

    def _next_start(self, tk: _Tokens, a: int, b: int, overlap: int, budget: int) -> int:
        """First token of the chunk after ``[a, b)``: about ``overlap`` tokens before ``b``, after whitespace."""
        slack = budget // 4
        lowest = max(a + 1, b - budget + 1)
        p = max(b - overlap, lowest)
        candidates = [range(p, min(p + slack, b) + 1)]
        if overlap > 0:
            candidates.append(range(p - 1, max(p - slack, lowest) - 1, -1))
        candidates.append(range(p, b + 1))
        for js in candidates:
            for j in js:
                if tk.ws_before(j):
                    return self._after(tk, a, j)
        for j in range(p, b + 1):
            if tk.word_start[j]:
                return self._after(tk, a, j)
        return self._after(tk, a, p)

    @staticmethod
    def _after(tk: _Tokens, a: int, j: int) -> int:
        """``j``, moved on past tokens that share the start character of token ``a``."""
        while j < len(tk.starts) - 1 and tk.starts[j] <= tk.starts[a]:
            j += 1
        return j

    def _shrink(self, tk: _Tokens, a: int, b: int, budget: int) -> int:
        """``b``, lowered until the chunk ``[a, b)`` re-tokenizes to at most ``window`` tokens."""
        window = self.config.window
        while True:
            s, e = tk.char_span(a, b)
            excess = self._count([tk.text[s:e]])[0] - window
            if excess <= 0:
                return b
            if b == a + 1:
                log.warning("tokens chunker: one token at characters %d-%d re-tokenizes to %d tokens "
                            "(> window=%d); keeping it", s, e, excess + window, window)
                return b
            new_b = self._cut(tk, a, max(b - excess, a + 1), a + 1, budget)
            b = new_b if new_b < b else b - 1
