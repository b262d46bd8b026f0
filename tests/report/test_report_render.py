"""render(ReportData) -> str: pure, self-contained, and every string from the data inert."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest
from hostile_data import CLOSE, FLAG, IMG, SCRIPT

from ragkit.report.model import ReportData, build_report_data
from ragkit.report.render import json_for_script, render

# every tag the template itself writes; anything else in a page would come from the data
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "div", "h1", "h2", "h3", "nav", "a", "main", "section",
    "p", "span", "strong", "table", "caption", "thead", "tbody", "tr", "th", "td", "sub", "select", "option", "label",
    "input", "dl", "dt", "dd", "details", "summary", "mark", "footer", "script",
}


class _Elements(HTMLParser):
    """Every start tag with its attributes; script and style bodies are raw text to the parser, as to a browser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)


def _parse(page: str) -> _Elements:
    parser = _Elements()
    parser.feed(page)
    parser.close()
    return parser


def test_json_for_script_cannot_leave_its_element():
    value = {"a": f"{CLOSE}{SCRIPT}<!-- -->&amp;\u2028\u2029", "b": [IMG]}
    text = json_for_script(value)
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == value


def test_render_is_pure_and_round_trips_through_json(hostile_run):
    data = build_report_data(hostile_run)
    page = render(data)
    assert render(data) == page
    assert render(ReportData.from_dict(json.loads(json.dumps(data.to_dict())))) == page


def test_hostile_strings_render_as_text_only(full_run):
    page = (full_run / "report.html").read_text(encoding="utf-8")
    for payload in (SCRIPT, IMG.lstrip('">'), FLAG):  # as markup; escaped (&lt;...) they are plain text
        assert payload not in page
    parsed = _parse(page)
    assert {tag for tag, _ in parsed.tags} <= TEMPLATE_TAGS  # no <img>, no injected element of any kind
    assert not [(t, a) for t, a in parsed.tags for name in a if name.startswith("on")]  # no event handler at all
    scripts = [a for t, a in parsed.tags if t == "script"]
    assert scripts == [{"type": "application/json", "id": "ragkit-page"}, {}, {}]  # the data block, plotly.js, ours
    assert page.lower().count("</script") == 3
    text = "".join(parsed.texts)  # the payloads are there, shown literally
    assert SCRIPT in text and IMG in text and "the fine-tuned model is worse" in text


def test_data_block_parses_back_to_the_data(full_run):
    page = (full_run / "report.html").read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="ragkit-page">(.*?)</script>', page, re.S).group(1)
    data = json.loads(block)
    assert SCRIPT in data["drilldown"]["queries"]["text"][0] and data["figures"]["topics-map"]["data"]


def test_content_security_policy_allows_exactly_the_page_scripts(full_run):
    page = (full_run / "report.html").read_text(encoding="utf-8")
    csp = next(a["content"] for t, a in _parse(page).tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    bodies = re.findall(r"<script>(.*?)</script>", page, re.S)
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'" for b in bodies}
    assert len(bodies) == 2 and hashes == set(re.findall(r"'sha256-[^']+'", csp))


def test_plotly_is_inlined_and_nothing_is_fetched(full_run):
    from plotly.offline import get_plotlyjs

    page = (full_run / "report.html").read_text(encoding="utf-8")
    assert page.count(get_plotlyjs()) == 1
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)  # no external script, style or image


@pytest.mark.parametrize("section", ["summary", "leaderboard", "curves", "sweep", "monitoring", "topics", "agreement",
                                     "finetune", "drilldown"])
def test_every_section_renders(full_run, section):
    page = (full_run / "report.html").read_text(encoding="utf-8")
    assert f'<section id="{section}">' in page


def test_absent_sections_leave_no_trace():
    page = render(ReportData(title="empty"))
    assert "<section" not in page and "Nothing to show" in page
