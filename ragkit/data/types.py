"""The data model: documents, chunks, queries, relevance judgments, rankings.

Relevance never points at a chunk id (DESIGN.md, principle 2): a judgment names a
document, optionally a character span ``[start, end)`` inside it. A chunk is
relevant when it overlaps a relevant span, or belongs to a relevant document when
the judgment has no span. So every chunker is judged against the same labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ragkit.errors import DataValidationError


@dataclass(frozen=True, slots=True)
class Document:
    """A source document. ``metadata`` holds at least ``source`` (path) when loaded from files."""

    id: str
    text: str
    title: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A contiguous piece of a document: ``doc.text[start:end] == text``.

    ``metadata`` inherits the document's metadata (plus chunker-specific keys such as
    ``heading_path``). ``prefix`` is extra text a chunker asks to prepend when the
    chunk is embedded or indexed (e.g. the heading path), kept out of ``text`` so the
    offsets stay exact.
    """

    id: str
    doc_id: str
    text: str
    start: int
    end: int
    metadata: Mapping[str, Any] = field(default_factory=dict)
    prefix: str = ""

    @property
    def indexed_text(self) -> str:
        """The text retrievers see: ``prefix`` + ``text``."""
        return f"{self.prefix}\n{self.text}" if self.prefix else self.text


@dataclass(frozen=True, slots=True)
class Query:
    """A question. ``metadata`` may hold ``topic``, ``feedback``, ``source`` (gold/synthetic/log)."""

    id: str
    text: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Judgment:
    """One relevance label: a whole document (``start is None``) or the span ``[start, end)``."""

    doc_id: str
    grade: int = 1
    start: int | None = None
    end: int | None = None

    def __post_init__(self) -> None:
        if (self.start is None) != (self.end is None):
            raise DataValidationError(
                f"judgment for doc '{self.doc_id}': give both start and end, or neither (got start={self.start}, end={self.end})"
            )
        if self.start is not None and not (0 <= self.start < self.end):  # type: ignore[operator]
            raise DataValidationError(
                f"judgment for doc '{self.doc_id}': need 0 <= start < end (got start={self.start}, end={self.end})"
            )

    def overlaps(self, chunk: Chunk) -> bool:
        """True when ``chunk`` belongs to this document and (if a span is set) overlaps the span."""
        if chunk.doc_id != self.doc_id:
            return False
        if self.start is None:
            return True
        return chunk.start < self.end and self.start < chunk.end  # type: ignore[operator]


class _ByQuery(Mapping[str, tuple]):
    """Read-only mapping query id -> tuple, shared by Qrels and Run."""

    _data: dict[str, tuple]

    def __getitem__(self, qid: str) -> tuple:
        return self._data[qid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Qrels(_ByQuery):
    """Relevance labels: query id -> judgments. Grades <= 0 mean judged non-relevant.

    >>> q = Qrels({"q1": [Judgment("d1", 2), Judgment("d2", 1, start=10, end=20)]})
    >>> q.doc_level()["q1"]
    {'d1': 2, 'd2': 1}
    """

    def __init__(self, data: Mapping[str, Iterable[Judgment]] | None = None) -> None:
        self._data: dict[str, tuple[Judgment, ...]] = {
            str(qid): tuple(js) for qid, js in (data or {}).items()
        }

    def __repr__(self) -> str:
        n = sum(len(v) for v in self._data.values())
        return f"Qrels({len(self)} queries, {n} judgments)"

    def doc_level(self) -> dict[str, dict[str, int]]:
        """query -> {doc_id: grade}; several spans in one document keep the highest grade."""
        out: dict[str, dict[str, int]] = {}
        for qid, js in self._data.items():
            docs: dict[str, int] = {}
            for j in js:
                docs[j.doc_id] = max(docs.get(j.doc_id, j.grade), j.grade)
            out[qid] = docs
        return out

    def chunk_level(self, chunks: Sequence[Chunk]) -> dict[str, dict[str, int]]:
        """query -> {chunk_id: grade} over ``chunks``: a chunk takes the best grade of the judgments it overlaps.

        Chunks that overlap only non-relevant (grade <= 0) judgments are left out.
        """
        by_doc: dict[str, list[Chunk]] = {}
        for c in chunks:
            by_doc.setdefault(c.doc_id, []).append(c)
        out: dict[str, dict[str, int]] = {}
        for qid, js in self._data.items():
            rel: dict[str, int] = {}
            for j in js:
                if j.grade <= 0:
                    continue
                for c in by_doc.get(j.doc_id, ()):
                    if j.overlaps(c):
                        rel[c.id] = max(rel.get(c.id, j.grade), j.grade)
            out[qid] = rel
        return out

    def restrict(self, query_ids: Iterable[str]) -> Qrels:
        keep = set(query_ids)
        return Qrels({q: js for q, js in self._data.items() if q in keep})


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved chunk with its score."""

    chunk_id: str
    doc_id: str
    score: float


class Run(_ByQuery):
    """A ranking per query: query id -> hits, best first.

    Order is by descending score; ties are broken by ascending ``chunk_id`` so that a
    run is deterministic whatever produced it.
    """

    def __init__(self, data: Mapping[str, Iterable[Hit]] | None = None, *, sort: bool = True) -> None:
        self._data: dict[str, tuple[Hit, ...]] = {}
        for qid, hits in (data or {}).items():
            hits = tuple(hits)
            if sort:
                hits = tuple(sorted(hits, key=lambda h: (-h.score, h.chunk_id)))
            self._data[str(qid)] = hits

    def __repr__(self) -> str:
        return f"Run({len(self)} queries)"

    def cutoff(self, k: int) -> Run:
        """The top ``k`` hits of every query."""
        return Run({q: hits[:k] for q, hits in self._data.items()}, sort=False)

    def doc_run(self) -> Run:
        """Collapse chunks to documents: a document's score is its best chunk's score (max-pooling)."""
        out = {}
        for qid, hits in self._data.items():
            seen: dict[str, Hit] = {}
            for h in hits:  # hits are best-first, so the first hit of a doc is its best
                if h.doc_id not in seen:
                    seen[h.doc_id] = Hit(h.doc_id, h.doc_id, h.score)
            out[qid] = tuple(seen.values())
        return Run(out, sort=False)

    def to_dict(self) -> dict[str, dict[str, float]]:
        """query -> {chunk_id: score}, the pytrec_eval / ranx run format."""
        return {q: {h.chunk_id: float(h.score) for h in hits} for q, hits in self._data.items()}

    def to_frame(self, stage: str = "retrieve"):
        """Long table: query_id, rank (1-based), chunk_id, doc_id, score, stage."""
        import pandas as pd

        rows = [
            (q, r, h.chunk_id, h.doc_id, float(h.score), stage)
            for q, hits in self._data.items()
            for r, h in enumerate(hits, 1)
        ]
        return pd.DataFrame(rows, columns=["query_id", "rank", "chunk_id", "doc_id", "score", "stage"])

    @classmethod
    def from_frame(cls, df) -> Run:
        """Inverse of :meth:`to_frame` (rows are ordered by rank)."""
        out: dict[str, list[Hit]] = {}
        for q, c, d, s in df.sort_values(["query_id", "rank"])[["query_id", "chunk_id", "doc_id", "score"]].itertuples(index=False):
            out.setdefault(str(q), []).append(Hit(str(c), str(d), float(s)))
        return cls(out, sort=False)
