"""Quality percentiles, the priority formula and the per-topic table, on hand-worked numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ragkit.topics.table import priority_scores, question_quality, topic_table


def test_quality_is_mean_midrank_percentile_over_available_signals():
    df = pd.DataFrame({
        "top1_cosine": [0.1, 0.2, 0.3, 0.4],  # percentiles 1/8, 3/8, 5/8, 7/8
        "feedback": [5.0, np.nan, 1.0, 1.0],  # 3 values: 5 -> rank 3 -> 2.5/3; the tied 1s -> rank 1.5 -> 1/3
    })
    q = question_quality(df, ["top1_cosine", "feedback", "rerank_top1"])  # absent signal: skipped
    expected = [(1 / 8 + 2.5 / 3) / 2, 3 / 8, (5 / 8 + 1 / 3) / 2, (7 / 8 + 1 / 3) / 2]
    assert q.tolist() == pytest.approx(expected)


def test_labelled_questions_ignore_the_label_free_proxies():
    df = pd.DataFrame({"top1_cosine": [0.9, 0.1, 0.5], "doc:ndcg@10": [0.0, 1.0, np.nan]})
    q = question_quality(df, ["top1_cosine", "doc:ndcg@10"])
    # q1, q2: labelled -> nDCG percentile only (1/4, 3/4); q3: unlabelled -> its cosine percentile (3/6)
    assert q.tolist() == pytest.approx([0.25, 0.75, 0.5])


def test_priority_by_hand():
    # 10 questions: topic 0 (6 q, quality .6 each), topic 1 (3 q, .2 each), topic 2 (1 q, .1)
    topics = np.array([0] * 6 + [1] * 3 + [2])
    quality = np.array([0.6] * 6 + [0.2] * 3 + [0.1])
    q_all = (6 * 0.6 + 3 * 0.2 + 0.1) / 10  # 0.43
    out = priority_scores(topics, quality).set_index("topic")
    assert out.loc[0, "priority"] == pytest.approx(0.6 * (q_all - 0.6))  # -0.102
    assert out.loc[1, "priority"] == pytest.approx(0.3 * (q_all - 0.2))  # 0.069: large and weak -> first
    assert out.loc[2, "priority"] == pytest.approx(0.1 * (q_all - 0.1))  # 0.033: weakest but tiny
    assert out["priority_rank"].to_dict() == {0: 3, 1: 1, 2: 2}
    # the priorities are exactly how much each topic pulls the overall mean down: they sum to zero
    assert out["priority"].sum() == pytest.approx(0.0)


def test_priority_ties_go_to_the_larger_topic_and_nan_last():
    out = priority_scores(np.array([0, 0, 1, 2]), np.array([0.5, 0.5, 0.5, np.nan])).set_index("topic")
    assert out["priority_rank"].to_dict() == {0: 1, 1: 2, 2: 3}
    assert np.isnan(out.loc[2, "priority"])


def test_topic_table_columns_cis_and_order():
    values = pd.DataFrame({"top1_cosine": [0.8, 0.7, 0.9, 0.2, 0.3], "feedback": [5, 4, np.nan, 1, 2]})
    table = topic_table(np.array([0, 0, 0, 1, 1]), values, signals=["top1_cosine", "feedback"],
                        keywords={0: ["billing", "invoice", "pdf", "vat"], 1: ["visa", "h1b"]}, n_resamples=200)
    assert table["topic"].tolist() == [1, 0]  # weak topic first
    first = table.iloc[0]
    assert first["label"] == "visa, h1b" and first["keywords"] == "visa, h1b"
    assert (first["n"], first["share"]) == (2, pytest.approx(0.4))
    assert first["top1_cosine_mean"] == pytest.approx(0.25)
    assert first["top1_cosine_ci_low"] <= 0.25 <= first["top1_cosine_ci_high"]
    assert first["feedback_mean"] == pytest.approx(1.5)
    assert table.iloc[1]["feedback_mean"] == pytest.approx(4.5)  # NaN feedback skipped
    assert table.iloc[1]["top1_cosine_median"] == pytest.approx(0.8)
    assert table["priority_rank"].tolist() == [1, 2]
    for col in ("priority", "quality_mean", "top1_cosine_ci_high", "feedback_ci_low"):
        assert col in table
