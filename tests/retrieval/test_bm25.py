from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

import ragkit.retrieval.bm25 as bm25_module
from ragkit.data.types import Chunk, Query
from ragkit.errors import ConfigError, DataValidationError, RagkitError
from ragkit.registry import RETRIEVERS
from ragkit.retrieval.bm25 import BM25Retriever

ENGINES = ["fast", "rank_bm25"]


def chunks_of(texts: list[str], metadatas: list[dict] | None = None) -> list[Chunk]:
    metadatas = metadatas or [{} for _ in texts]
    return [Chunk(f"d{i}#0", f"d{i}", t, 0, len(t), m) for i, (t, m) in enumerate(zip(texts, metadatas))]


def raw_retriever(texts: list[str], engine: str = "fast", **params) -> BM25Retriever:
    """A retriever whose analyzer leaves space-separated lowercase words unchanged."""
    r = BM25Retriever(engine=engine, stem=False, stopwords=False, fields=[], **params)
    r.index(chunks_of(texts))
    return r


def ranking(run, qid: str) -> list[tuple[str, float]]:
    return [(h.chunk_id, round(h.score, 9)) for h in run[qid]]


# --- golden values, worked by hand -------------------------------------------------
# N = 4 documents, lengths 2, 3, 2, 3 -> avgdl = 10 / 4 = 2.5; k1 = 1.5, b = 0.75.
GOLDEN = ["cat sat", "cat cat dog", "dog bird", "cat fish bird"]
# df: cat 3, sat 1, dog 2, bird 2, fish 1
# idf = ln(N - df + 0.5) - ln(df + 0.5):
#   sat, fish: ln(3.5 / 1.5) = ln(7/3) = 0.847298
#   dog, bird: ln(2.5 / 2.5) = 0            (exactly half the documents)
#   cat:       ln(1.5 / 3.5) = -ln(7/3) < 0 -> floored to eps
# mean idf over the 5 terms = (ln(7/3) + ln(7/3) + 0 + 0 - ln(7/3)) / 5 = ln(7/3) / 5
# eps = 0.25 * ln(7/3) / 5 = ln(7/3) / 20 = 0.042365
# length norm k1 * (1 - b + b * dl / avgdl):
#   dl = 2: 1.5 * (0.25 + 0.75 * 0.8) = 1.275;  dl = 3: 1.5 * (0.25 + 0.75 * 1.2) = 1.725
# tf part tf * (k1 + 1) / (tf + norm):
#   d0 (tf 1, dl 2): 2.5 / 2.275 = 100/91;  d1 cat (tf 2, dl 3): 5 / 3.725 = 200/149
#   d3 cat (tf 1, dl 3): 2.5 / 2.725 = 100/109
L = math.log(7 / 3)
GOLDEN_CAT_SAT = {
    "d0#0": (L / 20 + L) * 100 / 91,  # cat + sat = L * 1.05 * 100/91 = L * 15/13 = 0.977652
    "d1#0": L / 20 * 200 / 149,  # cat only = L * 10/149 = 0.056866
    "d3#0": L / 20 * 100 / 109,  # cat only = L * 5/109 = 0.038867
}  # d2 has neither word: not returned


@pytest.mark.parametrize("engine", ENGINES)
def test_golden_four_document_corpus(engine):
    r = raw_retriever(GOLDEN, engine)
    run = r.retrieve([Query("q", "cat sat"), Query("rep", "cat cat"), Query("zero", "dog")], k=10)
    assert [h.chunk_id for h in run["q"]] == ["d0#0", "d1#0", "d3#0"]
    for h in run["q"]:
        assert h.score == pytest.approx(GOLDEN_CAT_SAT[h.chunk_id], abs=1e-12)
    assert run["q"][0].score == pytest.approx(L * 15 / 13, abs=1e-12)
    # a repeated query term counts twice, as in BM25Okapi.get_scores
    expected_rep = {"d1#0": L * 20 / 149, "d3#0": L * 10 / 109, "d0#0": L * 10 / 91}
    assert {h.chunk_id: h.score for h in run["rep"]} == pytest.approx(expected_rep, abs=1e-12)
    # "dog" has idf exactly 0: the two documents that contain it still match, with score 0
    assert [(h.chunk_id, h.score) for h in run["zero"]] == [("d1#0", 0.0), ("d2#0", 0.0)]


@pytest.mark.parametrize("engine", ENGINES)
def test_negative_epsilon_floor_on_a_two_document_corpus(engine):
    # idf(a) = ln(0.5 / 2.5) < 0; idf(b) = idf(c) = ln(1.5 / 1.5) = 0 -> mean idf < 0, so eps < 0
    r = raw_retriever(["a b", "a c"], engine)
    run = r.retrieve([Query("a", "a"), Query("b", "b")])
    eps = 0.25 * math.log(0.5 / 2.5) / 3
    assert [h.chunk_id for h in run["a"]] == ["d0#0", "d1#0"]
    assert [h.score for h in run["a"]] == pytest.approx([eps * 2.5 / (1 + 1.5)] * 2)
    assert [(h.chunk_id, h.score) for h in run["b"]] == [("d0#0", 0.0)]
    expected = BM25Okapi([["a", "b"], ["a", "c"]]).get_scores(["a", "b"])
    np.testing.assert_allclose(r.scores(["a b"])[0], expected, rtol=0, atol=1e-12)


# --- exactness against rank_bm25 ---------------------------------------------------
def assert_scores_match(docs: list[list[str]], queries: list[list[str]], **params) -> None:
    reference = BM25Okapi(docs, **params)
    for engine in ENGINES:
        r = raw_retriever([" ".join(d) for d in docs], engine, **params)
        got = r.scores([" ".join(q) for q in queries])
        for q, row in zip(queries, got):
            # rank_bm25 gives NaN (0/0) to empty documents when b = 1
            with np.errstate(invalid="ignore"):
                expected = np.nan_to_num(reference.get_scores(q), nan=0.0)
            np.testing.assert_allclose(row, expected, rtol=0, atol=1e-6, err_msg=f"{engine} {q}")


def test_hand_built_corpus_matches_rank_bm25():
    docs = [
        "the quick brown fox jumps over the lazy dog".split(),
        "the lazy cat sleeps".split(),
        "quick quick quick brown".split(),
        "dog dog cat".split(),
        "a completely different document about retrieval".split(),
        [],
    ]
    queries = [["quick", "dog"], ["the", "the", "lazy"], ["retrieval"], ["unknown"], [], ["cat", "cat", "cat"]]
    assert_scores_match(docs, queries)
    assert_scores_match(docs, queries, k1=0.9, b=0.4, epsilon=0.5)


WORDS = [f"w{i}" for i in range(8)]


@settings(max_examples=40, deadline=None)
@given(
    docs=st.lists(st.lists(st.sampled_from(WORDS), max_size=10), min_size=1, max_size=8).filter(any),
    queries=st.lists(st.lists(st.sampled_from([*WORDS, "oov"]), max_size=6), min_size=1, max_size=4),
    k1=st.sampled_from([0.1, 0.9, 1.5, 3.0]),
    b=st.sampled_from([0.0, 0.4, 0.75, 1.0]),
)
def test_random_small_corpora_match_rank_bm25(docs, queries, k1, b):
    # a small vocabulary makes terms in > half the documents (the epsilon floor) common
    assert_scores_match(docs, queries, k1=k1, b=b)


def test_seeded_random_corpus_matches_rank_bm25_and_engines_agree():
    rng = random.Random(7)
    vocab = [f"t{i}" for i in range(60)]
    weights = [1 / (i + 1) for i in range(60)]  # Zipf-like: a few terms in most documents
    docs = [rng.choices(vocab, weights, k=rng.randint(0, 40)) for _ in range(150)]
    queries = [rng.choices(vocab, k=rng.randint(1, 6)) for _ in range(25)]
    assert_scores_match(docs, queries)
    texts = [" ".join(d) for d in docs]
    qs = [Query(f"q{i}", " ".join(q)) for i, q in enumerate(queries)]
    fast, ref = (raw_retriever(texts, e).retrieve(qs, k=15) for e in ENGINES)
    for q in qs:
        assert ranking(fast, q.id) == ranking(ref, q.id)


def test_query_blocks_give_the_same_run(monkeypatch):
    texts = [" ".join(random.Random(i).choices(WORDS, k=6)) for i in range(30)]
    qs = [Query(f"q{i}", w) for i, w in enumerate(WORDS)]
    whole = raw_retriever(texts).retrieve(qs, k=5)
    monkeypatch.setattr(bm25_module, "_BLOCK_CELLS", 30 * 3)  # three queries per block
    blocked = raw_retriever(texts).retrieve(qs, k=5)
    assert all(ranking(whole, q.id) == ranking(blocked, q.id) for q in qs)


# --- retriever behaviour -----------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_where_filter_restricts_candidates_before_top_k(engine):
    texts = ["cat cat", "cat", "cat dog", "dog", "bird", "fish", "eel"]  # cat in 3 of 7: idf > 0
    chunks = chunks_of(texts, [{"team": "a"}, {"team": "b"}, {"team": "b"}] + [{}] * 4)
    r = BM25Retriever(engine=engine)
    r.index(chunks)
    run = r.retrieve([Query("q", "cat")], k=1, where={"team": "b"})
    assert [h.chunk_id for h in run["q"]] == ["d1#0"]
    assert r.retrieve([Query("q", "cat")], where={"team": {"in": ["c"]}})["q"] == ()
    with pytest.raises(ConfigError):
        r.retrieve([Query("q", "cat")], where={"team": {"like": "a"}})


def test_metadata_fields_are_indexed_and_missing_ones_skipped():
    chunks = [
        Chunk("a#0", "a", "Retry settings for the pipeline.", 0, 32, {"title": "Flow control", "file_name": "flow.md"}),
        Chunk("b#0", "b", "Pricing for enterprise customers.", 0, 33, {"file_name": "pricing_2024.pdf", "tags": ["x"]}),
        Chunk("c#0", "c", "Unrelated text about cats.", 0, 26, {"title": None}),
    ]
    r = BM25Retriever()
    r.index(chunks)
    run = r.retrieve([Query("t", "flow control"), Query("f", "pricing_2024.pdf"), Query("tag", "x")])
    assert [h.doc_id for h in run["t"]] == ["a"]
    assert [h.doc_id for h in run["f"]][0] == "b"
    assert run["tag"] == ()  # "tags" is not in fields
    r = BM25Retriever(fields=["tags"])
    r.index(chunks)
    assert [h.doc_id for h in r.retrieve([Query("tag", "x")])["tag"]] == ["b"]


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_corpus_empty_queries_and_k_edges(engine):
    r = BM25Retriever(engine=engine)
    r.index([])
    assert dict(r.retrieve([Query("q", "anything")])) == {"q": ()}
    assert r.scores(["anything"]).shape == (1, 0)
    r.index(chunks_of(["", "   "]))  # chunks without a single term
    assert dict(r.retrieve([Query("q", "anything")])) == {"q": ()}
    r.index(chunks_of(["alpha beta", "beta gamma", "delta"]))
    run = r.retrieve([Query("empty", ""), Query("stop", "the of"), Query("all", "alpha beta gamma delta")], k=50)
    assert run["empty"] == () and run["stop"] == ()
    assert sorted(h.chunk_id for h in run["all"]) == ["d0#0", "d1#0", "d2#0"]
    assert r.retrieve([Query("all", "alpha beta gamma delta")], k=0)["all"] == ()
    assert len(r.retrieve([], k=3)) == 0


def test_errors_say_what_to_do():
    with pytest.raises(RagkitError, match="index"):
        BM25Retriever().retrieve([Query("q", "x")])
    r = BM25Retriever()
    with pytest.raises(DataValidationError, match="d0#0"):
        r.index(chunks_of(["a"]) + chunks_of(["b"]))
    r.index(chunks_of(["a"]))
    with pytest.raises(ConfigError, match="k must be"):
        r.retrieve([Query("q", "a")], k=-1)
    with pytest.raises(ConfigError, match="engine"):
        BM25Retriever(engine="bm25s")
    with pytest.raises(ConfigError, match="b"):
        BM25Retriever(b=1.5)
    with pytest.raises(ConfigError, match="k1"):
        BM25Retriever(k1=0)
    with pytest.raises(ConfigError, match="k_1"):
        BM25Retriever(k_1=1.0)


def test_registry_and_config_round_trip():
    r = RETRIEVERS.create("bm25", {"k1": 1.2, "fields": ["title"]})
    assert isinstance(r, BM25Retriever) and r.name == "bm25"
    cfg = r.config_dict()
    assert cfg == {
        "k1": 1.2, "b": 0.75, "epsilon": 0.25, "engine": "fast", "stopwords": True, "stem": True, "fields": ["title"]
    }
    assert BM25Retriever(**cfg).config == r.config
    assert BM25Retriever(**cfg).fingerprint() == r.fingerprint()


# --- real data (skipped without ../shared/benchdata) -------------------------------


@pytest.mark.parametrize(("name", "floor"), [("scifact", 0.66), ("nfcorpus", 0.32)])
def test_beir_ndcg_at_10_reaches_published_bm25(name, floor, benchdata):
    from ragkit.data.beir import load_beir
    from ragkit.data.types import Chunk
    from ragkit.metrics.ir import evaluate_docs

    docs, queries, qrels = load_beir(benchdata(name), title_in_text=False)  # title indexed via fields
    r = BM25Retriever()
    r.index([Chunk(d.id, d.id, d.text, 0, len(d.text), d.metadata) for d in docs])
    ndcg = evaluate_docs(r.retrieve(queries, k=100), qrels, ["ndcg@10"])["ndcg@10"].mean()
    assert ndcg >= floor  # published BM25: SciFact 0.665 (BEIR), NFCorpus 0.325
