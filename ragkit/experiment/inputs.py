"""Load the corpus, questions and qrels an experiment names, and check they fit together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ragkit.data.types import Document, Qrels, Query
from ragkit.errors import ConfigError
from ragkit.experiment.spec import ExperimentSpec
from ragkit.registry import config_hash

log = logging.getLogger(__name__)


def corpus_key(docs: list[Document]) -> str:
    """Content hash of a corpus (ids, titles, texts, metadata): the cache key of everything built from it."""
    return config_hash([[d.id, d.title, d.text, sorted(d.metadata.items(), key=str)] for d in docs])


@dataclass
class Inputs:
    docs: list[Document]
    queries: list[Query]
    qrels: Qrels
    synthetic_set: Path | None = None  # the folder of the synthetic set evaluated, if any

    def corpus_key(self) -> str:
        return corpus_key(self.docs)

    def queries_key(self) -> str:
        return config_hash([[q.id, q.text] for q in self.queries])


def _load_corpus(spec: ExperimentSpec):
    c = spec.corpus
    path = spec.resolve(c.path)
    if c.format == "beir":
        from ragkit.data.beir import load_beir

        return load_beir(path, c.split, on_error=c.on_error, title_in_text=c.title_in_text)
    if c.format == "jsonl":
        from ragkit.data.jsonl import load_documents_jsonl

        return load_documents_jsonl(path, on_error=c.on_error, title_in_text=c.title_in_text), [], Qrels()
    from ragkit.data.folder import load_folder

    return load_folder(path, on_error=c.on_error), [], Qrels()


def load_documents(spec: ExperimentSpec) -> list[Document]:
    """The corpus documents alone (``corpus.limit`` applied)."""
    docs = _load_corpus(spec)[0]
    return docs[: spec.corpus.limit] if spec.corpus.limit else docs


def _synthetic(spec: ExperimentSpec, docs: list[Document]):
    from ragkit.synth.generate import synthesize

    if spec.questions.synthetic is None:
        raise ConfigError("questions.source: synthetic needs a generator config in questions.synthetic (e.g. {n: 100})")
    return synthesize(docs, spec.questions.synthetic, corpus_key=corpus_key(docs), base_dir=spec.base_dir)


def load_inputs(spec: ExperimentSpec) -> Inputs:
    """Documents, queries and qrels; raises ConfigError when nothing can be evaluated."""
    from ragkit.data.jsonl import check_qrels, load_qrels, load_queries_jsonl

    docs, queries, qrels = _load_corpus(spec)
    if spec.corpus.limit:
        docs = docs[: spec.corpus.limit]
    q = spec.questions
    synthetic_set = None
    if q.use_synthetic():
        generated = _synthetic(spec, docs)
        queries, qrels, synthetic_set = generated.queries, generated.qrels, generated.path
    elif q.path:
        queries = load_queries_jsonl(spec.resolve(q.path), on_error=spec.corpus.on_error)
        qrels = load_qrels(spec.resolve(q.qrels), on_error=spec.corpus.on_error) if q.qrels else Qrels()
    if q.limit:
        queries = queries[: q.limit]
    if not queries:
        raise ConfigError("no questions: set questions.path and questions.qrels, or use corpus.format: beir")
    if qrels:
        on_error = "warn" if spec.corpus.limit or q.limit else spec.corpus.on_error
        qrels = check_qrels(qrels.restrict(x.id for x in queries), queries, docs, on_error=on_error, source="qrels")
        if not qrels:
            raise ConfigError("no question has a relevance label that points at a loaded document; check questions.qrels")
    log.info("loaded %d documents, %d questions, %d with labels", len(docs), len(queries), len(qrels))
    return Inputs(docs, queries, qrels, synthetic_set)
