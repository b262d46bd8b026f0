"""Which chunks questions are written from, in which style: a seeded, document-stratified plan.

Chunks are drawn round-robin over documents in a seeded random order (one chunk of every
document before a second chunk of any), so a few long documents cannot dominate the set.
Each draw gets a style by the configured weights; a ``keyword`` draw needs an identifier
in the chunk and a ``metadata`` draw an unused metadata field of the document, else it
falls back to ``factoid``.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ragkit.data.types import Chunk, Document
from ragkit.errors import ConfigError
from ragkit.registry import CHUNKERS, config_hash
from ragkit.synth.config import SynthConfig, TargetSpec

log = logging.getLogger(__name__)

_IDENTIFIER = re.compile(
    r"`([^`\n]{3,48})`"                                         # `anything in backticks`
    r"|\b([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\b"                      # LF-ERR-4012, OPS-1187, IL-6
    r"|\b([A-Z]{2,}[0-9]+[A-Za-z0-9]*)\b"                         # BRCA1, CD4, S3
    r"|\b([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*){2,})\b"         # flow.retry.max_backoff_ms
    r"|\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b"                      # snake_case names
    r"|\b([\w-]+\.(?:ya?ml|json|py|sh|md|csv|toml|sql|conf|ini|txt|log|tf|js|ts))\b"  # file names
)


def find_identifiers(text: str) -> list[str]:
    """Identifiers, codes and file names in ``text``, in order of first appearance.

    >>> find_identifiers("Set `flow.retry.max_backoff_ms` after LF-ERR-4012 in config.yaml.")
    ['flow.retry.max_backoff_ms', 'LF-ERR-4012', 'config.yaml']
    """
    seen: dict[str, None] = {}
    for m in _IDENTIFIER.finditer(text):
        ident = next(g for g in m.groups() if g).strip()
        left, right = text.rfind(" ", 0, m.start()) + 1, text.find(" ", m.end())
        word = text[left : right if right >= 0 else len(text)]  # inside a URL or an e-mail address: not an identifier
        plain_word = m.group(1) and not re.search(r"[._\-/0-9]|\w[A-Z]", ident)  # `runners`: a word in backticks
        if len(ident) >= 3 and any(ch.isalpha() for ch in ident) and not plain_word and "@" not in word and "://" not in word:
            seen.setdefault(ident, None)
    return list(seen)


@dataclass(frozen=True)
class Task:
    """One question to write: the style, the source span (``start is None``: the whole document) and prompt values."""

    index: int
    style: str
    doc_id: str
    chunk_id: str
    start: int | None
    end: int | None
    passage: str
    opener: str = ""
    identifier: str = ""
    field: str = ""
    question: str = ""  # a template-written question (metadata style): no LLM needed
    answer: str = ""

    def key(self, *salt: str) -> str:
        """Identity of the generation (span and its text, style, prompt values, + salt such as the LLM signature)."""
        return config_hash([self.doc_id, self.start, self.end, self.passage, self.style, self.opener, self.identifier, self.field, self.question, *salt])


def _passage(chunk: Chunk, max_chars: int) -> tuple[int, int, str]:
    """The chunk cut to ``max_chars`` at a word boundary and stripped; exact offsets kept."""
    text = chunk.text
    if len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars)
        text = text[: cut if cut > max_chars // 2 else max_chars]
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    start = chunk.start + lead
    return start, start + len(text), text


def _near(chunks: list[Chunk], target: TargetSpec) -> list[Chunk]:
    import numpy as np

    from ragkit.core.models import get_embedder

    emb = get_embedder(target.model)
    sims = emb.encode(list(target.near)) @ emb.encode([c.indexed_text for c in chunks]).T  # (texts, chunks)
    keep: set[int] = set()
    for row in sims:
        keep.update(np.argsort(-row, kind="stable")[: target.near_k].tolist())
    return [c for i, c in enumerate(chunks) if i in keep]


def candidate_chunks(docs: Sequence[Document], cfg: SynthConfig) -> list[Chunk]:
    """Chunks of the targeted documents that are long enough to write a question from."""
    from ragkit.retrieval.filters import compile_filter

    t = cfg.target
    if t.doc_ids is not None:
        wanted = set(t.doc_ids)
        missing = wanted - {d.id for d in docs}
        if missing:
            raise ConfigError(f"target.doc_ids: {len(missing)} id(s) not in the corpus, e.g. {sorted(missing)[:3]}")
        docs = [d for d in docs if d.id in wanted]
    params = {k: v for k, v in cfg.chunker.items() if k not in ("name", "label")}
    chunks = CHUNKERS.create(cfg.chunker["name"], params).chunk_all(docs)
    keep = compile_filter(t.where)
    chunks = [c for c in chunks if keep(c.metadata) and len(c.text.strip()) >= cfg.min_passage_chars]
    if t.near:
        chunks = _near(chunks, t) if chunks else chunks
    if not chunks:
        raise ConfigError(
            f"synthetic: no chunk to write questions from ({len(docs)} document(s) targeted); relax target "
            f"or lower min_passage_chars (now {cfg.min_passage_chars})"
        )
    return chunks


def _round_robin(chunks: list[Chunk], rng: random.Random) -> list[Chunk]:
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    doc_ids = sorted(by_doc)
    rng.shuffle(doc_ids)
    for d in doc_ids:
        rng.shuffle(by_doc[d])
    depth = max(len(v) for v in by_doc.values())
    return [by_doc[d][i] for i in range(depth) for d in doc_ids if i < len(by_doc[d])]


def _title(doc: Document) -> str:
    title = doc.title or str(doc.metadata.get("title") or "")
    if not title:
        stem = doc.id.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        title = stem.replace("-", " ").replace("_", " ")
    return title


class _Planner:
    def __init__(self, docs: Sequence[Document], cfg: SynthConfig, openers: dict[str, tuple[str, ...]], metadata_templates: dict[str, list[str]]):
        self.docs = {d.id: d for d in docs}
        self.cfg, self.openers, self.meta = cfg, openers, metadata_templates
        self.rng = random.Random(cfg.seed)
        self.styles = [s for s, w in cfg.styles.items() if w > 0]
        self.weights = [cfg.styles[s] for s in self.styles]
        self.used: set[tuple[str, str]] = set()  # (doc, field) and ("id", identifier) already asked about

    def task(self, index: int, chunk: Chunk) -> Task:
        style = self.rng.choices(self.styles, self.weights)[0]
        start, end, passage = _passage(chunk, self.cfg.max_passage_chars)
        base = dict(index=index, doc_id=chunk.doc_id, chunk_id=chunk.id, start=start, end=end, passage=passage)
        if style == "metadata":
            doc = self.docs[chunk.doc_id]
            fields = [f for f in self.meta if doc.metadata.get(f) not in (None, "", []) and (doc.id, f) not in self.used]
            if fields:
                field = self.rng.choice(fields)
                self.used.add((doc.id, field))
                q = self.rng.choice(self.meta[field]).replace("{title}", _title(doc))
                return Task(**{**base, "start": None, "end": None}, style="metadata", field=field, question=q,
                            answer=str(doc.metadata[field]))
            style = "factoid"
        if style == "keyword":
            idents = [i for i in find_identifiers(passage) if ("id", i) not in self.used]
            if idents:
                ident = self.rng.choice(idents)
                self.used.add(("id", ident))
                opener = self.rng.choice(self.openers["keyword"]).replace("{identifier}", ident)
                return Task(**base, style="keyword", identifier=ident, opener=opener)
            style = "factoid"
        return Task(**base, style=style, opener=self.rng.choice(self.openers[style]))


def plan_tasks(docs: Sequence[Document], cfg: SynthConfig, openers: dict[str, tuple[str, ...]], metadata_templates: dict[str, list[str]]) -> list[Task]:
    """Up to ``cfg.candidates_cap()`` tasks, in the order they are generated (seeded)."""
    chunks = candidate_chunks(docs, cfg)
    planner = _Planner(docs, cfg, openers, metadata_templates)
    order = _round_robin(chunks, planner.rng)
    tasks: list[Task] = []
    cap = cfg.candidates_cap()
    for _ in range(3):  # a small corpus is walked again (new styles and openers) until the cap
        for chunk in order:
            if len(tasks) >= cap:
                break
            tasks.append(planner.task(len(tasks), chunk))
    log.info("planned %d generation tasks over %d chunks of %d documents", len(tasks), len(chunks), len({c.doc_id for c in chunks}))
    return tasks
