"""The per-topic table: size, signals with bootstrap CIs, and a priority score (weak, large topics first).

Priority. Each question gets a *quality* ``q_i`` in (0, 1): for every available signal
(top-1 cosine, rerank score, user feedback, hit rate, nDCG; higher is better), its
mid-rank percentile among all analysed questions, ``(rank - 0.5) / n``, and ``q_i``
is the mean over the signals the question has (missing feedback is skipped, not
counted as bad). A question with relevance labels is judged on its labelled metrics
(``doc:``/``chunk:``) and feedback only: the cosine and rerank values are proxies for
what the labels measure. Percentiles put signals on one scale whatever their units
(cosines depend on the model, rerank scores are unbounded logits, feedback may be 1-5
stars or thumbs). A topic ``t`` with ``n_t`` of the ``N`` questions and mean quality
``q_t`` then has

    priority_t = (n_t / N) * (q_all - q_t)

where ``q_all`` is the mean quality over all questions. It is exactly how much the
topic pulls the overall mean quality down: raising topic ``t`` to the average would
raise the overall mean by ``priority_t``. So it grows with the topic's share and with
its shortfall, a large mediocre topic can outrank a tiny terrible one, and topics at
or above average get ``priority <= 0``. ``priority_rank`` 1 is the topic to work on
first (ties: larger topic first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ragkit.metrics.stats import bootstrap_ci

__all__ = ["question_quality", "priority_scores", "topic_table"]


_LABELLED = ("doc:", "chunk:")
_PROXIES = ("top1_cosine", "rerank_top1")


def question_quality(values: pd.DataFrame, signals: Sequence[str]) -> pd.Series:
    """Mean mid-rank percentile of each question over the ``signals`` it has (NaN if none); a question
    with labelled metrics ignores the label-free proxies (``top1_cosine``, ``rerank_top1``).

    Example:
        >>> df = pd.DataFrame({"top1_cosine": [0.2, 0.4, 0.6, 0.8]})
        >>> question_quality(df, ["top1_cosine"]).tolist()
        [0.125, 0.375, 0.625, 0.875]
    """
    cols = [s for s in signals if s in values and values[s].notna().any()]
    if not cols:
        return pd.Series(np.nan, index=values.index, name="quality")
    pct = pd.DataFrame({c: (values[c].rank(method="average") - 0.5) / values[c].notna().sum() for c in cols})
    labelled = pct[[c for c in cols if c.startswith(_LABELLED)]].notna().any(axis=1)
    proxies = [c for c in cols if c in _PROXIES]
    pct.loc[labelled, proxies] = np.nan
    return pct.mean(axis=1, skipna=True).rename("quality")


def priority_scores(topics: np.ndarray, quality: np.ndarray) -> pd.DataFrame:
    """``n``, ``share``, ``quality_mean``, ``priority``, ``priority_rank`` per topic (formula: module docstring).

    Example:
        >>> out = priority_scores(np.array([0, 0, 0, 1]), np.array([0.8, 0.6, 0.7, 0.1]))
        >>> [round(v, 4) for v in out["priority"]], out["priority_rank"].tolist()
        ([-0.1125, 0.1125], [2, 1])
    """
    topics = np.asarray(topics)
    q = np.asarray(quality, dtype=float)
    n_all = len(topics)
    q_all = float(np.nanmean(q)) if np.isfinite(q).any() else np.nan
    rows = []
    for t in sorted(set(topics.tolist())):
        m = topics == t
        qt = float(np.nanmean(q[m])) if np.isfinite(q[m]).any() else np.nan
        share = m.sum() / n_all
        rows.append((t, int(m.sum()), share, qt, share * (q_all - qt)))
    out = pd.DataFrame(rows, columns=["topic", "n", "share", "quality_mean", "priority"])
    order = out.assign(_p=out["priority"].fillna(-np.inf))
    order = order.sort_values(["_p", "n", "topic"], ascending=[False, False, True])
    out["priority_rank"] = 0
    out.loc[order.index, "priority_rank"] = np.arange(1, len(out) + 1)
    return out


def _signal_stats(values: pd.Series, n_resamples: int, seed: int) -> tuple[float, float, float]:
    v = values.dropna().to_numpy(dtype=float)
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    if n_resamples < 1:  # bootstrap: 0 in the experiment
        return float(v.mean()), np.nan, np.nan
    low, high = bootstrap_ci(v, n_resamples=n_resamples, seed=seed)
    return float(v.mean()), low, high


def topic_table(
    topics: np.ndarray,
    values: pd.DataFrame,
    *,
    signals: Sequence[str],
    keywords: Mapping[int, Sequence[str]] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    quality_values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per topic, sorted by ``priority_rank``.

    Args:
        topics: topic id per question (aligned with ``values`` rows).
        values: one row per question, a numeric column per signal (NaN = not available).
        signals: the signal columns that make up quality (absent / all-NaN ones are skipped).
        keywords: topic -> keywords, for the ``label`` and ``keywords`` columns.
        n_resamples, seed: bootstrap of each signal's mean within a topic.
        quality_values: the values quality is computed from, when they differ from ``values``
            (e.g. a question without hits counts as the lowest cosine, ``-inf``).

    Returns:
        ``topic, label, keywords, n, share, S_mean, S_ci_low, S_ci_high`` for each
        available signal S, ``top1_cosine_median`` (when present), ``quality_mean``,
        ``priority``, ``priority_rank``.
    """
    topics = np.asarray(topics)
    values = values.reset_index(drop=True)
    present = [s for s in signals if s in values and values[s].notna().any()]
    qv = values if quality_values is None else quality_values.reset_index(drop=True)
    quality = question_quality(qv, present).to_numpy()
    base = priority_scores(topics, quality)
    keywords = keywords or {}
    rows = []
    for t in base["topic"]:
        m = topics == t
        row: dict = {"topic": int(t), "label": ", ".join(list(keywords.get(t, []))[:3]) or f"topic {t}",
                     "keywords": ", ".join(keywords.get(t, []))}
        for s in present:
            stats = _signal_stats(values.loc[m, s], n_resamples, seed)
            row[f"{s}_mean"], row[f"{s}_ci_low"], row[f"{s}_ci_high"] = stats
        if "top1_cosine" in present:
            row["top1_cosine_median"] = float(values.loc[m, "top1_cosine"].median())
        rows.append(row)
    table = pd.DataFrame(rows).merge(base, on="topic")
    lead = ["topic", "label", "keywords", "n", "share"]
    table = table[lead + [c for c in table.columns if c not in lead]]
    return table.sort_values("priority_rank").reset_index(drop=True)
