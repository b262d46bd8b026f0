"""Dense (bi-encoder) retrieval: exact cosine top-k in torch over chunks stored in LanceDB.

``index(chunks)`` embeds every chunk once through the process-wide shared embedder
(:func:`ragkit.core.get_embedder`, so the model is loaded once and embeddings are
cached on disk), stores chunks and vectors in a content-addressed LanceDB table
(:mod:`ragkit.retrieval.lance_store`) and keeps the (n, d) matrix as a torch tensor
on the embedder's device. A second ``index`` of the same chunks with the same model
reads the table back: no model call, no write.

``retrieve`` embeds all queries in one batched call and scores them against the
corpus in blocks of ``block_size`` rows (``scores = Q @ C_block^T``), so memory
stays bounded whatever the corpus size; a running top-k is kept across blocks.
Vectors are unit length, so the scores are cosine similarities. Ties are broken by
ascending chunk position, exactly as :func:`ragkit.retrieval.topk.topk` does.

Past ``ann_threshold`` chunks, with ``ann`` set, a LanceDB vector index (IVF-PQ or
HNSW, built with ``ann_params``) is built and unfiltered queries go through it
(searched with ``nprobes`` / ``ef`` / ``refine_factor``); :meth:`DenseRetriever.ann_recall`
measures its recall@k against exact search, and experiments report it as
``ann_recall@10``. Filtered queries (``where``) always use exact search, so every
retriever sees the same candidate set for the same filter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ragkit.core.models import SharedEmbedderMixin
from ragkit.data.types import Chunk, Hit, Query, Run
from ragkit.errors import ConfigError, DataValidationError, RagkitError
from ragkit.registry import RETRIEVERS, ComponentConfig
from ragkit.retrieval.base import Retriever
from ragkit.retrieval.filters import filter_mask
from ragkit.retrieval.lance_store import ENV_PREFIX, ChunkTable, check_index_params
from ragkit.retrieval.topk import topk

log = logging.getLogger(__name__)

_MAX_SCORE_ELEMS = 1 << 25  # cap on one (queries x corpus rows) score block: 128 MiB of float32
_SECRET_KEY = re.compile(r"secret|password|token|key|credential", re.IGNORECASE)


def _block_topk(scores, k: int):
    """Top-``k`` of each row of a torch score block: (values, indices), score desc, ties by ascending index.

    ``torch.topk`` is fast on every device but picks arbitrarily among items tied at
    the k-th score; rows with such a boundary tie (rare with real embeddings) are
    redone by the shared :func:`~ragkit.retrieval.topk.topk`, which defines the rule.
    Masked items must already be ``-inf``.
    """
    import torch

    kk = min(k, scores.shape[1])
    vals, idx = torch.topk(scores, kk, dim=1)  # (Q, kk)
    kth = vals[:, -1:]
    # -inf at the boundary means fewer than kk candidates: those items are dropped later anyway
    tied = ((scores >= kth).sum(1) != kk) & (kth[:, 0] > float("-inf"))
    if bool(tied.any()):
        rows = tied.nonzero()[:, 0]
        sub = scores[rows]
        fixed = topk(sub.float().cpu().numpy(), kk)
        idx[rows] = torch.as_tensor(np.stack(fixed.indices), device=scores.device)
        vals[rows] = sub.gather(1, idx[rows])
    # order the kk items: score desc, ties by ascending index (sort by index, then stable by score)
    order = torch.sort(idx, dim=1).indices
    vals, idx = vals.gather(1, order), idx.gather(1, order)
    order = torch.sort(vals, dim=1, descending=True, stable=True).indices
    return vals.gather(1, order), idx.gather(1, order)


def _check_k(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ConfigError(f"retrieve: k must be an integer >= 0, got {k!r}")


def _merge(best, block, k: int):
    """Merge the running top-k with a later block's top-k (all of whose indices are larger)."""
    import torch

    if best is None:
        return block
    vals = torch.cat([best[0], block[0]], dim=1)
    idx = torch.cat([best[1], block[1]], dim=1)
    # stable: among equal scores the running (lower-index) items stay first
    order = torch.sort(vals, dim=1, descending=True, stable=True).indices[:, :k]
    return vals.gather(1, order), idx.gather(1, order)


@RETRIEVERS.register("dense")
class DenseRetriever(SharedEmbedderMixin, Retriever):
    """Exact cosine-similarity retrieval over bi-encoder embeddings stored in LanceDB.

    Args:
        model: embedding model: ``default`` (the bundled all-MiniLM-L6-v2), a
            Hugging Face name or a local path.
        device: ``auto`` (CUDA, then MPS, then CPU), ``cpu``, ``cuda``, ``cuda:N``, ``mps``.
        batch_size: texts per encoder batch; ``None`` picks by device.
        uri: LanceDB location (folder or ``s3://``/``gs://``/``az://`` URI); ``None``
            is ``<cache root>/lancedb``.
        storage_options: object-store options for ``lancedb.connect``; a value
            ``$env:NAME`` is read from the environment when the table is opened.
        query_prefix: prepended to every query (``"query: "`` for e5 models).
        document_prefix: prepended to every chunk (``"passage: "`` for e5 models).
        block_size: corpus rows per score block (bounds memory).
        ann: approximate index to build past ``ann_threshold`` chunks: ``none``,
            ``ivf_pq`` or ``hnsw``.
        ann_threshold: build the ANN index only when the corpus has more chunks.
        ann_params: index build parameters for LanceDB (``ivf_pq``: ``num_partitions``,
            ``num_sub_vectors``, ``num_bits``...; ``hnsw``: ``m``, ``ef_construction``,
            ``num_partitions``...); LanceDB's defaults for the table size otherwise.
        nprobes: IVF partitions searched per query (LanceDB's default when ``None``).
        ef: HNSW candidate list size per query (LanceDB's default when ``None``; raised to
            ``k * refine_factor`` when smaller, as HNSW requires).
        refine_factor: re-score ``refine_factor * k`` ANN candidates with the full
            vectors, so returned scores are exact cosines (``None``: no re-scoring).
        ann_recall_sample: queries sampled to measure the ANN recall against exact search.

    Example:
        >>> from ragkit.data.types import Chunk, Query
        >>> r = DenseRetriever(device="cpu")
        >>> r.index([Chunk("a#0", "a", "cats purr", 0, 9), Chunk("b#0", "b", "stocks fell", 0, 11)])
        >>> r.retrieve([Query("q", "kittens")], k=1)["q"][0].chunk_id
        'a#0'
    """

    class Config(ComponentConfig):
        model: str = "default"
        device: str = "auto"
        batch_size: int | None = Field(default=None, ge=1)
        uri: str | None = None
        storage_options: dict[str, str] = {}
        query_prefix: str = ""
        document_prefix: str = ""
        block_size: int = Field(default=65536, ge=1)
        ann: Literal["none", "ivf_pq", "hnsw"] = "none"
        ann_threshold: int = Field(default=100_000, ge=0)
        ann_params: dict[str, int] = {}
        nprobes: int | None = Field(default=None, ge=1)
        ef: int | None = Field(default=None, ge=1)
        refine_factor: int | None = Field(default=5, ge=1)
        ann_recall_sample: int = Field(default=200, ge=1)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.config.ann != "none":
            check_index_params(self.config.ann, self.config.ann_params)
        for key, value in self.config.storage_options.items():
            if _SECRET_KEY.search(key) and not str(value).startswith(ENV_PREFIX):
                log.warning(
                    "storage_options.%s holds a literal value; configs are saved with runs, so "
                    "put secrets in an environment variable and write '%sNAME'",
                    key,
                    ENV_PREFIX,
                )
        self._chunks: list[Chunk] = []
        self._row: dict[str, int] | None = None  # chunk id -> position; None until index()
        self._matrix = None  # torch (n, d) float32 on the embedder's device
        self._table: ChunkTable | None = None
        self._ann_table = None  # opened LanceDB table when the ANN index is in use

    def __repr__(self) -> str:  # storage option values may be secrets: show keys only
        cfg = {**self.config_dict(), "storage_options": {k: "***" for k in self.config.storage_options}}
        return f"DenseRetriever({', '.join(f'{k}={v!r}' for k, v in cfg.items())})"

    @property
    def table(self) -> ChunkTable | None:
        """The LanceDB table of the indexed chunks (``None`` before indexing or for an empty corpus)."""
        return self._table

    @property
    def ann_active(self) -> bool:
        """True when unfiltered queries go through the approximate LanceDB index."""
        return self._ann_table is not None

    def index(self, chunks: Sequence[Chunk]) -> None:
        """Embed and store ``chunks`` (or reuse their existing table), keeping the vectors in memory."""
        import torch

        chunks = list(chunks)
        ids = [c.id for c in chunks]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise DataValidationError(f"dense.index: chunk id '{dup}' appears more than once; chunk ids must be unique")
        self._chunks, self._table, self._ann_table = chunks, None, None
        self._row = {cid: i for i, cid in enumerate(ids)}
        if not chunks:  # nothing to embed or store; do not even load the model
            self._matrix = None
            return
        emb = self.embedder
        texts = self.document_texts(chunks)
        self._table = self.table_for(chunks, texts)
        vectors = self._reuse(ids) if self._table.is_complete(len(chunks)) else None
        if vectors is None:
            vectors = emb.encode(texts, batch_size=self.config.batch_size)
            self._table.write(chunks, vectors)
        self._matrix = torch.as_tensor(vectors, device=emb.device)  # (n, d)
        if self.config.ann != "none" and len(chunks) > self.config.ann_threshold:
            self._table.ensure_index(self.config.ann, self.config.ann_params)
            self._ann_table = self._table.open()

    def document_texts(self, chunks: Sequence[Chunk]) -> list[str]:
        """The texts embedded for ``chunks``: ``document_prefix`` + each chunk's indexed text."""
        return [self.config.document_prefix + c.indexed_text for c in chunks]

    def table_for(
        self, chunks: Sequence[Chunk], texts: Sequence[str] | None = None, *, fingerprint: str | None = None,
        dim: int | None = None,
    ) -> ChunkTable:
        """The content-addressed LanceDB table that :meth:`index` reads (or writes) for ``chunks``.

        ``fingerprint`` and ``dim`` default to this process's embedder; pass the ones of
        the process that embeds (e.g. a GPU worker, whose fp16 weights give another
        fingerprint) to name the table from elsewhere without loading the model here.
        """
        if fingerprint is None or dim is None:
            fingerprint, dim = self.embedder.fingerprint, self.embedder.dim
        return ChunkTable.for_chunks(
            chunks,
            self.document_texts(chunks) if texts is None else texts,
            fingerprint=fingerprint,
            dim=dim,
            uri=self.config.uri,
            storage_options=self.config.storage_options,
        )

    def _reuse(self, ids: list[str]) -> np.ndarray | None:
        """Vectors read back from a complete existing table, in ``ids`` order; None if it does not match."""
        vectors, table_ids, _, _ = self._table.load_vectors()
        if table_ids != ids:
            if sorted(table_ids) != sorted(ids):
                log.warning("LanceDB table %s does not hold the expected chunks; rewriting it", self._table.name)
                return None
            pos = {cid: i for i, cid in enumerate(table_ids)}
            vectors = vectors[[pos[c] for c in ids]]
        log.info("reusing LanceDB table %s (%d chunks, no embedding)", self._table.name, len(ids))
        return vectors

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings of ``texts`` (with ``query_prefix``), (n, d) float32 on CPU.

        Their dot product with :meth:`chunk_vectors` is the query-chunk cosine.
        """
        prefix = self.config.query_prefix
        return self.embedder.encode([prefix + t for t in texts], batch_size=self.config.batch_size)

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored embeddings of indexed chunks, (n, d) float32 on CPU, in the order asked."""
        self._require_index()
        missing = [c for c in chunk_ids if c not in self._row]
        if missing:
            raise DataValidationError(
                f"chunk_vectors: {len(missing)} chunk id(s) not indexed, e.g. '{missing[0]}'; "
                "pass ids of chunks given to index()"
            )
        if not chunk_ids:
            return np.empty((0, self.embedder.dim), dtype=np.float32)
        import torch

        rows = torch.as_tensor([self._row[c] for c in chunk_ids], device=self._matrix.device)
        return self._matrix[rows].cpu().numpy()

    def retrieve(self, queries: Sequence[Query], k: int = 10, where: Mapping[str, Any] | None = None) -> Run:
        """The ``k`` most cosine-similar chunks of each query, among those matching ``where``.

        All queries are embedded in one batched call, then ranked by :meth:`search_vectors`.
        """
        self._require_index()
        _check_k(k)
        queries = list(queries)
        if not queries or self._matrix is None or k == 0:  # nothing to rank: skip the model entirely
            return Run({q.id: () for q in queries})
        qvecs = self.encode_queries([q.text for q in queries])
        return self.search_vectors([q.id for q in queries], qvecs, k, where)

    def search_vectors(
        self, query_ids: Sequence[str], vectors: np.ndarray, k: int = 10, where: Mapping[str, Any] | None = None
    ) -> Run:
        """Rank chunks for already-embedded queries (unit-length rows of ``vectors``).

        Example:
            >>> qv = r.encode_queries(["kittens"])  # doctest: +SKIP
            >>> r.search_vectors(["q"], qv, k=5)  # doctest: +SKIP
            Run(1 queries)
        """
        self._require_index()
        _check_k(k)
        query_ids = list(query_ids)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(query_ids), -1)
        mask = filter_mask(where, [c.metadata for c in self._chunks])
        if not query_ids or self._matrix is None or k == 0 or (mask is not None and not mask.any()):
            return Run({qid: () for qid in query_ids})
        if vectors.shape[1] != self._matrix.shape[1]:
            raise DataValidationError(
                f"search_vectors: query vectors have {vectors.shape[1]} dims, the index has "
                f"{self._matrix.shape[1]}; embed queries with encode_queries()"
            )
        if mask is None and self.ann_active:
            return self._retrieve_ann(query_ids, vectors, k)
        vals, idx = self._exact(vectors, int(k), mask)
        c, out = self._chunks, {}
        for qid, v_row, i_row in zip(query_ids, vals, idx):
            out[qid] = [Hit(c[i].id, c[i].doc_id, float(s)) for s, i in zip(v_row, i_row) if s > -np.inf]
        return Run(out)

    def _exact(self, qvecs: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k: (scores, chunk positions), each (n_queries, min(k, n)); masked slots are -inf."""
        import torch

        corpus = self._matrix  # (N, d)
        n, block = corpus.shape[0], self.config.block_size
        q_step = max(1, _MAX_SCORE_ELEMS // min(block, n))
        mask_t = None if mask is None else torch.as_tensor(mask, device=corpus.device)
        vals_out, idx_out = [], []
        with torch.inference_mode():
            for q_lo in range(0, len(qvecs), q_step):
                q = torch.as_tensor(qvecs[q_lo : q_lo + q_step], device=corpus.device)  # (Q, d)
                best = None
                for lo in range(0, n, block):
                    scores = q @ corpus[lo : lo + block].T  # (Q, B)
                    if mask_t is not None:
                        scores.masked_fill_(~mask_t[lo : lo + block], float("-inf"))
                    v, i = _block_topk(scores, k)
                    best = _merge(best, (v, i + lo), k)
                vals_out.append(best[0].cpu().numpy())
                idx_out.append(best[1].cpu().numpy())
        return np.concatenate(vals_out), np.concatenate(idx_out)

    def _ann_search(self, qvec: np.ndarray, k: int) -> list[dict[str, Any]]:
        cfg = self.config
        query = self._ann_table.search(qvec, vector_column_name="vector").distance_type("dot").limit(k)
        if cfg.nprobes is not None:
            query = query.nprobes(cfg.nprobes)
        if cfg.ef is not None:
            # HNSW needs a candidate list at least as long as what it returns (k, times the refine factor)
            query = query.ef(max(cfg.ef, k * (cfg.refine_factor or 1)))
        if cfg.refine_factor is not None:
            query = query.refine_factor(cfg.refine_factor)
        return query.select(["chunk_id", "doc_id"]).to_list()

    def _retrieve_ann(self, query_ids: list[str], qvecs: np.ndarray, k: int) -> Run:
        out = {}
        for qid, vec in zip(query_ids, qvecs):
            # LanceDB's dot distance is 1 - dot; vectors are unit length, so 1 - distance is the cosine
            out[qid] = [Hit(r["chunk_id"], r["doc_id"], 1.0 - float(r["_distance"])) for r in self._ann_search(vec, k)]
        return Run(out)

    def ann_recall(self, queries: Sequence[Query], k: int = 10, sample: int | None = None, seed: int = 0) -> float:
        """Mean recall@k of the ANN index against exact search, over a random sample of ``queries``.

        Returns 1.0 when no ANN index is in use (search is exact). Recall of a query
        is the share of its exact top-k chunk ids that the ANN search also returns.
        ``sample`` defaults to ``ann_recall_sample``; the result is also logged.

        Example:
            >>> r.ann_recall(queries, k=10)  # doctest: +SKIP
            0.97
        """
        self._require_index()
        queries = list(queries)
        if not self.ann_active or not queries or k <= 0:
            return 1.0
        rng = np.random.default_rng(seed)
        sample = self.config.ann_recall_sample if sample is None else sample
        pick = sorted(rng.choice(len(queries), size=min(sample, len(queries)), replace=False))
        qvecs = self.encode_queries([queries[i].text for i in pick])
        _, exact = self._exact(qvecs, k, None)
        recalls = []
        for vec, ex_row in zip(qvecs, exact):
            truth = {self._chunks[i].id for i in ex_row}
            found = {r["chunk_id"] for r in self._ann_search(vec, k)}
            recalls.append(len(truth & found) / len(truth))
        recall = float(np.mean(recalls))
        log.info(
            "dense: %s index recall@%d vs exact search = %.3f over %d sampled queries (%d chunks)",
            self.config.ann, k, recall, len(pick), len(self._chunks),
        )
        return recall

    def _require_index(self) -> None:
        if self._row is None:
            raise RagkitError("dense: call index(chunks) before retrieve(), chunk_vectors() or ann_recall()")
