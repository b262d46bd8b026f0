"""Structural checks for the bundled Acme Lattice quickstart dataset.

Plain Python + PyYAML on purpose: the dataset must stay valid independently of
ragkit's own loader. The document-text rule implemented here is the contract
the loader follows (see datasets/acme/README.md).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

DATASET = Path(__file__).resolve().parents[2] / "datasets" / "acme"
DOCS = DATASET / "docs"

REQUIRED_KEYS = {"title", "author", "department", "last_modified", "owner", "tags"}
QUESTION_TYPES = {"lexical", "paraphrase", "factoid", "metadata", "multi"}
# Minimums kept somewhat below the dataset's targets.
MIN_PER_TYPE = {"lexical": 15, "paraphrase": 18, "factoid": 22, "metadata": 8, "multi": 5}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def split_front_matter(raw: str) -> tuple[str | None, str]:
    """Return (front matter, document text) following the loader's rule."""
    raw = raw.replace("\r\n", "\n")
    if not raw.startswith("---\n"):
        return None, raw
    lines = raw.split("\n")
    offset = len(lines[0]) + 1
    for line in lines[1:]:
        if line == "---":
            end = offset + len(line) + 1
            return raw[4:offset], raw[end:]
        offset += len(line) + 1
    return None, raw  # unterminated front matter: nothing is stripped


@lru_cache(maxsize=None)
def load_docs() -> dict[str, tuple[dict | None, str]]:
    docs = {}
    for path in sorted(DOCS.rglob("*.md")):
        doc_id = path.relative_to(DOCS).as_posix()
        fm, text = split_front_matter(path.read_bytes().decode("utf-8"))
        meta = yaml.safe_load(fm) if fm is not None else None
        docs[doc_id] = (meta, text)
    return docs


def read_jsonl(name: str) -> list[dict]:
    rows = []
    with open(DATASET / name, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:  # pragma: no cover - failure path
                    pytest.fail(f"{name}:{lineno}: invalid JSON: {exc}")
    return rows


@lru_cache(maxsize=None)
def questions() -> tuple[dict, ...]:
    return tuple(read_jsonl("questions.jsonl"))


@lru_cache(maxsize=None)
def qrels() -> tuple[dict, ...]:
    return tuple(read_jsonl("qrels.jsonl"))


def test_split_front_matter_rule():
    meta, text = split_front_matter("---\r\ntitle: X\r\n---\r\n# Body\r\n---\r\nmore\n")
    assert meta == "title: X\n"
    assert text == "# Body\n---\nmore\n"
    assert split_front_matter("# No front matter\n") == (None, "# No front matter\n")


def test_document_count_and_files():
    docs = load_docs()
    assert len(docs) >= 48
    assert (DATASET / "README.md").is_file()
    sections = {doc_id.split("/")[0] for doc_id in docs}
    assert len(sections) >= 6
    assert all("/" in doc_id for doc_id in docs)


def test_files_are_utf8_with_lf_and_front_matter_first():
    for path in sorted(DOCS.rglob("*.md")):
        raw = path.read_bytes()
        assert b"\r\n" not in raw, path
        assert raw.startswith(b"---\n"), f"{path}: front matter must start at byte 0"
        raw.decode("utf-8")


@pytest.mark.parametrize("doc_id", sorted(load_docs()))
def test_front_matter(doc_id):
    meta, text = load_docs()[doc_id]
    assert isinstance(meta, dict), f"{doc_id}: missing or unparsable front matter"
    missing = REQUIRED_KEYS - meta.keys()
    assert not missing, f"{doc_id}: missing keys {sorted(missing)}"
    for key in ("title", "author", "department", "owner"):
        assert isinstance(meta[key], str) and meta[key].strip(), (doc_id, key)
    date = meta["last_modified"]
    if isinstance(date, str):
        assert DATE_RE.match(date), (doc_id, date)
        date = dt.date.fromisoformat(date)
    assert isinstance(date, dt.date), (doc_id, date)
    assert 2023 <= date.year <= 2026, (doc_id, date)
    assert isinstance(meta["tags"], list) and meta["tags"], doc_id
    assert "@" in meta["owner"], doc_id
    assert text.strip(), f"{doc_id}: empty body"
    assert not text.startswith("---"), f"{doc_id}: front matter not stripped"


def test_document_lengths_vary():
    lengths = sorted(len(text) for _, text in load_docs().values())
    assert sum(n < 1000 for n in lengths) >= 2, "expected a few short documents"
    assert sum(n >= 8000 for n in lengths) >= 3, "expected some long documents"


def test_questions():
    qs = questions()
    assert len(qs) >= 90
    ids = [q["id"] for q in qs]
    assert len(ids) == len(set(ids)), "duplicate question ids"
    for q in qs:
        assert isinstance(q["text"], str) and q["text"].strip(), q
        assert q["metadata"]["type"] in QUESTION_TYPES, q
    counts = Counter(q["metadata"]["type"] for q in qs)
    for qtype, minimum in MIN_PER_TYPE.items():
        assert counts[qtype] >= minimum, (qtype, counts[qtype])


def test_qrels_reference_existing_questions_and_docs():
    docs = load_docs()
    qids = {q["id"] for q in questions()}
    for r in qrels():
        assert r["query_id"] in qids, r
        assert r["doc_id"] in docs, r
        assert r["grade"] in (1, 2), r


def test_qrel_spans_match_text():
    docs = load_docs()
    for r in qrels():
        has_span = "start" in r or "end" in r
        if not has_span:
            assert "quote" not in r, r
            continue
        text = docs[r["doc_id"]][1]
        start, end = r["start"], r["end"]
        assert isinstance(start, int) and isinstance(end, int), r
        assert 0 <= start < end <= len(text), r
        assert r["quote"] == text[start:end], (r["query_id"], r["doc_id"])


def test_metadata_questions_use_whole_document_qrels():
    types = {q["id"]: q["metadata"]["type"] for q in questions()}
    for r in qrels():
        if types[r["query_id"]] == "metadata":
            assert "start" not in r and "end" not in r and "quote" not in r, r


def test_every_question_has_a_grade_2_qrel():
    answered = {r["query_id"] for r in qrels() if r["grade"] == 2}
    missing = [q["id"] for q in questions() if q["id"] not in answered]
    assert not missing, missing


def test_multi_questions_span_two_documents():
    by_q: dict[str, set[str]] = {}
    for r in qrels():
        by_q.setdefault(r["query_id"], set()).add(r["doc_id"])
    for q in questions():
        if q["metadata"]["type"] == "multi":
            assert len(by_q[q["id"]]) >= 2, q["id"]


def test_query_log():
    log = read_jsonl("query_log.jsonl")
    assert len(log) >= 70
    ids = [e["id"] for e in log]
    assert len(ids) == len(set(ids)), "duplicate query log ids"
    for e in log:
        assert isinstance(e["text"], str) and e["text"].strip(), e
        assert e["feedback"] is None or (
            isinstance(e["feedback"], int)
            and not isinstance(e["feedback"], bool)
            and 1 <= e["feedback"] <= 5
        ), e
        dt.datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
