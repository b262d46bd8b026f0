"""Embedding on a Ray cluster: Ray Data ``map_batches`` over a pool of actors, one loaded model each.

Ray is optional (``pip install 'ragkit[ray]'``). Nothing imports this module unless
an experiment sets ``execution: {engine: ray}`` or a caller uses
:func:`ragkit.retrieval.stream_index.index_stream_ray`, so the local engine never
imports Ray.

Each actor loads its model once through the shared core
(:func:`ragkit.core.models.get_embedder`, so the embedding cache, device and dtype
policy are the same as in one process) and asks Ray for ``num_gpus`` GPUs: on a
cluster with GPUs every actor gets its own, and ``device: auto`` resolves to it.

Example:
    >>> import ray.data  # doctest: +SKIP
    >>> ds = ray.data.from_items([{"text": "cats purr"}, {"text": "stocks fell"}])  # doctest: +SKIP
    >>> embed_dataset(ds, model="default").take(1)[0]["vector"].shape  # doctest: +SKIP
    (384,)
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ragkit.errors import MissingDependencyError

log = logging.getLogger(__name__)

# settings the workers must share with the driver (the cache location above all); never secrets
_BLOCK_BYTES = 1 << 20  # Ray Data block size for text rows: spreads a corpus over the actors
_FORWARDED_ENV = ("RAGKIT_CACHE_DIR", "RAGKIT_DISABLE_TQDM", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME")


def import_ray():
    """``import ray`` (with Ray Data), or a MissingDependencyError that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "execution.engine: ray needs Ray with Ray Data: pip install 'ragkit[ray]' "
            "(or set execution.engine: local)"
        ) from None
    return ray


def worker_env() -> dict[str, str]:
    """Environment variables Ray workers get (``runtime_env``): the ragkit cache location and offline
    switches as this process has them now. Never credentials: workers read those from their own environment."""
    from ragkit.core.cache import cache_root

    env = {k: os.environ[k] for k in _FORWARDED_ENV if k in os.environ}
    env["RAGKIT_CACHE_DIR"] = str(cache_root())
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def init_ray(address: str | None = None) -> bool:
    """Connect to Ray unless this process already is; True when this call connected (the caller
    then calls ``ray.shutdown()``).

    ``address``: ``None`` follows Ray's rules (``RAY_ADDRESS``, else a cluster started on
    this machine with ``ray start``, else a new local one); ``auto`` requires a running
    cluster; ``ray://head:10001`` connects through Ray Client. The ragkit cache
    location and offline settings travel to the workers; credentials do not (workers
    read ``$env:`` storage options from their own environment).
    """
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        log.info("connecting to Ray at %s", address or "(local / RAY_ADDRESS)")
        ray.init(address=address, runtime_env={"env_vars": worker_env()}, logging_level=logging.WARNING, log_to_driver=False)
    configure_ray_data(ray)
    return started


def configure_ray_data(ray) -> None:
    """This process's Ray Data settings for embedding: progress bars follow ragkit's
    (``RAGKIT_DISABLE_TQDM``, log level), and blocks are at most 1 MiB.

    Text rows are small: at Ray's default 128 MiB a whole corpus read from a few
    Parquet files is one block, which one actor embeds alone while it sits in memory.
    1 MiB (a few thousand chunks) spreads the corpus over the actor pool and keeps what
    is in flight small. A dataset keeps the settings of its creation: call this (or
    :func:`init_ray`) before ``ray.data.read_parquet(...)``.
    """
    from ragkit.core.runtime import show_progress

    ctx = ray.data.DataContext.get_current()
    ctx.target_max_block_size = min(ctx.target_max_block_size or _BLOCK_BYTES, _BLOCK_BYTES)
    ctx.enable_progress_bars = show_progress()
    ctx.print_on_execution_start = False
    # its usage poller logs debug tracebacks from a thread that can outlive the log's stream
    logging.getLogger("ray.data._internal.usage").setLevel(logging.INFO)


def worker_resources(
    num_workers: int | None = None, num_cpus: float = 1.0, num_gpus: float | None = None
) -> tuple[int, float, float]:
    """(workers, CPUs each, GPUs each) fitted to the connected cluster.

    ``num_gpus=None`` gives each worker one GPU when the cluster has GPUs, else none;
    ``num_workers=None`` is as many workers as the cluster holds at that size, keeping
    one CPU free for Ray Data's read tasks (an actor pool on every CPU starves them).

    >>> worker_resources(None, 1.0, None)  # 3 CPUs, no GPU  # doctest: +SKIP
    (2, 1.0, 0.0)
    """
    ray = import_ray()
    total = ray.cluster_resources()
    gpus = float(num_gpus) if num_gpus is not None else (1.0 if total.get("GPU", 0) >= 1 else 0.0)
    if num_workers is None:
        cpus = total.get("CPU", 1)
        fit = min(total.get("GPU", 0) / gpus, cpus / num_cpus) if gpus else (cpus - 1) / num_cpus
        num_workers = int(fit)
    return max(1, int(num_workers)), float(num_cpus), gpus


class EmbedActor:
    """A Ray Data callable class: appends a ``vector`` column (unit-length float32) to each Arrow batch.

    Args:
        model: embedder name for :func:`~ragkit.core.models.get_embedder`.
        device: ``auto`` picks the GPU Ray assigned to this actor, if any.
        batch_size: texts per encoder forward pass (``None``: by device).
        use_cache: read and fill the on-disk embedding cache.
        text_column: column holding the texts; it is dropped from the output.
    """

    def __init__(
        self, model: str, device: str = "auto", batch_size: int | None = None, use_cache: bool = True,
        text_column: str = "text",
    ) -> None:
        from ragkit.core.models import get_embedder

        self.embedder = get_embedder(model, device)
        self.batch_size, self.use_cache, self.text_column = batch_size, use_cache, text_column

    def __call__(self, batch):
        import pyarrow as pa

        texts = batch.column(self.text_column).to_pylist()
        vecs = self.embedder.encode(texts, batch_size=self.batch_size, use_cache=self.use_cache, show_progress_bar=False)
        column = pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel(), pa.float32()), vecs.shape[1])
        return batch.drop_columns([self.text_column]).append_column("vector", column)


def embed_dataset(
    dataset,
    *,
    model: str = "default",
    device: str = "auto",
    batch_size: int | None = None,
    use_cache: bool = True,
    text_column: str = "text",
    rows_per_batch: int = 1024,
    num_workers: int | None = None,
    num_cpus: float = 1.0,
    num_gpus: float | None = None,
):
    """``dataset`` with ``text_column`` replaced by ``vector``, computed lazily by an actor pool.

    Nothing runs until the result is consumed (e.g. ``iter_batches``); Ray Data then
    streams blocks through the actors with backpressure, so memory holds the blocks in
    flight, not the dataset. Row order is not preserved (join on an id column).
    """
    ray = import_ray()
    workers, cpus, gpus = worker_resources(num_workers, num_cpus, num_gpus)
    log.info("embedding with %d Ray actor(s) (%g CPU, %g GPU each), %d rows per batch", workers, cpus, gpus, rows_per_batch)
    kwargs: dict[str, Any] = dict(model=model, device=device, batch_size=batch_size, use_cache=use_cache, text_column=text_column)
    return dataset.map_batches(
        EmbedActor,
        fn_constructor_kwargs=kwargs,
        batch_size=rows_per_batch,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=cpus,
        num_gpus=gpus,
        runtime_env={"env_vars": worker_env()},
    )


def _identity(model: str, device: str) -> tuple[str, int]:
    from ragkit.core.models import get_embedder

    emb = get_embedder(model, device)
    return emb.fingerprint, emb.dim


def embedder_identity(model: str, device: str = "auto", num_cpus: float = 1.0, num_gpus: float | None = None):
    """(fingerprint, dim) of ``model`` as a worker with these resources loads it.

    The fingerprint covers the weights *as loaded* (fp16 on a GPU, fp32 on a CPU), so it
    is taken where the actors run, not on a driver that may have no GPU.
    """
    ray = import_ray()
    _, cpus, gpus = worker_resources(1, num_cpus, num_gpus)
    task = ray.remote(_identity).options(num_cpus=cpus, num_gpus=gpus, runtime_env={"env_vars": worker_env()})
    return ray.get(task.remote(model, device))
