from __future__ import annotations

import datetime as dt

import pytest

from ragkit.errors import ConfigError
from ragkit.retrieval.filters import compile_filter, filter_mask

META = [
    {"department": "Finance", "tags": ["billing", "pricing"], "last_modified": "2024-05-01", "version": 3},
    {"department": "Engineering", "tags": ["deploy"], "last_modified": "2025-02-10T09:00:00", "version": 10},
    {"department": "Finance", "last_modified": "2023-12-31", "version": "n/a"},
    {"tags": []},
]


@pytest.mark.parametrize(
    "where, expected",
    [
        (None, None),
        ({"department": "Finance"}, [1, 0, 1, 0]),
        ({"department": {"ne": "Finance"}}, [0, 1, 0, 1]),
        ({"tags": {"in": ["pricing", "deploy"]}}, [1, 1, 0, 0]),
        ({"tags": "billing"}, [1, 0, 0, 0]),
        ({"department": {"nin": ["Finance"]}}, [0, 1, 0, 1]),
        ({"last_modified": {"gte": dt.date(2024, 1, 1), "lt": "2025-12-31"}}, [1, 1, 0, 0]),
        ({"last_modified": {"gte": "2025-02-10"}}, [0, 1, 0, 0]),
        ({"version": {"gt": 5}}, [0, 1, 0, 0]),  # "n/a" > 5 is a type mismatch: no match, no crash
        ({"department": "Finance", "version": {"lte": 3}}, [1, 0, 0, 0]),
    ],
)
def test_filter_golden(where, expected):
    mask = filter_mask(where, META)
    assert (mask is None and expected is None) or mask.astype(int).tolist() == expected


def test_filter_errors_name_field_and_operator():
    with pytest.raises(ConfigError, match=r"where.version: unknown operator 'gtx'; allowed: eq, ne"):
        compile_filter({"version": {"gtx": 1}})
    with pytest.raises(ConfigError, match=r"where.tags.in: expected a list"):
        compile_filter({"tags": {"in": "x"}})


def test_bm25_and_dense_share_the_candidate_set(tmp_path, monkeypatch, embedder):
    from ragkit.data.types import Chunk, Query
    from ragkit.registry import RETRIEVERS

    monkeypatch.setenv("RAGKIT_CACHE_DIR", str(tmp_path))
    depts = ["Finance", "Engineering", "People"]
    chunks = [
        Chunk(f"c{i}", f"d{i}", f"invoice refund deploy vacation note {i}", 0, 40,
              {"department": depts[i % 3], "last_modified": f"202{i % 5}-06-01"})
        for i in range(12)
    ]
    where = {"department": {"in": ["Finance", "People"]}, "last_modified": {"gte": "2021-01-01"}}
    allowed = {c.id for c, m in zip(chunks, filter_mask(where, [c.metadata for c in chunks])) if m}
    assert 0 < len(allowed) < len(chunks)
    runs = {}
    for name in ("bm25", "dense"):
        r = RETRIEVERS.create(name, {"device": "cpu"} if name == "dense" else {})
        r.index(chunks)
        runs[name] = {h.chunk_id for h in r.retrieve([Query("q", "invoice refund")], k=len(chunks), where=where)["q"]}
    assert runs["dense"] == allowed and runs["bm25"] == allowed  # every chunk matches a term, so BM25 ranks them all


def test_count_overlong_uses_model_limit(embedder):
    from ragkit.chunking.base import count_overlong
    from ragkit.data.types import Chunk

    long = " ".join(["word"] * 300)
    chunks = [Chunk("a", "d", "short text", 0, 10), Chunk("b", "d", long, 0, len(long))]
    assert count_overlong(chunks) == {"chunks": 2, "overlong": 1, "max_seq_length": 256}
