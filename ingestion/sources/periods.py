"""Which months to ask a source for.

Two schedules (dags/ewto_collect.py):
- `ewto_collect`, monthly (the 1st, 06:00 UTC): a run collects the month before its logical
  date, and only that month, from every source; a backfill over logical dates
  (`airflow backfill create`) therefore collects one month per run.
- `ewto_recheck`, daily (the other days): an API is asked for the previous month and the
  months of the last `lookback_months` that are still missing (no accepted submission
  yet), for a member only the months it was a member; a listed source (drop folder, SFTP)
  takes every new file, whatever its month (a late correction is never missed).
A run with an explicit period (`YYYY-MM` or `YYYY-MM..YYYY-MM`, the DAGs' `period` param)
asks for exactly those months, whichever the DAG: the other way to backfill.
"""

from __future__ import annotations

import datetime as dt
import re

PERIOD_RANGE_RE = re.compile(r"^(\d{4}-(0[1-9]|1[0-2]))(\.\.(\d{4}-(0[1-9]|1[0-2])))?$")


def _index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def _period(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def parse_periods(spec: str) -> list[str]:
    """'2021-03' -> ['2021-03']; '2021-01..2021-03' -> ['2021-01', '2021-02', '2021-03']."""
    m = PERIOD_RANGE_RE.match(spec.strip())
    if not m:
        raise ValueError(f"period must be YYYY-MM or YYYY-MM..YYYY-MM, got {spec!r}")
    lo, hi = m.group(1), m.group(4) or m.group(1)
    if _index(hi) < _index(lo):
        raise ValueError(f"period range {spec!r} ends before it starts")
    return [_period(i) for i in range(_index(lo), _index(hi) + 1)]


def previous_month(day: dt.date) -> str:
    return _period(_index(f"{day.year:04d}-{day.month:02d}") - 1)


def recent_periods(day: dt.date, lookback_months: int) -> list[str]:
    """The previous month of `day` and the `lookback_months - 1` months before it, oldest first."""
    last = _index(previous_month(day))
    return [_period(i) for i in range(last - max(lookback_months, 1) + 1, last + 1)]


def still_missing(
    org_id: str, datasets: tuple[str, ...], periods: list[str], accepted: set[tuple[str, str, str]]
) -> list[tuple[str, str]]:
    """(dataset, period) pairs of `periods` without an accepted submission."""
    return [(ds, p) for p in periods for ds in datasets if (org_id, ds, p) not in accepted]


MONTHLY, RECHECK = "monthly", "recheck"


def periods_of_run(kind: str, logical_day: dt.date, period_param: str | None = None) -> list[str] | None:
    """The months a collection run asks for: the `period` param when given; a monthly run
    the month before its logical date; a re-check None (the source decides: see above)."""
    if period_param:
        return parse_periods(period_param)
    if kind == MONTHLY:
        return [previous_month(logical_day)]
    if kind == RECHECK:
        return None
    raise ValueError(f"unknown kind of collection run {kind!r}")
