"""Tests for ragkit.metrics.ir: hand-worked golden values, parity with pytrec_eval, API rules."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import pytrec_eval
from hypothesis import given, settings
from hypothesis import strategies as st

from ragkit.data.types import Chunk, Hit, Judgment, Qrels, Run
from ragkit.errors import ConfigError
from ragkit.metrics.ir import aggregate, evaluate, evaluate_chunks, evaluate_docs, parse_metric, validate_metrics

L2_3, L2_5 = math.log2(3), math.log2(5)


def _run(ranking: dict[str, list[str]]) -> Run:
    """A tie-free run: the listed order, with scores 1.0, 0.9, 0.8, ..."""
    return Run({q: [Hit(d, d, 1.0 - 0.1 * i) for i, d in enumerate(ds)] for q, ds in ranking.items()})


# ----------------------------------------------------------------------------- golden, by hand

# qA judges a=3, b=2, c=0 (judged non-relevant), d=1 -> 3 relevant items, ideal gains [3, 2, 1].
# The ranking x, a, c, b, y has gains [0, 3, 0, 2, 0]; relevant at ranks 2 and 4.
GOLD_QRELS = {
    "qA": {"a": 3, "b": 2, "c": 0, "d": 1},
    "qB": {"e": 1},  # retrieved nothing relevant
    "qC": {"f": 2},  # missing from the run
    "qE": {"g": 0},  # no relevant item: not evaluated
}
GOLD_RUN = _run({"qA": ["x", "a", "c", "b", "y"], "qB": ["x", "y"], "qD": ["a"]})  # qD: not in qrels
IDCG3 = 3 / 1 + 2 / L2_3 + 1 / 2  # ideal [3, 2, 1] at ranks 1, 2, 3 = 4.7619...
QA_EXPECTED = {
    # top 1 = [x]: nothing relevant
    "precision@1": 0.0, "recall@1": 0.0, "hit_rate@1": 0.0, "mrr@1": 0.0, "ndcg@1": 0.0, "map@1": 0.0,
    # top 3 = [x, a, c]: 1 relevant (a, rank 2)
    "precision@3": 1 / 3,                     # 1 relevant / 3
    "recall@3": 1 / 3,                        # 1 of 3 relevant
    "hit_rate@3": 1.0,
    "mrr@3": 1 / 2,                           # first relevant at rank 2
    "ndcg@3": (3 / L2_3) / IDCG3,             # DCG = 3/log2(2+1) = 1.8928; / 4.7619 = 0.3975
    "map@3": (1 / 2) / 3,                     # P@2 = 1/2 at the one hit, over 3 relevant
    # top 5 = all: relevant at ranks 2 (a, grade 3) and 4 (b, grade 2)
    "precision@5": 2 / 5,
    "recall@5": 2 / 3,
    "hit_rate@5": 1.0,
    "mrr@5": 1 / 2,
    "ndcg@5": (3 / L2_3 + 2 / L2_5) / IDCG3,  # (1.8928 + 0.8614) / 4.7619 = 0.5784
    "map@5": (1 / 2 + 2 / 4) / 3,             # (P@2 + P@4) / 3 = 1/3
    # k = 10 is longer than the 5-item ranking: precision still divides by 10
    "precision@10": 2 / 10,
    "recall@10": 2 / 3,
    "ndcg@10": (3 / L2_3 + 2 / L2_5) / IDCG3,
    "map@10": 1 / 3,
    "mrr@10": 1 / 2,
    "hit_rate@10": 1.0,
}


def test_golden_graded_query():
    df = evaluate(GOLD_RUN, GOLD_QRELS, list(QA_EXPECTED))
    assert list(df.columns) == list(QA_EXPECTED)
    for metric, expected in QA_EXPECTED.items():
        assert df.loc["qA", metric] == pytest.approx(expected, abs=1e-12), metric


def test_golden_which_queries_are_evaluated():
    df = evaluate(GOLD_RUN, GOLD_QRELS, ["ndcg@10", "mrr@10"])
    # qA, qB, qC have a relevant item (qrels order); qE has none; qD is not judged.
    assert df.index.tolist() == ["qA", "qB", "qC"]
    assert df.index.name == "query_id"
    assert (df.loc["qB"] == 0.0).all()  # nothing relevant retrieved
    assert (df.loc["qC"] == 0.0).all()  # missing from the run
    assert df.dtypes.tolist() == [np.float64, np.float64]


def test_golden_map_and_mrr_positions():
    # 3 relevant (a, b, c) at ranks 1, 3, 5
    df = evaluate(_run({"q": ["a", "x", "b", "y", "c"]}), {"q": {"a": 1, "b": 1, "c": 1}}, ["map@3", "map@5"])
    assert df.loc["q", "map@3"] == pytest.approx((1 / 1 + 2 / 3) / 3)  # 5/9
    assert df.loc["q", "map@5"] == pytest.approx((1 / 1 + 2 / 3 + 3 / 5) / 3)  # 0.7556
    # first relevant at rank 4: outside a cutoff of 3, 1/4 within 5
    df = evaluate(_run({"q": ["x", "y", "z", "a"]}), {"q": {"a": 1}}, ["mrr@3", "mrr@5", "hit@3", "success@5"])
    assert df.loc["q"].tolist() == [0.0, 0.25, 0.0, 1.0]


def test_golden_graded_ndcg_rewards_better_grade_first():
    qrels = {"q": {"a": 3, "b": 1}}  # ideal [3, 1]: IDCG@2 = 3 + 1/log2(3) = 3.6309
    good = evaluate(_run({"q": ["a", "b"]}), qrels, ["ndcg@2"]).loc["q", "ndcg@2"]
    bad = evaluate(_run({"q": ["b", "a"]}), qrels, ["ndcg@2"]).loc["q", "ndcg@2"]
    assert good == pytest.approx(1.0)
    assert bad == pytest.approx((1 + 3 / L2_3) / (3 + 1 / L2_3))  # 2.8928 / 3.6309 = 0.7967


def test_golden_ties_broken_by_chunk_id():
    # c3 scores highest; c1 and c2 tie at 0.5 and sort by ascending id: c3, c1, c2.
    run = Run({"q": [Hit("c2", "d", 0.5), Hit("c1", "d", 0.5), Hit("c3", "d", 0.9)]})
    df = evaluate(run, {"q": {"c2": 1}}, ["mrr@10", "precision@2"])
    assert df.loc["q", "mrr@10"] == pytest.approx(1 / 3)  # c2 at rank 3, not 2
    assert df.loc["q", "precision@2"] == 0.0


def test_duplicate_item_counts_once():
    run = Run({"q": [Hit("a", "a", 0.9), Hit("a", "a", 0.8), Hit("b", "b", 0.7)]}, sort=False)
    df = evaluate(run, {"q": {"a": 1, "b": 1}}, ["recall@2", "precision@2"])
    assert df.loc["q"].tolist() == [1.0, 1.0]  # ranking is a, b


def test_empty_qrels_and_aggregate():
    df = evaluate(GOLD_RUN, {}, ["ndcg@10"])
    assert df.empty and list(df.columns) == ["ndcg@10"]
    assert math.isnan(aggregate(df)["ndcg@10"])
    df = evaluate(GOLD_RUN, GOLD_QRELS, ["mrr@10", "recall@5"])
    assert aggregate(df).to_dict() == pytest.approx({"mrr@10": 0.5 / 3, "recall@5": (2 / 3) / 3})


# ----------------------------------------------------------------------------- doc / chunk level


def test_evaluate_docs_max_pools_chunks():
    run = Run({"q": [Hit("d1#0", "d1", 0.9), Hit("d2#0", "d2", 0.8), Hit("d1#1", "d1", 0.7), Hit("d3#0", "d3", 0.6)]})
    qrels = Qrels({"q": [Judgment("d3", 1), Judgment("d1", 2, start=0, end=5), Judgment("d1", 1, start=9, end=12)]})
    df = evaluate_docs(run, qrels, ["mrr@10", "precision@3", "recall@3", "ndcg@3"])
    # doc ranking d1 (0.9), d2 (0.8), d3 (0.6): d1#1 folds into d1, so d3 is at rank 3, not 4.
    # d1 keeps its best grade 2: DCG = 2/1 + 1/log2(4) = 2.5; IDCG = 2 + 1/log2(3)
    assert df.loc["q"].tolist() == pytest.approx([1.0, 2 / 3, 1.0, 2.5 / (2 + 1 / L2_3)])
    assert run.doc_run()["q"][0].score == 0.9


def _chunks() -> list[Chunk]:
    # d1 cut into [0,10) [10,20) [20,30); d2 into [0,10) [10,20)
    out = [Chunk(f"d1#{i}", "d1", "x" * 10, 10 * i, 10 * i + 10) for i in range(3)]
    return out + [Chunk(f"d2#{i}", "d2", "y" * 10, 10 * i, 10 * i + 10) for i in range(2)]


def test_evaluate_chunks_span_overlap_rules():
    # span [10, 20) of d1: d1#0 ends at 10 and d1#2 starts at 20 (end is exclusive), so
    # only d1#1 overlaps; the whole-document judgment on d2 makes both d2 chunks relevant.
    qrels = Qrels({"q": [Judgment("d1", 2, start=10, end=20), Judgment("d2", 1)]})
    run = _run({"q": ["d1#0", "d1#2", "d1#1", "d2#1", "d2#0"]})
    df = evaluate_chunks(run, qrels, _chunks(), ["precision@2", "mrr@10", "recall@4", "recall@5"])
    assert df.loc["q"].tolist() == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])


def test_evaluate_chunks_one_char_overlap_and_best_grade():
    qrels = Qrels({"q": [Judgment("d1", 1, start=9, end=11), Judgment("d1", 3, start=19, end=20)]})
    run = _run({"q": ["d1#1", "d1#0", "d1#2"]})
    # [9,11) touches d1#0 (char 9) and d1#1 (char 10); [19,20) only d1#1, so d1#1 has grade 3.
    df = evaluate_chunks(run, qrels, _chunks(), ["recall@2", "ndcg@2", "precision@3"])
    assert df.loc["q"].tolist() == pytest.approx([1.0, 1.0, 2 / 3])


def test_evaluate_chunks_warns_about_unreachable_queries(caplog):
    qrels = Qrels({"q": [Judgment("d1", 1)], "lost": [Judgment("d9", 1)]})
    with caplog.at_level(logging.WARNING, logger="ragkit.metrics.ir"):
        df = evaluate_chunks(_run({"q": ["d1#0"]}), qrels, _chunks(), ["hit@1"])
    assert df.index.tolist() == ["q"]
    assert "1 queries" in caplog.text and "lost" in caplog.text


def test_level_functions_reject_wrong_qrels_type():
    with pytest.raises(ConfigError, match="evaluate_docs"):
        evaluate_docs(GOLD_RUN, {"q": {"a": 1}}, ["ndcg@10"])
    with pytest.raises(ConfigError, match="evaluate_chunks"):
        evaluate_chunks(GOLD_RUN, {"q": {"a": 1}}, [], ["ndcg@10"])
    with pytest.raises(ConfigError, match="doc_level"):
        evaluate(GOLD_RUN, Qrels({"q": [Judgment("a")]}), ["ndcg@10"])
    with pytest.raises(ConfigError, match="mapping"):
        evaluate(GOLD_RUN, {"q": [("a", 1)]}, ["ndcg@10"])


# ----------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [("recall@10", ("recall", 10)), ("NDCG@10", ("ndcg", 10)), (" map@100 ", ("map", 100)),
     ("hit@3", ("hit_rate", 3)), ("Success@1", ("hit_rate", 1)), ("hit_rate@10", ("hit_rate", 10)),
     ("precision@5", ("precision", 5)), ("mrr@010", ("mrr", 10))],
)
def test_parse_metric(text, expected):
    assert parse_metric(text) == expected


def test_parse_metric_unknown_name_suggests():
    with pytest.raises(ConfigError) as err:
        parse_metric("ndgc@10")
    assert str(err.value) == (
        "unknown metric 'ndgc@10'; allowed: recall, precision, hit_rate, mrr, ndcg, map, "
        "each as NAME@K (e.g. ndcg@10). Did you mean 'ndcg@10'?"
    )
    with pytest.raises(ConfigError, match=r"Did you mean 'precision@5'\?"):
        parse_metric("P@5")
    with pytest.raises(ConfigError, match=r"Did you mean 'mrr@3'\?"):
        parse_metric("recip_rank@3")
    with pytest.raises(ConfigError) as err:
        parse_metric("bleu@4")
    assert "Did you mean" not in str(err.value) and "allowed: recall" in str(err.value)


@pytest.mark.parametrize("text", ["ndcg@0", "ndcg@x", "ndcg@-1", "ndcg@", "ndcg@1.5", "ndcg"])
def test_parse_metric_bad_cutoff(text):
    with pytest.raises(ConfigError, match=r"Did you mean 'ndcg@10'\?") as err:
        parse_metric(text)
    assert text in str(err.value)


def test_parse_metric_non_string():
    with pytest.raises(ConfigError, match="must be a string"):
        parse_metric(10)  # type: ignore[arg-type]


def test_validate_metrics_canonical_and_deduplicated():
    assert validate_metrics(["NDCG@10", "hit@5", "ndcg@10", "success@5"]) == ["ndcg@10", "hit_rate@5"]
    assert validate_metrics("mrr@10") == ["mrr@10"]


def test_validate_metrics_reports_all_bad_entries():
    with pytest.raises(ConfigError) as err:
        validate_metrics(["ndcg@10", "ndgc@10", "recall@0", "bleu@4"])
    msg = str(err.value)
    assert msg.startswith("3 invalid metric(s) out of 4")
    assert "'ndgc@10'" in msg and "'recall@0'" in msg and "'bleu@4'" in msg
    with pytest.raises(ConfigError, match="no metrics"):
        validate_metrics([])
    with pytest.raises(ConfigError, match="ndgc"):  # evaluate validates before any work
        evaluate(GOLD_RUN, GOLD_QRELS, ["ndgc@10"])


# ----------------------------------------------------------------------------- parity with trec_eval

CUTOFFS = (1, 3, 5, 10, 20)
TREC = {"precision": "P", "recall": "recall", "hit_rate": "success", "ndcg": "ndcg_cut", "map": "map_cut"}


def _random_case(seed: int, n_queries: int = 50, n_docs: int = 30):
    """Seeded qrels with grades 0..3 and tie-free runs; some queries unretrieved or unjudged."""
    rng = np.random.default_rng(seed)
    qrels, run = {}, {}
    for q in range(n_queries):
        judged = rng.choice(n_docs, size=int(rng.integers(1, n_docs)), replace=False)
        qrels[f"q{q}"] = {f"d{i}": int(rng.integers(0, 4)) for i in judged}
        if q % 10 != 9:  # every tenth query is missing from the run
            ranked = rng.permutation(n_docs + 5)[: int(rng.integers(1, n_docs + 5))]  # d30..d34 unjudged
            scores = rng.permutation(len(ranked)) + 0.5  # distinct: no ties
            run[f"q{q}"] = {f"d{i}": float(s) for i, s in zip(ranked, scores)}
    return qrels, run


def _to_run(scores: dict[str, dict[str, float]]) -> Run:
    return Run({q: [Hit(d, d, s) for d, s in ds.items()] for q, ds in scores.items()})


def _trec(qrels, run, measures) -> dict[str, dict[str, float]]:
    return pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)


def _assert_parity(qrels, scores, cutoffs):
    ks = ",".join(map(str, cutoffs))
    ref = _trec(qrels, scores, {f"{m}.{ks}" for m in TREC.values()})
    metrics = [f"{n}@{k}" for n in [*TREC, "mrr"] for k in cutoffs]
    ours = evaluate(_to_run(scores), qrels, metrics)
    assert set(ours.index) == {q for q, j in qrels.items() if max(j.values()) >= 1}
    for k in cutoffs:
        cut = {q: dict(sorted(d.items(), key=lambda x: -x[1])[:k]) for q, d in scores.items()}
        rr = _trec(qrels, cut, {"recip_rank"})
        for q in ours.index:
            got = ours.loc[q]
            for name, trec_name in TREC.items():
                want = ref.get(q, {}).get(f"{trec_name}_{k}", 0.0)
                assert got[f"{name}@{k}"] == pytest.approx(want, abs=1e-9), (q, name, k)
            assert got[f"mrr@{k}"] == pytest.approx(rr.get(q, {}).get("recip_rank", 0.0), abs=1e-9), (q, k)


@pytest.mark.parity
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parity_with_pytrec_eval_random(seed):
    qrels, scores = _random_case(seed)
    _assert_parity(qrels, scores, CUTOFFS)


@pytest.mark.parity
def test_mrr_parity_with_ir_measures():
    ir_measures = pytest.importorskip("ir_measures")
    qrels, scores = _random_case(7)
    ours = evaluate(_to_run(scores), qrels, [f"mrr@{k}" for k in CUTOFFS])
    measures = [ir_measures.RR @ k for k in CUTOFFS]
    for m in ir_measures.iter_calc(measures, qrels, scores):
        if m.query_id in ours.index:
            assert ours.loc[m.query_id, f"mrr@{m.measure.params['cutoff']}"] == pytest.approx(m.value, abs=1e-9)


@st.composite
def _small_case(draw):
    n_docs = draw(st.integers(1, 8))
    qrels, run = {}, {}
    for q in range(draw(st.integers(1, 3))):
        grades = draw(st.lists(st.integers(-1, 3), min_size=n_docs, max_size=n_docs))
        if max(grades) >= 1:
            qrels[f"q{q}"] = {f"d{i}": g for i, g in enumerate(grades) if draw(st.booleans()) or g >= 1}
        order = draw(st.permutations(range(n_docs + 2)))[: draw(st.integers(0, n_docs + 2))]
        if order:
            run[f"q{q}"] = {f"d{i}": float(len(order) - r) for r, i in enumerate(order)}
    return qrels, run


@pytest.mark.parity
@settings(max_examples=50, deadline=None)
@given(_small_case())
def test_parity_with_pytrec_eval_property(case):
    qrels, scores = case
    if qrels:
        _assert_parity(qrels, scores, (1, 2, 3, 5, 10))
