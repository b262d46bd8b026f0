"""Lexical leakage: how much of a question is copied from the text it was written from.

``leakage(q, source)`` = the share of the question's distinct content terms that also
occur in the source, where content terms are the BM25 analyzer's terms (lowercase,
Lucene stopwords removed, Snowball stems) minus question words ("what", "how", "does").
0 means every content word is the question's own; 1 means every one is copied.

Why it matters: a question that copies its chunk is a lexical lookup, so BM25 looks far
better on it than on real users' questions, and a synthetic set full of them ranks
retrievers differently from a gold set. Gold questions are scored the same way (against
the spans or documents their qrels point at), so the two distributions can be compared.

Example:
    >>> round(leakage("How long are refunds processed?", "Refunds are processed within 14 days."), 2)
    0.67
    >>> leakage("When do I get my money back?", "Refunds are processed within 14 days.")
    0.0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ragkit.retrieval.analyzer import Analyzer

QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how do does did can could should would may might must "
    "i we you me my our your us there many much any some has have had been being am were about "
    "s t don doesn didn isn aren".split()  # the pieces of what's / don't / isn't
)
_ANALYZER = Analyzer(stopwords=True, stem=True, split_identifiers=False)
_QUESTION_STEMS = frozenset(t for w in QUESTION_WORDS for t in _ANALYZER.analyze(w))


def content_terms(text: str) -> set[str]:
    """Distinct content terms of ``text`` (analyzer terms minus question words)."""
    return {t for t in _ANALYZER.analyze(text) if t not in _QUESTION_STEMS and t not in QUESTION_WORDS}


def leakage(question: str, source: str | set[str], exclude: Iterable[str] = ()) -> float:
    """Share of the question's content terms found in ``source`` (text, or its :func:`content_terms`).

    Args:
        question: the question.
        source: the text the question was written from (or judged relevant to).
        exclude: texts whose terms are left out of the question's terms, e.g. the
            identifier a keyword question is meant to contain.

    Returns:
        A value in [0, 1]; 0 when the question has no content term.
    """
    terms = content_terms(question)
    for text in exclude:
        terms -= content_terms(text)
    if not terms:
        return 0.0
    src = source if isinstance(source, set) else content_terms(source)
    return len(terms & src) / len(terms)


def distribution(values: Sequence[float]) -> dict[str, float]:
    """mean, median, p10, p90, max, n and a 10-bin histogram over [0, 1] (for gates.json / agreement.json)."""
    arr = np.asarray(values, dtype=float)
    if not len(arr):
        return {"n": 0}
    hist, _ = np.histogram(arr, bins=10, range=(0.0, 1.0))
    return {
        "n": int(len(arr)),
        "mean": round(float(arr.mean()), 4),
        "median": round(float(np.median(arr)), 4),
        "p10": round(float(np.quantile(arr, 0.1)), 4),
        "p90": round(float(np.quantile(arr, 0.9)), 4),
        "max": round(float(arr.max()), 4),
        "histogram": [int(h) for h in hist],
    }


def qrels_leakage(queries, qrels, docs) -> list[float]:
    """Leakage of each labelled query against the text its relevant judgments point at (span, or whole document).

    Used for gold and synthetic sets alike, so their distributions compare like with like.
    """
    text = {d.id: d.text for d in docs}
    out = []
    for q in queries:
        source: set[str] = set()
        for j in qrels.get(q.id, ()):
            if j.grade > 0 and j.doc_id in text:
                body = text[j.doc_id]
                source |= content_terms(body if j.start is None else body[j.start : j.end])
        if source:
            out.append(leakage(q.text, source))
    return out
