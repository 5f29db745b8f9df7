"""simulate(): plan every expected submission, generate it, write it as its sender would.

Layout under `out`:
  README.txt                                              says the data are SYNTHETIC
  <org_id>/<dataset>/<org_id>_<dataset>_<YYYY-MM>.<ext>    one file per org, dataset, month
  <org_id>/<dataset>/<org_id>_<dataset>_<YYYY-MM>_v2.<ext> a corrected resubmission
File modification times are the (simulated) arrival times.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.registry import Organisation, Registry, load_coalition, load_registry
from ingestion.simulate import defects as D
from ingestion.simulate import model as M
from ingestion.simulate import rows as R
from ingestion.simulate import tables as T
from ingestion.simulate import writers as W

INVALID_SHARE = 0.005
RESUBMIT_SHARE = 0.5


@dataclass(frozen=True)
class SimulatedFile:
    path: str  # relative to `out`, with forward slashes
    org_id: str
    dataset: str
    period: str
    version: int
    rows: int
    received_at: dt.datetime  # UTC; also the file's mtime
    late: bool  # takedowns: received after the due time
    defect: str | None  # the contract rule the file breaks, None for a valid file


@dataclass(frozen=True)
class SimulationSummary:
    out: Path
    start: str
    end: str
    scale: float
    seed: int
    files_written: int  # data files (README.txt not counted)
    takedown_rows: int  # rows of takedown files, each (org, period) counted once
    monitoring_rows: int  # rows of monitoring files, each (org, period) counted once
    invalid_files: list[str]  # relative paths of files that break the contract
    resubmissions: list[str]  # relative paths of corrected `_v2` files
    never_delivered: list[tuple[str, str, str]]  # (org_id, dataset, period)
    late_files: list[str] = field(default_factory=list)
    empty_files: list[str] = field(default_factory=list)  # valid files with a header only
    files: tuple[SimulatedFile, ...] = ()

    def as_text(self) -> str:
        lines = [
            "SYNTHETIC DATA: simulated member and NGO exports, not real coalition figures.",
            f"  range {self.start}..{self.end}, scale {self.scale:g}, seed {self.seed}, "
            f"written to {self.out}",
            f"  {self.files_written} files: {self.takedown_rows:,} takedown rows, "
            f"{self.monitoring_rows:,} monitoring rows",
            f"  {len(self.late_files)} late, {len(self.never_delivered)} never delivered, "
            f"{len(self.empty_files)} with zero rows",
            f"  {len(self.invalid_files)} invalid files, {len(self.resubmissions)} corrected resubmissions:",
        ]
        by_path = {f.path: f for f in self.files}
        for p in self.invalid_files:
            lines.append(f"    {p} ({by_path[p].defect})" if p in by_path else f"    {p}")
        for p in self.resubmissions:
            lines.append(f"    {p} (resubmission)")
        return "\n".join(lines)


@dataclass
class _Plan:
    org: Organisation
    dataset: str
    index: int
    rows: int
    received_at: dt.datetime | None
    late: bool = False
    defect: str | None = None
    resubmit_at: dt.datetime | None = None

    @property
    def period(self) -> str:
        return M.period_of(self.index)


def _due(index: int) -> dt.datetime:
    try:
        c = load_coalition()
        return M.due_at(index, c.due_day, c.due_time_utc)
    except (OSError, KeyError):
        return M.due_at(index)


def _plan(registry: Registry, start: str, end: str, scale: float, seed: int, n_kw: int) -> list[_Plan]:
    plans: list[_Plan] = []
    counts = M.takedown_counts(registry, start, end, seed, scale)
    by_key = {(o, p): n for o, p, n in counts.select("org_id", "period", "rows").iter_rows()}
    lo, hi = M.month_index(start), M.month_index(end)
    for org in registry.members:
        for i in range(lo, hi + 1):
            key = (org.id, M.period_of(i))
            if key not in by_key:
                continue
            arr = M.takedown_arrival(seed, org, i, _due(i))
            plans.append(_Plan(org, "takedowns", i, by_key[key], arr.received_at, arr.late))
    known = registry.platform_ids()
    for ngo in registry.monitors:
        for i in range(lo, hi + 1):
            n_plat = sum(1 for p in ngo.monitors if p in known and M.monitoring_start(p) <= i)
            if n_plat == 0:
                continue
            plans.append(_Plan(ngo, "monitoring", i, n_plat * n_kw, M.monitoring_arrival(seed, ngo.id, i)))
    return plans


def _choose_defects(plans: list[_Plan], seed: int, start: str, end: str) -> None:
    """Mark about 0.5% of the delivered files invalid (at least the FORCED kinds) and give
    about half of them, always the first, a corrected resubmission."""
    rng = M.rng_for(seed, "defects", start, end)
    delivered = [p for p in plans if p.received_at is not None and p.rows >= D.MIN_ROWS]
    pools = {ds: [p for p in delivered if p.dataset == ds] for ds in ("takedowns", "monitoring")}
    n_files = sum(1 for p in plans if p.received_at is not None)
    wanted = max(len(D.FORCED), round(INVALID_SHARE * n_files))
    kinds = list(D.FORCED)
    others = [("takedowns", d) for d in D.TAKEDOWN_DEFECTS] * 3 + [
        ("monitoring", d) for d in D.MONITORING_DEFECTS
    ]
    while len(kinds) < wanted:
        kinds.append(others[int(rng.integers(len(others)))])
    chosen: list[_Plan] = []
    for ds, defect in kinds:
        pool = pools[ds]
        if not pool:
            continue
        p = pool.pop(int(rng.integers(len(pool))))
        p.defect = defect
        chosen.append(p)
    for n, p in enumerate(chosen):
        if n == 0 or rng.random() < RESUBMIT_SHARE:
            assert p.received_at is not None
            p.resubmit_at = p.received_at + dt.timedelta(
                days=int(rng.integers(2, 12)), seconds=int(rng.integers(0, 86400))
            )


def _stamp(path: Path, when: dt.datetime) -> None:
    ts = when.timestamp()
    os.utime(path, (ts, ts))


README = """SYNTHETIC DATA - NOT REAL COALITION FIGURES

These files were generated by ewto's simulator (ingestion/simulate) to exercise the
warehouse. They imitate the monthly exports of the members and monitoring NGOs of the
Global Coalition to End Wildlife Trafficking Online, in each organisation's own file format
(config/members.yml). Every row is invented. Volumes are calibrated to a few published
totals (see ../shared/domain.md section 1); nothing else in them is a fact.

Parameters: range {start}..{end}, scale {scale:g}, seed {seed}.

Layout:
  <org_id>/<dataset>/<org_id>_<dataset>_<YYYY-MM>.<ext>      one export per organisation,
                                                           dataset and month
  <org_id>/<dataset>/<org_id>_<dataset>_<YYYY-MM>_v2.<ext>   a corrected resubmission
File modification times are the simulated arrival times. Some files arrive late, a few
never arrive, and a few deliberately break the export contract.
"""


def simulate(
    out: Path,
    start: str = "2012-01",
    end: str = "2021-12",
    scale: float = 0.01,
    seed: int = 42,
    registry: Registry | None = None,
) -> SimulationSummary:
    """Write SYNTHETIC member and NGO exports for periods start..end under `out`."""
    if scale < 0:
        raise ValueError("scale must be >= 0")
    registry = registry or load_registry()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    M.periods(start, end)  # validates the range
    cal = M.calibrate(registry)
    n_kw = M.n_keywords(scale)
    keywords = M.keyword_panel(n_kw)
    owners: dict[str, Organisation | None] = {
        p.id: (registry.org(p.member_id) if p.member_id else None) for p in registry.platforms
    }

    plans = _plan(registry, start, end, scale, seed, n_kw)
    _choose_defects(plans, seed, start, end)

    files: list[SimulatedFile] = []
    never: list[tuple[str, str, str]] = []
    td_rows = mon_rows = 0
    for p in plans:
        if p.received_at is None:
            never.append((p.org.id, p.dataset, p.period))
            continue
        fmt = p.org.export
        rng = M.rng_for(seed, p.org.id, p.dataset, p.period, "rows")
        if p.dataset == "takedowns":
            # a fully localised export (its own headers for every required column, like
            # alibaba's) spells every action it reports; others write canonical values for
            # the spellings they do not have
            allowed = None
            if W.own_layout(p.dataset, fmt) and "action_type" in fmt.values:
                allowed = set(fmt.values["action_type"].values())
            df = R.takedown_frame(p.org, p.index, p.rows, rng, cal, scale, allowed)
            td_rows += df.height
        else:
            df = R.monitoring_frame(p.org, p.index, owners, keywords, cal, rng)
            mon_rows += df.height
        rel = W.relative_path(p.org.id, p.dataset, p.period, fmt)
        first = df
        if p.defect:
            chinese = T.region(p.org.timezone) == "cn" and bool(fmt.columns)
            first = D.inject(
                df, p.dataset, p.defect, M.rng_for(seed, p.org.id, p.dataset, p.period, "defect"), chinese
            )
        W.write(first, out / rel, p.dataset, fmt, p.received_at)
        _stamp(out / rel, p.received_at)
        files.append(
            SimulatedFile(
                rel.as_posix(), p.org.id, p.dataset, p.period, 1, df.height, p.received_at, p.late, p.defect
            )
        )
        if p.defect and p.resubmit_at is not None:
            rel2 = W.relative_path(p.org.id, p.dataset, p.period, fmt, version=2)
            W.write(df, out / rel2, p.dataset, fmt, p.resubmit_at)
            _stamp(out / rel2, p.resubmit_at)
            late2 = p.dataset == "takedowns" and p.resubmit_at > _due(p.index)
            files.append(
                SimulatedFile(
                    rel2.as_posix(), p.org.id, p.dataset, p.period, 2, df.height, p.resubmit_at, late2, None
                )
            )

    readme = out / "README.txt"
    readme.write_text(README.format(start=start, end=end, scale=scale, seed=seed), encoding="utf-8")
    latest = max((f.received_at for f in files), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    _stamp(readme, latest)

    return SimulationSummary(
        out=out,
        start=start,
        end=end,
        scale=scale,
        seed=seed,
        files_written=len(files),
        takedown_rows=td_rows,
        monitoring_rows=mon_rows,
        invalid_files=[f.path for f in files if f.defect],
        resubmissions=[f.path for f in files if f.version > 1],
        never_delivered=never,
        late_files=[f.path for f in files if f.late],
        empty_files=[f.path for f in files if f.rows == 0 and not f.defect],
        files=tuple(files),
    )


__all__ = ["SimulatedFile", "SimulationSummary", "simulate"]
