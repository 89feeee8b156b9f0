"""One exception tree for livingreview.

::

    LivingReviewError
    ├── ConfigError            review.toml or an LR_ setting is wrong
    ├── InputError             a file a user gave us is malformed (names file, place, fix)
    ├── SourceError            a bibliographic API call failed (carries request and response)
    │   ├── TransientSourceError   worth retrying: timeouts, 429, 5xx
    │   └── PermanentSourceError   not worth retrying: 4xx, an error inside a 200 body
    ├── StoreError             the corpus store refused an operation
    │   └── UpdateLocked           another update holds the store's update lock
    └── ValidationFailed       the data-quality gate failed (carries the readable report)

Every message says what went wrong, where, and what to do about it.
"""

from __future__ import annotations

from typing import Any


class LivingReviewError(Exception):
    """Base class for every error livingreview raises on purpose."""


class ConfigError(LivingReviewError):
    """The review configuration or an environment setting is invalid."""


class InputError(LivingReviewError):
    """A user-supplied file cannot be read.

    ``source`` names the input (a path), ``place`` the location inside it (line, record, cell) and
    ``fix`` what the user can do about it.
    """

    def __init__(self, source: str, place: str, problem: str, fix: str) -> None:
        self.source = source
        self.place = place
        self.problem = problem
        self.fix = fix
        super().__init__(f"{source}: {place}: {problem}. Fix: {fix}")


class SourceError(LivingReviewError):
    """A request to a bibliographic API failed.

    Carries the request and, when there was one, the response, as httpx's exceptions do.
    """

    def __init__(self, message: str, *, request: Any = None, response: Any = None) -> None:
        self.request = request
        self.response = response
        super().__init__(message)


class TransientSourceError(SourceError):
    """A failure that may go away on retry (timeout, 429, 5xx, dropped connection)."""

    def __init__(self, message: str, *, request: Any = None, response: Any = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, request=request, response=response)
        self.retry_after = retry_after


class PermanentSourceError(SourceError):
    """A failure that retrying will not fix (bad query, 4xx, error reported inside a 200 body)."""


class StoreError(LivingReviewError):
    """The corpus store refused an operation."""


class UpdateLocked(StoreError):
    """Another update (or report) is writing to this store; ``holder`` says which."""

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        self.holder = holder
        super().__init__(message)


class ValidationFailed(LivingReviewError):
    """The data-quality gate failed; ``report`` is a readable Markdown account of why."""

    def __init__(self, report: str, failures: list[dict] | None = None) -> None:
        self.report = report
        self.failures = failures or []
        super().__init__("data validation failed:\n" + report)
