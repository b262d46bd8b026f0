"""Golden tests for ragkit.retrieval.fusion, every expected value worked out by hand.

ranx is not installed, so there is no parity test against ``ranx.fusion``; the sums
are written out in the comments instead (as in ranx's own rrf_test.py).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragkit.data.types import Hit, Run
from ragkit.errors import ConfigError, DataValidationError
from ragkit.retrieval.fusion import convex, normalize, rrf, weighted_sum


def _doc(chunk_id: str) -> str:
    return "doc-" + chunk_id[0]


def _run(spec: dict[str, list[tuple[str, float]]], sort: bool = True) -> Run:
    return Run({q: [Hit(c, _doc(c), s) for c, s in hits] for q, hits in spec.items()}, sort=sort)


def _scores(run: Run, qid: str) -> dict[str, float]:
    return {h.chunk_id: h.score for h in run[qid]}


def _order(run: Run, qid: str) -> list[str]:
    return [h.chunk_id for h in run[qid]]


# FIXTURES =====================================================================
# run_a  q1: a1=3.0 (rank 1), b1=2.0 (2), c1=1.0 (3)
#        q2: a1=5.0, b1=5.0 -- tied, so ranked by chunk id: a1 (1), b1 (2)
# run_b  q1: c1=0.9 (1), a1=0.5 (2), e1=0.1 (3)     (e1 is missing from run_a)
#        q3: d1=0.1 (1)                             (q3 is only in run_b, q2 only in run_a)
@pytest.fixture
def run_a() -> Run:
    return _run({"q1": [("a1", 3.0), ("b1", 2.0), ("c1", 1.0)], "q2": [("a1", 5.0), ("b1", 5.0)]})


@pytest.fixture
def run_b() -> Run:
    return _run({"q1": [("c1", 0.9), ("a1", 0.5), ("e1", 0.1)], "q3": [("d1", 0.1)]})


# RRF ==========================================================================
def test_rrf_golden(run_a, run_b):
    fused = rrf([run_a, run_b])

    assert list(fused) == ["q1", "q2", "q3"]
    assert _scores(fused, "q1") == pytest.approx(
        {
            "a1": 1 / (60 + 1) + 1 / (60 + 2),  # 0.032522
            "b1": 1 / (60 + 2),  # 0.016129, missing from run_b: adds nothing
            "c1": 1 / (60 + 3) + 1 / (60 + 1),  # 0.032266
            "e1": 1 / (60 + 3),  # 0.015873, missing from run_a
        }
    )
    assert _order(fused, "q1") == ["a1", "c1", "b1", "e1"]
    # q2: tied scores in run_a still get ranks 1 and 2 (tie order = chunk id)
    assert _scores(fused, "q2") == pytest.approx({"a1": 1 / 61, "b1": 1 / 62})
    assert _order(fused, "q2") == ["a1", "b1"]
    assert _scores(fused, "q3") == pytest.approx({"d1": 1 / 61})


def test_rrf_weights_and_k(run_a, run_b):
    fused = rrf([run_a, run_b], k=10, weights=[2.0, 0.5])
    assert _scores(fused, "q1") == pytest.approx(
        {
            "a1": 2 / 11 + 0.5 / 12,  # 0.2235
            "b1": 2 / 12,  # 0.1667
            "c1": 2 / 13 + 0.5 / 11,  # 0.1993
            "e1": 0.5 / 13,  # 0.0385
        }
    )
    assert _order(fused, "q1") == ["a1", "c1", "b1", "e1"]


def test_rrf_k_zero_is_plain_reciprocal_rank(run_a, run_b):
    fused = rrf([run_a, run_b], k=0)
    # a1 = 1/1 + 1/2, b1 = 1/2, c1 = 1/3 + 1/1, e1 = 1/3
    assert _scores(fused, "q1") == pytest.approx({"a1": 1.5, "b1": 0.5, "c1": 4 / 3, "e1": 1 / 3})


def test_rrf_fused_tie_is_broken_by_chunk_id():
    x = _run({"q": [("y1", 2.0), ("x1", 1.0)]})
    y = _run({"q": [("x1", 2.0), ("y1", 1.0)]})
    fused = rrf([x, y])
    # x1 = 1/62 + 1/61 and y1 = 1/61 + 1/62: equal, so ascending chunk id
    assert fused["q"][0].score == fused["q"][1].score
    assert _order(fused, "q") == ["x1", "y1"]


def test_rrf_different_lengths_and_single_run():
    long = _run({"q": [("a1", 5.0), ("b1", 4.0), ("c1", 3.0), ("d1", 2.0), ("e1", 1.0)]})
    short = _run({"q": [("e1", 1.0)]})
    fused = rrf([long, short])
    # e1 = 1/65 + 1/61 = 0.03178 beats a1 = 1/61
    assert _order(fused, "q") == ["e1", "a1", "b1", "c1", "d1"]
    assert fused["q"][0].score == pytest.approx(1 / 65 + 1 / 61)
    # a single run: 1/61, 1/62, ... down its ranking
    assert _scores(rrf([long]), "q") == pytest.approx({"a1": 1 / 61, "b1": 1 / 62, "c1": 1 / 63, "d1": 1 / 64, "e1": 1 / 65})


# NORMALIZE ====================================================================
def test_normalize_minmax(run_a):
    norm = normalize(run_a, "minmax")
    assert _scores(norm, "q1") == pytest.approx({"a1": 1.0, "b1": 0.5, "c1": 0.0})  # (s - 1) / (3 - 1)
    assert _scores(norm, "q2") == {"a1": 1.0, "b1": 1.0}  # all equal -> 1.0
    assert _order(norm, "q1") == _order(run_a, "q1")


def test_normalize_zscore(run_a):
    norm = normalize(run_a, "zscore")
    # q1: mean 2, population std sqrt(((3-2)^2 + 0 + (1-2)^2) / 3) = sqrt(2/3); z = +-1/sqrt(2/3) = +-sqrt(1.5)
    assert _scores(norm, "q1") == pytest.approx({"a1": math.sqrt(1.5), "b1": 0.0, "c1": -math.sqrt(1.5)})
    assert _scores(norm, "q2") == {"a1": 0.0, "b1": 0.0}  # std 0 -> 0


def test_normalize_none_single_hit_and_empty_query():
    run = _run({"one": [("a1", 7.5)], "empty": []})
    assert _scores(normalize(run, "minmax"), "one") == {"a1": 1.0}
    assert _scores(normalize(run, "zscore"), "one") == {"a1": 0.0}
    assert _scores(normalize(run, "none"), "one") == {"a1": 7.5}
    assert normalize(run, "minmax")["empty"] == ()


def test_normalize_zscore_equal_scores_with_rounding_residue():
    # fsum([0.1] * 3) / 3 != 0.1 in floating point; equal scores must still give exactly 0
    run = _run({"q": [("a1", 0.1), ("b1", 0.1), ("c1", 0.1)]})
    assert _scores(normalize(run, "zscore"), "q") == {"a1": 0.0, "b1": 0.0, "c1": 0.0}


# WEIGHTED SUM =================================================================
def test_weighted_sum_minmax_golden(run_a, run_b):
    fused = weighted_sum([run_a, run_b])  # default weights 1/2, 1/2
    # minmax q1: run_a a1=1, b1=.5, c1=0; run_b c1=1, a1=(0.5-0.1)/(0.9-0.1)=.5, e1=0; missing -> 0
    assert _scores(fused, "q1") == pytest.approx(
        {
            "a1": 0.5 * 1.0 + 0.5 * 0.5,  # 0.75
            "b1": 0.5 * 0.5 + 0.5 * 0.0,  # 0.25 (missing from run_b)
            "c1": 0.5 * 0.0 + 0.5 * 1.0,  # 0.5
            "e1": 0.5 * 0.0 + 0.5 * 0.0,  # 0.0 (missing from run_a)
        }
    )
    assert _order(fused, "q1") == ["a1", "c1", "b1", "e1"]
    # q2: run_a scores all equal -> 1.0; run_b has no q2 -> adds 0
    assert _scores(fused, "q2") == pytest.approx({"a1": 0.5, "b1": 0.5})
    # q3: only run_b; a single hit normalises to 1.0
    assert _scores(fused, "q3") == pytest.approx({"d1": 0.5})


def test_weighted_sum_zscore_missing_chunk_gets_run_minimum(run_a, run_b):
    fused = weighted_sum([run_a, run_b], [0.5, 0.5], normalization="zscore")
    z = math.sqrt(1.5)  # both runs' q1 scores are evenly spaced: z = +z, 0, -z; minimum (the fill) = -z
    assert _scores(fused, "q1") == pytest.approx(
        {
            "a1": 0.5 * z + 0.5 * 0.0,  # 0.6124
            "b1": 0.5 * 0.0 + 0.5 * -z,  # -0.6124 (missing from run_b: run_b's minimum)
            "c1": 0.5 * -z + 0.5 * z,  # 0.0
            "e1": 0.5 * -z + 0.5 * -z,  # -1.2247 (missing from run_a: run_a's minimum)
        },
        abs=1e-12,
    )
    assert _scores(fused, "q2") == {"a1": 0.0, "b1": 0.0}  # std 0 -> 0; run_b absent -> 0
    assert _scores(fused, "q3") == {"d1": 0.0}


def test_weighted_sum_none_weights(run_a, run_b):
    fused = weighted_sum([run_a, run_b], [0.8, 0.2], normalization="none")
    # raw scores; fill = run minimum: run_a 1.0, run_b 0.1
    assert _scores(fused, "q1") == pytest.approx(
        {
            "a1": 0.8 * 3.0 + 0.2 * 0.5,  # 2.5
            "b1": 0.8 * 2.0 + 0.2 * 0.1,  # 1.62
            "c1": 0.8 * 1.0 + 0.2 * 0.9,  # 0.98
            "e1": 0.8 * 1.0 + 0.2 * 0.1,  # 0.82
        }
    )


# CONVEX =======================================================================
def test_convex_golden(run_a, run_b):
    fused = convex(run_a, run_b, alpha=0.25)
    assert _scores(fused, "q1") == pytest.approx(
        {
            "a1": 0.25 * 1.0 + 0.75 * 0.5,  # 0.625
            "b1": 0.25 * 0.5 + 0.75 * 0.0,  # 0.125
            "c1": 0.25 * 0.0 + 0.75 * 1.0,  # 0.75
            "e1": 0.0,
        }
    )
    assert _order(fused, "q1") == ["c1", "a1", "b1", "e1"]
    assert _scores(fused, "q3") == pytest.approx({"d1": 0.75})
    assert fused.to_dict() == weighted_sum([run_a, run_b], [0.25, 0.75]).to_dict()


def test_convex_extremes_follow_one_run(run_a, run_b):
    # alpha = 1: run_a's order, then the chunks only run_b has (all 0: chunk-id order)
    assert _order(convex(run_a, run_b, alpha=1.0), "q1") == ["a1", "b1", "c1", "e1"]
    # alpha = 0: run_b's order (c1 1, a1 .5, e1 0), b1 ties e1 at 0
    assert _order(convex(run_a, run_b, alpha=0.0), "q1") == ["c1", "a1", "b1", "e1"]


# DUPLICATES, DOC IDS, QUERIES ==================================================
def test_repeated_chunk_keeps_best_rank_and_score():
    dup = Run(
        {"q": [Hit("a1", "doc-a", 3.0), Hit("b1", "doc-b", 2.0), Hit("a1", "doc-a", 1.0), Hit("c1", "doc-c", 0.5)]},
        sort=False,
    )
    # the repeat of a1 is dropped before ranking: a1 rank 1, b1 rank 2, c1 moves up to rank 3
    assert _scores(rrf([dup]), "q") == pytest.approx({"a1": 1 / 61, "b1": 1 / 62, "c1": 1 / 63})
    assert _scores(weighted_sum([dup], normalization="none"), "q") == {"a1": 3.0, "b1": 2.0, "c1": 0.5}

    # unsorted input whose repeat has the higher score: rrf keeps the first place, score fusion the max
    late = Run({"q": [Hit("a1", "doc-a", 1.0), Hit("b1", "doc-b", 2.0), Hit("a1", "doc-a", 3.0)]}, sort=False)
    assert _scores(rrf([late]), "q") == pytest.approx({"a1": 1 / 61, "b1": 1 / 62})
    assert _scores(weighted_sum([late], normalization="none"), "q") == {"a1": 3.0, "b1": 2.0}
    # minmax over the merged scores {a1: 3, b1: 2} -> a1 1.0, b1 0.0 (the repeat's 1.0 is not the minimum)
    assert _scores(weighted_sum([late]), "q") == {"a1": 1.0, "b1": 0.0}


def test_doc_id_comes_from_whichever_run_had_the_chunk():
    x = Run({"q": [Hit("x#0", "paper-x", 1.0)]})
    y = Run({"q": [Hit("y#0", "paper-y", 1.0), Hit("x#0", "paper-x", 0.5)]})
    for fused in (rrf([x, y]), weighted_sum([x, y]), convex(x, y, 0.5)):
        assert {h.chunk_id: h.doc_id for h in fused["q"]} == {"x#0": "paper-x", "y#0": "paper-y"}


def test_conflicting_doc_ids_are_rejected():
    x = Run({"q": [Hit("c1", "doc-1", 1.0)]})
    y = Run({"q": [Hit("c1", "doc-2", 1.0)]})
    with pytest.raises(DataValidationError, match=r"chunk 'c1' belongs to doc 'doc-1'.*'doc-2'"):
        rrf([x, y])
    with pytest.raises(DataValidationError, match="same chunking"):
        weighted_sum([x, y])


def test_queries_of_every_run_are_kept_even_empty():
    a = _run({"q1": [("a1", 1.0)], "q9": []})
    b = _run({"q2": [("b1", 1.0)]})
    for fused in (rrf([a, b]), weighted_sum([a, b]), convex(a, b, 0.3, "zscore")):
        assert list(fused) == ["q1", "q9", "q2"]
        assert fused["q9"] == ()


# VALIDATION ===================================================================
def test_input_validation_names_values(run_a, run_b):
    with pytest.raises(ConfigError, match="at least one run"):
        rrf([])
    with pytest.raises(ConfigError, match=r"got 1 weights \[1.0\] for 2 runs"):
        rrf([run_a, run_b], weights=[1])
    with pytest.raises(ConfigError, match=r"got 3 weights .* for 2 runs"):
        weighted_sum([run_a, run_b], [0.2, 0.3, 0.5])
    with pytest.raises(ConfigError, match=r">= 0, got \[1.0, -0.5\]"):
        rrf([run_a, run_b], weights=[1, -0.5])
    with pytest.raises(ConfigError, match="got -1"):
        rrf([run_a], k=-1)
    with pytest.raises(ConfigError, match="got nan"):
        rrf([run_a], k=float("nan"))
    with pytest.raises(ConfigError, match="unknown method 'l2'; allowed: minmax, zscore, none"):
        weighted_sum([run_a], normalization="l2")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown method"):
        normalize(run_a, "softmax")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"runs\[1\]: expected a Run"):
        rrf([run_a, [Hit("a1", "doc-a", 1.0)]])  # type: ignore[list-item]


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan"), "0.5", True])
def test_convex_alpha_out_of_range(run_a, run_b, alpha):
    with pytest.raises(ConfigError, match=rf"alpha must be a number in \[0, 1\], got {alpha!r}"):
        convex(run_a, run_b, alpha)


def test_non_finite_scores_are_rejected_by_score_fusion():
    bad = _run({"q": [("a1", float("inf")), ("b1", 1.0)]})
    with pytest.raises(DataValidationError, match=r"query 'q', chunk 'a1': score is inf"):
        weighted_sum([bad])
    with pytest.raises(DataValidationError, match="score is inf"):
        normalize(bad, "zscore")
    assert _order(rrf([bad]), "q") == ["a1", "b1"]  # rrf looks at ranks only


# PROPERTIES ===================================================================
_CHUNKS = [f"c{i}" for i in range(8)]
_QIDS = ["q0", "q1", "q2"]


def _doc_of(chunk_id: str) -> str:
    return f"d{int(chunk_id[1:]) // 3}"  # three chunks per document


_hits = st.lists(
    st.tuples(st.sampled_from(_CHUNKS), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)), max_size=10
)
_runs = st.builds(
    lambda data, sort: Run({q: [Hit(c, _doc_of(c), s) for c, s in hits] for q, hits in data.items()}, sort=sort),
    st.dictionaries(st.sampled_from(_QIDS), _hits, max_size=3),
    st.booleans(),
)


@st.composite
def _fusions(draw) -> tuple[list[Run], Run]:
    runs = draw(st.lists(_runs, min_size=1, max_size=3))
    method = draw(st.sampled_from(["rrf", "minmax", "zscore", "none", "convex"]))
    weights = draw(st.none() | st.lists(st.floats(0, 10), min_size=len(runs), max_size=len(runs)))
    if method == "rrf":
        return runs, rrf(runs, k=draw(st.integers(0, 100)), weights=weights)
    if method == "convex":
        pair = [runs[0], draw(_runs)]
        return pair, convex(pair[0], pair[1], draw(st.floats(0, 1)), draw(st.sampled_from(["minmax", "zscore"])))
    return runs, weighted_sum(runs, weights, normalization=method)


@settings(max_examples=200, deadline=None)
@given(_fusions(), st.dictionaries(st.sampled_from(_QIDS), st.sets(st.sampled_from(_CHUNKS)), max_size=3))
def test_fused_runs_are_sets_and_metrics_stay_bounded(fusion, relevant):
    runs, fused = fusion
    assert set(fused) == {q for run in runs for q in run}
    for qid, hits in fused.items():
        ids = [h.chunk_id for h in hits]
        assert len(ids) == len(set(ids)), "a chunk appears twice in a fused ranking"
        assert set(ids) == {h.chunk_id for run in runs for h in run.get(qid, ())}
        assert all(h.doc_id == _doc_of(h.chunk_id) and math.isfinite(h.score) for h in hits)
        assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))

        rel_chunks = relevant.get(qid, set())
        rel_docs = {_doc_of(c) for c in rel_chunks}
        doc_ids = [h.chunk_id for h in fused.doc_run()[qid]]
        for k in (1, 3, 5, 10, len(ids) + 1):
            for ranked, rel in ((ids[:k], rel_chunks), (doc_ids[:k], rel_docs)):
                found = len(set(ranked) & rel)
                precision = found / k
                recall = found / len(rel) if rel else 0.0
                hit_rate = float(found > 0)
                assert 0.0 <= precision <= 1.0 and 0.0 <= recall <= 1.0 and hit_rate <= 1.0
        if rel_chunks:
            rr = next((1 / r for r, c in enumerate(ids, 1) if c in rel_chunks), 0.0)
            assert 0.0 <= rr <= 1.0


@settings(max_examples=100, deadline=None)
@given(_runs, st.sampled_from(["minmax", "zscore", "none"]))
def test_normalize_keeps_hits_and_range(run, method):
    norm = normalize(run, method)
    assert list(norm) == list(run)
    for qid, hits in run.items():
        scores = [h.score for h in norm[qid]]
        assert sorted(h.chunk_id for h in norm[qid]) == sorted(h.chunk_id for h in hits)
        if method == "minmax":
            assert all(0.0 <= s <= 1.0 for s in scores)
        if method == "zscore":
            assert all(math.isfinite(s) for s in scores)
