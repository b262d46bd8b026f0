"""Load a folder of ``.md`` / ``.txt`` / ``.html`` files as documents.

Document id = the path relative to the folder with ``/`` separators. Text = the
file decoded as UTF-8 with ``\\r\\n`` turned into ``\\n``; for markdown, a leading
YAML front matter block (``---`` ... ``---``) is removed from the text and its keys
go to the metadata. HTML is turned into text (scripts and styles dropped).

Metadata: ``source`` (path as given + relative path), ``file_name``, ``title``
(front matter ``title``, else the first markdown heading / HTML ``<title>``, else
the file stem), ``modified`` (file mtime, ISO-8601 UTC), plus front matter keys
(dates become ISO strings).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import yaml

from ragkit.data.html_text import html_to_text
from ragkit.data.problems import OnError, Problems
from ragkit.data.types import Document
from ragkit.errors import DataValidationError

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def _jsonable(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


def split_front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    """(front matter dict, body). The body starts right after the closing ``---`` line."""
    if not text.startswith("---\n"):
        return {}, text
    end = re.search(r"^---[ \t]*(\n|\Z)", text[4:], re.M)
    if end is None:
        raise DataValidationError(f"{where}: front matter opened with '---' on line 1 is never closed; add a '---' line")
    try:
        meta = yaml.safe_load(text[4 : 4 + end.start()]) or {}
    except yaml.YAMLError as err:
        raise DataValidationError(f"{where}: invalid YAML front matter: {err}") from None
    if not isinstance(meta, dict):
        raise DataValidationError(f"{where}: front matter must be a mapping of key: value, got {type(meta).__name__}")
    return {str(k): _jsonable(v) for k, v in meta.items()}, text[4 + end.end() :]


def _read_text(path: Path, problems: Problems, where: str) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        problems.add("undecodable bytes", where, f"invalid UTF-8 at byte {err.start}; re-save the file as UTF-8")
        text = raw.decode("utf-8-sig", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_document(path: Path, root: Path, problems: Problems) -> Document | None:
    """One file as a Document, or None (with a problem recorded) when it is empty or unreadable."""
    rel = path.relative_to(root).as_posix()
    where = str(path)
    text = _read_text(path, problems, where)
    meta: dict[str, Any] = {}
    title = ""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        title, text = html_to_text(text)
    elif suffix in (".md", ".markdown"):
        try:
            meta, text = split_front_matter(text, where)
        except DataValidationError as err:
            problems.add("bad front matter", where, str(err).split(": ", 1)[1])
            return None
        m = _HEADING.search(text)
        title = m.group(1) if m else ""
    if not text.strip():
        problems.add("empty document", where, "the file has no text; remove it or add content")
        return None
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).isoformat(timespec="seconds")
    title = str(meta.get("title") or title or path.stem)
    base = {"source": str(path), "path": rel, "file_name": path.name, "title": title, "modified": mtime}
    return Document(id=rel, text=text, title=title, metadata={**base, **meta})


def load_folder(folder: str | os.PathLike, *, on_error: OnError = "raise", recursive: bool = True) -> list[Document]:
    """All ``.md``/``.txt``/``.html`` files under ``folder`` (sorted by path) as documents.

    Example:
        >>> docs = load_folder("datasets/acme/docs")  # doctest: +SKIP
        >>> docs[0].metadata["file_name"]  # doctest: +SKIP
        'data-retention.md'
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DataValidationError(f"document folder '{folder}' does not exist or is not a folder; check corpus.path")
    pattern = "**/*" if recursive else "*"
    files = sorted(p for p in root.glob(pattern) if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise DataValidationError(f"no {'/'.join(SUFFIXES)} files found in '{folder}'")
    problems = Problems(on_error)
    docs = [d for p in files if (d := load_document(p, root, problems)) is not None]
    problems.settle(f"folder '{folder}'")
    return docs
