"""ChunkTable: real LanceDB tables on disk, random unit vectors (no model needed)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from ragkit.data.types import Chunk
from ragkit.errors import ConfigError, DataValidationError
from ragkit.retrieval.lance_store import (
    ChunkTable,
    import_lancedb,
    meta_columns,
    resolve_storage_options,
    table_name,
)

DIM = 8


def _chunks(n: int) -> list[Chunk]:
    out = []
    for i in range(n):
        meta = {"author": f"a{i % 3}", "year": 2020 + i % 4, "score": 0.5 * i if i % 2 else i, "draft": i % 2 == 0}
        if i % 5 == 0:
            meta["Modified-At"] = dt.date(2024, 1, 1 + i % 28)
            meta["tags"] = ["x", f"t{i}"]
        out.append(Chunk(f"d{i}#0", f"d{i}", f"text number {i}", 0, 14 + len(str(i)), meta))
    return out


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _table(tmp_path, chunks, **kw) -> ChunkTable:
    texts = [c.text for c in chunks]
    return ChunkTable.for_chunks(chunks, texts, fingerprint="fp", dim=DIM, uri=str(tmp_path / "db"), **kw)


def test_write_then_load_round_trips(tmp_path):
    chunks, vecs = _chunks(23), _vectors(23)
    table = _table(tmp_path, chunks, batch_rows=5)  # several record batches each way
    assert not table.is_complete(23)
    table.write(chunks, vecs)
    assert table.is_complete(23) and not table.is_complete(22)
    got, ids, doc_ids, metas = table.load_vectors()
    assert got.dtype == np.float32 and np.array_equal(got, vecs)
    assert ids == [c.id for c in chunks] and doc_ids == [c.doc_id for c in chunks]
    assert metas[5]["Modified-At"] == "2024-01-06" and metas[5]["tags"] == ["x", "t5"]
    assert metas[1] == {"author": "a1", "year": 2021, "score": 0.5, "draft": False}


def test_flattened_metadata_columns_are_typed_and_queryable(tmp_path):
    chunks = _chunks(10)
    table = _table(tmp_path, chunks)
    table.write(chunks, _vectors(10))
    lt = table.open()
    types = {f.name: str(f.type) for f in lt.schema}
    assert types["meta_author"] == "string" and types["meta_year"] == "int64"
    assert types["meta_score"] == "double"  # ints and floats mixed -> float
    assert types["meta_draft"] == "bool"
    assert types["meta_modified_at"] == "string" and types["meta_tags"] == "string"
    assert types["vector"] == f"fixed_size_list<item: float>[{DIM}]"
    rows = lt.search().where("meta_year >= 2022 AND meta_draft").select(["chunk_id"]).to_list()
    assert sorted(r["chunk_id"] for r in rows) == ["d2#0", "d6#0"]
    row = lt.search().where("chunk_id = 'd5#0'").select(["meta_modified_at", "meta_tags", "meta_author"]).to_list()[0]
    assert row["meta_modified_at"] == "2024-01-06" and json.loads(row["meta_tags"]) == ["x", "t5"]
    assert json.loads(lt.schema.metadata[b"ragkit.meta_columns"])["Modified-At"] == "meta_modified_at"


def test_meta_column_names_are_sanitised_and_unique():
    cols = meta_columns([{"a-b": 1, "A_B": "x", "c": None}, {"c": [1], "d": 1, "e": True}, {"d": "s", "e": 2}])
    assert cols["A_B"] == ("meta_a_b", "str") and cols["a-b"] == ("meta_a_b_2", "int")
    assert cols["c"] == ("meta_c", "json")
    assert cols["d"][1] == "json" and cols["e"][1] == "json"  # mixed types fall back to JSON text


def test_table_name_is_a_content_address():
    chunks = _chunks(4)
    texts = [c.text for c in chunks]
    name = table_name("fp", DIM, chunks, texts)
    assert name == table_name("fp", DIM, list(chunks), list(texts)) and name.startswith("chunks_")
    assert name != table_name("fp2", DIM, chunks, texts)
    assert name != table_name("fp", DIM, chunks, ["passage: " + t for t in texts])
    changed = [Chunk(c.id, c.doc_id, c.text, c.start, c.end, {**c.metadata, "author": "z"}) for c in chunks]
    assert name != table_name("fp", DIM, changed, texts)


def test_crashed_write_never_looks_complete(tmp_path, monkeypatch):
    chunks, vecs = _chunks(12), _vectors(12)
    table = _table(tmp_path, chunks, batch_rows=4)
    real = ChunkTable._batches

    def crash_after_first(self, *args):
        gen = real(self, *args)
        yield next(gen)
        raise RuntimeError("simulated crash mid-write")

    monkeypatch.setattr(ChunkTable, "_batches", crash_after_first)
    with pytest.raises(Exception, match="simulated crash"):
        table.write(chunks, vecs)
    assert not table.is_complete(12) and not table.is_complete(4)
    monkeypatch.setattr(ChunkTable, "_batches", real)
    table.write(chunks, vecs)  # the next writer replaces the leftovers
    assert table.is_complete(12)


def test_write_rejects_mismatched_vectors(tmp_path):
    chunks = _chunks(3)
    with pytest.raises(DataValidationError, match=r"expected vectors of shape \(3, 8\)"):
        _table(tmp_path, chunks).write(chunks, _vectors(2))


def test_env_storage_options_resolved_at_connect_and_never_shown(tmp_path, monkeypatch):
    lancedb = import_lancedb()
    seen = {}
    real_connect = lancedb.connect

    def spy(uri, **kw):
        seen.update(kw.get("storage_options") or {})
        return real_connect(uri, **kw)

    monkeypatch.setattr(lancedb, "connect", spy)
    chunks = _chunks(3)
    table = _table(tmp_path, chunks, storage_options={"ragkit_test_token": "$env:RAGKIT_TEST_SECRET"})
    monkeypatch.delenv("RAGKIT_TEST_SECRET", raising=False)
    with pytest.raises(ConfigError, match="RAGKIT_TEST_SECRET") as err:
        table.is_complete(3)
    assert "storage_options.ragkit_test_token" in str(err.value)
    monkeypatch.setenv("RAGKIT_TEST_SECRET", "hunter2")
    table.write(chunks, _vectors(3))
    assert seen == {"ragkit_test_token": "hunter2"}
    assert "hunter2" not in repr(table)


def test_resolve_storage_options_passes_plain_values():
    assert resolve_storage_options({"region": "eu-west-1"}) == {"region": "eu-west-1"}
    assert resolve_storage_options(None) == {}


@pytest.mark.parametrize("kind", ["ivf_pq", "hnsw"])
def test_ensure_index_builds_once(tmp_path, kind):
    chunks, vecs = _chunks(300), _vectors(300)
    table = _table(tmp_path, chunks)
    table.write(chunks, vecs)
    assert not table.has_index()
    table.ensure_index(kind)
    assert table.has_index()
    version = table.open().version
    table.ensure_index(kind)  # already there: no new commit
    assert table.open().version == version
