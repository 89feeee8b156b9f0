"""Decoding JSON response bodies, with errors that say what the body was instead."""

from __future__ import annotations

import json
from typing import Any

from livingreview.errors import InputError


def json_body(text: str | bytes, origin: str, expected: str, fix: str) -> Any:
    """The decoded JSON of a response body, or an ``InputError`` naming ``origin`` and the place.

    APIs answer errors in other formats (Crossref: a plain-text 404 and an HTML 504), so a body
    that does not even start like JSON is described ("an HTML page", "XML", "plain text ...")
    rather than reported as a decoding error at line 1.
    """
    decoded = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
    stripped = decoded.lstrip("\ufeff \t\r\n")
    if not stripped.startswith(("{", "[")):
        if stripped[:15].lower().startswith(("<html", "<!doctype html")):
            kind = "an HTML page"
        elif stripped.startswith("<"):
            kind = "XML"
        elif not stripped:
            kind = "an empty body"
        else:
            kind = f"plain text {stripped[:60]!r}"
        raise InputError(origin, "start of body", f"this is {kind}, not {expected}", fix)
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InputError(origin, f"line {exc.lineno}, column {exc.colno}",
                         f"not valid JSON ({exc.msg})",
                         "the file may be truncated; fetch the response again") from None
