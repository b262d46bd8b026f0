"""Device, dtype, progress-bar and seeding policy: the only place that asks torch about hardware."""

from __future__ import annotations

import logging
import os
import random
from typing import Literal

DeviceName = Literal["auto", "cpu", "cuda", "mps"]
DtypeName = Literal["auto", "float32", "float16", "bfloat16"]


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` if available, else ``mps``, else ``cpu``; explicit names are checked.

    >>> resolve_device("cpu")
    'cpu'
    """
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    base = device.split(":")[0]
    if base == "cuda" and not torch.cuda.is_available():
        from ragkit.errors import ConfigError

        raise ConfigError(f"device '{device}' requested but CUDA is not available; use device: auto or cpu")
    if base == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        from ragkit.errors import ConfigError

        raise ConfigError(f"device '{device}' requested but MPS is not available; use device: auto or cpu")
    if base not in ("cpu", "cuda", "mps"):
        from ragkit.errors import ConfigError

        raise ConfigError(f"unknown device '{device}'; allowed: auto, cpu, cuda, cuda:N, mps")
    return device


def resolve_dtype(dtype: str, device: str):
    """``auto`` -> float16 on CUDA (bfloat16 is opt-in), float32 elsewhere. Returns a torch dtype."""
    import torch

    if dtype == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    try:
        return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]
    except KeyError:
        from ragkit.errors import ConfigError

        raise ConfigError(f"unknown dtype '{dtype}'; allowed: auto, float32, float16, bfloat16") from None


def default_batch_size(device: str) -> int:
    return 128 if device.startswith("cuda") else 32


def show_progress(flag: bool | None = None) -> bool:
    """Progress bars: an explicit flag wins; ``RAGKIT_DISABLE_TQDM=1`` turns them off; else on at INFO level."""
    if os.environ.get("RAGKIT_DISABLE_TQDM", "").lower() in ("1", "true", "yes"):
        return False
    if flag is not None:
        return flag
    return logging.getLogger("ragkit").getEffectiveLevel() <= logging.INFO


def seed_everything(seed: int) -> None:
    """Seed python, numpy and (if loaded) torch."""
    import sys

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
