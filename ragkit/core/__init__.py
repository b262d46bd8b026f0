"""The shared core: device policy, the process-wide model registry, batched cached encoding.

Nothing here imports torch at import time.
"""

from ragkit.core.models import DEFAULT_EMBEDDER, get_embedder, resolve_model_path

__all__ = ["DEFAULT_EMBEDDER", "get_embedder", "resolve_model_path"]
