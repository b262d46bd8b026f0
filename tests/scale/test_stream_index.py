"""Streaming indexing into LanceDB (one commit, bounded batches) and the ANN index settings."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from ragkit.data.types import Chunk
from ragkit.errors import ConfigError, DataValidationError
from ragkit.retrieval.chunk_rows import EMBED_TEXT, chunk_batches, chunk_schema, input_schema
from ragkit.retrieval.dense import DenseRetriever
from ragkit.retrieval.lance_store import ANN_PARAMS, ChunkTable, check_index_params, table_name
from ragkit.retrieval.stream_index import index_stream

DIM = 8


def _chunks(n: int) -> list[Chunk]:
    meta = lambda i: {"author": f"a{i % 3}", "year": 2020 + i % 4, "when": dt.date(2024, 1, 1 + i % 28), "tags": ["x"]}
    return [Chunk(f"d{i}#0", f"d{i}", f"text number {i}", 0, 13 + len(str(i)), meta(i)) for i in range(n)]


def _with_vectors(batches, seed=0):
    rng = np.random.default_rng(seed)
    for b in batches:
        v = rng.standard_normal((b.num_rows, DIM)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        yield b.append_column("vector", pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), DIM))


def test_stream_of_batches_is_one_commit_equal_to_write(tmp_path):
    chunks = _chunks(50)
    schema = chunk_schema(DIM, [c.metadata for c in chunks])
    batches = list(chunk_batches(chunks, [c.text for c in chunks], schema, batch_rows=7))
    assert [b.num_rows for b in batches] == [7] * 7 + [1] and batches[0].schema == input_schema(schema)
    streamed = ChunkTable("s", dim=DIM, uri=str(tmp_path))
    assert streamed.write_stream(_with_vectors(iter(batches)), schema) == 50
    assert streamed.open().version == 1  # many batches, a single committed version
    vecs, ids, _, metas = streamed.load_vectors()

    written = ChunkTable("w", dim=DIM, uri=str(tmp_path))
    written.write(chunks, vecs)
    assert written.open().schema == streamed.open().schema  # same typed metadata columns
    assert written.open().to_arrow().drop_columns(["vector"]).equals(streamed.open().to_arrow().drop_columns(["vector"]))
    assert metas[3] == {"author": "a0", "year": 2023, "when": "2024-01-04", "tags": ["x"]}


def test_stream_crash_leaves_nothing_committed(tmp_path):
    chunks = _chunks(30)
    schema = chunk_schema(DIM, [c.metadata for c in chunks])

    def crashing():
        for i, b in enumerate(_with_vectors(chunk_batches(chunks, [c.text for c in chunks], schema, batch_rows=10))):
            if i == 2:
                raise RuntimeError("worker died")
            yield b

    table = ChunkTable("t", dim=DIM, uri=str(tmp_path))
    with pytest.raises(Exception, match="worker died"):
        table.write_stream(crashing(), schema)
    assert not table.is_complete(30) and not table.is_complete(20)


def test_stream_rejects_wrong_vectors(tmp_path):
    chunks = _chunks(3)
    schema = chunk_schema(DIM, [c.metadata for c in chunks])
    batch = next(chunk_batches(chunks, [c.text for c in chunks], schema))
    table = ChunkTable("t", dim=DIM + 1, uri=str(tmp_path))
    with pytest.raises(DataValidationError, match="fixed-size list of 9 floats"):
        table.write_stream(_with_vectors([batch]), chunk_schema(DIM + 1, [c.metadata for c in chunks]))
    with pytest.raises(DataValidationError, match=r"lacks column\(s\) \['vector'\]"):
        table.write_stream([batch], schema)


def test_table_name_streams_with_a_length():
    chunks = _chunks(20)
    texts = [c.text for c in chunks]
    assert table_name("fp", DIM, iter(chunks), iter(texts), n=20) == table_name("fp", DIM, chunks, texts)


def test_index_stream_embeds_like_the_dense_retriever(tmp_path, embedder):
    chunks = [Chunk(f"c{i}", "d", t, 0, len(t)) for i, t in enumerate(["cats purr", "stocks fell sharply", "the rain in Spain"])]
    r = DenseRetriever(device="cpu", uri=str(tmp_path / "a"))
    r.index(chunks)
    schema = chunk_schema(embedder.dim, [c.metadata for c in chunks])
    table = r.table_for(chunks)  # the same content address, another database
    table = ChunkTable(table.name, dim=table.dim, uri=str(tmp_path / "b"))
    batches = chunk_batches(chunks, r.document_texts(chunks), schema, batch_rows=2)
    assert index_stream(table, batches, schema, device="cpu", use_cache=False) == 3
    vecs, ids, _, _ = table.load_vectors()
    np.testing.assert_allclose(vecs, r.chunk_vectors(ids), atol=1e-5)
    again = DenseRetriever(device="cpu", uri=str(tmp_path / "b"))
    calls = embedder.model_calls
    again.index(chunks)  # finds the streamed table complete: no model call
    assert embedder.model_calls == calls
    assert EMBED_TEXT not in table.open().schema.names


@pytest.mark.parametrize("kind", ["ivf_pq", "hnsw"])
def test_ann_param_names_match_lancedb(kind):
    from lancedb.index import HnswSq, IvfPq

    cls = IvfPq if kind == "ivf_pq" else HnswSq
    assert set(ANN_PARAMS[kind]) == {f.name for f in dataclasses.fields(cls)} - {"distance_type", "accelerator"}


def test_ann_params_are_checked_at_construction():
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['m'\] for ann: ivf_pq; allowed: num_partitions"):
        DenseRetriever(ann="ivf_pq", ann_params={"m": 16})
    check_index_params("hnsw", {"m": 16, "ef_construction": 100})
    with pytest.raises(ConfigError, match="nprobes"):
        DenseRetriever(nprobes=0)


def test_changing_index_params_rebuilds_the_index(tmp_path):
    chunks = _chunks(300)
    schema = chunk_schema(DIM, [c.metadata for c in chunks])
    table = ChunkTable("t", dim=DIM, uri=str(tmp_path))
    table.write_stream(_with_vectors(chunk_batches(chunks, [c.text for c in chunks], schema)), schema)
    assert table.ensure_index("ivf_pq", {"num_partitions": 2, "num_sub_vectors": 2})
    assert not table.ensure_index("ivf_pq", {"num_partitions": 2, "num_sub_vectors": 2})  # same: kept
    assert table.ensure_index("hnsw", {"m": 8})  # another kind or params: replaced, never two
    (index,) = table.open().list_indices()
    assert index.index_type == "IvfHnswSq" and index.name.startswith("vector_hnsw_")
