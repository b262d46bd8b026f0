"""LanceDB on object storage: ``uri: s3://bucket/prefix`` against a real S3-compatible server on 127.0.0.1.

The server is moto's (``ThreadedMotoServer``), spoken to over HTTP by LanceDB's own
object-store client and by boto3; nothing is mocked in the client.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

import ragkit
from ragkit.errors import ConfigError
from ragkit.retrieval.dense import DenseRetriever

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module")
def acme_chunks():
    from ragkit.chunking.chars import CharChunker
    from ragkit.data.folder import load_folder
    from ragkit.data.jsonl import load_queries_jsonl

    acme = os.path.join(os.path.dirname(__file__), "..", "..", "datasets", "acme")
    docs = load_folder(os.path.join(acme, "docs"))
    queries = load_queries_jsonl(os.path.join(acme, "questions.jsonl"))[:30]
    return CharChunker(size=800, overlap=240).chunk_all(docs), queries


def _objects(s3_server, prefix: str) -> list[str]:
    import boto3

    endpoint, bucket = s3_server
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y")
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_index_and_search_on_s3_match_local_disk(s3_server, s3_options, acme_chunks, tmp_path, embedder):
    chunks, queries = acme_chunks
    _, bucket = s3_server
    remote = DenseRetriever(device="cpu", uri=f"s3://{bucket}/search", storage_options=s3_options)
    remote.index(chunks)
    keys = _objects(s3_server, "search/")
    assert any(k.endswith(".manifest") for k in keys) and any(k.endswith(".lance") for k in keys)

    local = DenseRetriever(device="cpu", uri=str(tmp_path / "db"))
    local.index(chunks)
    got, want = remote.retrieve(queries, k=10), local.retrieve(queries, k=10)
    for q in queries:
        assert [h.chunk_id for h in got[q.id]] == [h.chunk_id for h in want[q.id]]
        np.testing.assert_allclose([h.score for h in got[q.id]], [h.score for h in want[q.id]], atol=1e-6)

    # a second retriever finds the complete table on S3 and reads it back: no model call
    calls = embedder.model_calls
    again = DenseRetriever(device="cpu", uri=f"s3://{bucket}/search", storage_options=s3_options)
    again.index(chunks)
    assert embedder.model_calls == calls and again.table.name == remote.table.name
    np.testing.assert_array_equal(again.chunk_vectors([c.id for c in chunks]), remote.chunk_vectors([c.id for c in chunks]))


def test_ann_index_on_s3_reports_recall(s3_server, s3_options, acme_chunks, caplog):
    chunks, queries = acme_chunks
    _, bucket = s3_server
    r = DenseRetriever(device="cpu", uri=f"s3://{bucket}/ann", storage_options=s3_options, ann="hnsw",
                       ann_threshold=0, ann_params={"m": 8, "ef_construction": 64}, ef=64)
    r.index(chunks)
    assert r.ann_active and r.table.has_index()
    assert any("/_indices/" in k for k in _objects(s3_server, "ann/"))
    with caplog.at_level(logging.INFO, logger="ragkit"):
        recall = r.ann_recall(queries, k=10)
    assert 0.5 <= recall <= 1.0
    assert "recall@10 vs exact search" in caplog.text
    assert len(r.retrieve(queries[:3], k=5)[queries[0].id]) == 5


def test_credentials_never_appear_in_logs_reprs_or_run_files(
    s3_server, s3_options, s3_secret, acme_config, tmp_path, monkeypatch, caplog, capsys
):
    monkeypatch.setenv("RAGKIT_CACHE_DIR", os.environ["RAGKIT_CACHE_DIR"])
    _, bucket = s3_server
    dense = {"name": "dense", "uri": f"s3://{bucket}/runs", "storage_options": s3_options}
    cfg = acme_config(tmp_path, "s3", retrievers=[dense], k=[1, 10], cache_dir=None)
    cfg["questions"]["limit"] = 8
    with caplog.at_level(logging.DEBUG):
        res = ragkit.run(cfg)
    assert (res.results.metric == "ndcg@10").any()
    r = DenseRetriever(**{k: v for k, v in dense.items() if k != "name"})
    texts = [caplog.text, *capsys.readouterr(), repr(r), repr(r.config_dict()), str(r.config)]
    texts += [p.read_text(errors="replace") for p in res.run_dir.rglob("*") if p.is_file() and p.suffix in (".yaml", ".log", ".json")]
    texts += [p.read_bytes().decode("latin-1") for p in res.run_dir.rglob("*.parquet")]
    for text in texts:
        assert s3_secret not in text
    assert "$env:RAGKIT_TEST_S3_SECRET" in (res.run_dir / "config.yaml").read_text()  # the reference, not the value


def test_unset_credential_variable_is_named_not_guessed(s3_server, s3_options, acme_chunks, monkeypatch):
    monkeypatch.delenv("RAGKIT_TEST_S3_SECRET")
    _, bucket = s3_server
    r = DenseRetriever(device="cpu", uri=f"s3://{bucket}/missing", storage_options=s3_options)
    with pytest.raises(ConfigError, match="RAGKIT_TEST_S3_SECRET") as err:
        r.index(acme_chunks[0][:5])
    assert "storage_options.aws_secret_access_key" in str(err.value)


@pytest.mark.slow
def test_ray_workers_share_the_s3_table(ray_cluster, acme_config, s3_server, s3_options, tmp_path, monkeypatch, embedder):
    """The multi-node recipe: the driver streams embeddings from the actor pool into S3, the cell tasks read it."""
    monkeypatch.setenv("RAGKIT_CACHE_DIR", os.environ["RAGKIT_CACHE_DIR"])
    _, bucket = s3_server
    dense = {"name": "dense", "uri": f"s3://{bucket}/ray", "storage_options": s3_options}
    cfg = acme_config(tmp_path, "ray-s3", retrievers=[dense], k=[1, 10],
                      execution={"engine": "ray", "num_workers": 2, "batch_size": 128})
    cfg["questions"]["limit"] = 10
    calls = embedder.model_calls
    res = ragkit.run(cfg)
    assert embedder.model_calls == calls  # the driver embedded nothing
    assert any(k.endswith(".manifest") for k in _objects(s3_server, "ray/"))
    local = ragkit.run({**cfg, "name": "local-s3", "execution": {"engine": "local"}, "cache_dir": str(tmp_path / "c2")})
    assert res.rankings.chunk_id.tolist() == local.rankings.chunk_id.tolist()
