"""Read the files of a run folder (or an agreement / fine-tune folder) for the report; absent files read as ``None``.

Every file named in the run-folder contract is optional here: the report renders a
section for each file present and leaves the others out, so old runs (written before
some files existed) and folders of other kinds (``agreement.json``, ``finetune.json``)
render too.
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from pathlib import Path
from typing import Any

from ragkit.errors import ConfigError, DataValidationError

log = logging.getLogger(__name__)

__all__ = ["RunFolder"]

KNOWN_FILES = (
    "config.yaml", "results.parquet", "per_query.parquet", "rankings.parquet", "signal.parquet", "state.json",
    "questions.parquet", "qrels.parquet", "chunks.parquet", "run_info.json", "topics.parquet",
    "question_topics.parquet", "agreement.json", "finetune.json",
)


class RunFolder:
    """Lazy, cached access to the files of one folder.

    Args:
        path: a folder written by ``ragkit run`` (or ``ragkit synth``/agreement/fine-tune).

    Raises:
        ConfigError: the folder does not exist or holds none of the known files.

    Example:
        >>> folder = RunFolder("runs/quickstart-20261123-163935")  # doctest: +SKIP
        >>> folder.parquet("per_query.parquet").shape  # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise ConfigError(f"run folder {str(self.path)!r} does not exist; pass a folder written by `ragkit run`, "
                              "e.g. runs/<name>-<timestamp>")
        if not any((self.path / name).is_file() for name in KNOWN_FILES):
            raise ConfigError(f"{str(self.path)!r} holds none of the files a report renders ({', '.join(KNOWN_FILES)}); "
                              "pass a run, agreement or fine-tune folder")
        self._cache: dict[str, Any] = {}

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    def parquet(self, name: str):
        """The DataFrame in ``name``, or ``None`` when the file is absent."""
        if name not in self._cache:
            import pandas as pd

            self._cache[name] = pd.read_parquet(self.path / name) if self.has(name) else None
        return self._cache[name]

    def json(self, name: str) -> Any:
        """The parsed JSON in ``name``, or ``None`` when absent."""
        if name not in self._cache:
            path = self.path / name
            try:
                self._cache[name] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
            except json.JSONDecodeError as err:
                raise DataValidationError(f"{path}: invalid JSON ({err}); re-create the file") from None
        return self._cache[name]

    @cached_property
    def config(self) -> dict[str, Any]:
        """The resolved experiment config (``config.yaml``); ``{}`` when absent."""
        import yaml

        path = self.path / "config.yaml"
        return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}

    @cached_property
    def primary(self) -> str:
        """The run's primary metric as in ``results.parquet`` (``level:metric``); for unlabelled questions
        (a monitoring run), ``monitor:top1_cosine`` as the runner does."""
        wanted = str(self.config.get("primary") or "doc:ndcg@10")
        results = self.parquet("results.parquet")
        if results is None or results.empty:
            return wanted
        columns = set(results["level"] + ":" + results["metric"])
        return wanted if wanted in columns or "monitor:top1_cosine" not in columns else "monitor:top1_cosine"

    @property
    def primary_column(self) -> str:
        """The primary metric's column in ``per_query.parquet`` (monitoring values have no level prefix)."""
        return self.primary.removeprefix("monitor:")

    @cached_property
    def config_order(self) -> list[str]:
        """Configuration names in run order (from ``per_query`` or ``results``)."""
        for name in ("per_query.parquet", "results.parquet"):
            df = self.parquet(name)
            if df is not None and "config" in df:
                return [str(c) for c in df["config"].unique()]
        return []
