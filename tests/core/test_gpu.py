"""CPU-vs-GPU agreement; runs only where CUDA is available."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_auto_picks_cuda_and_fp16_matches_cpu(embedder):
    from ragkit.core.models import get_embedder

    gpu = get_embedder("default", device="auto")
    assert gpu.device == "cuda" and gpu is not embedder
    assert next(gpu.model.parameters()).dtype == torch.float16
    texts = ["refunds within thirty days", "deploys on tuesday", "a much longer sentence " * 20]
    cpu_v, gpu_v = embedder.encode(texts, use_cache=False), gpu.encode(texts, use_cache=False)
    assert gpu_v.dtype == np.float32
    assert np.allclose(cpu_v, gpu_v, atol=2e-2)
    assert (np.sum(cpu_v * gpu_v, axis=1) > 0.999).all()
