"""Progress bar over grid cells (rich), honouring show_progress / RAGKIT_DISABLE_TQDM."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def cell_progress(total: int, show: bool | None) -> Iterator[Callable[[str], None]]:
    from ragkit.core.runtime import show_progress

    if not show_progress(show):
        yield lambda name: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]cells"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}")) as p:
        task = p.add_task("", total=total)
        yield lambda name: p.update(task, advance=1, description=name)
