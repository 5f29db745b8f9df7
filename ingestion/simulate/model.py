"""The numbers behind the simulated exports: volumes, trajectories, calibration, arrival.

All functions here are pure and vectorised over months, so the calibration can be tested
at scale 1 without writing twelve million rows. Everything they produce is SYNTHETIC,
calibrated only to the published figures of ../shared/domain.md section 1.

Months are handled as integer indices (year * 12 + month - 1).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from ingestion.registry import Organisation, Registry
from ingestion.simulate import tables as T

# ----------------------------------------------------------------------------- months


def month_index(period: str) -> int:
    """'2018-03' -> 2018 * 12 + 2."""
    year, month = period.split("-")
    if len(year) != 4 or not 1 <= int(month) <= 12:
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    return int(year) * 12 + int(month) - 1


def period_of(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def first_day(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def days_in(index: int) -> int:
    return calendar.monthrange(index // 12, index % 12 + 1)[1]


def periods(start: str, end: str) -> list[str]:
    a, b = month_index(start), month_index(end)
    if b < a:
        raise ValueError(f"end {end} is before start {start}")
    return [period_of(i) for i in range(a, b + 1)]


LAUNCH = month_index(T.LAUNCH_PERIOD)
I2012 = month_index("2012-01")
DEC2016 = month_index("2016-12")


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A generator that depends only on the seed and the keys (never on iteration order)."""
    words = [int(seed) % 2**32, (int(seed) >> 32) % 2**32] + [T.stable_hash(k) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


# ------------------------------------------------------------------------ membership


def join_index(org: Organisation) -> int | None:
    return None if org.joined is None else org.joined.year * 12 + org.joined.month - 1


def active_fraction(org: Organisation, index: int) -> float:
    """Share of the month's days on which the organisation was a member (0 when inactive)."""
    if org.joined is None:
        return 0.0
    first = first_day(index)
    last = first + dt.timedelta(days=days_in(index) - 1)
    lo = max(first, org.joined)
    hi = last if org.left is None else min(last, org.left)
    if hi < lo:
        return 0.0
    return ((hi - lo).days + 1) / days_in(index)


def active_window(org: Organisation, index: int) -> tuple[dt.date, dt.date]:
    """First day and the day after the last day of membership within the month."""
    first = first_day(index)
    after = first + dt.timedelta(days=days_in(index))
    lo = max(first, org.joined) if org.joined else first
    hi = after if org.left is None else min(after, org.left + dt.timedelta(days=1))
    return lo, hi


# Mild seasonality of takedowns (Chinese New Year dip, year-end shopping peak); mean 1.
_SEASON = np.array([1.0, 0.92, 1.0, 1.0, 1.0, 0.98, 0.98, 0.98, 1.0, 1.0, 1.02, 1.04])
_SEASON = _SEASON / _SEASON.mean()


def season(index: np.ndarray) -> np.ndarray:
    return _SEASON[np.asarray(index) % 12]


# ------------------------------------------------------------------------- takedowns

# Coalition-wide effort curve, t in months since the launch: a surge around T0 (the 2020
# crackdown on online wildlife trade after COVID-19 was linked to wildlife markets) that
# partly eases afterwards:
#   R(t) = 1 + (r_max - 1) * logistic((t - T0) / S) * (1 - EASE * (1 - exp(-(t - T0)+ / 12)))
# r_max is solved so that the cumulative totals match the publications.
EFFORT_T0 = 24.0
EFFORT_S = 1.5
EFFORT_EASE = 0.6


@dataclass(frozen=True)
class Calibration:
    level: float  # takedowns per month per unit of member weight at R = 1
    r_max: float  # plateau of the coalition effort curve
    ebay_a: float  # eBay takedowns in 2019-01 (before seasonality)
    ebay_r: float  # eBay monthly growth factor
    market_2017: float  # advert market level from 2017 (2012-01 = 1)


def _effort(t: np.ndarray, r_max: float) -> np.ndarray:
    surge = 1.0 / (1.0 + np.exp(-(t - EFFORT_T0) / EFFORT_S))
    ease = 1.0 - EFFORT_EASE * (1.0 - np.exp(-np.maximum(t - EFFORT_T0, 0.0) / 12.0))
    return 1.0 + (r_max - 1.0) * surge * ease


def _member_shape(org: Organisation, idx: np.ndarray) -> np.ndarray:
    """Unit-free monthly volume of a member before the effort curve (0 when inactive)."""
    j = join_index(org)
    if j is None:
        return np.zeros(len(idx))
    frac = np.array([active_fraction(org, int(i)) for i in idx])
    ramp = 1.0 - 0.5 * np.exp(-np.maximum(idx - j, 0) / 3.0)
    return T.profile(org.id).weight * frac * ramp * season(idx)


def _ebay(org: Organisation, idx: np.ndarray, a: float, r: float) -> np.ndarray:
    frac = np.array([active_fraction(org, int(i)) for i in idx])
    return a * r ** (idx - month_index("2019-01")) * season(idx) * frac


def _ebay_params() -> tuple[float, float]:
    r = (T.EBAY_YEARLY[2020] / T.EBAY_YEARLY[2019]) ** (1 / 12)
    year = np.arange(month_index("2019-01"), month_index("2019-12") + 1)
    a = T.EBAY_YEARLY[2019] / float(np.sum(r ** (year - year[0]) * season(year)))
    return a, r


def _registry_key(registry: Registry) -> tuple:
    return tuple(
        (o.id, o.kind, o.joined, o.left, o.platforms, o.monitors, o.timezone) for o in registry.organisations
    )


_CALIBRATIONS: dict[tuple, Calibration] = {}


def calibrate(registry: Registry) -> Calibration:
    """Solve the free parameters against the published figures (independent of the seed)."""
    key = _registry_key(registry)
    if key in _CALIBRATIONS:
        return _CALIBRATIONS[key]
    ebay_a, ebay_r = _ebay_params()
    (p1, n1), (p2, n2) = T.CUMULATIVE_TARGETS
    idx = np.arange(LAUNCH, month_index(p2) + 1)
    cut = month_index(p1) - LAUNCH + 1
    shapes = np.zeros(len(idx))
    ebay = np.zeros(len(idx))
    for org in registry.members:
        if org.id == "ebay":
            ebay += _ebay(org, idx, ebay_a, ebay_r)
        else:
            shapes += _member_shape(org, idx)
    t = (idx - LAUNCH).astype(float)
    e1, e2 = ebay[:cut].sum(), ebay.sum()

    def ratio(r_max: float) -> float:
        v = shapes * _effort(t, r_max)
        return v.sum() / v[:cut].sum()

    want = (n2 - e2) / (n1 - e1)
    lo, hi = 1.0, 200.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid) < want else (lo, mid)
    r_max = (lo + hi) / 2
    level = (n1 - e1) / float((shapes * _effort(t, r_max))[:cut].sum())
    cal = Calibration(level, r_max, ebay_a, ebay_r, _solve_market(registry))
    _CALIBRATIONS[key] = cal
    return cal


def takedown_expected(registry: Registry, start: str, end: str) -> pl.DataFrame:
    """Expected takedowns (scale 1) per member and month: columns org_id, period, expected."""
    cal = calibrate(registry)
    idx = np.arange(month_index(start), month_index(end) + 1)
    t = (idx - LAUNCH).astype(float)
    rows_org, rows_period, rows_exp = [], [], []
    for org in registry.members:
        if org.id == "ebay":
            v = _ebay(org, idx, cal.ebay_a, cal.ebay_r)
        else:
            v = cal.level * _member_shape(org, idx) * _effort(t, cal.r_max)
        for i, x in zip(idx, v, strict=True):
            if org.active_in(first_day(int(i))):
                rows_org.append(org.id)
                rows_period.append(period_of(int(i)))
                rows_exp.append(float(x))
    return pl.DataFrame(
        {"org_id": rows_org, "period": rows_period, "expected": rows_exp},
        schema={"org_id": pl.String, "period": pl.String, "expected": pl.Float64},
    )


def scaled_count(count_at_scale_1: int, scale: float) -> int:
    """Row counts scale linearly: round half up, minimum 0."""
    return max(0, int(np.floor(count_at_scale_1 * scale + 0.5)))


def takedown_count(seed: int, org_id: str, period: str, expected: float) -> int:
    """The simulated number of takedowns at scale 1 (expected times a little noise)."""
    noise = rng_for(seed, org_id, "takedowns", period, "count").normal(0.0, 0.06)
    return max(0, int(np.floor(expected * np.exp(noise) + 0.5)))


def takedown_counts(
    registry: Registry, start: str, end: str, seed: int = 42, scale: float = 1.0
) -> pl.DataFrame:
    """takedown_expected plus `count_1` (at scale 1) and `rows` (at `scale`)."""
    df = takedown_expected(registry, start, end)
    c1 = [takedown_count(seed, o, p, e) for o, p, e in df.iter_rows()]
    return df.with_columns(
        pl.Series("count_1", c1, dtype=pl.Int64),
        pl.Series("rows", [scaled_count(c, scale) for c in c1], dtype=pl.Int64),
    )


# ------------------------------------------------------------------------ monitoring


def n_keywords(scale: float) -> int:
    """Keywords in the frozen panel used at this scale: 112 at scale 1, at least 8."""
    return int(min(T.KEYWORD_PANEL_SIZE, max(8, round(T.KEYWORD_PANEL_SIZE * scale**0.6))))


@lru_cache(maxsize=8)
def keyword_panel(n: int) -> tuple[tuple[str, str, float], ...]:
    """The first n keywords of the frozen panel: (keyword_id, commodity, relative weight).

    Keywords are allocated to the commodities of the 2016 mix in proportion to the square
    root of their shares (a Sainte-Lague sequence, so every prefix is balanced); the weights
    make the expected advert mix equal to the 2016 mix. Mean weight is 1.
    """
    shares = T.MIX_2016
    counts = dict.fromkeys(shares, 0)
    order: list[str] = []
    for _ in range(T.KEYWORD_PANEL_SIZE):
        c = max(shares, key=lambda k: shares[k] ** 0.5 / (2 * counts[k] + 1))
        counts[c] += 1
        order.append(c)
    used = order[:n]
    present = {c: used.count(c) for c in dict.fromkeys(used)}
    total = sum(shares[c] for c in present)
    w = [shares[c] / total / present[c] * n for c in used]
    return tuple((f"kw{i + 1:03d}", c, wi) for i, (c, wi) in enumerate(zip(used, w, strict=True)))


def monitoring_start(platform_id: str) -> int:
    return month_index(T.MONITORING_START.get(platform_id, "2012-01"))


def _market_raw(idx: np.ndarray, level_2017: float) -> np.ndarray:
    """Advert market level: a decline 2012-2016 (1.0 -> 0.42), a drop with China's ivory ban
    from 2017 to `level_2017`, flat afterwards."""
    idx = np.asarray(idx, dtype=float)
    before = np.exp(np.log(0.42) * (idx - I2012) / (DEC2016 - I2012))
    dec = 0.42
    blend = np.exp(-(idx - DEC2016) / 1.2)
    after = level_2017 + (dec - level_2017) * blend
    return np.where(idx <= DEC2016, before, after)


def _platforms(registry: Registry) -> dict[str, Organisation | None]:
    """Monitored platform -> owning member (None for non-member platforms)."""
    owner: dict[str, Organisation | None] = {}
    for p in registry.platforms:
        owner[p.id] = registry.org(p.member_id) if p.member_id else None
    return owner


def platform_base(platform_id: str, member: Organisation | None) -> tuple[float, float]:
    """(prevalence per 1000 queries in 2012-01, mean queries per keyword and window)."""
    q = 30.0 + 30.0 * T.unit(platform_id, "queries")
    if member is None:
        return T.NON_MEMBER_PREVALENCE.get(platform_id, 30.0), q
    centre = 46.0 if T.region(member.timezone) == "cn" else 16.0
    return centre * float(np.exp(0.35 * (2 * T.unit(platform_id, "base") - 1))), q


def platform_effect(platform_id: str, member: Organisation | None, idx: np.ndarray) -> np.ndarray:
    """Multiplier of prevalence from the platform's own actions (1 before joining)."""
    idx = np.asarray(idx, dtype=float)
    if member is None:
        d = T.DISPLACEMENT.get(platform_id, 0.8)
        k = np.maximum(idx - LAUNCH, 0)
        return 1.0 + d * (1.0 - np.exp(-k / 14.0))
    j = join_index(member)
    if j is None:
        return np.ones(len(idx))
    arche = T.profile(member.id).archetype
    u = T.unit(platform_id, "final")
    if arche == "achiever":
        final, tau = 0.10 + 0.06 * u, 7.0
    elif arche == "staller":
        final, tau = 0.52 + 0.16 * u, 6.0
    else:
        final, tau = 1.25 + 0.25 * u, 10.0
    k = idx - j
    return np.where(k < 0, 1.0, final + (1.0 - final) * np.exp(-np.maximum(k, 0) / tau))


def founding_panel(registry: Registry) -> list[str]:
    """Founding members' platforms monitored in every baseline month (the coalition panel)."""
    out = []
    for m in registry.members:
        if m.founding:
            out += [p for p in m.platforms if monitoring_start(p) <= LAUNCH - 12]
    monitored = {p for o in registry.monitors for p in o.monitors}
    return [p for p in out if p in monitored]


def _panel_adverts(registry: Registry, idx: np.ndarray, level_2017: float) -> np.ndarray:
    owner = _platforms(registry)
    total = np.zeros(len(idx))
    for p in founding_panel(registry):
        base, q = platform_base(p, owner[p])
        total += base * q / 1000 * _market_raw(idx, level_2017) * platform_effect(p, owner[p], idx)
    return total


def _solve_market(registry: Registry) -> float:
    """The 2017+ market level giving 2017-2018 adverts 73% below the 2012-2016 average."""
    early = np.arange(I2012, DEC2016 + 1)
    late = np.arange(month_index("2017-01"), month_index("2018-12") + 1)
    base = _panel_adverts(registry, early, 0.3).mean()
    if base == 0:
        return 0.25
    want = (1 - T.DROP_2017_2018) * base
    lo, hi = 0.0, 2.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _panel_adverts(registry, late, mid).mean() < want else (lo, mid)
    return (lo + hi) / 2


def market(idx: np.ndarray, cal: Calibration) -> np.ndarray:
    return _market_raw(idx, cal.market_2017)


def monitoring_expected(registry: Registry, start: str, end: str) -> pl.DataFrame:
    """Expected monitoring per NGO, platform and month (scale-free, per keyword).

    Columns: monitor_id, platform_id, period, prevalence (new adverts per 1000 queries),
    queries (mean queries per keyword and window), adverts (expected new adverts per keyword
    and window = prevalence * queries / 1000).
    """
    cal = calibrate(registry)
    owner = _platforms(registry)
    idx = np.arange(month_index(start), month_index(end) + 1)
    mk = market(idx, cal)
    frames = []
    for ngo in registry.monitors:
        for p in ngo.monitors:
            member = owner.get(p)
            base, q = platform_base(p, member)
            prev = base * mk * platform_effect(p, member, idx)
            keep = idx >= monitoring_start(p)
            frames.append(
                pl.DataFrame(
                    {
                        "monitor_id": [ngo.id] * int(keep.sum()),
                        "platform_id": [p] * int(keep.sum()),
                        "period": [period_of(int(i)) for i in idx[keep]],
                        "prevalence": prev[keep],
                        "queries": np.full(int(keep.sum()), q),
                    }
                )
            )
    schema = {
        "monitor_id": pl.String,
        "platform_id": pl.String,
        "period": pl.String,
        "prevalence": pl.Float64,
        "queries": pl.Float64,
    }
    df = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    return df.with_columns(adverts=pl.col("prevalence") * pl.col("queries") / 1000)


# --------------------------------------------------------------------------- arrival

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def due_at(index: int, due_day: int = 15, due_time: dt.time = dt.time(23, 59, 59)) -> dt.datetime:
    """Takedowns for month `index` are due on `due_day` of the next month (UTC)."""
    nxt = first_day(index + 1)
    return dt.datetime.combine(nxt.replace(day=due_day), due_time, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Arrival:
    received_at: dt.datetime | None  # None: never delivered
    late: bool


def takedown_arrival(seed: int, org: Organisation, index: int, due: dt.datetime) -> Arrival:
    prof = T.profile(org.id)
    rng = rng_for(seed, org.id, "takedowns", period_of(index), "arrival")
    u = float(rng.random())
    if u < prof.never_rate:
        return Arrival(None, False)
    if u < prof.never_rate + prof.late_rate:
        # days to weeks after the due time
        delay = dt.timedelta(hours=1 + float(rng.exponential(9 * 24)))
        return Arrival(due + delay, True)
    # between the 1st and the due time, most in the second week
    start = dt.datetime.combine(first_day(index + 1), dt.time(0), tzinfo=dt.UTC)
    span = (due - start).total_seconds()
    frac = float(rng.beta(2.5, 1.5))
    return Arrival(start + dt.timedelta(seconds=int(frac * span * 0.999)), False)


def monitoring_arrival(seed: int, ngo_id: str, index: int) -> dt.datetime:
    """Monitoring files arrive within the next month."""
    rng = rng_for(seed, ngo_id, "monitoring", period_of(index), "arrival")
    start = dt.datetime.combine(first_day(index + 1), dt.time(0), tzinfo=dt.UTC)
    return start + dt.timedelta(seconds=int(rng.integers(2 * 86400, days_in(index + 1) * 86400 - 1)))
