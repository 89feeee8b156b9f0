"""The report as one self-contained HTML page: the Markdown report rendered with raw HTML
disabled (titles and abstracts come from outside and are escaped, never interpreted), every
figure embedded (the SVG inline where there is one, otherwise the PNG as a data URI), no
stylesheet, script or font fetched from anywhere. The first screen says in a sentence what this
version adds.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

_STYLE = ("body{font-family:Georgia,serif;max-width:60em;margin:2em auto;padding:0 1em;"
          "line-height:1.45}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid "
          "#aaa;padding:.2em .5em;text-align:left;vertical-align:top}img,svg{max-width:100%;"
          "height:auto}.lead{font-size:1.2em;border-left:4px solid #4C72B0;padding:.5em 1em;"
          "background:#f3f6fb}")
_IMG = re.compile(r'<img src="([^"]+)" alt="([^"]*)"\s*/?>')
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


def lead_sentence(summary: dict[str, Any]) -> str:
    """What is new in this version, for a reader who reads nothing else."""
    included = summary.get("included") or {}
    run = (summary.get("prisma") or {}).get("run")
    total = (f"The review now holds {included.get('all', '?')} studies: "
             f"{included.get('baseline', '?')} from the published review and "
             f"{included.get('new', 0)} added since.")
    if not run:
        return f"This version recomputes the review from the store as it stands. {total}"
    window = (f" between {run['window_start']} and {run['window_end']}"
              if run.get("window_start") else "")
    new = run.get("included", 0)
    studies = f"{new} new stud{'y was' if new == 1 else 'ies were'} included"
    return (f"This month's search{window} found {run.get('identified_total', 0)} records; "
            f"{run.get('queued', 0)} of them went to screening and {studies}. {total}")


def _embed(directory: Path):
    def replace(match: re.Match) -> str:
        src, alt = html.unescape(match.group(1)), match.group(2)
        path = (directory / src).resolve()
        if directory.resolve() not in path.parents or not path.is_file():
            return f"<p>[figure missing: {html.escape(src)}]</p>"
        svg = path.with_suffix(".svg")
        if svg.is_file():
            inline = _PROLOG.sub("", svg.read_text(encoding="utf-8"), count=1)
            return f'<figure role="img" aria-label="{alt}">{inline}</figure>'
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'<img src="data:image/png;base64,{data}" alt="{alt}">'
    return replace


def report_page(markdown_text: str, directory: Path, summary: dict[str, Any],
                title: str) -> str:
    """The HTML page of the report in ``directory`` (figures are read from there)."""
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown_text)
    body = _IMG.sub(_embed(directory), body)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            f"<p class=\"lead\">{html.escape(lead_sentence(summary))}</p>\n{body}</body></html>\n")
