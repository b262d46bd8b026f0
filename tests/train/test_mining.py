"""Hard-negative mining on a hand-built corpus: golden negatives, false negatives excluded."""

from __future__ import annotations

import pytest

from ragkit.data.types import Chunk, Document, Judgment, Qrels, Query
from ragkit.errors import ConfigError
from ragkit.registry import CHUNKERS
from ragkit.train.mining import MinedSet, MiningConfig, mine_hard_negatives

POS = "Solar panels convert sunlight into electricity with photovoltaic cells."
DOCS = [
    # the positive's document: the judged span is its second sentence; the first is another chunk of it
    Document("solar", "Solar panels are sold by many companies today. " + POS),
    Document("solar-2", "Solar farms turn sunlight into electricity for whole towns."),  # judged relevant too
    Document("copy", POS),  # an unjudged exact copy of the positive: a false negative
    Document("near-copy", POS.replace("with", "using")),  # an unjudged paraphrase: cosine ~ positive's
    Document("wind", "Wind turbines convert the wind into electricity."),  # golden hard negative
    Document("eclipse", "A solar eclipse blocks sunlight when the moon passes the sun."),  # golden hard negative
    Document("flour", "The bread recipe needs two cups of flour."),  # shares no term: never a candidate
]
SPAN_START = DOCS[0].text.index(POS)
QUERY = Query("q1", "How do solar panels turn sunlight into electricity?")
QRELS = Qrels({"q1": [Judgment("solar", 2, SPAN_START, SPAN_START + len(POS)), Judgment("solar-2", 1)]})


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    # sentence chunks: the 'solar' document becomes two chunks, the others one each
    out = CHUNKERS.create("sentences", {"size": 80}).chunk_all(DOCS)
    assert [c.doc_id for c in out].count("solar") == 2
    return out


def _mine(chunks, **cfg) -> MinedSet:
    cfg.setdefault("retriever", {"name": "bm25"})
    return mine_hard_negatives([QUERY], QRELS, chunks, cfg, device="cpu", show_progress=False)


def test_golden_negatives_and_exclusions(chunks):
    mined = _mine(chunks, n_negatives=2)
    rows = mined.frame
    # one row per relevant judgment: the span's chunk, and the best chunk of 'solar-2'
    assert rows["positive_doc"].tolist() == ["solar", "solar-2"]
    assert rows["positive"].iloc[0] == POS
    for _, row in rows.iterrows():
        assert {row["negative_1_doc"], row["negative_2_doc"]} == {"wind", "eclipse"}
        assert row["negative_1_rank"] < row["negative_2_rank"]  # hardest (best-ranked) first
        assert row["negative_1_score"] <= 0.95 * row["positive_score"] + 1e-6
    s = mined.stats
    assert s["rows"] == 2 and s["rows_dropped_too_few_negatives"] == 0
    # per row: the span chunk and 'solar-2' are relevant (2); the other chunk of 'solar', a judged
    # document, is excluded by the positive-document rule (1); the copy and the paraphrase score
    # like the positive (same_text or margin, 2)
    assert s["excluded_relevant"] == 4 and s["excluded_positive_doc"] == 2
    assert s["excluded_same_text"] + s["excluded_margin"] == 4
    assert s["excluded_same_text"] >= 1 and s["excluded_margin"] >= 1


def test_text_columns_and_dataset(chunks):
    mined = _mine(chunks, n_negatives=2)
    assert mined.text_columns == ["anchor", "positive", "negative_1", "negative_2"]
    ds = mined.to_dataset()
    assert ds.column_names == mined.text_columns and len(ds) == 2
    assert ds[0]["anchor"] == QUERY.text


def test_false_negatives_never_mined_with_any_retriever(chunks):
    for retriever in ({"name": "bm25"}, {"name": "dense"}, {"name": "hybrid"}):
        frame = _mine(chunks, retriever=retriever, n_negatives=1, depth=10).frame
        mined_docs = set(frame["negative_1_doc"])
        assert mined_docs <= {"wind", "eclipse", "flour"}, retriever
        assert not mined_docs & {"solar", "solar-2", "copy", "near-copy"}


def test_positive_doc_rule_can_be_turned_off(chunks):
    off = _mine(chunks, n_negatives=3, exclude_positive_doc=False, relative_margin=None, retriever={"name": "dense"})
    first = off.frame.iloc[0]
    negs = {first[f"negative_{i}_id"] for i in (1, 2, 3)}
    assert "solar#0" in negs  # the positive document's other chunk, not overlapping the span
    assert not negs & {"solar#1"}  # the span chunk itself is always excluded


def test_rank_window_and_margin(chunks):
    skipped = _mine(chunks, n_negatives=1, skip_top=2, fill="drop")
    assert skipped.stats["excluded_window"] == 4  # 2 ranks x 2 rows
    assert len(skipped) == 2 and (skipped.frame["negative_1_rank"] > 2).all()
    # an absolute margin larger than any cosine gap leaves nothing: every row is dropped and counted
    none_left = _mine(chunks, n_negatives=1, margin=1.5, fill="drop")
    assert len(none_left) == 0 and none_left.stats["rows_dropped_too_few_negatives"] == 2
    assert list(none_left.frame.columns) == ["anchor", "positive", "negative_1"]


def test_short_rows_are_filled_with_random_chunks_that_pass_the_rules(chunks):
    # skipping every candidate leaves no survivor: each row gets random corpus chunks instead (rank 0)
    filled = _mine(chunks, n_negatives=2, skip_top=50)
    assert len(filled) == 2 and filled.stats["rows_filled_random"] == 2
    for _, row in filled.frame.iterrows():
        assert row["negative_1_rank"] == 0 and row["negative_2_rank"] == 0
        # the same rules hold: never a relevant chunk, the positive's document, a copy or a paraphrase
        assert {row["negative_1_doc"], row["negative_2_doc"]} <= {"wind", "eclipse", "flour"}
        assert row["negative_2_score"] <= 0.95 * row["positive_score"] + 1e-6


def test_batches_do_not_change_the_result(chunks):
    queries = [QUERY, Query("q2", "what turns the wind into electricity"), Query("q3", "no label")]
    qrels = Qrels({**{k: v for k, v in QRELS.items()}, "q2": [Judgment("wind")]})
    a = mine_hard_negatives(queries, qrels, chunks, {"retriever": {"name": "bm25"}, "batch_size": 1}, device="cpu")
    b = mine_hard_negatives(queries, qrels, chunks, {"retriever": {"name": "bm25"}, "batch_size": 64}, device="cpu")
    assert a.frame.equals(b.frame) and a.stats == b.stats
    assert a.stats["questions"] == 3 and a.stats["questions_judged"] == 2


def test_random_sampling_is_seeded(chunks):
    a = _mine(chunks, n_negatives=1, sampling="random", seed=1).frame
    b = _mine(chunks, n_negatives=1, sampling="random", seed=1).frame
    assert a.equals(b)
    assert set(a["negative_1_doc"]) <= {"wind", "eclipse"}


def test_save_load_round_trip(chunks, tmp_path):
    mined = _mine(chunks, n_negatives=2)
    mined.save(tmp_path / "m.parquet")
    back = MinedSet.load(tmp_path / "m.parquet", mined.stats)
    assert back.n_negatives == 2 and back.frame.equals(mined.frame)


def test_errors_name_the_problem(chunks):
    with pytest.raises(ConfigError, match="relevant judgment"):
        mine_hard_negatives([Query("x", "text")], Qrels(), chunks, {"retriever": {"name": "bm25"}})
    with pytest.raises(ValueError, match="name"):
        MiningConfig(retriever={"k1": 1.2})
    with pytest.raises(ValueError, match="relative_margin"):
        MiningConfig(relative_margin=1.5)
