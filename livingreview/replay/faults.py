"""Fault injection: answer some requests the way a struggling API does.

A :class:`Fault` names what goes wrong (``kind``), for which requests (``path``, a glob on the
URL path, and ``params``, parameter values that must all match) and how often (let ``after``
matching requests through, then hit the next ``times`` of them; ``times=None`` hits every one).
Faults are tried in the order given; the first one that applies to a request is used up.

Kinds, and what the client sees:

=====================  ===========================================================================
``rate_limited``       429 with ``Retry-After`` (``retry_after`` seconds; None sends no header) and
                       the API's rate-limit body (both quoted, see recordings/quoted/PROVENANCE.md)
``server_error``       500 with the recorded Crossref exception JSON
``gateway_timeout``    504 with the recorded nginx "504 Gateway Time-out" HTML page
``error_in_body``      200 whose XML carries ``<ERROR>message</ERROR>`` (E-utilities only; the
                       fault does not apply to Crossref requests)
``delay``              the normal answer after ``seconds`` (for client timeouts)
``truncated_body``     the normal status and headers, but only the first half of the body, with a
                       Content-Length that matches it: a well-framed, unparseable document
``dropped_connection`` the normal status and a Content-Length for the whole body, then half of it
                       and the connection closes: the client sees a protocol error
=====================  ===========================================================================

A faulted request is answered before the API logic runs, except ``delay``, ``truncated_body`` and
``dropped_connection``, which wrap the real answer: a Crossref scroll or an ESearch history entry
therefore advances under those three, as it would when a real answer is lost on the way back.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from livingreview.errors import ConfigError

FAULT_KINDS = (
    "rate_limited",
    "server_error",
    "gateway_timeout",
    "error_in_body",
    "delay",
    "truncated_body",
    "dropped_connection",
)
# Kinds that replace the answer outright; the others wrap the real one.
REPLACING_KINDS = ("rate_limited", "server_error", "gateway_timeout", "error_in_body")


@dataclass
class Fault:
    kind: str
    path: str = "*"
    times: int | None = 1
    after: int = 0
    params: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = 1
    seconds: float = 1.0
    message: str = "Unable to obtain query #1"
    # Bookkeeping, visible in the control API: matching requests seen, and faults served.
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ConfigError(
                f"replay fault kind {self.kind!r} is unknown. Fix: use one of {', '.join(FAULT_KINDS)}"
            )
        if (self.times is not None and self.times < 0) or self.after < 0:
            raise ConfigError(f"replay fault {self.kind}: times and after must be >= 0")
        self.params = {str(k): str(v) for k, v in self.params.items()}

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> "Fault":
        allowed = {f.name for f in fields(cls)} - {"seen", "fired"}
        unknown = set(spec) - allowed
        if unknown or "kind" not in spec:
            raise ConfigError(
                f"replay fault {spec!r}: "
                + (f"unknown keys {sorted(unknown)}" if unknown else "no 'kind'")
                + f". Fix: use only the keys {sorted(allowed)}"
            )
        return cls(**spec)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, path: str, params: dict[str, str], source: str) -> bool:
        if self.kind == "error_in_body" and source != "pubmed":
            return False
        if not fnmatch.fnmatchcase(path, self.path):
            return False
        return all(params.get(k) == v for k, v in self.params.items())


class FaultPlan:
    """The faults a server is running with; safe to change from another thread while it serves."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = list(faults or [])

    def add(self, *faults: Fault | dict[str, Any]) -> list[Fault]:
        made = [f if isinstance(f, Fault) else Fault.from_dict(f) for f in faults]
        with self._lock:
            self._faults.extend(made)
        return made

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def take(self, path: str, params: dict[str, str], source: str) -> Fault | None:
        """The fault to apply to this request, used up by one; None to answer normally."""
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault.matches(path, params, source):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.fired += 1
                return fault
        return None


class CutBodyResponse(Response):
    """Sends the status, the headers of the whole answer, and only part of its body."""

    def __init__(self, whole: Response, keep: int, *, honest_length: bool) -> None:
        super().__init__(whole.body[:keep], status_code=whole.status_code)
        self.raw_headers = [(k, v) for k, v in whole.raw_headers if k.lower() != b"content-length"]
        declared = keep if honest_length else len(whole.body)
        self.raw_headers.append((b"content-length", str(declared).encode()))
        self._complete = honest_length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        # Without the final (more_body=False) message the server closes the connection mid-body.
        await send({"type": "http.response.body", "body": self.body, "more_body": not self._complete})
