"""Static token vectors distilled from the shared encoder, for real-time question featurisation.

A transformer forward pass costs far more than a classifier's matrix product: on two
CPU cores all-MiniLM-L6-v2 embeds a few hundred short questions per second. For a
topic classifier that must keep up with live traffic, each word-piece of the
encoder's vocabulary is run through the encoder once, alone (``[CLS] piece [SEP]``; its
output at the piece's position), giving one static vector per piece (the Model2Vec
idea, Tulkens & van Dongen 2024). A question's vector is then the normalised mean of
its pieces' vectors: tokenisation plus a sparse product, thousands of questions per
second on a CPU, no torch needed at prediction time.

When the encoder's embeddings of the fitting questions are given, a ridge regression
(``RidgeCV``, alpha by generalised cross-validation) maps that vector onto the
encoder's embedding of the same question, and the mapped vector is used: the features
then sit close to what the topics were clustered on (held-out agreement with BERTopic's
transform on NFCorpus + SciFact questions: see ``benchmarks/bench_classify.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["StaticEncoder", "distill_vectors"]


def distill_vectors(embedder, *, batch_size: int = 1024) -> np.ndarray:
    """(vocab_size, dim) float32: the shared encoder's output for each vocabulary piece alone (``[CLS] piece [SEP]``).

    Cached on disk under the embedding cache, keyed by the model fingerprint.
    """
    from ragkit.core.cache import cache_root

    path = cache_root() / "static" / f"{embedder.fingerprint}-piece.npy"
    if path.is_file():
        return np.load(path)
    import torch

    from ragkit.experiment.store import atomic_write_bytes

    tok, model = embedder.tokenizer, embedder.model
    n = len(tok)
    cls, sep = tok.cls_token_id, tok.sep_token_id
    ids = torch.arange(n, dtype=torch.long)
    out = np.empty((n, embedder.dim), dtype=np.float32)
    log.info("distilling %d static token vectors from %s (once per model)", n, embedder.name)
    with torch.inference_mode():
        for s in range(0, n, batch_size):
            b = ids[s : s + batch_size]
            inp = torch.stack([torch.full_like(b, cls or 0), b, torch.full_like(b, sep or 0)], 1)  # (B, 3)
            feats = {"input_ids": inp, "attention_mask": torch.ones_like(inp), "token_type_ids": torch.zeros_like(inp)}
            emb = model({k: v.to(model.device) for k, v in feats.items()})["token_embeddings"][:, 1]  # (B, d)
            out[s : s + batch_size] = emb.float().cpu().numpy()
    import io

    buf = io.BytesIO()
    np.save(buf, out)
    atomic_write_bytes(path, buf.getvalue())
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)


class StaticEncoder:
    """Question -> unit vector from static piece vectors (see the module docstring).

    Args:
        tokenizer: a ``tokenizers.Tokenizer`` (the encoder's fast tokenizer).
        vectors: (vocab_size, d) piece vectors.
        projection: optional (d, d) ridge map onto the encoder's embedding space, and its
        bias: (d,) intercept.
    """

    def __init__(
        self, tokenizer, vectors: np.ndarray, projection: np.ndarray | None = None, bias: np.ndarray | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.vectors = np.asarray(vectors, dtype=np.float32)  # float16 on disk, float32 for the product
        self.projection = None if projection is None else np.asarray(projection, dtype=np.float32)
        self.bias = None if bias is None else np.asarray(bias, dtype=np.float32)

    @classmethod
    def fit(cls, embedder, texts: Sequence[str], embeddings: np.ndarray | None = None) -> StaticEncoder:
        """Distil the piece vectors from ``embedder``; with ``embeddings`` (of ``texts``), fit the ridge map too."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(embedder.tokenizer.backend_tokenizer.to_str())
        tokenizer.no_truncation()
        tokenizer.no_padding()
        enc = cls(tokenizer, distill_vectors(embedder))
        if embeddings is not None and len(texts) >= 5:
            from sklearn.linear_model import RidgeCV

            ridge = RidgeCV(alphas=(0.01, 0.1, 1.0, 10.0, 100.0))
            ridge.fit(_unit(enc._mean(texts)), np.asarray(embeddings, dtype=np.float32))
            enc.projection, enc.bias = ridge.coef_.T.astype(np.float32), ridge.intercept_.astype(np.float32)
            log.info("static features: ridge map onto the encoder space, alpha %s", ridge.alpha_)
        return enc

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def _mean(self, texts: Sequence[str]) -> np.ndarray:
        """(n, d) mean piece vector of each text (a text with no pieces gives a zero row)."""
        from scipy.sparse import csr_matrix

        encs = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
        ids = np.fromiter((i for e in encs for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
        weights = 1.0 / np.repeat(np.maximum(lengths, 1), lengths).astype(np.float32)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        pieces = csr_matrix((weights, ids, indptr), shape=(len(encs), len(self.vectors)))  # (n, V) averaging
        return np.asarray(pieces @ self.vectors, dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, d) float32 unit vectors."""
        out = _unit(self._mean(texts))
        if self.projection is not None:
            out = _unit(out @ self.projection + self.bias)
        return out

    def save(self, folder: Path) -> None:
        import io

        from ragkit.experiment.store import atomic_write_bytes

        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / "tokenizer.json", self.tokenizer.to_str().encode())
        arrays = {"vectors.npy": self.vectors.astype(np.float16), "projection.npy": self.projection,
                  "bias.npy": self.bias}
        for name, arr in arrays.items():
            if arr is not None:
                buf = io.BytesIO()
                np.save(buf, arr)
                atomic_write_bytes(folder / name, buf.getvalue())

    @classmethod
    def load(cls, folder: Path) -> StaticEncoder:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str((folder / "tokenizer.json").read_text(encoding="utf-8"))
        proj = np.load(folder / "projection.npy") if (folder / "projection.npy").is_file() else None
        bias = np.load(folder / "bias.npy") if (folder / "bias.npy").is_file() else None
        return cls(tokenizer, np.load(folder / "vectors.npy"), proj, bias)
