"""ColBERT-style late-interaction reranking with the shared bi-encoder's token embeddings.

MaxSim (Khattab & Zaharia, "ColBERT: Efficient and Effective Passage Search via
Contextualized Late Interaction over BERT", SIGIR 2020)::

    score(q, d) = sum_i max_j cos(q_i, d_j)

over the unit-length contextual token embeddings of the query and the chunk
(special and padding tokens removed, :mod:`ragkit.core.token_embeddings`). The
encoder is the one :func:`ragkit.core.models.get_embedder` loaded for the dense
retriever: no second model is loaded. It is not trained for late interaction, so
this is a cheap, model-free reranker rather than a ColBERT checkpoint.

Chunk token embeddings are cached in memory per model (chunk text sha256 -> array,
shared by every reranker instance on that model), so re-ranking many queries over
overlapping candidates, or many grid cells, embeds each chunk once. Memory grows as
``n_tokens * dim * 4`` bytes per distinct chunk (about 0.4 MB for 256 MiniLM tokens).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import Field

from ragkit.core.models import SharedEmbedderMixin
from ragkit.data.types import Chunk, Query, Run
from ragkit.registry import RERANKERS, ComponentConfig
from ragkit.rerank.base import Reranker, apportion, build_run, check_k, collect_candidates

log = logging.getLogger(__name__)

_PAIR_BLOCK_ELEMS = 1 << 24  # cap on one (pairs x q_tokens x d_tokens) similarity block: 64 MiB of fp32
_TOKEN_CACHE: dict[str, dict[str, np.ndarray]] = {}  # model fingerprint -> text sha256 -> (n, d)


def maxsim(q: np.ndarray, d: np.ndarray) -> float:
    """Reference MaxSim of one query (m, dim) and one document (n, dim) token matrix.

    Rows are assumed unit length, so dot products are cosines. An empty query scores
    0; an empty document scores 0 as well (no token to match).

    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> d = np.array([[1.0, 0.0], [0.6, 0.8]])
    >>> maxsim(q, d)  # max(1, .6) + max(0, .8)
    1.8
    """
    if len(q) == 0 or len(d) == 0:
        return 0.0
    return float((q @ d.T).max(axis=1).sum())


def _pad(arrays: Sequence[np.ndarray], device: str):
    """Stack variable-length (n_i, dim) arrays into a zero-padded (B, L, dim) tensor and a (B, L) bool mask."""
    import torch

    dim = arrays[0].shape[1]
    length = max(1, max(len(a) for a in arrays))
    out = np.zeros((len(arrays), length, dim), dtype=np.float32)
    mask = np.zeros((len(arrays), length), dtype=bool)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
        mask[i, : len(a)] = True
    return torch.from_numpy(out).to(device), torch.from_numpy(mask).to(device)


def maxsim_batched(q, q_mask, d, d_mask):
    """MaxSim of B (query, doc) pairs on torch: (B, Lq, dim), (B, Lq), (B, Ld, dim), (B, Ld) -> (B,).

    Padded document tokens are set to -inf before the max, so padding never wins;
    padded query tokens contribute 0. Pairs with an empty document score 0.
    """
    import torch

    sim = torch.einsum("bqh,bdh->bqd", q, d)  # (B, Lq, Ld)
    sim = sim.masked_fill(~d_mask[:, None, :], float("-inf"))
    best = sim.max(dim=2).values  # (B, Lq)
    best = torch.where(q_mask & d_mask.any(dim=1, keepdim=True), best, torch.zeros_like(best))
    return best.sum(dim=1)  # (B,)


def maxsim_pairs(qs: Sequence[np.ndarray], ds: Sequence[np.ndarray], device: str = "cpu") -> np.ndarray:
    """MaxSim of ``qs[i]`` vs ``ds[i]`` for every i, in padded blocks of bounded memory. float32 (n,)."""
    import torch

    out = np.empty(len(qs), dtype=np.float32)
    if not len(qs):
        return out
    order = sorted(range(len(ds)), key=lambda i: -len(ds[i]))  # similar lengths share a block: less padding
    lq, i = max(1, max(len(q) for q in qs)), 0
    with torch.inference_mode():
        while i < len(order):
            ld = max(1, len(ds[order[i]]))  # the longest doc of this block
            step = max(1, _PAIR_BLOCK_ELEMS // (lq * ld))
            idx = order[i : i + step]
            q, qm = _pad([qs[j] for j in idx], device)
            d, dm = _pad([ds[j] for j in idx], device)
            out[idx] = maxsim_batched(q, qm, d, dm).float().cpu().numpy()
            i += len(idx)
    return out


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@RERANKERS.register("late_interaction")
class LateInteractionReranker(SharedEmbedderMixin, Reranker):
    """Rescore the top ``depth`` first-stage hits by ColBERT MaxSim over the shared encoder's token embeddings.

    ``last_timings`` maps query id -> seconds of the last ``rerank`` call: the wall
    time of the whole call (query and uncached chunk encoding plus MaxSim),
    apportioned to queries by their number of (query, chunk) pairs.

    Example:
        >>> from ragkit.core.models import get_embedder
        >>> r = LateInteractionReranker(model="default", depth=50, device="cpu")
        >>> r.embedder is get_embedder("default", device="cpu")  # the dense retriever's model
        True
        >>> reranked = r.rerank(queries, first_stage_run, chunks_by_id, k=10)  # doctest: +SKIP
    """

    class Config(ComponentConfig):
        model: str = "default"
        depth: int = Field(default=100, ge=1)
        batch_size: int | None = Field(default=None, ge=1)
        device: str = "auto"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.last_timings: dict[str, float] = {}

    @property
    def token_cache(self) -> dict[str, np.ndarray]:
        """chunk text sha256 -> (n_tokens, dim) array, shared by all rerankers on this model."""
        return _TOKEN_CACHE.setdefault(self.embedder.fingerprint, {})

    def encode_tokens(self, texts: Sequence[str], *, cache: bool = True) -> list[np.ndarray]:
        """Token embeddings of ``texts``; with ``cache``, each distinct text is encoded once per process."""
        from ragkit.core.token_embeddings import token_embeddings

        if not cache:
            return token_embeddings(self.embedder, texts, batch_size=self.config.batch_size)
        store = self.token_cache
        keys = [_sha(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts) if k not in store}
        if todo:
            new = token_embeddings(self.embedder, list(todo.values()), batch_size=self.config.batch_size)
            store.update(zip(todo, new))
        return [store[k] for k in keys]

    def rerank(self, queries: Sequence[Query], run: Run, chunks: Mapping[str, Chunk], k: int = 10) -> Run:
        """The top ``k`` of each query's first ``depth`` hits, by MaxSim score."""
        check_k(k)
        cands = collect_candidates(queries, run, chunks, self.config.depth)
        text = {q.id: q.text for q in queries}
        t0 = time.perf_counter()
        qids = [qid for qid, cs in cands.items() if cs]
        q_tok = dict(zip(qids, self.encode_tokens([text[q] for q in qids], cache=False)))
        d_tok = self.encode_tokens([c.indexed_text for qid in qids for c in cands[qid]])
        q_rep = [q_tok[qid] for qid in qids for _ in cands[qid]]
        scores = maxsim_pairs(q_rep, d_tok, self.embedder.device)
        self.last_timings = apportion(time.perf_counter() - t0, {q: len(cs) for q, cs in cands.items()})
        return build_run(cands, scores, k)
