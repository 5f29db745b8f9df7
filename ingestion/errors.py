"""Errors as values: what went wrong, where, under which rule, so callers can report it.

A `Finding` is one failed rule of one file (blocking or warning); a `UsageError` is a
problem with how ewto was called or configured (exit code 2), never with a member's data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["blocking", "warning"]

# Exit codes of the `ewto` command (documented in README and docs/operations.md).
EXIT_OK = 0
EXIT_FAILED = 1  # a step failed (e.g. the dbt build or its tests)
EXIT_USAGE = 2  # wrong arguments or configuration
EXIT_REJECTED = 3  # a submitted file was rejected


@dataclass(frozen=True)
class Finding:
    """One rule that failed on a file: the unit of every validation report."""

    rule: str
    column: str | None
    severity: Severity
    rows_failing: int
    message: str
    examples: list[int] = field(default_factory=list)  # line numbers (CSV) or row numbers
    example_values: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class UsageError(Exception):
    """Bad arguments or configuration: reported in one line, exit code 2."""


class FileUnreadable(Exception):
    """The bytes of a file cannot be read as any accepted file type."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
