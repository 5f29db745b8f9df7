"""Row generators: one canonical, typed polars frame per simulated file (SYNTHETIC data).

Columns and domains come from ingestion/contract.py. Timestamps are naive datetimes in
the organisation's local time zone; the writers turn them into each member's spelling.
Everything is vectorised with numpy; no per-row Python loops.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from ingestion.contract import ACTION_TYPES, column_names
from ingestion.registry import Organisation
from ingestion.simulate import model as M
from ingestion.simulate import tables as T


class Cat:
    """A categorical distribution over strings, sampled as integer codes."""

    def __init__(self, mix: dict[str, float]) -> None:
        self.keys = tuple(mix)
        p = np.array([mix[k] for k in self.keys], dtype=float)
        self.cum = np.cumsum(p / p.sum())
        self.cum[-1] = 1.0
        self.labels = np.array(self.keys, dtype=object)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n labels (object array)."""
        return self.labels[np.searchsorted(self.cum, rng.random(n), side="right")]

    def codes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.searchsorted(self.cum, rng.random(n), side="right")


_CATS: dict[tuple, Cat] = {}


def _cat(mix: dict[str, float]) -> Cat:
    key = tuple(mix.items())
    if key not in _CATS:
        _CATS[key] = Cat(mix)
    return _CATS[key]


def _choice(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    return _cat(mix).draw(rng, n)


def _str(values: np.ndarray | list) -> pl.Series:
    """A string column from a numpy object array (None -> null)."""
    return pl.Series(values.tolist() if isinstance(values, np.ndarray) else values, dtype=pl.String)


def _epoch(day: dt.date, tz: str) -> int:
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(tz)).timestamp())


def _offset(seconds: int, zone: ZoneInfo) -> int:
    off = dt.datetime.fromtimestamp(seconds, zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


@lru_cache(maxsize=4096)
def _transitions(tz: str, lo: int, hi: int) -> tuple[tuple[int, int, int], ...]:
    """UTC offset changes of zone `tz` between epoch seconds lo and hi:
    (instant, offset before, offset after). Found by daily sampling and bisection."""
    zone = ZoneInfo(tz)
    out = []
    days = list(range(lo - lo % 86400, hi + 86400, 86400))
    offs = [_offset(d, zone) for d in days]
    for d0, o0, o1 in zip(days, offs, offs[1:], strict=False):
        if o0 == o1:
            continue
        a, b = d0, d0 + 86400  # offset(a) == o0, offset(b) == o1
        while b - a > 1:
            mid = (a + b) // 2
            a, b = (mid, b) if _offset(mid, zone) == o0 else (a, mid)
        out.append((b, o0, o1))
    return tuple(out)


def localise(seconds: np.ndarray, tz: str, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch seconds -> naive local wall times (numpy datetime64[us]).

    Wall times that occur twice (the hour repeated when clocks go back) are moved by
    `shift` seconds so that a reader can localise every value without guessing. Returns the
    (possibly shifted) UTC seconds and the local times.
    """
    seconds = np.asarray(seconds, dtype=np.int64)
    if tz == "UTC" or len(seconds) == 0:
        return seconds, (seconds * 1_000_000).astype("datetime64[us]")
    lo, hi = int(seconds.min()), int(seconds.max())
    # cache per day range: round the bounds to whole days
    trans = _transitions(tz, lo - lo % 86400 - 86400, hi - hi % 86400 + 86400)
    zone = ZoneInfo(tz)

    def wall(sec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        off = np.full(len(sec), _offset(lo - lo % 86400 - 86400, zone), dtype=np.int64)
        amb = np.zeros(len(sec), dtype=bool)
        for at, _before, after in trans:
            off = np.where(sec >= at, after, off)
        local = sec + off
        for at, before, after in trans:
            if after < before:  # clocks go back: [at + after, at + before) happens twice
                amb |= (local >= at + after) & (local < at + before)
        return local, amb

    local, amb = wall(seconds)
    if amb.any():
        seconds = seconds + np.where(amb, shift, 0)
        local, _ = wall(seconds)
    return seconds, (local * 1_000_000).astype("datetime64[us]")


def seller_pool(org: Organisation, cal: M.Calibration, scale: float) -> int:
    """Size of a member's pool of sellers at this scale (independent of the run's range)."""
    typical = 13_750.0 if org.id == "ebay" else T.profile(org.id).weight * cal.level * 2.5
    return max(25, int(3 * typical * scale))


_MASK40 = np.uint64(2**40 - 1)


def scramble(values: np.ndarray, salt: int) -> np.ndarray:
    """A bijection on [0, 2**40) (odd multipliers and xor-shifts), so distinct inputs give
    distinct, random-looking identifiers."""
    x = (np.asarray(values).astype(np.uint64) ^ np.uint64(salt % 2**40)) & _MASK40
    x = (x * np.uint64(0x9E3779B97F4A7C15 % 2**40 | 1)) & _MASK40
    x ^= x >> np.uint64(17)
    x = (x * np.uint64(0xBF58476D1CE4E5B9 % 2**40 | 1)) & _MASK40
    x ^= x >> np.uint64(13)
    return x


# ----------------------------------------------------------------------------- takedowns

_REACTIVE = {"user_report": 0.55, "ngo_referral": 0.22, "cyber_spotter": 0.15, "law_enforcement": 0.08}
_MEDIAN_HOURS = {
    "automated_text": 1.5,
    "automated_image": 2.5,
    "internal_review": 14.0,
    "user_report": 20.0,
    "ngo_referral": 40.0,
    "cyber_spotter": 30.0,
    "law_enforcement": 72.0,
}
_FALLBACK_ACTION = {
    "account_terminated": "account_suspended",
    "referred_to_law_enforcement": "removed",
    "account_warned": "restricted",
    "account_suspended": "removed",
    "blocked": "removed",
    "restricted": "removed",
}
_REFERRAL_PREFIX = {"ngo_referral": "NGO", "cyber_spotter": "CS", "law_enforcement": "LE"}
_ID_OFFSET = np.uint64(10**12)  # identifiers are 13-digit numbers (scrambled < 2**40)


@lru_cache(maxsize=8)
def _species_table(commodities: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per commodity (rows, in the given order): cumulative species probabilities padded
    with 1.0, scientific names (None: not identified) and CITES appendices."""
    width = max(len(T.SPECIES[c]) for c in commodities)
    cum = np.ones((len(commodities), width))
    names = np.full((len(commodities), width), None, dtype=object)
    cites = np.full((len(commodities), width), "unknown", dtype=object)
    for i, c in enumerate(commodities):
        opts = T.SPECIES[c]
        w = np.array([o[2] for o in opts], dtype=float)
        cum[i, : len(opts)] = np.cumsum(w / w.sum())
        cum[i, len(opts) - 1 :] = 1.0
        names[i, : len(opts)] = [o[0] for o in opts]
        cites[i, : len(opts)] = [o[1] for o in opts]
    return cum, names, cites


def takedown_frame(
    org: Organisation,
    index: int,
    n: int,
    rng: np.random.Generator,
    cal: M.Calibration,
    scale: float,
    allowed_actions: set[str] | None = None,
) -> pl.DataFrame:
    """`n` actioned items of member `org` in month `index` (canonical columns, typed)."""
    prof = T.profile(org.id)
    reg = T.region(org.timezone)
    j = M.join_index(org) or index
    k = max(index - j, 0)  # months since joining
    c = max(index - M.LAUNCH, 0)  # months since the coalition's launch

    # detection: proactive share rises with time in the coalition
    p_pro = prof.proactive + (0.93 - prof.proactive) * (1 - np.exp(-k / 20))
    is_pro = rng.random(n) < p_pro
    g = 1 - np.exp(-c / 24)
    pro_mix = {
        "automated_text": 0.5 - 0.05 * g,
        "automated_image": 0.15 + 0.25 * g,
        "internal_review": 0.35 - 0.2 * g,
    }
    source = np.where(is_pro, _choice(rng, pro_mix, n), _choice(rng, _REACTIVE, n))

    automated = (source == "automated_text") | (source == "automated_image")
    p_pre_auto = min(0.95, 0.25 + 0.55 * (1 - np.exp(-k / 24)) + (0.3 if prof.proactive > 0.7 else 0))
    p_pre = np.where(automated, p_pre_auto, np.where(source == "internal_review", 0.1, 0.0))
    pre = rng.random(n) < p_pre
    stage = np.where(pre, "pre_publication", "post_publication")

    content = _choice(rng, T.CONTENT_MIX[prof.kind], n)
    action = _choice(
        rng, {"removed": 0.86, "restricted": 0.06, "blocked": 0.05, "referred_to_law_enforcement": 0.03}, n
    )
    action = np.where(
        source == "law_enforcement",
        _choice(rng, {"removed": 0.7, "referred_to_law_enforcement": 0.3}, n),
        action,
    )
    acct = _choice(
        rng,
        {
            "account_warned": 0.3,
            "account_suspended": 0.4,
            "account_terminated": 0.27,
            "referred_to_law_enforcement": 0.03,
        },
        n,
    )
    action = np.where(content == "account", acct, action)
    action = np.where(content == "group", _choice(rng, {"removed": 0.75, "restricted": 0.25}, n), action)
    action = np.where(pre, _choice(rng, {"blocked": 0.92, "restricted": 0.08}, n), action)
    if allowed_actions:
        for _ in range(3):  # map actions the member has no spelling for onto ones it has
            for a in set(ACTION_TYPES) - set(allowed_actions):
                action = np.where(action == a, _FALLBACK_ACTION.get(a, "removed"), action)

    # commodity, species, CITES appendix
    com = _cat(T.COMMODITY_MIX.get(reg, T.COMMODITY_MIX_DEFAULT))
    com_idx = com.codes(rng, n)
    commodity = com.labels[com_idx]
    sp_cum, sp_name, sp_cites = _species_table(com.keys)
    pick = (rng.random(n)[:, None] > sp_cum[com_idx]).sum(axis=1)
    species = sp_name[com_idx, pick]
    cites = sp_cites[com_idx, pick]

    # times: actioned uniformly over the days of membership in the month (local time)
    lo, hi = M.active_window(org, index)
    start_s, end_s = _epoch(lo, org.timezone), _epoch(hi, org.timezone)
    act = np.sort(start_s + np.floor(rng.random(n) * (end_s - start_s)).astype(np.int64))
    faster = 0.35 + 0.65 * np.exp(-k / 18)  # response gets faster with time in the coalition
    med = np.zeros(n)
    for s, m in _MEDIAN_HOURS.items():
        med[source == s] = m * faster
    med = np.where(pre, 0.01, med)  # blocked at upload: seconds to minutes
    hours = np.minimum(med * np.exp(rng.normal(0.0, np.where(pre, 1.0, 1.1), n)), 45 * 24)
    delay = np.floor(hours * 3600).astype(np.int64)
    # ambiguous wall times (clocks going back, 01:00-03:00 local) move two hours later for
    # actioned_at (still the same day) and two hours earlier for detected_at
    act, actioned = localise(act, org.timezone, 7200)
    _, detected = localise(act - delay, org.timezone, -7200)

    # sellers: a sliding, skewed pool so that some sellers recur across months
    pool = seller_pool(org, cal, scale)
    offset = k * pool // 36
    seller_idx = offset + np.floor(pool * rng.random(n) ** 2.5).astype(np.int64)
    seller = scramble(seller_idx + 1, T.stable_hash(org.id, "seller")) + _ID_OFFSET
    rid = (
        scramble(np.int64(index) * 10**7 + np.arange(n, dtype=np.int64), T.stable_hash(org.id, "record"))
        + _ID_OFFSET
    )

    country = _choice(rng, T.SELLER_COUNTRIES[reg if reg in T.SELLER_COUNTRIES else "us"], n)
    currency_code = T.CURRENCY.get(reg, "USD")
    base_price = np.array([T.PRICE_USD[x] for x in com.keys], dtype=float)[com_idx]
    price = base_price * np.exp(rng.normal(0.0, 0.9, n)) * T.USD_RATE[currency_code]
    price = np.round(price, 0 if currency_code in ("JPY", "KES", "NGN") else 2)
    p_priced = np.select([(content == "listing") | (content == "ad"), content == "post"], [0.92, 0.5], 0.0)
    priced = rng.random(n) < p_priced
    appealed = rng.random(n) < 0.02
    restored = appealed & (rng.random(n) < 0.3)
    ref_no = rng.integers(10_000, 100_000, n)
    platform = np.array(org.platforms, dtype=object)[rng.integers(0, len(org.platforms), n)]

    # referral ids for referred items, e.g. CS-201905-04211 (numpy string ufuncs)
    ym = M.period_of(index).replace("-", "")
    prefix = np.full(n, "", dtype="U3")
    for src, pre_ in _REFERRAL_PREFIX.items():
        prefix[source == src] = pre_
    has_ref = prefix != ""
    referral = np.strings.add(np.strings.add(prefix, f"-{ym}-"), ref_no.astype("U5"))
    referral = np.where(has_ref, referral.astype(object), None)

    return pl.DataFrame(
        [
            pl.Series("record_id", rid).cast(pl.String),
            _str(content).alias("content_type"),
            pl.Series("detected_at", detected),
            pl.Series("actioned_at", actioned),
            _str(source).alias("detection_source"),
            _str(stage).alias("detection_stage"),
            _str(action).alias("action_type"),
            _str(commodity).alias("commodity"),
            pl.Series("seller_id", seller).cast(pl.String),
            _str(platform).alias("platform_id"),
            _str(species).alias("species_scientific_name"),
            _str(cites).alias("cites_appendix"),
            _str(country).alias("seller_country"),
            pl.Series("price", np.where(priced, price, np.nan), dtype=pl.Float64, nan_to_null=True),
            _str(np.where(priced, currency_code, None)).alias("currency"),
            pl.Series("appealed", appealed, dtype=pl.Boolean),
            pl.Series("restored", restored, dtype=pl.Boolean),
            _str(referral).alias("referral_id"),
        ]
    )


# ---------------------------------------------------------------------------- monitoring

_WINDOW_DAYS = {"traffic": 7, "wwf": 14, "ifaw": 10}


def monitoring_frame(
    ngo: Organisation,
    index: int,
    registry_platforms: dict[str, Organisation | None],
    keywords: tuple[tuple[str, str, float], ...],
    cal: M.Calibration,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """One row per monitored platform x keyword for the month's survey window."""
    plats = [p for p in ngo.monitors if p in registry_platforms and M.monitoring_start(p) <= index]
    nk = len(keywords)
    first = M.first_day(index)
    ym = M.period_of(index).replace("-", "")
    cols: dict[str, list] = {c: [] for c in column_names("monitoring")}
    kw_ids = [kw[0] for kw in keywords]
    kw_com = [kw[1] for kw in keywords]
    kw_w = np.array([kw[2] for kw in keywords], dtype=float)
    arr_q, arr_found, arr_ref = [], [], []
    for p in plats:
        member = registry_platforms[p]
        base, q_mean = M.platform_base(p, member)
        idx = np.array([index])
        prev = float(base * M.market(idx, cal)[0] * M.platform_effect(p, member, idx)[0])
        prev *= float(np.exp(rng.normal(0.0, 0.08)))  # month-to-month variation
        q = rng.poisson(q_mean, nk) + 1
        found = rng.poisson(prev * q / 1000 * kw_w)
        joined = (
            member is not None and M.join_index(member) is not None and index >= (M.join_index(member) or 0)
        )
        p_ref = 0.35 if joined else (0.1 if member is not None else 0.05)
        referred = rng.binomial(found, p_ref)
        start = first + dt.timedelta(days=int(rng.integers(0, 7)))
        end = start + dt.timedelta(days=_WINDOW_DAYS.get(ngo.id, 7) - 1)
        lang = (
            T.LANGUAGE[T.region(member.timezone)]
            if member is not None
            else T.MONITOR_LANGUAGE.get(ngo.id, "en")
        )
        cols["survey_id"] += [f"{ngo.id.upper()}-{ym}-{p}"] * nk
        cols["platform_id"] += [p] * nk
        cols["window_start"] += [start] * nk
        cols["window_end"] += [end] * nk
        cols["keyword_id"] += kw_ids
        cols["language"] += [lang] * nk
        cols["commodity"] += kw_com
        arr_q.append(q)
        arr_found.append(found)
        arr_ref.append(referred)
    empty = np.zeros(0, dtype=np.int64)
    cols["queries_run"] = np.concatenate(arr_q) if arr_q else empty
    cols["new_adverts_found"] = np.concatenate(arr_found) if arr_found else empty
    cols["adverts_referred"] = np.concatenate(arr_ref) if arr_ref else empty
    schema = {
        "survey_id": pl.String,
        "platform_id": pl.String,
        "window_start": pl.Date,
        "window_end": pl.Date,
        "keyword_id": pl.String,
        "language": pl.String,
        "queries_run": pl.Int64,
        "new_adverts_found": pl.Int64,
        "adverts_referred": pl.Int64,
        "commodity": pl.String,
    }
    return pl.DataFrame(cols, schema=schema)
