"""`ewto report` on the demo marts: one self-contained HTML report plus member scorecards.

The report is opened in headless Chromium driven over the Chrome DevTools protocol
(websockets): no uncaught exception, no console error, no request leaves file://, every
chart renders, a full-page screenshot is taken, and every number carried in a data-metric
element equals an independent SQL query on marts.duckdb. Without /usr/bin/chromium the
browser tests skip (they fail instead when EWTO_REQUIRE_SERVICES=1); the number and
scorecard checks parse the HTML and always run.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import yaml

from tests.state_fixture import REPO, demo_state  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

AS_OF = "2019-06"
CHROMIUM = Path("/usr/bin/chromium")


def _require_chromium() -> str:
    found = CHROMIUM if CHROMIUM.exists() else None
    if found is None:
        which = shutil.which("chromium") or shutil.which("chromium-browser")
        found = Path(which) if which else None
    if found is None:
        reason = "headless Chromium not installed (/usr/bin/chromium; `apt-get install -y chromium`)"
        if os.environ.get("EWTO_REQUIRE_SERVICES") == "1":
            pytest.fail(reason + " and EWTO_REQUIRE_SERVICES=1")
        pytest.skip(reason)
    return str(found)


@pytest.fixture(scope="module")
def report_dir(demo_state, tmp_path_factory) -> Path:  # noqa: F811
    out = tmp_path_factory.mktemp("report")
    start = time.monotonic()
    proc = demo_state.ewto("report", "--out", str(out), "--as-of", AS_OF, timeout=600)
    assert proc.returncode == 0, proc.stderr
    print(f"\n[report] ewto report took {time.monotonic() - start:.1f} s: {proc.stdout.strip()}")
    return out


@pytest.fixture(scope="module")
def marts(demo_state):  # noqa: F811
    con = duckdb.connect()
    con.execute(f"ATTACH '{demo_state.marts}' AS ewto (READ_ONLY)")
    con.execute("USE ewto.marts")
    yield con
    con.close()


# ----------------------------------------------------------------------------- HTML parsing
class _Metrics(HTMLParser):
    """Elements with data-metric: their attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[dict[str, Any]] = []
        self.cells: list[dict[str, str]] = []
        self._stack: list[dict[str, Any] | None] = []
        self.scripts: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.scripts.append(a)
        if tag == "td" and "data-status" in a:
            self.cells.append(a)
        if tag in ("br", "img", "meta", "link", "input", "hr"):
            return
        if "data-metric" in a:
            item = {"attrs": a, "text": ""}
            self.items.append(item)
            self._stack.append(item)
        else:
            self._stack.append(None)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "img", "meta", "link", "input", "hr"):
            return
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        for item in self._stack:
            if item is not None:
                item["text"] += data


def _parse(path: Path) -> _Metrics:
    p = _Metrics()
    p.feed(path.read_text(encoding="utf-8"))
    for item in p.items:
        item["text"] = " ".join(item["text"].split())
    return p


def _fmt(value: Any, kind: str) -> str:
    """The report's display rules, restated."""
    if value is None:
        return "n/a"
    return {
        "pct": lambda v: f"{100 * v:.1f}%",
        "int": lambda v: f"{int(v):,}",
        "dec2": lambda v: f"{v:.2f}",
        "hours": lambda v: f"{v:.1f} h",
    }[kind](value)


def _check(items: list[dict[str, Any]], metric: str, expected: Any, kind: str | None, **match: str) -> int:
    hits = [
        i
        for i in items
        if i["attrs"]["data-metric"] == metric
        and all(i["attrs"].get(f"data-{k}") == v for k, v in match.items())
    ]
    assert hits, f"no element data-metric={metric} {match}"
    for hit in hits:
        raw = hit["attrs"]["data-value"]
        if expected is None:
            assert raw == "", (metric, match, raw)
        elif isinstance(expected, bool):
            assert raw == ("true" if expected else "false"), (metric, match, raw)
        else:
            assert float(raw) == pytest.approx(float(expected), rel=1e-12, abs=1e-12), (
                metric,
                match,
                raw,
                expected,
            )
        if kind is not None:
            assert hit["text"] == _fmt(expected, kind), (metric, match, hit["text"], _fmt(expected, kind))
    return len(hits)


# ------------------------------------------------------------------------------- CDP driver
async def _cdp(
    chromium: str, url: str, screenshot: Path, wait_js: str | None, collect_js: str | None = None
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    user_data = Path(tempfile.mkdtemp(prefix="ewto-chromium-"))
    proc = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            f"--user-data-dir={user_data}",
            "--remote-debugging-port=0",
            "--window-size=1280,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    events: dict[str, list[Any]] = {"exceptions": [], "console": [], "log": [], "requests": []}
    try:
        port_file = user_data / "DevToolsActivePort"
        deadline = time.monotonic() + 90
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("chromium did not open its DevTools port")
            await asyncio.sleep(0.2)
        port = int(port_file.read_text().split()[0])
        targets = []
        while not targets and time.monotonic() < deadline:
            targets = [
                t
                for t in httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
                if t["type"] == "page"
            ]
            await asyncio.sleep(0.2)
        ws_url = targets[0]["webSocketDebuggerUrl"]
        async with connect(ws_url, max_size=None, open_timeout=60, ping_interval=None) as ws:
            ids = iter(range(1, 10_000))
            pending: dict[int, asyncio.Future] = {}
            loaded = asyncio.Event()

            async def reader() -> None:
                async for message in ws:
                    msg = json.loads(message)
                    if "id" in msg and msg["id"] in pending:
                        pending.pop(msg["id"]).set_result(msg)
                        continue
                    method, params = msg.get("method"), msg.get("params", {})
                    if method == "Runtime.exceptionThrown":
                        events["exceptions"].append(params["exceptionDetails"])
                    elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                        events["console"].append(params)
                    elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                        events["log"].append(params["entry"])
                    elif method == "Network.requestWillBeSent":
                        events["requests"].append(params["request"]["url"])
                    elif method == "Page.loadEventFired":
                        loaded.set()

            task = asyncio.create_task(reader())

            async def call(method: str, **params: Any) -> dict[str, Any]:
                i = next(ids)
                fut = asyncio.get_running_loop().create_future()
                pending[i] = fut
                await ws.send(json.dumps({"id": i, "method": method, "params": params}))
                reply = await asyncio.wait_for(fut, timeout=120)
                assert "error" not in reply, reply
                return reply.get("result", {})

            for domain in ("Page", "Runtime", "Log", "Network"):
                await call(f"{domain}.enable")
            await call("Page.navigate", url=url)
            await asyncio.wait_for(loaded.wait(), timeout=120)
            result: dict[str, Any] = {}
            if wait_js:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    r = await call("Runtime.evaluate", expression=wait_js, returnByValue=True)
                    if r["result"].get("value"):
                        break
                    await asyncio.sleep(0.3)
            r = await call(
                "Runtime.evaluate",
                expression="""JSON.stringify({
                    charts: document.querySelectorAll('.js-plotly-plot .main-svg').length,
                    plotly: typeof window.Plotly,
                    banner: (document.getElementById('synthetic-banner') || {}).innerText || '',
                    bannerVisible: !!document.getElementById('synthetic-banner') &&
                        document.getElementById('synthetic-banner').getBoundingClientRect().height > 0,
                    metrics: Array.from(document.querySelectorAll('[data-metric]')).map(e => ({
                        attrs: Object.fromEntries(Array.from(e.attributes).map(a => [a.name, a.value])),
                        text: e.textContent.replace(/\\s+/g, ' ').trim()})),
                    height: document.documentElement.scrollHeight})""",
                returnByValue=True,
            )
            result.update(json.loads(r["result"]["value"]))
            if collect_js:
                r = await call("Runtime.evaluate", expression=collect_js, returnByValue=True)
                result["collected"] = json.loads(r["result"]["value"])
            height = min(int(result["height"]), 16000)
            await call(
                "Emulation.setDeviceMetricsOverride",
                width=1280,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            await asyncio.sleep(1.0)  # plotly's responsive relayout
            shot = await call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            await asyncio.sleep(0.2)
            try:
                await call("Browser.close")
            except Exception:  # noqa: BLE001 - the browser may close the socket first
                pass
            task.cancel()
    finally:
        if proc.poll() is None:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        shutil.rmtree(user_data, ignore_errors=True)
    result.update(events)
    return result


def _open_in_chromium(
    path: Path, screenshot: Path, wait_js: str | None = None, collect_js: str | None = None
) -> dict[str, Any]:
    return asyncio.run(_cdp(_require_chromium(), path.resolve().as_uri(), screenshot, wait_js, collect_js))


# ------------------------------------------------------------------------------------ tests
def test_report_and_scorecards_are_written(report_dir, marts):
    report = report_dir / "ewto-kpi-report.html"
    assert report.exists() and report.stat().st_size > 1_000_000  # plotly.js is inlined
    members = [
        r[0]
        for r in marts.execute(
            "SELECT member_id FROM dim_member WHERE join_month <= DATE '2019-06-01'"
        ).fetchall()
    ]
    written = sorted(p.stem for p in (report_dir / "members").glob("*.html"))
    assert written == sorted(members)


def test_report_is_self_contained_and_labelled_synthetic(report_dir):
    html = (report_dir / "ewto-kpi-report.html").read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", html, flags=re.I)
    assert "SYNTHETIC DATA" in html and 'id="synthetic-banner"' in html
    parsed = _parse(report_dir / "ewto-kpi-report.html")
    assert len(parsed.scripts) >= 1 and all("src" not in s for s in parsed.scripts)
    for section in (
        "headline",
        "platforms",
        "displacement",
        "takedowns",
        "response",
        "discipline",
        "methods",
    ):
        assert f'<section id="{section}"' in html or f'<section id="{section}" ' in html, section


def test_report_numbers_equal_the_marts(report_dir, marts):
    items = _parse(report_dir / "ewto-kpi-report.html").items
    month = "DATE '2019-06-01'"
    head = marts.execute(
        f"""SELECT month, reduction_pct, reduction_ci_low, reduction_ci_high, target_reduction_pct, on_track
            FROM kpi_reduction_progress WHERE scope = 'coalition' AND reduction_pct IS NOT NULL AND month <= {month}
            ORDER BY month DESC LIMIT 1"""
    ).fetchone()
    m = head[0].isoformat()[:7]
    for name, value in zip(
        ("reduction_pct", "reduction_ci_low", "reduction_ci_high", "target_reduction_pct"),
        head[1:5],
        strict=True,
    ):
        _check(items, f"coalition.{name}", value, "pct", month=m)
    _check(items, "coalition.on_track", head[5], None, month=m)

    plats = marts.execute(
        f"""SELECT r.platform_id, r.baseline_prevalence, r.prevalence_3m, r.adverts_found_3m, r.reduction_pct,
                   r.reduction_ci_low, r.reduction_ci_high, r.target_reduction_pct, r.on_track
            FROM kpi_reduction_progress r JOIN dim_platform p USING (platform_id)
            JOIN dim_member d ON d.member_id = p.member_id
            WHERE r.scope = 'platform' AND r.month = {month} AND d.join_month <= {month}"""
    ).fetchall()
    assert plats
    shown = {
        i["attrs"]["data-platform"] for i in items if i["attrs"]["data-metric"] == "platform.reduction_pct"
    }
    assert shown == {p[0] for p in plats}
    for pid, base, prev, adverts, red, low, high, target, on in plats:
        _check(items, "platform.baseline_prevalence", base, "dec2", platform=pid)
        _check(items, "platform.prevalence_3m", prev, "dec2", platform=pid)
        _check(items, "platform.adverts_found_3m", adverts, "int", platform=pid)
        _check(items, "platform.reduction_pct", red, "pct", platform=pid)
        _check(items, "platform.reduction_ci_low", low, "pct", platform=pid)
        _check(items, "platform.reduction_ci_high", high, "pct", platform=pid)
        _check(items, "platform.target_reduction_pct", target, "pct", platform=pid)
        _check(items, "platform.on_track", on, None, platform=pid)
    _check(items, "platforms.on_track", sum(1 for p in plats if p[8]), "int")
    _check(items, "platforms.measured", sum(1 for p in plats if p[8] is not None), "int")

    disp = marts.execute(
        f"""SELECT month, prevalence_3m, baseline_prevalence, reduction_pct, reduction_ci_low, reduction_ci_high
            FROM kpi_reduction_progress WHERE scope = 'displacement' AND reduction_pct IS NOT NULL AND month <= {month}
            ORDER BY month DESC LIMIT 1"""
    ).fetchone()
    dm = disp[0].isoformat()[:7]
    _check(items, "displacement.prevalence_3m", disp[1], "dec2", month=dm)
    _check(items, "displacement.baseline_prevalence", disp[2], "dec2", month=dm)
    _check(items, "displacement.reduction_pct", disp[3], "pct", month=dm)
    _check(items, "displacement.reduction_ci_low", disp[4], "pct")
    _check(items, "displacement.reduction_ci_high", disp[5], "pct")

    window = f"month BETWEEN DATE '2018-03-01' AND {month}"
    total = marts.execute(f"SELECT count(*) FROM fct_takedowns WHERE {window}").fetchone()[0]
    _check(items, "takedowns.total", total, "int")
    for year, n in marts.execute(
        f"SELECT year(month), count(*) FROM fct_takedowns WHERE month <= {month} GROUP BY 1"
    ).fetchall():
        _check(items, "takedowns.year", n, "int", year=str(year))
    for commodity, n in marts.execute(
        f"SELECT commodity, count(*) FROM fct_takedowns WHERE {window} GROUP BY 1"
    ).fetchall():
        _check(items, "takedowns.commodity", n, "int", commodity=commodity)
    for appendix, n in marts.execute(
        f"SELECT coalesce(cites_appendix, 'not_reported'), count(*) FROM fct_takedowns WHERE {window} GROUP BY 1"
    ).fetchall():
        _check(items, "takedowns.appendix", n, "int", appendix=appendix)
    # the breakdown mart agrees with the facts the report reads
    by_breakdown = dict(
        marts.execute(
            f"SELECT value, sum(items_actioned) FROM kpi_member_monthly_breakdown WHERE dimension = 'commodity' AND {window} GROUP BY 1"
        ).fetchall()
    )
    assert sum(by_breakdown.values()) == total

    proactive = yaml.safe_load((REPO / "config" / "coalition.yml").read_text())["proactive_sources"]
    sources = ", ".join(f"'{s}'" for s in proactive)
    effort = marts.execute(
        f"""SELECT count(*),
                   count(*) FILTER (WHERE detection_source IN ({sources})) / count(*),
                   count(*) FILTER (WHERE detection_stage = 'pre_publication') / count(*),
                   quantile_cont(epoch(actioned_at - detected_at) / 3600.0, 0.5),
                   quantile_cont(epoch(actioned_at - detected_at) / 3600.0, 0.9),
                   count(*) FILTER (WHERE appealed AND restored) / nullif(count(*) FILTER (WHERE appealed), 0)
            FROM fct_takedowns WHERE month = {month}"""
    ).fetchone()
    for (name, kind), value in zip(
        [
            ("items_actioned", "int"),
            ("proactive_rate", "pct"),
            ("prepublication_share", "pct"),
            ("median_hours_to_action", "hours"),
            ("p90_hours_to_action", "hours"),
            ("restore_rate", "pct"),
        ],
        effort,
        strict=True,
    ):
        _check(items, f"effort.{name}", value, kind, month=AS_OF)
    # the pooled items equal the member mart's
    assert (
        effort[0]
        == marts.execute(
            f"SELECT sum(items_actioned) FROM kpi_member_monthly WHERE month = {month}"
        ).fetchone()[0]
    )

    for status, n in marts.execute(
        "SELECT status, count(*) FROM kpi_submission_compliance GROUP BY 1"
    ).fetchall():
        _check(items, "compliance.count", n, "int", status=status)


def test_discipline_grid_equals_the_mart(report_dir, marts):
    cells = _parse(report_dir / "ewto-kpi-report.html").cells
    grid = {(c["data-member"], c["data-month"]): c["data-status"] for c in cells if "data-member" in c}
    expected = {
        (org, m.isoformat()[:7]): status
        for org, m, status in marts.execute(
            "SELECT org_id, month, status FROM kpi_submission_compliance WHERE month <= DATE '2019-06-01'"
        ).fetchall()
    }
    assert grid == expected


def _check_scorecard_numbers(items: list[dict[str, Any]], me: str, marts) -> None:
    """The figures of `me`'s scorecard equal independent queries on the marts."""
    head = marts.execute(
        "SELECT reduction_pct FROM kpi_reduction_progress WHERE scope = 'coalition' AND reduction_pct IS NOT NULL "
        "AND month <= DATE '2019-06-01' ORDER BY month DESC LIMIT 1"
    ).fetchone()[0]
    _check(items, "coalition.reduction_pct", head, "pct")
    row = marts.execute(
        f"SELECT items_actioned, proactive_rate, median_hours_to_action FROM kpi_member_monthly "
        f"WHERE member_id = '{me}' AND month = DATE '2019-06-01'"
    ).fetchone()
    _check(items, "member.items_actioned", row[0] if row else None, "int")
    _check(items, "member.proactive_rate", row[1] if row else None, "pct")
    _check(items, "member.median_hours_to_action", row[2] if row else None, "hours")
    n12 = marts.execute(
        f"SELECT coalesce(sum(items_actioned), 0) FROM kpi_member_monthly WHERE member_id = '{me}' "
        "AND month BETWEEN DATE '2018-07-01' AND DATE '2019-06-01'"
    ).fetchone()[0]
    _check(items, "member.items_12m", n12, "int")
    for pid, red, target in marts.execute(
        f"""SELECT r.platform_id, r.reduction_pct, r.target_reduction_pct
            FROM kpi_reduction_progress r JOIN dim_platform p USING (platform_id)
            WHERE r.scope = 'platform' AND p.member_id = '{me}' AND r.month = DATE '2019-06-01'"""
    ).fetchall():
        _check(items, "member.reduction_pct", red, "pct", platform=pid)
        _check(items, "member.target_reduction_pct", target, "pct", platform=pid)
    for status, n in marts.execute(
        f"SELECT status, count(*) FROM kpi_submission_compliance WHERE org_id = '{me}' "
        "AND month <= DATE '2019-06-01' GROUP BY 1"
    ).fetchall():
        _check(items, "member.compliance", n, "int", status=status)


def _others(marts, me: str) -> list[tuple[str, str]]:
    """Every other member's id and name, and every platform id and name that is not `me`'s."""
    rows = marts.execute(
        f"""SELECT member_id, member_name FROM dim_member WHERE member_id <> '{me}'
            UNION SELECT platform_id, platform_name FROM dim_platform WHERE coalesce(member_id, '') <> '{me}'"""
    ).fetchall()
    own = {
        s.lower()
        for r in marts.execute(
            f"SELECT member_id, member_name FROM dim_member WHERE member_id = '{me}' "
            f"UNION SELECT platform_id, platform_name FROM dim_platform WHERE member_id = '{me}'"
        ).fetchall()
        for s in r
    }
    # a string that is part of the member's own id or name (e.g. 'Synthetic Member 1' inside
    # 'Synthetic Member 12') cannot tell the pages apart: the longer strings are checked
    return [(i, n) for i, n in rows if not any(i.lower() in o or n.lower() in o for o in own)]


def test_scorecards_show_only_their_member(report_dir, marts):
    members = dict(marts.execute("SELECT member_id, member_name FROM dim_member").fetchall())
    pages = sorted((report_dir / "members").glob("*.html"))
    assert pages
    shared = sorted(p.name for p in (report_dir / "members").glob("plotly-*.min.js"))
    assert len(shared) == 1 and (report_dir / "members" / shared[0]).stat().st_size > 1_000_000
    charted = 0
    for page in pages:
        me = page.stem
        text = page.read_text(encoding="utf-8")
        lowered = text.lower()
        assert members[me] in text and "SYNTHETIC DATA" in text
        # the whole file, chart JSON included, names no other member nor anyone else's platform
        leaks = [f"{i} / {n}" for i, n in _others(marts, me) if i.lower() in lowered or n.lower() in lowered]
        assert not leaks, f"{page.name} mentions other members or platforms: {leaks}"
        parsed = _parse(page)
        # Plotly charts, loading only the shared local plotly.js (a relative path, no network)
        external = [s["src"] for s in parsed.scripts if "src" in s]
        assert all(src == shared[0] for src in external), external
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", text, flags=re.I)
        assert "<svg" not in lowered, "charts come from Plotly, not hand-drawn SVG"
        if 'id="chart-member-effort"' in text:
            charted += 1
            assert external == [shared[0]]
        _check_scorecard_numbers(parsed.items, me, marts)
    assert charted >= len(pages) // 2, f"only {charted} of {len(pages)} scorecards have charts"


CHARTS_READY = "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4"


def test_report_renders_in_headless_chromium(report_dir, tmp_path):
    shot = report_dir / "ewto-kpi-report.png"
    start = time.monotonic()
    page = _open_in_chromium(report_dir / "ewto-kpi-report.html", shot, CHARTS_READY)
    print(f"\n[chromium] report loaded, checked and captured in {time.monotonic() - start:.1f} s")
    problems = page["exceptions"] + page["console"] + page["log"]
    assert not problems, json.dumps(problems, indent=1)[:4000]
    outside = [u for u in page["requests"] if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert not outside, f"the report fetched from the network: {outside}"
    assert page["plotly"] == "object" and page["charts"] >= 4
    assert page["bannerVisible"] and "SYNTHETIC" in page["banner"]
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 100_000
    # the rendered DOM carries the same numbers as the file
    static = {
        (json.dumps(i["attrs"], sort_keys=True), i["text"])
        for i in _parse(report_dir / "ewto-kpi-report.html").items
    }
    rendered = {(json.dumps(i["attrs"], sort_keys=True), i["text"]) for i in page["metrics"]}
    assert static == rendered


SCORECARD_CHARTS = """JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => ({
    id: g.id,
    traces: g.data.map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}))})))"""


def _series(marts, sql: str) -> dict[str, float | None]:
    return {m.isoformat(): v for m, v in marts.execute(sql).fetchall()}


def _same_series(trace: dict[str, Any], expected: dict[str, float | None], label: str) -> None:
    got = dict(zip(trace["x"], trace["y"], strict=True))
    assert set(got) == set(expected), (label, sorted(set(got) ^ set(expected))[:5])
    for month, value in expected.items():
        if value is None:
            assert got[month] is None, (label, month, got[month])
        else:
            assert got[month] == pytest.approx(float(value), rel=1e-9, abs=1e-12), (
                label,
                month,
                got[month],
                value,
            )


def test_scorecard_renders_in_headless_chromium(report_dir, marts):
    me = "ebay"
    page_path = report_dir / "members" / f"{me}.html"
    shot = report_dir / "members" / f"{me}.png"
    start = time.monotonic()
    page = _open_in_chromium(
        page_path,
        shot,
        "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2",
        SCORECARD_CHARTS,
    )
    print(f"\n[chromium] scorecard loaded, checked and captured in {time.monotonic() - start:.1f} s")
    problems = page["exceptions"] + page["console"] + page["log"]
    assert not problems, json.dumps(problems, indent=1)[:4000]
    outside = [u for u in page["requests"] if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert not outside, f"the scorecard fetched from the network: {outside}"
    assert page["plotly"] == "object" and page["charts"] >= 2
    assert page["bannerVisible"] and "SYNTHETIC" in page["banner"]
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    # the rendered numbers equal the marts
    _check_scorecard_numbers(page["metrics"], me, marts)
    # the charts draw the member and the coalition only, with the marts' values
    charts = {c["id"]: c["traces"] for c in page["collected"]}
    assert set(charts) == {"chart-member-reduction", "chart-member-effort"}, set(charts)
    names = {t["name"] for traces in charts.values() for t in traces}
    assert names <= {"You", "Coalition", "Coalition panel", "Your target path"}, names
    drawn = json.dumps(page["collected"]).lower()
    leaks = [f"{i} / {n}" for i, n in _others(marts, me) if i.lower() in drawn or n.lower() in drawn]
    assert not leaks, leaks
    proactive = yaml.safe_load((REPO / "config" / "coalition.yml").read_text())["proactive_sources"]
    sources = ", ".join(f"'{s}'" for s in proactive)
    join = marts.execute(f"SELECT join_month FROM dim_member WHERE member_id = '{me}'").fetchone()[0]
    mine_p, coal_p, mine_h, coal_h = charts["chart-member-effort"]
    assert (mine_p["name"], coal_p["name"], mine_h["name"], coal_h["name"]) == ("You", "Coalition") * 2
    _same_series(
        mine_p,
        _series(
            marts,
            f"SELECT month, proactive_rate FROM kpi_member_monthly WHERE member_id = '{me}' "
            "AND month <= DATE '2019-06-01'",
        ),
        "my proactive rate",
    )
    _same_series(
        mine_h,
        _series(
            marts,
            f"SELECT month, median_hours_to_action FROM kpi_member_monthly WHERE member_id = '{me}' "
            "AND month <= DATE '2019-06-01'",
        ),
        "my median hours",
    )
    pooled = f"FROM fct_takedowns WHERE month BETWEEN DATE '{join}' AND DATE '2019-06-01' GROUP BY 1"
    _same_series(
        coal_p,
        _series(
            marts,
            f"SELECT month, count(*) FILTER (WHERE detection_source IN ({sources})) / count(*) {pooled}",
        ),
        "coalition proactive rate",
    )
    _same_series(
        coal_h,
        _series(
            marts, f"SELECT month, quantile_cont(epoch(actioned_at - detected_at) / 3600.0, 0.5) {pooled}"
        ),
        "coalition median hours",
    )
    reduction = {t["name"]: t for t in charts["chart-member-reduction"]}
    launch = "DATE '2018-03-01'"
    _same_series(
        reduction["You"],
        _series(
            marts,
            f"""SELECT r.month, r.reduction_pct FROM kpi_reduction_progress r
                JOIN dim_platform p USING (platform_id) WHERE r.scope = 'platform' AND p.member_id = '{me}'
                AND r.month BETWEEN least({launch}, DATE '{join}') AND DATE '2019-06-01'""",
        ),
        "my reduction",
    )
    _same_series(
        reduction["Coalition panel"],
        _series(
            marts,
            f"""SELECT month, reduction_pct FROM kpi_reduction_progress WHERE scope = 'coalition'
                AND month BETWEEN least({launch}, DATE '{join}') AND DATE '2019-06-01'""",
        ),
        "coalition reduction",
    )
