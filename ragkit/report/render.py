"""``render(ReportData) -> str``: the self-contained HTML page (pure: same data, same page).

Safety, in layers:

1. Jinja2 autoescaping is on for every template, so every string from documents, questions,
   metadata and configs is escaped where the server-side HTML shows it.
2. Data for the page's script travels in ``<script type="application/json">`` blocks with
   ``<``, ``>``, ``&``, U+2028 and U+2029 written as ``\\uXXXX`` escapes, so no data can close the
   block or open a comment; the script reads it with ``JSON.parse`` and builds the drill-down
   with ``createElement``/``textContent`` only (never ``innerHTML``).
3. A Content-Security-Policy allows exactly the page's own inline scripts (by sha256), no network
   access and no other script source, so even a missed escape could not run injected code.

plotly.js is inlined once (from the installed ``plotly`` package); CSS and JS come from package data.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from importlib import resources
from typing import Any

from ragkit.report.charts import build_figures
from ragkit.report.model import ReportData

__all__ = ["json_for_script", "render"]

_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_for_script(obj: Any) -> str:
    """JSON text that is safe inside a ``<script type="application/json">`` element.

    Example:
        >>> json_for_script({"t": "</script><!--"})
        '{"t": "\\\\u003c/script\\\\u003e\\\\u003c!--"}'
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    return "".join(_JS_ESCAPES.get(ch, ch) for ch in text) if any(ch in text for ch in _JS_ESCAPES) else text


def _static(name: str) -> str:
    return (resources.files("ragkit.report") / "static" / name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    from ragkit.errors import MissingDependencyError

    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise MissingDependencyError("the HTML report needs plotly (it inlines plotly.js); pip install plotly") from None
    return get_plotlyjs()


@functools.lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("ragkit.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["f3"] = _fmt
    env.filters["ci"] = lambda v: "" if not v or v[0] is None else f"[{_fmt(v[0])}, {_fmt(v[1])}]"
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.1f}%"
    env.filters["pval"] = lambda v: "—" if v is None else (f"{v:.1e}" if v < 1e-4 else f"{v:.4f}")
    env.filters["thousands"] = lambda v: "—" if v is None else f"{int(v):,}"
    return env


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def render(data: ReportData) -> str:
    """The report page for ``data``: one HTML file that needs no network and works from ``file://``.

    Args:
        data: the report's content (see :func:`ragkit.report.model.build_report_data`).

    Returns:
        The HTML document as a string.

    Example:
        >>> page = render(ReportData(title="<demo>"))
        >>> "&lt;demo&gt;" in page and "<demo>" not in page
        True
    """
    figures = build_figures(data)
    page = {"figures": figures, "drilldown": data.drilldown}
    scripts = [_plotly_js(), _static("report.js")]
    csp = ("default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; "
           f"script-src {' '.join(_sha256(s) for s in scripts)}; base-uri 'none'; form-action 'none'")
    return _environment().get_template("report.html.j2").render(
        d=data, figures=figures, page_json=json_for_script(page), css=_static("report.css"),
        plotly_js=scripts[0], app_js=scripts[1], csp=csp,
    )
