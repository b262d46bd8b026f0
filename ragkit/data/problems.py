"""Collecting bad-input problems while loading, then raising or warning by policy."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from ragkit.errors import DataValidationError

log = logging.getLogger(__name__)

OnError = Literal["raise", "warn"]


@dataclass
class Problems:
    """Problems found in input files. ``policy="raise"`` fails listing all of them at once;
    ``"warn"`` skips the bad records and logs one counted warning per kind.

    >>> p = Problems("warn")
    >>> p.add("empty document", "docs/a.md")
    >>> p.counts()
    {'empty document': 1}
    """

    policy: OnError = "raise"
    items: list[tuple[str, str]] = field(default_factory=list)  # (kind, where: message)

    def add(self, kind: str, where: str, detail: str = "") -> None:
        self.items.append((kind, f"{where}: {kind}{' — ' + detail if detail else ''}"))

    def counts(self) -> dict[str, int]:
        return dict(Counter(k for k, _ in self.items))

    def settle(self, what: str) -> None:
        """Raise (policy raise) or warn (policy warn) about everything collected so far."""
        if not self.items:
            return
        lines = [m for _, m in self.items]
        shown = "\n  ".join(lines[:20]) + (f"\n  ... and {len(lines) - 20} more" if len(lines) > 20 else "")
        if self.policy == "raise":
            raise DataValidationError(
                f"{len(lines)} problem(s) in {what}:\n  {shown}\n"
                "Fix the input, or load with on_error='warn' to skip bad records with a warning."
            )
        summary = ", ".join(f"{n} {k}" for k, n in self.counts().items())
        log.warning("%s: skipped or repaired %s:\n  %s", what, summary, shown)
