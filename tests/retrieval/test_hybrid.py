"""Tests for the hybrid retriever, over two small real scorers defined here.

BM25 and dense are written elsewhere, so the hybrid is tested with two exact,
deterministic lexical scorers registered under test-only names; one end-to-end test
with ``bm25`` runs once ``ragkit.retrieval.bm25`` exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from ragkit.data.types import Chunk, Hit, Query, Run
from ragkit.errors import ConfigError
from ragkit.registry import RETRIEVERS, ComponentConfig
from ragkit.retrieval.base import Retriever
from ragkit.retrieval.filters import filter_mask
from ragkit.retrieval.fusion import convex, rrf
from ragkit.retrieval.hybrid import HybridRetriever, RetrieverSpec

_WORD = re.compile(r"\w+")


class _ScorerBase(Retriever):
    """Exhaustive scoring of every indexed chunk that passes ``where``; records the k it was asked for."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._chunks: list[Chunk] = []
        self.asked_k: list[int] = []

    def index(self, chunks: Sequence[Chunk]) -> None:
        self._chunks = list(chunks)
        self._features = [self._features_of(c.indexed_text) for c in self._chunks]

    def retrieve(self, queries: Sequence[Query], k: int = 10, where: Mapping[str, Any] | None = None) -> Run:
        self.asked_k.append(k)
        mask = filter_mask(where, [c.metadata for c in self._chunks])
        out = {}
        for q in queries:
            qf = self._features_of(q.text)
            hits = []
            for i, (chunk, cf) in enumerate(zip(self._chunks, self._features)):
                score = self._score(qf, cf)
                if score > 0 and (mask is None or mask[i]):
                    hits.append(Hit(chunk.id, chunk.doc_id, score))
            out[q.id] = Run({q.id: hits})[q.id][:k]
        return Run(out, sort=False)


@RETRIEVERS.register("_test_overlap")
class OverlapRetriever(_ScorerBase):
    """Score = number of distinct query words in the chunk (optionally with a trailing 's' stripped)."""

    class Config(ComponentConfig):
        strip_plural: bool = False

    def _features_of(self, text: str) -> set[str]:
        words = _WORD.findall(text.lower())
        if self.config.strip_plural:
            words = [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words]
        return set(words)

    def _score(self, q: set[str], c: set[str]) -> float:
        return float(len(q & c))


@RETRIEVERS.register("_test_trigram")
class TrigramRetriever(_ScorerBase):
    """Score = Jaccard similarity of character n-gram sets."""

    class Config(ComponentConfig):
        n: int = 3

    def _features_of(self, text: str) -> set[str]:
        t = f" {text.lower()} "
        return {t[i : i + self.config.n] for i in range(len(t) - self.config.n + 1)}

    def _score(self, q: set[str], c: set[str]) -> float:
        return len(q & c) / len(q | c) if q | c else 0.0


_TEXTS = [
    ("c0", "a", "the cat sat on the mat", "pets"),
    ("c1", "a", "dogs chase cats in the park", "pets"),
    ("c2", "b", "a cat and a dog play", "pets"),
    ("c3", "b", "stock markets fell sharply", "finance"),
    ("c4", "c", "the market for cat food grew", "finance"),
]
CHUNKS = [Chunk(cid, doc, text, 0, len(text), {"topic": topic}) for cid, doc, text, topic in _TEXTS]
QUERIES = [Query("q1", "cat market"), Query("q2", "dog park"), Query("q3", "zebra")]
PLAIN_AND_PLURAL = [
    {"name": "_test_overlap"},
    {"name": "_test_overlap", "params": {"strip_plural": True}},
]


def _hybrid(**params: Any) -> HybridRetriever:
    params.setdefault("retrievers", PLAIN_AND_PLURAL)
    h = HybridRetriever(**params)
    h.index(CHUNKS)
    return h


def _ids(run: Run, qid: str) -> list[str]:
    return [h.chunk_id for h in run[qid]]


# CONFIG =======================================================================
def test_registered_and_defaults():
    assert RETRIEVERS.get("hybrid") is HybridRetriever
    cfg = HybridRetriever.Config()
    assert [s.name for s in cfg.retrievers] == ["bm25", "dense"]
    assert all(s.params == {} for s in cfg.retrievers)
    assert (cfg.fusion, cfg.rrf_k, cfg.normalization, cfg.weights, cfg.alpha, cfg.depth) == (
        "rrf", 60, "minmax", None, None, 100,
    )


def test_config_round_trips_and_bare_names():
    h = HybridRetriever(retrievers=["_test_overlap", {"name": "_test_trigram", "params": {"n": 4}}], alpha=0.3)
    assert h.config.retrievers == [RetrieverSpec(name="_test_overlap"), RetrieverSpec(name="_test_trigram", params={"n": 4})]
    again = HybridRetriever(**h.config_dict())
    assert again.config == h.config
    assert again.fingerprint() == h.fingerprint()
    assert h.sub_specs() == [("_test_overlap", {}), ("_test_trigram", {"n": 4})]
    h.sub_specs()[1][1]["n"] = 99  # a copy: the config is untouched
    assert h.config.retrievers[1].params == {"n": 4}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"weights": [1.0]}, r"weights has 1 values \[1.0\] for 2 retrievers"),
        ({"weights": [1.0, -2.0]}, r"weights must be finite and >= 0, got \[1.0, -2.0\]"),
        ({"alpha": 1.5}, r"alpha: .*less than or equal to 1.*got 1.5"),
        ({"alpha": 0.5, "retrievers": ["_test_overlap"] * 3}, "alpha=0.5 needs exactly 2 retrievers, got 3"),
        ({"rrf_k": -1}, r"rrf_k: .*greater than or equal to 0.*got -1"),
        ({"depth": 0}, r"depth: .*got 0"),
        ({"retrievers": []}, "retrievers"),
        ({"fusion": "borda"}, r"fusion: .*'rrf' or 'weighted'.*got 'borda'"),
        (
            {"retrievers": ["_test_overlap", "_test_overlapp"]},
            r"retrievers\[1\].name: unknown retriever '_test_overlapp'.*Did you mean '_test_overlap'",
        ),
        ({"retrievers": [{"name": "_test_trigram", "params": {"n": "x"}}]}, r"retrievers\[0\].params.n: .*got 'x'"),
        ({"retrievers": [{"name": "_test_trigram", "params": {"size": 3}}]}, r"retrievers\[0\].params.size: Extra inputs"),
    ],
)
def test_config_errors_name_the_field(params, message):
    params.setdefault("retrievers", PLAIN_AND_PLURAL)
    with pytest.raises(ConfigError, match=message):
        HybridRetriever(**params)


def test_sub_retrievers_are_built_lazily():
    h = HybridRetriever(retrievers=PLAIN_AND_PLURAL)
    assert h._retrievers is None  # nothing built until index / retrieve / .retrievers
    assert [type(r) for r in h.retrievers] == [OverlapRetriever, OverlapRetriever]
    assert h.retrievers[1].config.strip_plural is True


# RETRIEVE =====================================================================
def test_rrf_hybrid_golden():
    h = _hybrid()
    run = h.retrieve(QUERIES, k=4)
    # "cat market", plain words:    c4=2 (rank 1), c0=1 (2), c2=1 (3)      ("cats", "markets" do not match)
    # plural-stripped words:        c4=2 (1), c0=1 (2), c1=1 (3), c2=1 (4), c3=1 (5)
    # rrf: c4 = 1/61 + 1/61, c0 = 1/62 + 1/62, c2 = 1/63 + 1/64, c1 = 1/63, c3 = 1/65 (cut by k=4)
    assert _ids(run, "q1") == ["c4", "c0", "c2", "c1"]
    assert [h.score for h in run["q1"]] == pytest.approx([2 / 61, 2 / 62, 1 / 63 + 1 / 64, 1 / 63])
    assert {h.chunk_id: h.doc_id for h in run["q1"]} == {"c4": "c", "c0": "a", "c2": "b", "c1": "a"}
    # "dog park": plain c1 (park) = 1 rank 1, c2 (dog) = 1 rank 2; plural: c1 = 2 (dog, park) rank 1, c2 = 1 rank 2
    assert _ids(run, "q2") == ["c1", "c2"]
    assert run["q3"] == ()  # no retriever finds "zebra"; the query is still there
    assert list(run) == ["q1", "q2", "q3"]


def test_weighted_hybrid_with_alpha():
    # plain:  c4=2 -> 1.0, c0=1 -> 0.0, c2=1 -> 0.0 (min-max)
    # plural: c4=2 -> 1.0, c0, c1, c2, c3 = 1 -> 0.0
    h = _hybrid(fusion="weighted", alpha=0.7)
    run = h.retrieve(QUERIES[:1], k=10)
    assert (run["q1"][0].chunk_id, run["q1"][0].score) == ("c4", pytest.approx(0.7 * 1.0 + 0.3 * 1.0))
    assert [h.score for h in run["q1"][1:]] == [0.0, 0.0, 0.0, 0.0]
    # zscore: plain (2, 1, 1): mean 4/3, std sqrt(2)/3 -> c4 = sqrt(2), c0 = c2 = -1/sqrt(2), fill -1/sqrt(2)
    #         plural (2, 1, 1, 1, 1): mean 6/5, std 2/5 -> c4 = 2, others -0.5, fill -0.5
    z = _hybrid(fusion="weighted", normalization="zscore", alpha=0.7).retrieve(QUERIES[:1], k=10)
    r2 = 2**0.5
    assert {h.chunk_id: h.score for h in z["q1"]} == pytest.approx(
        {
            "c4": 0.7 * r2 + 0.3 * 2,
            "c0": 0.7 * -1 / r2 + 0.3 * -0.5,
            "c2": 0.7 * -1 / r2 + 0.3 * -0.5,
            "c1": 0.7 * -1 / r2 + 0.3 * -0.5,  # missing from plain: plain's minimum
            "c3": 0.7 * -1 / r2 + 0.3 * -0.5,
        }
    )


def test_alpha_overrides_weights_and_one_retriever_alone():
    mixed = [{"name": "_test_overlap"}, {"name": "_test_trigram"}]
    q = [Query("q", "cats in a park")]
    sub = [RETRIEVERS.create(n, p) for n, p in HybridRetriever(retrievers=mixed).sub_specs()]
    for r in sub:
        r.index(CHUNKS)
    overlap_run, trigram_run = (r.retrieve(q, k=100) for r in sub)
    h = _hybrid(retrievers=mixed, fusion="weighted", weights=[0.0, 1.0], alpha=1.0)
    assert h.fusion_weights() == [1.0, 0.0]
    assert h.retrieve(q, k=10).to_dict() == convex(overlap_run, trigram_run, 1.0).to_dict()
    # with alpha = 0 the trigram order comes first
    only_trigram = _hybrid(retrievers=mixed, fusion="weighted", alpha=0.0).retrieve(q, k=3)
    assert _ids(only_trigram, "q") == [h.chunk_id for h in trigram_run["q"][:3]]


def test_depth_is_asked_of_every_sub_retriever():
    h = _hybrid(depth=3)
    h.retrieve(QUERIES, k=2)
    h.retrieve(QUERIES, k=5)
    assert [r.asked_k for r in h.retrievers] == [[3, 5], [3, 5]]  # max(depth, k)
    assert all(len(hits) <= 2 for hits in h.retrieve(QUERIES, k=2).values())


def test_where_is_passed_to_every_sub_retriever():
    run = _hybrid().retrieve(QUERIES, k=10, where={"topic": "pets"})
    # c4 is filtered out before top-k: plain c0 (1), c2 (2); plural c0 (1), c1 (2), c2 (3)
    # rrf: c0 = 1/61 + 1/61, c2 = 1/62 + 1/63, c1 = 1/62
    assert _ids(run, "q1") == ["c0", "c2", "c1"]
    assert all(h.chunk_id in {"c0", "c1", "c2"} for hits in run.values() for h in hits)


def test_hybrid_of_hybrids():
    inner = {"name": "hybrid", "params": {"retrievers": PLAIN_AND_PLURAL, "depth": 5}}
    h = _hybrid(retrievers=[inner, {"name": "_test_trigram"}], fusion="weighted", normalization="zscore")
    run = h.retrieve(QUERIES, k=3)
    assert list(run) == ["q1", "q2", "q3"]
    for hits in run.values():
        ids = [x.chunk_id for x in hits]
        assert len(ids) <= 3 and len(ids) == len(set(ids))
    assert isinstance(h.retrievers[0], HybridRetriever)


def test_bad_nested_name_fails_when_built():
    h = HybridRetriever(retrievers=[{"name": "hybrid", "params": {"retrievers": ["nope"]}}])
    with pytest.raises(ConfigError, match="unknown retriever 'nope'"):
        h.index(CHUNKS)


# FUSE (runner path) ===========================================================
def test_fuse_on_cached_deeper_runs_matches_retrieve():
    specs = HybridRetriever(retrievers=[{"name": "_test_overlap"}, {"name": "_test_trigram"}]).sub_specs()
    subs = [RETRIEVERS.create(name, params) for name, params in specs]
    for r in subs:
        r.index(CHUNKS)
    cached = [r.retrieve(QUERIES, k=50) for r in subs]  # retrieved once, deeper than any depth below
    for params in (
        {"fusion": "rrf"},
        {"fusion": "rrf", "rrf_k": 1, "depth": 2},
        *({"fusion": "weighted", "alpha": a, "depth": 3} for a in (0.0, 0.3, 1.0)),
        {"fusion": "weighted", "normalization": "zscore", "weights": [2.0, 1.0], "depth": 2},
    ):
        h = _hybrid(retrievers=[dict(name=n, params=p) for n, p in specs], **params)
        assert h.fuse(cached, k=3).to_dict() == h.retrieve(QUERIES, k=3).to_dict(), params


def test_fuse_uses_rrf_weights_from_alpha():
    a = Run({"q": [Hit("x", "d", 1.0), Hit("y", "d", 0.5)]})
    b = Run({"q": [Hit("y", "d", 1.0)]})
    h = HybridRetriever(retrievers=["_test_overlap", "_test_trigram"], alpha=0.8, rrf_k=0)
    fused = h.fuse([a, b], k=5)
    # x = 0.8/1; y = 0.8/2 + 0.2/1 = 0.6
    assert fused.to_dict()["q"] == pytest.approx({"x": 0.8, "y": 0.6})
    assert fused.to_dict()["q"] == rrf([a, b], k=0, weights=[0.8, 1 - 0.8]).to_dict()["q"]


def test_fuse_and_retrieve_validate_inputs():
    h = HybridRetriever(retrievers=PLAIN_AND_PLURAL)
    with pytest.raises(ConfigError, match=r"got 1 runs for 2 sub-retrievers \['_test_overlap', '_test_overlap'\]"):
        h.fuse([Run()], k=3)
    with pytest.raises(ConfigError, match="k must be an integer >= 1, got 0"):
        h.fuse([Run(), Run()], k=0)
    with pytest.raises(ConfigError, match="hybrid.retrieve: k must be an integer >= 1, got -2"):
        h.retrieve(QUERIES, k=-2)


# WITH THE REAL BM25 ===========================================================
def test_bm25_pair_end_to_end():
    bm25 = pytest.importorskip("ragkit.retrieval.bm25", reason="ragkit.retrieval.bm25 is not written yet")
    fields = bm25.BM25Retriever.Config.model_fields
    alt = {key: value for key, value in {"k1": 0.5, "b": 0.3}.items() if key in fields}
    if not alt:
        pytest.skip(f"BM25Retriever.Config has neither k1 nor b (fields: {sorted(fields)})")
    h = _hybrid(retrievers=[{"name": "bm25"}, {"name": "bm25", "params": alt}], depth=10)
    run = h.retrieve(QUERIES, k=3)
    assert list(run) == ["q1", "q2", "q3"]
    assert run["q1"][0].chunk_id == "c4"  # the only chunk with both "cat" and "market"
    for hits in run.values():
        ids = [x.chunk_id for x in hits]
        assert len(ids) <= 3 and len(ids) == len(set(ids))
