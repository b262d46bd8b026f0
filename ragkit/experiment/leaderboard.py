"""The leaderboard: one row per configuration, best first, printed with rich."""

from __future__ import annotations

_SHOWN = ("doc:ndcg@10", "doc:recall@10", "doc:mrr@10", "chunk:ndcg@10", "monitor:top1_cosine")


def leaderboard_frame(results, primary: str):
    """Wide table: config x (primary metric with CI, a few other metrics, retrieval ms/query)."""
    r = results.copy()
    r["column"] = r["level"] + ":" + r["metric"]
    wide = r.pivot_table(index="config", columns="column", values="mean", sort=False)
    lo = r.pivot_table(index="config", columns="column", values="ci_low", sort=False)
    hi = r.pivot_table(index="config", columns="column", values="ci_high", sort=False)
    cols = [primary] + [c for c in _SHOWN if c in wide and c != primary]
    out = wide[cols].copy()
    if primary in lo:
        out.insert(1, "95% CI", [f"[{a:.3f}, {b:.3f}]" for a, b in zip(lo[primary], hi[primary])])
    if "cost:retrieve_ms" in wide:  # first stage + rerank, amortised over the batch of queries
        out["ms/query"] = wide["cost:retrieve_ms"] + (wide["cost:rerank_ms"].fillna(0) if "cost:rerank_ms" in wide else 0)
    if "cost:ann_recall@10" in wide:  # an approximate index was used: what its speed costs vs exact search
        out["ANN recall@10"] = wide["cost:ann_recall@10"]
    return out.sort_values(primary, ascending=False)


_HEADERS = {
    "doc:recall@10": "R@10",
    "doc:mrr@10": "MRR@10",
    "chunk:ndcg@10": "chunk\nnDCG@10",
    "monitor:top1_cosine": "top-1\ncosine",
}


def print_leaderboard(results, primary: str, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=max(Console().width, 120))
    board = leaderboard_frame(results, primary)
    table = Table(title=f"Leaderboard (sorted by {primary}, 95% bootstrap CI)", show_lines=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("configuration", no_wrap=True)
    for c in board.columns:
        table.add_column(_HEADERS.get(c, c), justify="right", no_wrap=True)
    for i, (name, row) in enumerate(board.iterrows(), 1):
        cells = [v if isinstance(v, str) else "-" if v != v else f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}" for v in row]
        table.add_row(str(i), str(name), *cells, style="bold" if i == 1 else None)
    console.print(table)


def print_signal(signal, success: str, console=None) -> None:
    """AUROC of the label-free signals as predictors of a hit, one row per configuration."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=max(Console().width, 120))
    wide = signal.pivot_table(index="config", columns="signal", values="auroc", sort=False)
    rate = signal.groupby("config", sort=False)[["base_rate", "n"]].first()
    table = Table(title=f"Can label-free monitoring be trusted here? AUROC of each signal vs {success} "
                        "(0.5 = no information, 1.0 = perfect)")
    table.add_column("configuration", no_wrap=True)
    table.add_column("hit rate (n)", justify="right")
    for c in wide.columns:
        table.add_column(c, justify="right")
    for name, row in wide.iterrows():
        r = rate.loc[name]
        table.add_row(str(name), f"{r['base_rate']:.2f} ({int(r['n'])})", *("" if v != v else f"{v:.2f}" for v in row))
    console.print(table)
