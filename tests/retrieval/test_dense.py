"""DenseRetriever against LanceDB's own brute-force search, with the real bundled model."""

from __future__ import annotations

import numpy as np
import pytest

from ragkit.data.types import Chunk, Query
from ragkit.errors import ConfigError, DataValidationError, RagkitError
from ragkit.registry import RETRIEVERS
from ragkit.retrieval.dense import DenseRetriever, _block_topk, _merge
from ragkit.retrieval.filters import filter_mask
from ragkit.retrieval.topk import topk

TEXTS = [
    ("finance", 2022, "Quarterly revenue grew twelve percent on strong subscription sales."),
    ("finance", 2023, "The annual budget allocates more money to cloud infrastructure."),
    ("finance", 2024, "Invoices are paid within thirty days of receipt."),
    ("finance", 2021, "Expense reports need a manager's approval before reimbursement."),
    ("finance", 2023, "Pricing for the enterprise plan starts at 40 dollars per seat."),
    ("engineering", 2022, "The API gateway retries failed requests with exponential backoff."),
    ("engineering", 2023, "Deployments run through a blue-green pipeline on Kubernetes."),
    ("engineering", 2024, "Database migrations are reviewed by two engineers."),
    ("engineering", 2021, "The search service uses an inverted index and BM25 ranking."),
    ("engineering", 2024, "Memory leaks in the worker pool were fixed in version 3.2."),
    ("engineering", 2023, "Unit tests must pass before a pull request is merged."),
    ("hr", 2022, "Employees get twenty-five days of paid vacation per year."),
    ("hr", 2023, "Parental leave lasts sixteen weeks at full pay."),
    ("hr", 2024, "New hires complete security training in their first week."),
    ("hr", 2021, "Remote work is allowed up to three days a week."),
    ("support", 2022, "Customers can reset their password from the login page."),
    ("support", 2023, "Support tickets are answered within one business day."),
    ("support", 2024, "Refunds are issued to the original payment method."),
    ("support", 2021, "The status page shows current outages and maintenance windows."),
    ("support", 2023, "Live chat is available on weekdays from 9 to 5."),
    ("legal", 2022, "Personal data is deleted thirty days after account closure."),
    ("legal", 2024, "The privacy policy was last updated in March."),
]
QUERIES = [
    Query("q1", "how much does the enterprise plan cost"),
    Query("q2", "how do I change my password"),
    Query("q3", "how many vacation days do employees have"),
    Query("q4", "kubernetes deployment strategy"),
    Query("q5", "when is my personal data deleted"),
]


def _chunks() -> list[Chunk]:
    return [
        Chunk(f"d{i:02d}#0", f"d{i:02d}", text, 0, len(text), {"dept": dept, "year": year, "tags": [dept, "kb"]})
        for i, (dept, year, text) in enumerate(TEXTS)
    ]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    r = DenseRetriever(device="cpu", uri=str(tmp_path_factory.mktemp("lance") / "db"))
    r.index(_chunks())
    return r


def _lance_exact(r: DenseRetriever, query: Query, k: int, metric: str = "dot", where: str | None = None):
    qvec = r.encode_queries([query.text])[0]
    search = r.table.open().search(qvec).metric(metric).limit(k)
    if where:
        search = search.where(where, prefilter=True)
    rows = search.select(["chunk_id"]).to_list()
    return [row["chunk_id"] for row in rows], [1.0 - row["_distance"] for row in rows]


@pytest.mark.parametrize("metric", ["dot", "cosine"])
def test_matches_lancedb_exact_search(indexed, metric):
    run = indexed.retrieve(QUERIES, k=7)
    for q in QUERIES:
        ids, scores = _lance_exact(indexed, q, 7, metric)
        assert [h.chunk_id for h in run[q.id]] == ids
        np.testing.assert_allclose([h.score for h in run[q.id]], scores, atol=1e-5)


def test_obvious_answers_rank_first(indexed):
    run = indexed.retrieve(QUERIES, k=1)
    assert [run[q.id][0].doc_id for q in QUERIES] == ["d04", "d15", "d11", "d06", "d20"]


def test_small_blocks_give_the_same_ranking(indexed):
    small = DenseRetriever(device="cpu", uri=indexed.config.uri, block_size=3)
    small.index(_chunks())  # reuses the table
    got, want = small.retrieve(QUERIES, k=9), indexed.retrieve(QUERIES, k=9)
    for q in QUERIES:  # scores may differ in the last float bit: BLAS sums in another order
        assert [h.chunk_id for h in got[q.id]] == [h.chunk_id for h in want[q.id]]
        np.testing.assert_allclose([h.score for h in got[q.id]], [h.score for h in want[q.id]], atol=1e-6)


def test_filter_restricts_candidates_before_topk(indexed):
    where = {"dept": "finance", "year": {"gte": 2023}}
    run = indexed.retrieve(QUERIES, k=10, where=where)
    for q in QUERIES:  # golden: exactly the three finance chunks of 2023+, whatever the query
        assert sorted(h.chunk_id for h in run[q.id]) == ["d01#0", "d02#0", "d04#0"]
        ids, scores = _lance_exact(indexed, q, 10, where="meta_dept = 'finance' AND meta_year >= 2023")
        assert [h.chunk_id for h in run[q.id]] == ids
        np.testing.assert_allclose([h.score for h in run[q.id]], scores, atol=1e-5)
    assert filter_mask(where, [c.metadata for c in _chunks()]).sum() == 3
    # q2 (password) would rank support chunks first without the filter
    assert indexed.retrieve(QUERIES[1:2], k=1, where={"tags": {"in": ["legal"]}})["q2"][0].doc_id in ("d20", "d21")
    assert indexed.retrieve(QUERIES, k=5, where={"dept": "nobody"})["q1"] == ()


def test_second_index_reuses_the_table(indexed, embedder, monkeypatch):
    version = indexed.table.open().version
    n_versions = len(indexed.table.open().list_versions())
    calls = embedder.model_calls

    def no_encode(*args, **kwargs):
        raise AssertionError("index() re-embedded chunks although the table exists")

    again = DenseRetriever(device="cpu", uri=indexed.config.uri)
    monkeypatch.setattr(again.embedder, "encode", no_encode)
    again.index(_chunks())
    monkeypatch.undo()
    assert embedder.model_calls == calls
    assert again.table.name == indexed.table.name
    assert again.table.open().version == version and len(again.table.open().list_versions()) == n_versions
    np.testing.assert_array_equal(again.chunk_vectors(["d03#0", "d00#0"]), indexed.chunk_vectors(["d03#0", "d00#0"]))


def test_metadata_columns_present(indexed):
    schema = indexed.table.open().schema
    assert {"chunk_id", "doc_id", "text", "start", "end", "vector", "metadata"} <= set(schema.names)
    assert str(schema.field("meta_dept").type) == "string" and str(schema.field("meta_year").type) == "int64"
    assert str(schema.field("meta_tags").type) == "string"


def test_chunk_vectors_and_query_vectors_give_the_scores(indexed):
    run = indexed.retrieve(QUERIES[:1], k=3)
    hits = run["q1"]
    cos = indexed.chunk_vectors([h.chunk_id for h in hits]) @ indexed.encode_queries([QUERIES[0].text])[0]
    np.testing.assert_allclose(cos, [h.score for h in hits], atol=1e-6)
    with pytest.raises(DataValidationError, match="not indexed, e.g. 'nope'"):
        indexed.chunk_vectors(["nope"])


def test_k_larger_than_corpus_and_k_zero(indexed):
    run = indexed.retrieve(QUERIES, k=100)
    assert all(len(run[q.id]) == len(TEXTS) for q in QUERIES)
    assert indexed.retrieve(QUERIES, k=0)["q1"] == ()
    with pytest.raises(ConfigError, match="k must be an integer >= 0"):
        indexed.retrieve(QUERIES, k=-1)


def test_empty_corpus_and_no_queries(tmp_path):
    r = DenseRetriever(device="cpu", uri=str(tmp_path / "db"))
    with pytest.raises(RagkitError, match="call index"):
        r.retrieve(QUERIES)
    r.index([])
    assert r.table is None
    run = r.retrieve(QUERIES, k=5)
    assert list(run) == [q.id for q in QUERIES] and all(run[q.id] == () for q in QUERIES)
    assert len(r.retrieve([], k=5)) == 0


def test_duplicate_chunk_ids_rejected(tmp_path):
    c = _chunks()[0]
    with pytest.raises(DataValidationError, match="appears more than once"):
        DenseRetriever(device="cpu", uri=str(tmp_path)).index([c, c])


def test_env_storage_option_resolution(tmp_path, monkeypatch):
    cfg = {"device": "cpu", "uri": str(tmp_path / "db"), "storage_options": {"ragkit_token": "$env:RAGKIT_DENSE_TEST"}}
    monkeypatch.delenv("RAGKIT_DENSE_TEST", raising=False)
    r = RETRIEVERS.create("dense", cfg)
    with pytest.raises(ConfigError, match="environment variable 'RAGKIT_DENSE_TEST' is not set"):
        r.index(_chunks()[:3])
    monkeypatch.setenv("RAGKIT_DENSE_TEST", "s3cr3t")
    r.index(_chunks()[:3])
    assert r.retrieve(QUERIES[:1], k=2)["q1"]
    assert r.config.storage_options == {"ragkit_token": "$env:RAGKIT_DENSE_TEST"}  # the config keeps the reference
    assert "s3cr3t" not in repr(r) + repr(r.table)


def test_config_validation_and_registry():
    assert RETRIEVERS.get("dense") is DenseRetriever
    with pytest.raises(ConfigError, match="ann"):
        DenseRetriever(ann="faiss")
    with pytest.raises(ConfigError, match="block_size"):
        DenseRetriever(block_size=0)
    assert "***" in repr(DenseRetriever(storage_options={"region": "eu"}))


def test_ann_index_above_threshold(tmp_path):
    r = DenseRetriever(device="cpu", uri=str(tmp_path / "db"), ann="hnsw", ann_threshold=10)
    r.index(_chunks())
    assert r.ann_active and r.table.has_index()
    run = r.retrieve(QUERIES, k=3)
    assert all(len(run[q.id]) == 3 for q in QUERIES)
    assert 0.0 <= r.ann_recall(QUERIES, k=3) <= 1.0
    filtered = r.retrieve(QUERIES, k=10, where={"dept": "hr"})  # filters always use exact search
    assert all(len(filtered[q.id]) == 4 for q in QUERIES)
    below = DenseRetriever(device="cpu", uri=str(tmp_path / "db"), ann="hnsw")
    below.index(_chunks())
    assert not below.ann_active and below.ann_recall(QUERIES, k=3) == 1.0


def test_block_topk_breaks_ties_like_the_shared_helper():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 3, (40, 50)).astype(np.float32)  # many exact ties
    mask = rng.random(50) > 0.3
    for k in (1, 4, 17, 60):
        want = topk(scores, k, mask)
        best = None
        for lo in range(0, 50, 16):  # blocks + running merge, as retrieve() does
            blk = torch.from_numpy(np.where(mask, scores, -np.inf)[:, lo : lo + 16].copy())
            v, i = _block_topk(blk, k)
            best = _merge(best, (v, i + lo), k)
        for row in range(40):
            keep = best[0][row] > float("-inf")
            assert best[1][row][keep].tolist() == want.indices[row].tolist()


def test_search_vectors_equals_retrieve(indexed):
    qvecs = indexed.encode_queries([q.text for q in QUERIES])
    run = indexed.search_vectors([q.id for q in QUERIES], qvecs, k=4, where={"dept": {"ne": "hr"}})
    assert run.to_dict() == indexed.retrieve(QUERIES, k=4, where={"dept": {"ne": "hr"}}).to_dict()
    with pytest.raises(DataValidationError, match="query vectors have 3 dims"):
        indexed.search_vectors(["q"], np.ones((1, 3), dtype=np.float32))
