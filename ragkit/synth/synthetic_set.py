"""A synthetic question set and its folder: ``questions.jsonl``, ``qrels.jsonl``, ``gates.json``,
``ragkit.json`` (plus ``rejected.jsonl`` and ``generations.jsonl``, the resumable progress log).

The files load with the ordinary JSONL loaders, so an experiment can also use a set as
``questions: {path: SET/questions.jsonl, qrels: SET/qrels.jsonl}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragkit.data.types import Qrels, Query
from ragkit.errors import ConfigError

SCHEMA_VERSION = 1
KIND = "synthetic_set"


@dataclass
class SyntheticSet:
    """Questions with span-level qrels, the gate report, and the rejected candidates."""

    queries: list[Query]
    qrels: Qrels
    gates: dict[str, Any] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def save_to(self, folder: str | Path) -> SyntheticSet:
        """:meth:`save` and return self (for chaining)."""
        self.save(folder)
        return self

    def save(self, folder: str | Path) -> Path:
        """Write the set atomically (each file complete or absent); ``ragkit.json`` last, as the 'done' mark."""
        from ragkit.experiment.store import atomic_write_bytes, write_json

        folder = Path(folder)
        (folder / "ragkit.json").unlink(missing_ok=True)
        atomic_write_bytes(folder / "questions.jsonl", _jsonl({"id": q.id, "text": q.text, "metadata": dict(q.metadata)} for q in self.queries))
        atomic_write_bytes(folder / "qrels.jsonl", _jsonl(
            {"query_id": qid, "doc_id": j.doc_id, "start": j.start, "end": j.end, "grade": j.grade}
            for qid, js in self.qrels.items() for j in js
        ))
        atomic_write_bytes(folder / "rejected.jsonl", _jsonl(self.rejected))
        write_json(self.gates, folder / "gates.json")
        write_json(self.info, folder / "ragkit.json")
        self.path = folder
        return folder


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode("utf-8")


def is_complete(folder: str | Path) -> bool:
    return (Path(folder) / "ragkit.json").is_file()


def load_set(folder: str | Path) -> SyntheticSet:
    """Read a set folder written by :meth:`SyntheticSet.save` (or by ``ragkit synth``)."""
    from ragkit.data.jsonl import load_qrels, load_queries_jsonl

    folder = Path(folder)
    if not (folder / "questions.jsonl").is_file() or not (folder / "qrels.jsonl").is_file():
        raise ConfigError(f"'{folder}' is not a synthetic set folder (needs questions.jsonl and qrels.jsonl); write one with `ragkit synth`")
    info = json.loads((folder / "ragkit.json").read_text()) if is_complete(folder) else {}
    gates = json.loads((folder / "gates.json").read_text()) if (folder / "gates.json").is_file() else {}
    return SyntheticSet(load_queries_jsonl(folder / "questions.jsonl"), load_qrels(folder / "qrels.jsonl"), gates, [], info, folder)

