"""Batched, cached sentence embedding over one loaded sentence-transformers model."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np

from ragkit.core.cache import EmbeddingCache, cache_root, text_key
from ragkit.core.runtime import default_batch_size, resolve_dtype, show_progress

log = logging.getLogger(__name__)


def _fingerprint(model, extra: str) -> str:
    """sha256 over every parameter/buffer (name, dtype, shape, bytes) plus ``extra`` settings."""
    h = hashlib.sha256(extra.encode())
    for name, t in model.state_dict().items():
        arr = t.detach().cpu().contiguous()
        h.update(f"{name}|{arr.dtype}|{tuple(arr.shape)}".encode())
        h.update(arr.view(-1).view(dtype=__import__("torch").uint8).numpy().tobytes())
    return h.hexdigest()[:24]


class Embedder:
    """L2-normalised float32 embeddings with an on-disk cache; holds the model's tokenizer.

    Use :func:`ragkit.core.models.get_embedder` rather than building one: it makes
    sure every component shares one instance.

    Example:
        >>> from ragkit.core.models import get_embedder
        >>> emb = get_embedder("default", device="cpu")
        >>> emb.encode(["hello world"]).shape
        (1, 384)
    """

    def __init__(self, model, *, device: str, name: str, fingerprint: str) -> None:
        self.model = model  # a sentence_transformers.SentenceTransformer
        self.device = device
        self.name = name
        self.fingerprint = fingerprint
        self.model_calls = 0  # texts sent through the network, for tests and stats
        self._caches: dict[str, EmbeddingCache] = {}

    @classmethod
    def load(cls, path: str, *, device: str, dtype: str = "auto", name: str | None = None) -> Embedder:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device="cpu")
        torch_dtype = resolve_dtype(dtype, device)
        model.to(dtype=torch_dtype)
        fp = _fingerprint(model, f"max_seq_length={model.max_seq_length}")
        model.to(device)
        model.eval()
        return cls(model, device=device, name=name or path, fingerprint=fp)

    @property
    def tokenizer(self):
        """The model's Hugging Face (fast) tokenizer, shared with the token chunker."""
        return self.model.tokenizer

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    @property
    def dim(self) -> int:
        fn = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(fn())

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts including special tokens, without truncation."""
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]

    def cache(self) -> EmbeddingCache:
        root = str(cache_root() / "embeddings")
        if root not in self._caches:
            self._caches[root] = EmbeddingCache(root, self.fingerprint)
        return self._caches[root]

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int | None = None,
        use_cache: bool = True,
        show_progress_bar: bool | None = None,
    ) -> np.ndarray:
        """Embeddings of ``texts`` as an (n, dim) float32 array with unit L2 norm.

        Texts already in the cache cost no model call; the others are encoded in
        length-sorted batches under inference mode and added to the cache.
        """
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if not use_cache:
            return self._encode(texts, batch_size, show_progress_bar)
        keys = [text_key(t) for t in texts]
        cache = self.cache()
        found, vecs = cache.get(keys)
        if vecs is not None:
            out[found] = vecs
        missing = np.flatnonzero(~found)
        if len(missing):
            # encode each distinct missing text once
            uniq: dict[bytes, int] = {}
            for i in missing:
                uniq.setdefault(keys[i], i)
            todo = list(uniq.values())
            new = self._encode([texts[i] for i in todo], batch_size, show_progress_bar)
            cache.put([keys[i] for i in todo], new)
            row = {k: j for j, k in enumerate(uniq)}
            out[missing] = new[[row[keys[i]] for i in missing]]
        return out

    def _encode(self, texts: list[str], batch_size: int | None, progress: bool | None) -> np.ndarray:
        import torch

        self.model_calls += len(texts)
        with torch.inference_mode():
            emb = self.model.encode(
                texts,
                batch_size=batch_size or default_batch_size(self.device),
                show_progress_bar=show_progress(progress) and len(texts) > 256,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.asarray(emb, dtype=np.float32)
