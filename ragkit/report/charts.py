"""Plotly figure specs (plain dicts: ``{"data": [...], "layout": {...}}``) built from :class:`ReportData` sections.

No plotly Python objects are involved: the page hands these dicts to the inlined plotly.js. Every
string that comes from the user's data (configuration names, topic labels, question texts) goes
through :func:`_t`, because Plotly interprets a subset of HTML tags in labels and hover text.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["build_figures"]

_TOP_VISIBLE = 6  # curves: the best configurations shown at first; the others one legend click away
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12}


def _t(text: Any, limit: int | None = None) -> str:
    """User text made inert for Plotly's pseudo-HTML labels (shown literally, never interpreted)."""
    s = str(text)
    if limit and len(s) > limit:
        s = s[: limit - 1] + "…"
    return html.escape(s, quote=False)


def _layout(**extra: Any) -> dict[str, Any]:
    base = {"font": _FONT, "margin": {"l": 60, "r": 20, "t": 30, "b": 50}, "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#fbfbfd", "hovermode": "closest", "height": 420,
            "hoverlabel": {"namelength": -1}, "legend": {"font": {"size": 11}}}
    return {**base, **extra}


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": _t(title)}, "zeroline": False, "gridcolor": "#e6e6ee", **extra}


def _ci_errors(points: list[dict[str, Any]], key: str = "mean", color: str | None = "#55607a") -> dict[str, Any]:
    """Asymmetric error bars from ``lo``/``hi``; ``color=None``: the trace's own colour."""
    plus = [None if p["hi"] is None or p[key] is None else p["hi"] - p[key] for p in points]
    minus = [None if p["lo"] is None or p[key] is None else p[key] - p["lo"] for p in points]
    bars = {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "thickness": 1.2, "width": 3}
    return {**bars, "color": color} if color else bars


def _forest(board: dict[str, Any]) -> dict[str, Any]:
    """The primary metric of each configuration with its 95% CI, best at the top."""
    primary = board["primary"]
    points = [{"mean": r["values"][primary][0], "lo": r["values"][primary][1], "hi": r["values"][primary][2]}
              for r in board["rows"]]
    colors = ["#c0392b" if r["is_baseline"] else "#2c5aa0" for r in board["rows"]]
    trace = {"type": "scatter", "mode": "markers", "x": [p["mean"] for p in points],
             "y": [_t(r["config"]) for r in board["rows"]], "error_x": _ci_errors(points),
             "marker": {"color": colors, "size": 8}, "hovertemplate": "%{y}: %{x:.3f}<extra></extra>"}
    height = max(260, 24 * len(points) + 80)
    return {"data": [trace], "layout": _layout(height=height, margin={"l": 280, "r": 20, "t": 10, "b": 45},
                                               xaxis=_axis(f"{primary} (95% bootstrap CI)"),
                                               yaxis={"autorange": "reversed", "automargin": True})}


def _visible_configs(data) -> set[str]:
    rows = (data.leaderboard or {}).get("rows") or []
    keep = {r["config"] for r in rows[:_TOP_VISIBLE]} | {r["config"] for r in rows if r.get("is_baseline")}
    return keep


def _curves(family: dict[str, Any], visible: set[str]) -> dict[str, Any]:
    traces = []
    for s in family["series"]:
        points = [{"mean": m, "lo": lo, "hi": hi} for m, lo, hi in zip(s["mean"], s["lo"], s["hi"])]
        traces.append({"type": "scatter", "mode": "lines+markers", "name": _t(s["config"]), "x": family["k"],
                       "y": s["mean"], "customdata": [[p["lo"], p["hi"]] for p in points],
                       "visible": True if not visible or s["config"] in visible else "legendonly",
                       "hovertemplate": "%{fullData.name}<br>k=%{x}: %{y:.3f} [%{customdata[0]:.3f}, "
                                        "%{customdata[1]:.3f}]<extra></extra>"})
    return {"data": traces, "layout": _layout(height=460, xaxis=_axis("k (cut-off)", type="log", tickvals=family["k"]),
                                              yaxis=_axis(family["label"]))}


def _sweep(sweep: dict[str, Any]) -> dict[str, Any]:
    series_names = list(dict.fromkeys(p["series"] for p in sweep["points"]))
    xs = [p["x"] for p in sweep["points"]] if sweep["numeric"] else [0.0]
    step = 0.006 * ((max(xs) - min(xs)) or max(xs) or 1.0)  # numeric x: nudge series apart so CI bars stay legible
    traces = []
    for i, series in enumerate(series_names):
        pts = [p for p in sweep["points"] if p["series"] == series]
        if sweep["numeric"]:
            pts.sort(key=lambda p: p["x"])
        shift = (i - (len(series_names) - 1) / 2) * step
        traces.append({"type": "scatter", "mode": "lines+markers", "name": _t(series),
                       "x": [p["x"] + shift if sweep["numeric"] else _t(p["x"]) for p in pts],
                       "y": [p["mean"] for p in pts], "error_y": _ci_errors(pts, color=None),
                       "customdata": [[_t(p["chunker"]), p["x"] if sweep["numeric"] else _t(p["x"])] for p in pts],
                       "hovertemplate": "%{customdata[0]} (%{fullData.name})<br>%{customdata[1]}: %{y:.3f}<extra></extra>"})
    return {"data": traces, "layout": _layout(xaxis=_axis(sweep["x_label"]), yaxis=_axis(sweep["metric"]))}


def _boxes(signal: dict[str, Any]) -> dict[str, Any]:
    traces = [{"type": "box", "name": _t(config), "x": values, "orientation": "h", "boxmean": True,
               "boxpoints": "outliers", "marker": {"size": 3}, "line": {"width": 1}, "showlegend": False}
              for config, values in signal["values"].items()]
    height = max(280, 22 * len(traces) + 90)
    return {"data": traces, "layout": _layout(height=height, margin={"l": 280, "r": 20, "t": 10, "b": 45},
                                              xaxis=_axis(signal["label"]),
                                              yaxis={"autorange": "reversed", "automargin": True})}


def _topic_map(topic_map: dict[str, Any]) -> dict[str, Any]:
    traces = [{"type": "scattergl" if len(g["x"]) > 2000 else "scatter", "mode": "markers",
               "name": _t(f"{g['topic']}: {g['label']}", 60), "x": g["x"], "y": g["y"],
               "text": [_t(t, 160) for t in g["text"]], "marker": {"size": 7, "opacity": 0.8},
               "hovertemplate": "%{text}<extra>%{fullData.name}</extra>"} for g in topic_map["groups"]]
    hidden = {"showticklabels": False, "zeroline": False, "gridcolor": "#eeeeee"}
    return {"data": traces, "layout": _layout(height=520, xaxis=hidden, yaxis=hidden)}


def _agreement(section: dict[str, Any]) -> dict[str, Any]:
    pts = [p for p in section["points"] if p["gold"] is not None and p["synthetic"] is not None]
    values = [v for p in pts for v in (p["gold"], p["synthetic"])] or [0.0, 1.0]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or 0.05
    diagonal = {"type": "scatter", "mode": "lines", "x": [lo - pad, hi + pad], "y": [lo - pad, hi + pad],
                "line": {"dash": "dot", "color": "#999999"}, "hoverinfo": "skip", "name": "y = x"}
    points = {"type": "scatter", "mode": "markers+text" if len(pts) <= 12 else "markers", "name": "configurations",
              "x": [p["gold"] for p in pts], "y": [p["synthetic"] for p in pts], "text": [_t(p["config"]) for p in pts],
              "textposition": "top center", "textfont": {"size": 10}, "marker": {"size": 9},
              "hovertemplate": "%{text}<br>gold %{x:.3f}, synthetic %{y:.3f}<extra></extra>"}
    label = section.get("primary") or "metric"
    return {"data": [diagonal, points], "layout": _layout(height=460, showlegend=False,
                                                          xaxis=_axis(f"{label} on gold questions"),
                                                          yaxis=_axis(f"{label} on synthetic questions"))}


def _finetune(section: dict[str, Any]) -> dict[str, Any]:
    metrics = section["metrics"]
    traces = []
    for when, color in (("before", "#9aa5b8"), ("after", "#2c5aa0")):
        pts = [{"mean": m[when], "lo": m[f"{when}_ci"][0], "hi": m[f"{when}_ci"][1]} for m in metrics]
        traces.append({"type": "bar", "name": when, "x": [_t(m["metric"]) for m in metrics],
                       "y": [p["mean"] for p in pts], "error_y": _ci_errors(pts), "marker": {"color": color},
                       "hovertemplate": f"{when}: %{{y:.3f}}<extra>%{{x}}</extra>"})
    return {"data": traces, "layout": _layout(height=380, barmode="group", yaxis=_axis("score (95% CI)"))}


def build_figures(data) -> dict[str, dict[str, Any]]:
    """Figure id -> Plotly figure dict, for every chart the sections present call for."""
    figs: dict[str, dict[str, Any]] = {}
    if data.leaderboard and data.leaderboard["rows"]:
        figs["leaderboard-forest"] = _forest(data.leaderboard)
    visible = _visible_configs(data)
    for family in (data.curves or {}).get("families", []):
        figs[f"curves:{family['key']}"] = _curves(family, visible)
    if data.sweep:
        figs["sweep"] = _sweep(data.sweep)
    for signal in (data.monitoring or {}).get("signals", []):
        figs[f"monitor:{signal['key']}"] = _boxes(signal)
    if data.topics and data.topics.get("map"):
        figs["topics-map"] = _topic_map(data.topics["map"])
    if data.agreement and data.agreement["points"]:
        figs["agreement"] = _agreement(data.agreement)
    if data.finetune and data.finetune["metrics"]:
        figs["finetune"] = _finetune(data.finetune)
    return figs
