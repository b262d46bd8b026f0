"""Print the topic table with rich: weakest (highest priority) first."""

from __future__ import annotations

import math

_SIGNALS = (
    ("top1_cosine", "top-1 cos"),
    ("rerank_top1", "rerank"),
    ("feedback", "feedback"),
    ("doc:hit_rate@10", "hit@10"),
    ("doc:ndcg@10", "nDCG@10"),
)
_GAP_STYLE = {"content": "bold red", "capability": "bold yellow"}


def _fmt(mean: float, low: float, high: float) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    ci = "" if low is None or math.isnan(low) else f" [{low:.2f}, {high:.2f}]"
    return f"{mean:.2f}{ci}"


def print_topics(topics, console=None, max_rows: int = 20, evidence: bool = True) -> None:
    """Print ``topics.parquet`` rows (priority order): size, signals with 95% CI, priority, gap and its evidence."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=max(Console().width, 160))
    if topics is None or len(topics) == 0:
        console.print("no topics (no questions)")
        return
    config = topics["config"].iloc[0] if "config" in topics else ""
    title = f"Topics to work on first ({config}; priority = share x shortfall in quality; 95% bootstrap CI)"
    table = Table(title=title, show_lines=evidence, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("topic", max_width=34)
    table.add_column("n", justify="right")
    table.add_column("share", justify="right")
    shown = [(s, h) for s, h in _SIGNALS if f"{s}_mean" in topics]
    for _, header in shown:
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("priority", justify="right")
    table.add_column("gap")
    if evidence:
        table.add_column("evidence", max_width=60)
    for row in topics.head(max_rows).to_dict("records"):
        cells = [str(row["priority_rank"]), str(row["label"]), str(row["n"]), f"{row['share']:.0%}"]
        cells += [_fmt(row[f"{s}_mean"], row.get(f"{s}_ci_low"), row.get(f"{s}_ci_high")) for s, _ in shown]
        cells += [f"{row['priority']:+.3f}" if row["priority"] == row["priority"] else "", str(row["gap"])]
        if evidence:
            cells.append(str(row["gap_evidence"]))
        table.add_row(*cells, style=_GAP_STYLE.get(row["gap"]))
    console.print(table)
    if len(topics) > max_rows:
        console.print(f"... {len(topics) - max_rows} more topics in topics.parquet")
