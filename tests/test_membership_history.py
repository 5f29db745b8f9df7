"""A KPI for a month uses who was a member in that month, across registry changes.

On a private copy of the shared demo state (SYNTHETIC data, 2017-01..2019-06, as of
2019-06-30) the warehouse is built once with the registry as it is (config/members.yml), then
again after two registry changes, the way an operator records them in members.yml:
- Baidu, a founding member in the coalition panel, gets a leave date (2018-12-15);
- the platform `instagram` moves from member Instagram to member Facebook (the registry has no
  date for such a move: the platform snapshot records the build that first saw it).
The rebuilt marts must keep every row of the months before the change as it was, and the
later months must reflect it: Baidu owes no export after 2018-12, its platform series stops
in 2018-12 and its platform counts as a non-member platform afterwards (displacement), while
the frozen coalition panel keeps it, so the coalition series does not move; the platform move shows in the history dimensions and changes no
past month. A `--full-refresh` on the same state must give the same marts (the snapshots
survive it).

Everything runs through the real `ewto build`; the registry change goes through
EWTO_CONFIG_DIR (a copy of config/ with the two edits).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.state_fixture import REPO, DemoState, demo_state, ewto_executable  # noqa: F401
from tests.test_incremental import marts

pytestmark = pytest.mark.integration  # 3 builds on a copy of the demo state: ~1-2 min

LEAVER, LEFT_ON = "baidu", dt.date(2018, 12, 15)
LAST_MONTH = dt.date(2018, 12, 1)  # the leaver's last month of membership
MOVED, FROM_MEMBER, TO_MEMBER = "instagram", "instagram", "facebook"
MONTHLY_MARTS = (
    "kpi_reduction_progress",
    "kpi_submission_compliance",
    "kpi_member_monthly",
    "kpi_member_monthly_breakdown",
    "fct_monitoring",
    "fct_takedowns",
)


def _build(state: DemoState, home: Path, *args: str, config: Path | None = None) -> None:
    extra = {"EWTO_CONFIG_DIR": str(config)} if config else {}
    proc = subprocess.run(
        [str(ewto_executable()), "build", *args],
        env=state.env(home, **extra),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, (
        f"ewto build {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )


def _changed_registry(dest: Path) -> Path:
    """A copy of config/ where LEAVER left on LEFT_ON and MOVED belongs to TO_MEMBER."""
    dest.mkdir(parents=True)
    shutil.copy(REPO / "config" / "coalition.yml", dest / "coalition.yml")
    data = yaml.safe_load((REPO / "config" / "members.yml").read_text(encoding="utf-8"))
    orgs = {o["id"]: o for o in data["organisations"]}
    assert orgs[LEAVER].get("left") is None and MOVED in orgs[FROM_MEMBER]["platforms"]
    orgs[LEAVER]["left"] = LEFT_ON
    orgs[FROM_MEMBER]["platforms"] = [p for p in orgs[FROM_MEMBER]["platforms"] if p != MOVED]
    orgs[TO_MEMBER]["platforms"] = [*orgs[TO_MEMBER]["platforms"], MOVED]
    (dest / "members.yml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return dest


@pytest.fixture(scope="module")
def builds(demo_state: DemoState, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    root = tmp_path_factory.mktemp("membership")
    home = demo_state.copy_home(root)
    _build(demo_state, home)  # the registry as it is (incremental on the copied state)
    before = marts(home)
    config = _changed_registry(root / "config")
    _build(demo_state, home, config=config)
    after = marts(home)
    compiled_monitoring = (
        home / "build" / "target" / "compiled" / "ewto" / "models" / "marts" / "fct_monitoring.sql"
    ).read_text()
    _build(demo_state, home, "--full-refresh", config=config)
    full = marts(home)
    yield {"before": before, "after": after, "full": full, "compiled_monitoring": compiled_monitoring}
    shutil.rmtree(root, ignore_errors=True)


def test_months_before_the_change_are_unchanged(builds):
    before, after = builds["before"], builds["after"]
    for name in MONTHLY_MARTS:
        old = before[name].filter(pl.col("month") <= LAST_MONTH)
        new = after[name].filter(pl.col("month") <= LAST_MONTH)
        assert old.height > 0, name
        assert new.equals(old), f"{name}: rows of months up to {LAST_MONTH} changed with the registry"


def test_leaver_owes_nothing_after_its_leave_month(builds):
    before, after = builds["before"], builds["after"]
    old = before["kpi_submission_compliance"].filter(pl.col("org_id") == LEAVER)
    new = after["kpi_submission_compliance"].filter(pl.col("org_id") == LEAVER)
    assert old["month"].max() > LAST_MONTH  # it owed exports after 2018-12 before the change
    assert new["month"].max() == LAST_MONTH
    assert new.equals(old.filter(pl.col("month") <= LAST_MONTH))
    dim = after["dim_member"].filter(pl.col("member_id") == LEAVER).row(0, named=True)
    assert dim["left_on"] == LEFT_ON and dim["leave_month"] == LAST_MONTH
    hist = after["dim_member_history"].filter(pl.col("member_id") == LEAVER).sort("valid_from")
    assert hist["left_on"].to_list() == [None, LEFT_ON]
    assert hist["is_current_version"].to_list() == [False, True]


def test_leaver_platform_series_stops_and_moves_to_displacement(builds):
    before, after = builds["before"], builds["after"]
    series = after["kpi_reduction_progress"].filter(
        (pl.col("scope") == "platform") & (pl.col("platform_id") == LEAVER)
    )
    assert series.height > 0 and series["month"].max() == LAST_MONTH
    assert (
        before["kpi_reduction_progress"]
        .filter((pl.col("scope") == "platform") & (pl.col("platform_id") == LEAVER))["month"]
        .max()
        > LAST_MONTH
    )
    # fct_monitoring is incremental: the build after the registry change appended no rows of
    # the leaver's months, it re-derived the membership of the rows it held (pre-hook
    # ewto_refresh_platform_membership)
    assert "not in (select distinct f.submission_id" in builds["compiled_monitoring"]
    mon = after["fct_monitoring"].filter(pl.col("platform_id") == LEAVER)
    assert before["fct_monitoring"].filter(pl.col("platform_id") == LEAVER)["is_member_platform"].all()
    assert mon.filter(pl.col("month") <= LAST_MONTH)["is_member_platform"].all()
    late = mon.filter(pl.col("month") > LAST_MONTH)
    assert late.height > 0 and not late["is_member_platform"].any() and late["member_id"].is_null().all()

    # the leaver's monthly monitoring totals after its leave month join the displacement series,
    # window by window, and stay in the coalition series (the panel is frozen: like for like)
    assert after["dim_platform"].filter(pl.col("platform_id") == LEAVER)["in_coalition_panel"].item()
    monthly = (
        late.group_by("month")
        .agg(pl.col("new_adverts_found").sum().alias("a"), pl.col("queries_run").sum().alias("q"))
        .sort("month")
    )
    sums = {r["month"]: (r["a"], r["q"]) for r in monthly.iter_rows(named=True)}

    def shift(scope: str, sign: int) -> None:
        old = before["kpi_reduction_progress"].filter(pl.col("scope") == scope)
        new = after["kpi_reduction_progress"].filter(pl.col("scope") == scope)
        assert new.filter(pl.col("month") <= LAST_MONTH).equals(old.filter(pl.col("month") <= LAST_MONTH))
        for row in new.filter(pl.col("month") > LAST_MONTH).iter_rows(named=True):
            m = row["month"]
            window = [_add_months(m, -k) for k in range(3)]
            a = sum(sums.get(w, (0, 0))[0] for w in window)
            q = sum(sums.get(w, (0, 0))[1] for w in window)
            was = old.filter(pl.col("month") == m).row(0, named=True)
            assert row["adverts_found_3m"] == was["adverts_found_3m"] + sign * a, (scope, m)
            assert row["queries_run_3m"] == was["queries_run_3m"] + sign * q, (scope, m)

    shift("coalition", 0)
    shift("displacement", +1)


def test_platform_move_is_history_not_a_rewrite_of_the_past(builds):
    before, after = builds["before"], builds["after"]
    assert after["dim_platform"].filter(pl.col("platform_id") == MOVED)["member_id"].item() == TO_MEMBER
    hist = after["dim_platform_history"].filter(pl.col("platform_id") == MOVED).sort("version")
    assert hist["member_id"].to_list() == [FROM_MEMBER, TO_MEMBER]
    assert hist["is_current_version"].to_list() == [False, True]
    # the move is dated by the build that saw it (today): every month of the data keeps the
    # owner it had, so the platform's series and its monitoring rows are unchanged
    for name, key in (("kpi_reduction_progress", "platform_id"), ("fct_monitoring", "platform_id")):
        assert after[name].filter(pl.col(key) == MOVED).equals(before[name].filter(pl.col(key) == MOVED)), (
            name
        )
    assert (after["fct_monitoring"].filter(pl.col("platform_id") == MOVED)["member_id"] == FROM_MEMBER).all()


def test_full_refresh_gives_the_same_marts(builds):
    after, full = builds["after"], builds["full"]
    assert sorted(after) == sorted(full)
    for name in sorted(full):
        assert after[name].equals(full[name]), (
            f"{name} differs between the incremental build and --full-refresh"
        )


def _add_months(month: dt.date, n: int) -> dt.date:
    k = month.year * 12 + month.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)
