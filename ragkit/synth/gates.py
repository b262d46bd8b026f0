"""Quality gates: every generated question passes parse -> length -> identifier -> leakage ->
answerability (optional, asks the LLM) -> duplicate, and every rejection is counted by gate and reason.

No gate round-trips through a retriever: keeping only questions that some retriever
answers would bias the evaluation towards that retriever.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragkit.synth.config import GatesSpec
from ragkit.synth.leakage import content_terms, distribution, leakage
from ragkit.synth.parse import parse_question
from ragkit.synth.sampling import Task

GATES = ("parse", "length", "identifier", "leakage", "answerability", "duplicate")


@dataclass
class Candidate:
    """A generated reply on its way through the gates; ``gate`` is None while it survives."""

    task: Task
    raw: str
    text: str | None = None
    leakage: float | None = None
    gate: str | None = None
    reason: str = ""

    def reject(self, gate: str, reason: str) -> None:
        self.gate, self.reason = gate, reason

    def record(self) -> dict[str, Any]:
        """A JSON-able line for ``rejected.jsonl``."""
        t = self.task
        return {"index": t.index, "style": t.style, "doc_id": t.doc_id, "start": t.start, "end": t.end, "gate": self.gate,
                "reason": self.reason, "text": self.text, "leakage": self.leakage, "raw": self.raw[:500]}


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


@dataclass
class GateReport:
    """Counts per gate and reason, per style, and the leakage of every parsed question."""

    spec: GatesSpec
    rejected: Counter = field(default_factory=Counter)
    reasons: dict[str, Counter] = field(default_factory=dict)
    by_style: dict[str, Counter] = field(default_factory=dict)
    leakage_parsed: list[float] = field(default_factory=list)
    leakage_kept: list[float] = field(default_factory=list)

    def add(self, c: Candidate) -> None:
        style = self.by_style.setdefault(c.task.style, Counter())
        style["candidates"] += 1
        if c.leakage is not None:
            self.leakage_parsed.append(c.leakage)
        if c.gate is None:
            style["kept"] += 1
            if c.leakage is not None:
                self.leakage_kept.append(c.leakage)
        else:
            self.rejected[c.gate] += 1
            self.reasons.setdefault(c.gate, Counter())[c.reason] += 1

    def to_dict(self, target: int) -> dict[str, Any]:
        kept = sum(s["kept"] for s in self.by_style.values())
        return {
            "target": target,
            "candidates": sum(s["candidates"] for s in self.by_style.values()),
            "kept": kept,
            "rejected": {g: int(self.rejected[g]) for g in GATES},
            "reasons": {g: dict(r) for g, r in self.reasons.items()},
            "by_style": {s: {"candidates": int(c["candidates"]), "kept": int(c["kept"])} for s, c in sorted(self.by_style.items())},
            "leakage": {"kept": distribution(self.leakage_kept), "parsed": distribution(self.leakage_parsed)},
            "thresholds": self.spec.model_dump(mode="json"),
        }


class Gates:
    """Applies the gates in order. ``encode`` maps texts to unit vectors (the shared encoder)."""

    def __init__(self, spec: GatesSpec, encode: Callable[[list[str]], np.ndarray] | None = None, examples: Sequence[str] = ()) -> None:
        self.spec, self.encode = spec, encode
        self._examples = {_normal(e) for e in examples}  # the prompts' own example questions
        self._seen: set[str] = set()
        self._vectors: list[np.ndarray] = []

    def check(self, c: Candidate) -> None:
        """The cheap per-question gates: parse, length, identifier, leakage."""
        s, t = self.spec, c.task
        parsed = parse_question(c.raw) if not t.question else None  # a template-written question is well-formed
        if parsed is not None and not parsed.ok:
            return c.reject("parse", parsed.reason)
        c.text = parsed.text if parsed is not None else t.question
        if _normal(c.text) in self._examples:
            return c.reject("parse", "copies the prompt's example")
        n_words = len(c.text.split())
        if not (s.min_chars <= len(c.text) <= s.max_chars):
            return c.reject("length", f"{len(c.text)} chars, allowed {s.min_chars}-{s.max_chars}")
        if not (s.min_words <= n_words <= s.max_words):
            return c.reject("length", f"{n_words} words, allowed {s.min_words}-{s.max_words}")
        needed = min(s.min_content_words, 1) if t.identifier else s.min_content_words  # "What is x86_64?" is a fine lookup
        if len(content_terms(c.text)) < needed:
            return c.reject("length", f"fewer than {needed} content words")
        if t.identifier and t.identifier.lower() not in c.text.lower():
            return c.reject("identifier", f"does not name {t.identifier}")
        c.leakage = leakage(c.text, t.passage, exclude=[t.identifier] if t.identifier else ())
        limit = s.leakage_limit(t.style)
        if limit is not None and c.leakage > limit:
            return c.reject("leakage", f"{c.leakage:.2f} > {limit}")
        return None

    def dedupe(self, cands: Sequence[Candidate]) -> None:
        """Reject exact repeats and questions within ``dedup_cosine`` of an earlier kept one (in order)."""
        alive = [c for c in cands if c.gate is None]
        vectors = self.encode([c.text for c in alive]) if (alive and self.encode and self.spec.dedup_cosine) else None
        for i, c in enumerate(alive):
            norm = _normal(c.text)
            if norm in self._seen:
                c.reject("duplicate", "same text as a kept question")
                continue
            if vectors is not None:
                v = vectors[i]
                if self._vectors:
                    best = float(np.max(np.stack(self._vectors) @ v))
                    if best >= self.spec.dedup_cosine:
                        c.reject("duplicate", f"cosine {best:.2f} to a kept question")
                        continue
                self._vectors.append(v)
            self._seen.add(norm)
