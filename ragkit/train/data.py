"""Questions for fine-tuning: load a source, cap it, hold some out, keep evaluation questions out of training."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragkit.data.types import Document, Qrels, Query
from ragkit.errors import ConfigError, MissingDependencyError
from ragkit.registry import config_hash

log = logging.getLogger(__name__)

__all__ = ["QuestionSet", "holdout_split", "load_documents", "load_questions", "remove_overlap"]


@dataclass
class QuestionSet:
    """Questions with their relevance labels; ``source`` is ``gold`` or ``synthetic``; ``origin`` says where from."""

    queries: list[Query]
    qrels: Qrels
    source: str
    origin: str

    def key(self) -> str:
        """A fingerprint of the questions and labels (for model folder keys)."""
        labels = sorted((q, sorted(map(repr, js))) for q, js in self.qrels.items())
        return config_hash([[[q.id, q.text] for q in self.queries], labels])

    def subset(self, ids) -> QuestionSet:
        keep = set(ids)
        queries = [q for q in self.queries if q.id in keep]
        return QuestionSet(queries, self.qrels.restrict(keep), self.source, self.origin)


def load_documents(spec) -> list[Document]:
    """The corpus named by ``spec.corpus`` (BEIR folder, JSONL file or folder of files)."""
    from ragkit.data.beir import _find
    from ragkit.data.folder import load_folder
    from ragkit.data.jsonl import load_documents_jsonl

    c = spec.corpus
    path = spec.resolve(c.path)
    if c.format == "folder":
        docs = load_folder(path, on_error=c.on_error)
    else:
        if c.format == "beir" and not path.is_dir():
            raise ConfigError(f"corpus.path: BEIR folder '{path}' does not exist; fix the path or --set corpus.path=...")
        file = _find(path, "corpus") if c.format == "beir" else path
        docs = load_documents_jsonl(file, on_error=c.on_error, title_in_text=c.title_in_text)
    return docs[: c.limit] if c.limit else docs


def _source_label(queries: list[Query]) -> str:
    tags = {q.metadata.get("source") for q in queries}
    return "synthetic" if tags == {"synthetic"} else "gold"


def load_questions(spec, source, docs: list[Document]) -> QuestionSet:
    """Questions and qrels of a :class:`~ragkit.train.spec.TrainSource`, checked against ``docs``."""
    from ragkit.data.jsonl import check_qrels, load_qrels, load_queries_jsonl

    on_error = spec.corpus.on_error
    kind = source.kind()
    if kind == "split":
        from ragkit.data.beir import load_beir

        _, queries, qrels = load_beir(spec.resolve(spec.corpus.path), source.split, on_error=on_error)
        origin = f"{spec.corpus.path} qrels/{source.split}.tsv"
    elif kind == "questions":
        queries = load_queries_jsonl(spec.resolve(source.questions), on_error=on_error)
        qrels = load_qrels(spec.resolve(source.qrels), on_error=on_error)
        origin = str(source.questions)
    else:
        queries, qrels = _generate(spec, source.synthetic, docs)
        origin = "generated (ragkit.synth)"
    # warn, not raise: a corpus.limit or a split's judgments on missing documents must not stop training
    qrels = check_qrels(qrels.restrict(q.id for q in queries), queries, docs, on_error="warn", source=origin)
    queries = [q for q in queries if q.id in qrels]
    if not queries:
        raise ConfigError(f"no question of {origin} has a relevance label pointing at a loaded document")
    out = QuestionSet(queries, qrels, "synthetic" if kind == "synthetic" else _source_label(queries), origin)
    return _limit(out, source.limit, spec.seed)


def _generate(spec, synthetic: dict[str, Any], docs: list[Document]) -> tuple[list[Query], Qrels]:
    """Questions written from the corpus by :mod:`ragkit.synth` (``synthetic`` is its generator config).

    Generation is cached and resumable on the synth side: a second fine-tune with the same
    corpus and generator config reuses the set.
    """
    try:
        from ragkit.synth.config import SynthConfig
        from ragkit.synth.generate import synthesize
    except ImportError:
        raise MissingDependencyError(
            "train.synthetic needs the question generator (ragkit.synth), which this install lacks; "
            "give a set written by `ragkit synth` as train: {questions: SET/questions.jsonl, qrels: SET/qrels.jsonl}"
        ) from None
    made = synthesize(docs, SynthConfig(**synthetic), base_dir=spec.base_dir)  # validated with the spec
    return list(made.queries), made.qrels


def _limit(qs: QuestionSet, limit: int | None, seed: int) -> QuestionSet:
    """A seeded random subset of ``limit`` questions (all of them when ``limit`` is None or larger)."""
    if not limit or limit >= len(qs.queries):
        return qs
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(qs.queries), size=limit, replace=False)
    return qs.subset(qs.queries[i].id for i in pick)


def holdout_split(qs: QuestionSet, share: float, seed: int) -> tuple[QuestionSet, QuestionSet]:
    """(training, held-out) with a seeded ``share`` of the questions held out.

    Example:
        >>> qs = QuestionSet([Query(str(i), f"q{i}") for i in range(10)], Qrels(), "gold", "x")
        >>> train, held = holdout_split(qs, 0.2, seed=0)
        >>> len(train.queries), len(held.queries), {q.id for q in train.queries} & {q.id for q in held.queries}
        (8, 2, set())
    """
    n_held = max(1, round(share * len(qs.queries)))
    if n_held >= len(qs.queries):
        raise ConfigError(f"eval.holdout={share} of {len(qs.queries)} questions leaves none for training; lower it")
    rng = np.random.default_rng(seed)
    held = {qs.queries[i].id for i in rng.choice(len(qs.queries), size=n_held, replace=False)}
    train = qs.subset(q.id for q in qs.queries if q.id not in held)
    return train, qs.subset(held)


def remove_overlap(train: QuestionSet, held: QuestionSet) -> tuple[QuestionSet, int]:
    """``train`` without questions whose text (case, spacing and punctuation aside) is a held-out question's; and how many went."""
    import re

    norm = lambda t: " ".join(re.findall(r"\w+", t.lower()))  # noqa: E731
    held_texts = {norm(q.text) for q in held.queries}
    keep = [q.id for q in train.queries if norm(q.text) not in held_texts]
    dropped = len(train.queries) - len(keep)
    if dropped:
        log.warning("dropped %d training questions that also appear among the held-out questions", dropped)
    return (train.subset(keep) if dropped else train), dropped
