"""JSONL and TSV readers for documents, queries and qrels (``.gz`` accepted everywhere).

Formats (one JSON object per line):

- documents: ``{"id" | "_id": str, "text": str, "title"?: str, "metadata"?: {...}}`` (other keys go to metadata)
- queries: ``{"id" | "_id": str, "text": str, "metadata"?: {...}}`` (other keys go to metadata)
- qrels: ``{"query_id", "doc_id", "grade"?: int = 1, "start"?: int, "end"?: int}``
- qrels TSV (TREC/BEIR): ``query-id <tab> corpus-id <tab> score``, optional header line.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragkit.data.problems import OnError, Problems
from ragkit.data.types import Document, Judgment, Qrels, Query
from ragkit.errors import DataValidationError

_RESERVED = {"id", "_id", "text", "title", "metadata"}


def open_text(path: str | os.PathLike) -> io.TextIOBase:
    """Open a text file (gzip when it ends in .gz), UTF-8, any newline convention."""
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"file '{path}' does not exist; check the path in your config")
    if p.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", newline=None)
    return open(p, encoding="utf-8", newline=None)


def iter_jsonl(path: str | os.PathLike, problems: Problems) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; bad lines are recorded as problems."""
    with open_text(path) as f:
        try:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    problems.add("invalid JSON", f"{path}:{n}", str(err))
                    continue
                if not isinstance(obj, dict):
                    problems.add("not a JSON object", f"{path}:{n}")
                    continue
                yield n, obj
        except UnicodeDecodeError as err:
            raise DataValidationError(f"{path}: invalid UTF-8 near byte {err.start}; re-save the file as UTF-8") from None


def _record(obj: dict[str, Any], where: str, problems: Problems, seen: set[str]) -> tuple[str, str, dict] | None:
    rid = obj.get("id", obj.get("_id"))
    text = obj.get("text")
    if rid is None or not isinstance(text, str):
        problems.add("missing field", where, 'each line needs "id" (or "_id") and a string "text"')
        return None
    rid = str(rid)
    if rid in seen:
        problems.add("duplicate id", where, f"id '{rid}' appears earlier in the file")
        return None
    if not text.strip():
        problems.add("empty text", where, f"id '{rid}'")
        return None
    seen.add(rid)
    meta = dict(obj.get("metadata") or {})
    meta.update({k: v for k, v in obj.items() if k not in _RESERVED})
    return rid, text, meta


def load_documents_jsonl(path: str | os.PathLike, *, on_error: OnError = "raise", title_in_text: bool = False) -> list[Document]:
    """Documents from JSONL. ``title_in_text`` prepends the title to the text (BEIR practice)."""
    problems, seen, docs = Problems(on_error), set(), []
    for n, obj in iter_jsonl(path, problems):
        rec = _record(obj, f"{path}:{n}", problems, seen)
        if rec is None:
            continue
        rid, text, meta = rec
        title = str(obj.get("title") or "")
        if title_in_text and title:
            text = f"{title}\n{text}"
        docs.append(Document(rid, text, title, {"title": title, **meta}))
    problems.settle(f"documents '{path}'")
    return docs


def load_queries_jsonl(path: str | os.PathLike, *, on_error: OnError = "raise") -> list[Query]:
    """Queries from JSONL (``id``/``_id``, ``text``, optional ``metadata``)."""
    problems, seen, queries = Problems(on_error), set(), []
    for n, obj in iter_jsonl(path, problems):
        rec = _record(obj, f"{path}:{n}", problems, seen)
        if rec is not None:
            queries.append(Query(*rec))
    problems.settle(f"queries '{path}'")
    return queries


def _judgment(obj: dict[str, Any], where: str, problems: Problems) -> tuple[str, Judgment] | None:
    try:
        qid, did = str(obj["query_id"]), str(obj["doc_id"])
        start, end = obj.get("start"), obj.get("end")
        j = Judgment(did, int(obj.get("grade", 1)), None if start is None else int(start), None if end is None else int(end))
    except KeyError as err:
        problems.add("missing field", where, f'needs "query_id" and "doc_id" (missing {err})')
        return None
    except (TypeError, ValueError) as err:
        problems.add("bad value", where, str(err))
        return None
    return qid, j


def load_qrels(path: str | os.PathLike, *, on_error: OnError = "raise") -> Qrels:
    """Qrels from ``.jsonl`` (span-level possible) or ``.tsv``/``.txt`` (TREC/BEIR, document-level)."""
    problems = Problems(on_error)
    data: dict[str, list[Judgment]] = {}
    name = str(path).removesuffix(".gz")
    rows = iter_jsonl(path, problems) if name.endswith(".jsonl") else _iter_tsv(path, problems)
    for n, obj in rows:
        got = _judgment(obj, f"{path}:{n}", problems)
        if got is not None:
            data.setdefault(got[0], []).append(got[1])
    problems.settle(f"qrels '{path}'")
    return Qrels(data)


def _iter_tsv(path: str | os.PathLike, problems: Problems) -> Iterator[tuple[int, dict[str, Any]]]:
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t") if "\t" in line else line.split()
            if not parts or not line.strip():
                continue
            if n == 1 and not parts[-1].lstrip("-").isdigit():
                continue  # header line, e.g. "query-id corpus-id score"
            if len(parts) == 4:  # TREC: qid iter docid grade
                parts = [parts[0], parts[2], parts[3]]
            if len(parts) != 3:
                problems.add("bad qrels line", f"{path}:{n}", f"expected 3 tab-separated fields, got {len(parts)}")
                continue
            yield n, {"query_id": parts[0], "doc_id": parts[1], "grade": parts[2]}


def check_qrels(qrels: Qrels, queries, docs, *, on_error: OnError = "raise", source: str = "qrels") -> Qrels:
    """Drop (warn) or reject (raise) judgments naming unknown queries/documents or spans past a document's end."""
    problems = Problems(on_error)
    qids = {q.id for q in queries}
    lengths = {d.id: len(d.text) for d in docs}
    keep: dict[str, list[Judgment]] = {}
    for qid, js in qrels.items():
        if qid not in qids:
            problems.add("unknown query id", source, f"'{qid}' is not among the loaded queries")
            continue
        for j in js:
            if j.doc_id not in lengths:
                problems.add("unknown document id", source, f"query '{qid}' points at doc '{j.doc_id}'")
            elif j.end is not None and j.end > lengths[j.doc_id]:
                problems.add("span past end", source, f"query '{qid}' doc '{j.doc_id}' span end {j.end} > length {lengths[j.doc_id]}")
            else:
                keep.setdefault(qid, []).append(j)
    problems.settle(source)
    return Qrels(keep)
