"""Process-wide cross-encoder registry: each cross-encoder is loaded once and shared.

Like :func:`ragkit.core.models.get_embedder`, :func:`get_cross_encoder` keys loaded
models by (resolved path, device, dtype), so every reranker and every grid cell that
names the same model reuses one instance.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ragkit.core.models import resolve_model_path

log = logging.getLogger(__name__)

_LOADED: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


def get_cross_encoder(model: str, device: str = "auto", dtype: str = "auto"):
    """The shared ``sentence_transformers.CrossEncoder`` for ``model`` (loaded on first call, then reused).

    Args:
        model: a Hugging Face hub name or a local folder (``default`` resolves to the
            bundled MiniLM, which then gets a freshly initialised, untrained head).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: ``auto`` (fp16 on CUDA, fp32 elsewhere), ``float32``, ``float16``, ``bfloat16``.

    Returns:
        The loaded CrossEncoder in eval mode on ``device``.

    Example:
        >>> ce = get_cross_encoder("cross-encoder/ms-marco-MiniLM-L6-v2", device="cpu")  # doctest: +SKIP
        >>> ce is get_cross_encoder("cross-encoder/ms-marco-MiniLM-L6-v2", device="cpu")  # doctest: +SKIP
        True
    """
    from ragkit.core.runtime import resolve_device, resolve_dtype

    path = resolve_model_path(model)
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    key = (path, dev, str(torch_dtype).removeprefix("torch."))
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(path, dev, torch_dtype, model)
        return _LOADED[key]


def _load(path: str, device: str, torch_dtype, name: str):
    try:
        from sentence_transformers import CrossEncoder
    except ImportError:  # pragma: no cover - a core dependency
        from ragkit.errors import MissingDependencyError

        raise MissingDependencyError("cross-encoders need sentence-transformers: pip install sentence-transformers") from None
    log.info("loading cross-encoder %s on %s (%s)", name, device, torch_dtype)
    # load on CPU, cast, then move: the cast never needs two fp32 copies on the accelerator
    try:
        ce = CrossEncoder(path, device="cpu")
    except OSError as err:  # hub unreachable / unknown repo / missing files
        from ragkit.core.models import model_load_error

        raise model_load_error(name, err) from err
    ce.to(dtype=torch_dtype)
    ce.to(device)
    ce.eval()
    return ce


def loaded_cross_encoders() -> list[str]:
    """Keys of the cross-encoders loaded in this process (for tests and diagnostics)."""
    return [f"{p} ({d}, {t})" for p, d, t in _LOADED]
