"""Contextual token embeddings from the shared bi-encoder (for late interaction).

:func:`token_embeddings` runs the very SentenceTransformer that
:func:`ragkit.core.models.get_embedder` loaded (``embedder.model``), so a
late-interaction reranker adds no second copy of the model. Padding and special
tokens (``[CLS]``, ``[SEP]``, ...) are dropped, so a text yields exactly one row per
word-piece of ``tokenizer(text, add_special_tokens=False)`` (up to truncation at the
model's ``max_seq_length``), each row L2-normalised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ragkit.core.runtime import default_batch_size

if TYPE_CHECKING:
    from ragkit.core.embedder import Embedder

log = logging.getLogger(__name__)


def _special_ids(tokenizer):
    import torch

    return torch.tensor(sorted(set(tokenizer.all_special_ids)), dtype=torch.long)


def _encode_batch(model, texts: list[str], special) -> list[np.ndarray]:
    """Token rows of one batch: forward, keep attended non-special tokens, L2-normalise."""
    import torch

    # sentence-transformers >= 6 renamed tokenize to preprocess
    features = (getattr(model, "preprocess", None) or model.tokenize)(texts)
    ids, attn = features["input_ids"], features["attention_mask"].bool()  # (B, T)
    keep = attn & ~torch.isin(ids, special)  # (B, T)
    dev = model.device
    out = model({k: (v.to(dev) if isinstance(v, torch.Tensor) else v) for k, v in features.items()})
    tok = out["token_embeddings"].float()  # (B, T, d)
    tok = torch.nn.functional.normalize(tok, p=2, dim=-1).cpu()
    return [tok[i][keep[i]].numpy() for i in range(len(texts))]


def token_embeddings(embedder: Embedder, texts: Sequence[str], *, batch_size: int | None = None) -> list[np.ndarray]:
    """Per text, an (n_tokens, d) float32 array of unit-length contextual token embeddings.

    Texts are encoded in length-sorted batches under ``torch.inference_mode()``;
    the output order is that of ``texts``. Special and padding tokens are removed.

    Args:
        embedder: the shared embedder (``get_embedder(...)``); its ``model`` is used as is.
        texts: the texts to encode.
        batch_size: texts per forward pass (default: 128 on CUDA, 32 elsewhere).

    Example:
        >>> from ragkit.core.models import get_embedder
        >>> emb = get_embedder("default", device="cpu")
        >>> [t.shape for t in token_embeddings(emb, ["hello world"])]
        [(2, 384)]
    """
    import torch

    texts = list(texts)
    if not texts:
        return []
    model = embedder.model
    bs = batch_size or default_batch_size(embedder.device)
    special = _special_ids(embedder.tokenizer)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # longest first, as sentence-transformers does
    out: list[np.ndarray | None] = [None] * len(texts)
    with torch.inference_mode():
        for s in range(0, len(order), bs):
            idx = order[s : s + bs]
            for i, arr in zip(idx, _encode_batch(model, [texts[i] for i in idx], special)):
                out[i] = arr
    return out  # type: ignore[return-value]
