"""Chunks -> synthetic questions with span qrels: plan, write (LLM), gate, save.

Generation is resumable: every reply is appended to ``generations.jsonl`` in the output
folder, keyed by (span, style, prompt values, prompt template, LLM signature, seed), one
batch at a time. A killed ``ragkit synth`` run restarted on the same folder reuses every
reply it already has, so it resumes where it stopped and writes the same set.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ragkit.data.types import Document, Judgment, Qrels, Query
from ragkit.registry import LLMS, config_hash
from ragkit.synth.config import SynthConfig
from ragkit.synth.gates import Candidate, GateReport, Gates
from ragkit.synth.prompts import ChatTemplate, load_chat_template, load_metadata_templates
from ragkit.synth.sampling import Task, plan_tasks
from ragkit.synth.synthetic_set import KIND, SCHEMA_VERSION, SyntheticSet

log = logging.getLogger(__name__)

PROGRESS_LOG = "generations.jsonl"
_YES = ("yes", "y", "true")


class ReplyLog:
    """Append-only JSONL map key -> reply; a torn last line (killed mid-write) is ignored."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.replies: dict[str, str] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    rec = json.loads(line)
                    self.replies[rec["key"]] = rec["reply"]
                except (ValueError, KeyError, TypeError):
                    continue

    def add(self, items: dict[str, str]) -> None:
        self.replies.update(items)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("".join(json.dumps({"key": k, "reply": v}, ensure_ascii=False) + "\n" for k, v in items.items()))
            f.flush()
            os.fsync(f.fileno())


class _Writer:
    """Renders prompts and gets replies for tasks, through the reply log."""

    def __init__(self, cfg: SynthConfig, replies: ReplyLog) -> None:
        self.cfg, self.replies = cfg, replies
        params = {k: v for k, v in cfg.llm.items() if k not in ("name", "label")}
        self.llm = LLMS.create(cfg.llm["name"], params)
        styles = {"factoid", *(s for s, w in cfg.styles.items() if w > 0 and s != "metadata")}  # factoid: the fallback
        self.templates: dict[str, ChatTemplate] = {s: load_chat_template(s, cfg.prompts.get(s)) for s in sorted(styles)}
        self._answerable: ChatTemplate | None = None
        self._salt: str | None = None

    def salt(self, name: str) -> list[str]:
        if self._salt is None:
            self._salt = self.llm.signature()
        return [self._salt, str(self.cfg.seed), config_hash(self.templates[name].text if name in self.templates else name)]

    def write(self, tasks: Sequence[Task], seed: int) -> list[str]:
        """Replies for ``tasks`` (template-written questions need no LLM)."""
        keys = {t.index: t.key(*self.salt(t.style)) for t in tasks if not t.question}
        todo = [t for t in tasks if not t.question and keys[t.index] not in self.replies.replies]
        if todo:
            convs = [self.templates[t.style].render(passage=t.passage, opener=t.opener, identifier=t.identifier) for t in todo]
            self.replies.add({keys[t.index]: r for t, r in zip(todo, self.llm.chat(convs, seed=seed, stop=["?"]))})
        return [t.question if t.question else self.replies.replies[keys[t.index]] for t in tasks]

    def answerable(self, cands: Sequence[Candidate], seed: int) -> list[bool]:
        if self._answerable is None:
            self._answerable = load_chat_template("answerable", self.cfg.prompts.get("answerable"))
        keys = [config_hash(["answerable", c.task.passage, c.text, self._answerable.text, *self.salt("answerable")]) for c in cands]
        todo = [(k, c) for k, c in zip(keys, cands) if k not in self.replies.replies]
        if todo:
            convs = [self._answerable.render(passage=c.task.passage, question=c.text) for _, c in todo]
            self.replies.add({k: r for (k, _), r in zip(todo, self.llm.chat(convs, seed=seed))})
        return [self.replies.replies[k].lower().removeprefix("answer:").strip().strip(".!").startswith(_YES) for k in keys]


def _query(c: Candidate, index: int) -> Query:
    t = c.task
    meta: dict[str, Any] = {"source": "synthetic", "style": t.style, "doc_id": t.doc_id, "start": t.start, "end": t.end,
                            "leakage": None if c.leakage is None else round(c.leakage, 4), "chunk_id": t.chunk_id}
    meta.update({k: v for k, v in (("identifier", t.identifier), ("field", t.field), ("answer", t.answer)) if v})
    return Query(f"synth-{index:05d}", c.text or "", meta)


@contextlib.contextmanager
def _progress(total: int, show: bool | None) -> Iterator[Callable[[int, str], None]]:
    """A rich progress bar over kept questions: yields ``update(kept, note)``."""
    from ragkit.core.runtime import show_progress

    if not show_progress(show):
        yield lambda kept, note: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]questions"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}")) as p:
        job = p.add_task("", total=total)
        yield lambda kept, note: p.update(job, completed=kept, description=note)


def _gate(cands: list[Candidate], gates: Gates, writer: _Writer, seed: int) -> None:
    """Every gate, in order, over one batch (answerability only when configured)."""
    for c in cands:
        gates.check(c)
    if gates.spec.answerability:
        alive = [c for c in cands if c.gate is None and c.task.passage and not c.task.question]
        for c, ok in zip(alive, writer.answerable(alive, seed) if alive else []):
            if not ok:
                c.reject("answerability", "the LLM says the passage does not answer it")
    gates.dedupe(cands)


def _encoder(cfg: SynthConfig):
    if not cfg.gates.dedup_cosine:
        return None

    def encode(texts: list[str]):
        from ragkit.core.models import get_embedder

        return get_embedder(cfg.gates.dedup_model).encode(texts, show_progress_bar=False)

    return encode


def generate_set(docs: Sequence[Document], cfg: SynthConfig, out_dir: str | Path, *, show_progress: bool | None = None, info: dict | None = None) -> SyntheticSet:
    """Generate, gate and save a synthetic set into ``out_dir`` (resuming from its progress log).

    Args:
        docs: the corpus (questions are written from its chunks only).
        cfg: the generator config.
        out_dir: the set folder; its ``generations.jsonl`` is reused when present.
        show_progress: progress bar (default: on at INFO level, off with RAGKIT_DISABLE_TQDM).
        info: extra keys for ``ragkit.json`` (e.g. the corpus fingerprint).
    """
    from ragkit import __version__

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    metadata_templates = load_metadata_templates(cfg.prompts.get("metadata")) if cfg.styles.get("metadata") else {}
    writer = _Writer(cfg, ReplyLog(out_dir / PROGRESS_LOG))
    tasks = plan_tasks(docs, cfg, {s: t.openers for s, t in writer.templates.items()}, metadata_templates)
    examples = [e for t in writer.templates.values() for e in t.examples]
    gates, report = Gates(cfg.gates, _encoder(cfg), examples), GateReport(cfg.gates)
    kept: list[Candidate] = []
    rejected: list[dict[str, Any]] = []
    with _progress(cfg.n, show_progress) as update:
        for b, start in enumerate(range(0, len(tasks), cfg.batch_size)):
            batch = tasks[start : start + cfg.batch_size]
            seed = cfg.seed * 1_000_003 + b
            cands = [Candidate(t, r) for t, r in zip(batch, writer.write(batch, seed))]
            _gate(cands, gates, writer, seed)
            for c in cands:
                if c.gate is None and len(kept) >= cfg.n:
                    break  # the target is met: later candidates of this batch are not counted
                report.add(c)
                (kept.append(c) if c.gate is None else rejected.append(c.record()))
            update(len(kept), f"{start + len(batch)} generated")
            if len(kept) >= cfg.n:
                break
    if len(kept) < cfg.n:
        log.warning("only %d of %d questions passed the gates after %d generations; raise max_candidates or relax the gates",
                    len(kept), cfg.n, len(tasks))
    queries = [_query(c, i) for i, c in enumerate(kept, 1)]
    qrels = Qrels({q.id: [Judgment(c.task.doc_id, 1, c.task.start, c.task.end)] for q, c in zip(queries, kept)})
    gate_summary = {**report.to_dict(cfg.n), "seconds": round(time.perf_counter() - t0, 2)}
    meta = {"kind": KIND, "schema_version": SCHEMA_VERSION, "ragkit_version": __version__,
            "config": cfg.model_dump(mode="json"), "llm_signature": writer.salt("factoid")[0], **(info or {})}
    return SyntheticSet(queries, qrels, gate_summary, rejected, meta).save_to(out_dir)


def synthesize(docs: Sequence[Document], cfg: SynthConfig, out_dir: str | Path | None = None, *,
               corpus_key: str | None = None, base_dir: str | Path = ".", show_progress: bool | None = None) -> SyntheticSet:
    """The synthetic set for (corpus, config): loaded when ``cfg.path`` names one, or when a complete set
    for the same corpus and config is in ``out_dir``; generated (resuming) otherwise.

    ``out_dir`` defaults to ``<ragkit cache>/synth/<hash of corpus + config + LLM>``.
    """
    from ragkit.synth.synthetic_set import is_complete, load_set

    if cfg.path:
        path = Path(cfg.path).expanduser()
        return load_set(path if path.is_absolute() else Path(base_dir) / path)
    if corpus_key is None:
        corpus_key = config_hash([[d.id, d.text] for d in docs])
    params = {k: v for k, v in cfg.llm.items() if k not in ("name", "label")}
    set_key = config_hash([corpus_key, cfg.model_dump(mode="json"), LLMS.create(cfg.llm["name"], params).signature(), "synth-v1"])
    if out_dir is None:
        from ragkit.core.cache import cache_root

        out_dir = cache_root() / "synth" / set_key
    out_dir = Path(out_dir)
    if is_complete(out_dir):
        done = load_set(out_dir)
        if done.info.get("set_key") == set_key:
            log.info("synthetic set %s: cached", out_dir)
            return done
    log.info("generating %d synthetic questions into %s", cfg.n, out_dir)
    return generate_set(docs, cfg, out_dir, show_progress=show_progress, info={"set_key": set_key, "corpus_key": corpus_key})
