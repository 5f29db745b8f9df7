"""The upload API against a real uvicorn server (`ewto serve` as a subprocess).

Two servers run on free loopback ports over a private copy of the demo state: one with the
default size limit and one with EWTO_MAX_UPLOAD_BYTES=1,000,000 for the 413 cases. Both are
stopped by PID at the end of the module.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import polars as pl
import pytest

from ingestion.paths import Home
from tests.state_fixture import REPO, demo_state, ewto_executable  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

SMALL_LIMIT = 1_000_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    port: int
    proc: subprocess.Popen
    log: Path

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _start(state, home: Path, log: Path, **env: str) -> Server:
    port = _free_port()
    fh = open(log, "w")  # noqa: SIM115 - the server writes it until stopped
    proc = subprocess.Popen(
        [str(ewto_executable()), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "info"],
        env=state.env(home, **env),
        stdout=fh,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"ewto serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                return Server(url, port, proc, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    _stop(proc)
    raise AssertionError(f"ewto serve did not answer within 120 s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def api_home(demo_state, tmp_path_factory) -> Path:  # noqa: F811
    return demo_state.copy_home(tmp_path_factory.mktemp("api"))


def _create_token(state, home: Path, org: str) -> str:
    proc = state.ewto("token", "create", "--org", org, home=home, timeout=120)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    assert token.startswith("ewto_") and "\n" not in token
    return token


@pytest.fixture(scope="module")
def tokens(demo_state, api_home) -> dict[str, str]:  # noqa: F811
    return {org: _create_token(demo_state, api_home, org) for org in ("etsy", "ebay", "traffic", "google")}


@pytest.fixture(scope="module")
def server(demo_state, api_home, tokens) -> Iterator[Server]:  # noqa: F811
    srv = _start(demo_state, api_home, api_home.parent / "server.log")
    try:
        yield srv
    finally:
        _stop(srv.proc)


@pytest.fixture(scope="module")
def small_server(demo_state, api_home, tokens) -> Iterator[Server]:  # noqa: F811
    srv = _start(
        demo_state, api_home, api_home.parent / "server-small.log", EWTO_MAX_UPLOAD_BYTES=str(SMALL_LIMIT)
    )
    try:
        yield srv
    finally:
        _stop(srv.proc)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _post(server: Server, token: str, path: Path | None, dataset: str | None, period: str | None, **kw):
    files = {"file": (path.name, path.read_bytes())} if path is not None else None
    data = {k: v for k, v in (("dataset", dataset), ("period", period)) if v is not None}
    return httpx.post(
        server.url + "/v1/submissions", headers=_auth(token), files=files, data=data, timeout=600, **kw
    )


def _history(home: Path) -> pl.DataFrame:
    return pl.read_parquet(home / "history" / "submissions" / "*.parquet")


def _incoming_empty(home: Path) -> bool:
    folder = home / "incoming"
    return not folder.exists() or not any(folder.iterdir())


# ----------------------------------------------------------------------------------- basics
def test_health_and_committed_openapi(server):
    r = httpx.get(server.url + "/v1/health", timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["marts_published"] is True
    served = httpx.get(server.url + "/openapi.json", timeout=30).json()
    committed = json.loads((REPO / "docs" / "openapi.json").read_text())
    assert served == committed, (
        "docs/openapi.json is stale: regenerate with `ewto serve --openapi > docs/openapi.json`"
    )
    assert "multipart/form-data" in served["paths"]["/v1/submissions"]["post"]["requestBody"]["content"]
    assert served["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_token_file_keeps_only_hashes(demo_state, api_home, tokens):  # noqa: F811
    path = api_home / "auth" / "tokens.json"
    text = path.read_text()
    for token in tokens.values():
        assert token not in text
        assert hashlib.sha256(token.encode()).hexdigest() in text
    assert path.stat().st_mode & 0o077 == 0
    listing = demo_state.ewto("token", "list", home=api_home, timeout=120)
    assert listing.returncode == 0
    assert "etsy" in listing.stdout and not any(t in listing.stdout for t in tokens.values())


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/v1/submissions"),
        ("GET", "/v1/submissions/x"),
        ("GET", "/v1/compliance"),
        ("POST", "/v1/submissions"),
    ],
)
def test_missing_or_wrong_token_is_401(server, tokens, method, path):
    for headers in (
        {},
        {"Authorization": "Bearer ewto_00000000_not-a-real-token"},
        {"Authorization": "Bearer " + tokens["etsy"][:-2]},
        {"Authorization": "Basic ZXRzeTpldHN5"},
        {"Authorization": tokens["etsy"]},
    ):
        r = httpx.request(method, server.url + path, headers=headers, timeout=30)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers.get("www-authenticate") == "Bearer"
        assert "detail" in r.json()


def test_revoked_token_is_401(demo_state, api_home, server):  # noqa: F811
    token = _create_token(demo_state, api_home, "facebook")
    assert httpx.get(server.url + "/v1/submissions", headers=_auth(token), timeout=30).status_code == 200
    token_id = token.split("_")[1]
    proc = demo_state.ewto("token", "revoke", "--id", token_id, home=api_home, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert httpx.get(server.url + "/v1/submissions", headers=_auth(token), timeout=30).status_code == 401
    # revoke by organisation
    t1 = _create_token(demo_state, api_home, "facebook")
    t2 = _create_token(demo_state, api_home, "facebook")
    assert httpx.get(server.url + "/v1/compliance", headers=_auth(t2), timeout=30).status_code == 200
    proc = demo_state.ewto("token", "revoke", "--org", "facebook", home=api_home, timeout=120)
    assert proc.returncode == 0 and proc.stdout.count("revoked token") == 2
    for t in (t1, t2):
        assert httpx.get(server.url + "/v1/compliance", headers=_auth(t), timeout=30).status_code == 401
    again = demo_state.ewto("token", "revoke", "--org", "facebook", home=api_home, timeout=120)
    assert again.returncode == 2 and "no active token" in again.stderr
    unknown = demo_state.ewto("token", "create", "--org", "no_such_org", home=api_home, timeout=120)
    assert unknown.returncode == 2 and "unknown organisation" in unknown.stderr


# ------------------------------------------------------------------------------ submissions
def test_accepted_upload_lands_in_lake_and_duplicate_is_201(demo_state, server, tokens, api_home, tmp_path):  # noqa: F811
    original = demo_state.drops / "etsy" / "takedowns" / "etsy_takedowns_2019-05.csv"
    lines = original.read_bytes().splitlines(keepends=True)
    changed = tmp_path / "etsy_takedowns_2019-05_resubmitted.csv"
    changed.write_bytes(b"".join(lines[:-1]))  # one row fewer: new bytes, still valid

    from ingestion.sources import landed_since_last_build
    from ingestion.warehouse import last_build_started

    assert last_build_started(Home(api_home)) is not None  # the demo state was built
    pending_before = landed_since_last_build(api_home)
    r = _post(server, tokens["etsy"], changed, "takedowns", "2019-05")
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["status"] == "accepted"
    # what the collection DAG's `announce` reads: the upload is not in the marts yet, so the
    # next collection run schedules a warehouse build even if it fetches nothing itself
    assert landed_since_last_build(api_home) == pending_before + 1
    assert report["org_id"] == "etsy" and report["period"] == "2019-05" and report["dataset"] == "takedowns"
    assert report["rows"] == len(lines) - 2
    assert report["file"] == changed.name  # the client's file name, never a server path
    sid = report["submission_id"]
    partition = api_home / "lake" / "takedowns" / "org_id=etsy" / "period=2019-05"
    assert [p.name for p in partition.glob("*.parquet")] == [f"{sid}.parquet"]  # replaced the earlier file
    landed = pl.read_parquet(partition / f"{sid}.parquet")
    assert landed.height == report["rows"] and set(landed["submission_id"]) == {sid}
    row = _history(api_home).filter(pl.col("submission_id") == sid)
    assert row.height == 1 and row["status"][0] == "accepted"
    assert _incoming_empty(api_home)

    got = httpx.get(f"{server.url}/v1/submissions/{sid}", headers=_auth(tokens["etsy"]), timeout=30)
    assert (
        got.status_code == 200 and got.json()["submission_id"] == sid and got.json()["status"] == "accepted"
    )

    dup = _post(server, tokens["etsy"], changed, "takedowns", "2019-05")
    assert dup.status_code == 201, dup.text
    assert dup.json()["status"] == "duplicate" and dup.json()["duplicate_of"] == sid
    assert landed_since_last_build(api_home) == pending_before + 1  # a duplicate needs no build
    assert [p.name for p in partition.glob("*.parquet")] == [f"{sid}.parquet"]


def test_rejected_upload_is_422_with_report(demo_state, server, tokens, api_home, tmp_path):  # noqa: F811
    original = demo_state.drops / "etsy" / "takedowns" / "etsy_takedowns_2019-04.csv"
    text = original.read_text(encoding="utf-8-sig")
    bad = tmp_path / "etsy_takedowns_2019-04_no_record_id.csv"
    bad.write_text("\n".join("\t".join(line.split("\t")[1:]) for line in text.splitlines()) + "\n")
    before = {p.name for p in (api_home / "lake" / "takedowns" / "org_id=etsy" / "period=2019-04").glob("*")}

    r = _post(server, tokens["etsy"], bad, "takedowns", "2019-04")
    assert r.status_code == 422, r.text
    report = r.json()
    assert report["status"] == "rejected"
    assert any(f["rule"] == "required_column" and f["column"] == "record_id" for f in report["failures"])
    after = {p.name for p in (api_home / "lake" / "takedowns" / "org_id=etsy" / "period=2019-04").glob("*")}
    assert after == before  # nothing of a rejected file reaches the lake
    row = _history(api_home).filter(pl.col("submission_id") == report["submission_id"])
    assert row["status"].to_list() == ["rejected"]
    assert _incoming_empty(api_home)

    again = _post(server, tokens["etsy"], bad, "takedowns", "2019-04")  # the same bytes: still rejected
    assert again.status_code == 422, again.text
    dup = again.json()
    assert (dup["status"], dup["verdict"], dup["duplicate_of"]) == (
        "duplicate",
        "rejected",
        report["submission_id"],
    )
    assert dup["failures"] == report["failures"]


def test_unusable_requests_are_422(demo_state, server, tokens, tmp_path):  # noqa: F811
    csv = demo_state.drops / "etsy" / "takedowns" / "etsy_takedowns_2019-04.csv"
    cases = [
        (_post(server, tokens["etsy"], csv, "monitoring", "2019-04"), "submits takedowns"),
        (_post(server, tokens["traffic"], csv, "takedowns", "2019-04"), "submits monitoring"),
        (_post(server, tokens["etsy"], csv, "takedowns", None), "period"),
        (_post(server, tokens["etsy"], csv, None, "2019-04"), "dataset"),
        (
            httpx.post(
                server.url + "/v1/submissions",
                headers=_auth(tokens["etsy"]),
                files={"attachment": ("a.csv", b"x")},
                data={"dataset": "takedowns", "period": "2019-04"},
                timeout=60,
            ),
            "missing form field(s): file",
        ),
        (_post(server, tokens["etsy"], csv, "takedowns", "2019-13"), "YYYY-MM"),
        (_post(server, tokens["etsy"], csv, "sales", "2019-04"), "unknown dataset"),
        (
            httpx.post(
                server.url + "/v1/submissions", headers=_auth(tokens["etsy"]), json={"x": 1}, timeout=60
            ),
            "multipart/form-data",
        ),
        (
            httpx.post(
                server.url + "/v1/submissions",
                headers=_auth(tokens["etsy"]),
                files=[("file", ("a.csv", b"x")), ("file", ("b.csv", b"y"))],
                data={"dataset": "takedowns", "period": "2019-04"},
                timeout=60,
            ),
            "exactly one",
        ),
    ]
    for r, words in cases:
        assert r.status_code == 422, r.text
        assert words in r.json()["detail"], r.text


def test_members_see_only_their_own_submissions(server, tokens, api_home):
    history = _history(api_home)
    for org in ("etsy", "ebay", "traffic"):
        r = httpx.get(server.url + "/v1/submissions", headers=_auth(tokens[org]), timeout=60)
        assert r.status_code == 200
        body = r.json()
        assert body["org_id"] == org
        ids = [s["submission_id"] for s in body["submissions"]]
        assert {s["org_id"] for s in body["submissions"]} == {org}
        assert sorted(ids) == sorted(history.filter(pl.col("org_id") == org)["submission_id"].to_list())
        received = [s["received_at"] for s in body["submissions"]]
        assert received == sorted(received, reverse=True)

    ebay_id = history.filter(pl.col("org_id") == "ebay")["submission_id"][0]
    assert (
        httpx.get(
            f"{server.url}/v1/submissions/{ebay_id}", headers=_auth(tokens["ebay"]), timeout=30
        ).status_code
        == 200
    )
    for sid in (ebay_id, "no_such_submission", "..", "etsy_takedowns_2019-05_..%2F..%2Fauth%2Ftokens"):
        r = httpx.get(f"{server.url}/v1/submissions/{sid}", headers=_auth(tokens["etsy"]), timeout=30)
        assert r.status_code == 404, (sid, r.text)
        if sid in (ebay_id, "no_such_submission"):  # another member's: indistinguishable from none
            assert r.json() == {"detail": "no such submission"}


def test_compliance_shows_the_callers_rows_of_the_marts(server, tokens, api_home):
    con = duckdb.connect()
    con.execute(f"ATTACH '{api_home / 'marts.duckdb'}' AS ewto (READ_ONLY)")
    expected = con.execute(
        "SELECT strftime(month, '%Y-%m-%d'), status FROM ewto.marts.kpi_submission_compliance "
        "WHERE org_id = 'etsy' ORDER BY month"
    ).fetchall()
    con.close()
    r = httpx.get(server.url + "/v1/compliance", headers=_auth(tokens["etsy"]), timeout=60)
    assert r.status_code == 200
    body = r.json()
    assert body["org_id"] == "etsy" and "SYNTHETIC" in body["note"]
    assert [(row["month"], row["status"]) for row in body["rows"]] == [tuple(e) for e in expected]
    assert {row["org_id"] for row in body["rows"]} == {"etsy"}
    assert expected, "the demo state should owe etsy some exports"
    r = httpx.get(server.url + "/v1/compliance", headers=_auth(tokens["traffic"]), timeout=60)
    assert r.status_code == 200 and r.json()["rows"] == []  # monitoring organisations owe no export


# --------------------------------------------------------------------------------- size limit
def test_413_from_declared_content_length(small_server, tokens, api_home):
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=30) as s:
        s.sendall(
            (
                "POST /v1/submissions HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{small_server.port}\r\n"
                f"Authorization: Bearer {tokens['etsy']}\r\n"
                "Content-Type: multipart/form-data; boundary=xyz\r\n"
                f"Content-Length: {50 * SMALL_LIMIT}\r\n\r\n"
                "--xyz\r\n"
            ).encode()
        )
        reply = ""  # answered before the body is sent
        deadline = time.monotonic() + 30
        while "EWTO_MAX_UPLOAD_BYTES" not in reply and time.monotonic() < deadline:
            data = s.recv(65536)
            if not data:
                break
            reply += data.decode(errors="replace")
    assert reply.startswith("HTTP/1.1 413"), reply
    assert "EWTO_MAX_UPLOAD_BYTES" in reply
    assert _incoming_empty(api_home)


def test_413_while_streaming_without_content_length(small_server, tokens, api_home):
    boundary = "ewto-test-boundary"

    def body() -> Iterator[bytes]:  # chunked: the server can only count
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="dataset"\r\n\r\ntakedowns\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="period"\r\n\r\n2019-05\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        ).encode()
        for _ in range(3):
            yield b"a" * SMALL_LIMIT
        yield f"\r\n--{boundary}--\r\n".encode()

    r = httpx.post(
        small_server.url + "/v1/submissions",
        headers={**_auth(tokens["etsy"]), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
        timeout=120,
    )
    assert r.status_code == 413, r.text
    assert _incoming_empty(api_home)
    # a file just under the limit passes the limit (and is then validated: here rejected)
    small = httpx.post(
        small_server.url + "/v1/submissions",
        headers=_auth(tokens["etsy"]),
        files={"file": ("x.csv", b"\x00" * (SMALL_LIMIT - 10))},  # binary: rejected without GX
        data={"dataset": "takedowns", "period": "2019-05"},
        timeout=600,
    )
    assert small.status_code == 422 and small.json()["status"] == "rejected"


SERVER_RSS_BOUND_MB = 400  # uvicorn + FastAPI + polars: ~150-250 MiB, whatever the upload size


def test_1gib_upload_leaves_server_memory_flat(server, tokens, api_home):
    """1 GiB through the API: the server process's RSS stays under a fixed bound while the body
    streams to disk and while the file is validated (in the child process, not the server)."""
    import psutil

    size, chunk = 1024**3, 1 << 20
    boundary = "ewto-large-upload"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="dataset"\r\n\r\ntakedowns\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="period"\r\n\r\n2019-05\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="large.xlsx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    zeros = bytes(chunk)
    first = b"PK\x03\x04" + bytes(chunk - 4)  # cheap to generate and reject: a damaged ZIP, not an XLSX
    srv = psutil.Process(server.proc.pid)
    workers_before = {c.pid for c in srv.children()}
    assert workers_before, "the server runs validation in a child process"
    baseline = srv.memory_info().rss / 2**20
    samples: list[float] = []
    child_peak = {"mb": 0.0}
    done = threading.Event()
    health_latency: list[float] = []

    def sample() -> None:  # the server's RSS every 50 ms, through streaming and validation
        while not done.is_set():
            samples.append(srv.memory_info().rss / 2**20)
            for c in srv.children():
                try:
                    child_peak["mb"] = max(child_peak["mb"], c.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            time.sleep(0.05)

    def body() -> Iterator[bytes]:
        yield head
        for i in range(size // chunk):
            yield first if i == 0 else zeros
            if i % 128 == 64:  # the event loop keeps serving other requests meanwhile
                t0 = time.monotonic()
                assert httpx.get(server.url + "/v1/health", timeout=30).status_code == 200
                health_latency.append(time.monotonic() - t0)
        yield tail

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.monotonic()
    try:
        r = httpx.post(
            server.url + "/v1/submissions",
            headers={
                **_auth(tokens["etsy"]),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + size + len(tail)),
            },
            content=body(),
            timeout=900,
        )
    finally:
        done.set()
        sampler.join(timeout=10)
    seconds = time.monotonic() - start
    assert r.status_code == 422, r.text[:500]
    report = r.json()
    assert report["status"] == "rejected" and report["size_bytes"] == size
    assert report["failures"][0]["rule"] == "file_type"
    peak = max(samples)
    print(
        f"\n[1 GiB upload] {size / 2**20:.0f} MiB in {seconds:.1f} s ({size / 2**20 / seconds:.0f} MiB/s); "
        f"server RSS {baseline:.0f} MiB before, max {peak:.0f} MiB during ({len(samples)} samples), "
        f"{srv.memory_info().rss / 2**20:.0f} MiB after; validation child peak {child_peak['mb']:.0f} MiB; "
        f"health during upload: max {max(health_latency):.2f} s; load {os.getloadavg()[0]:.2f}"
    )
    assert peak < SERVER_RSS_BOUND_MB, f"server RSS reached {peak:.0f} MiB while taking a 1 GiB upload"
    assert peak - baseline < 64, f"server RSS grew by {peak - baseline:.0f} MiB"
    assert max(health_latency) < 10
    assert _incoming_empty(api_home)
    assert srv.children(), "a validation process is ready for the next upload"


def test_a_killed_validation_process_is_replaced(demo_state, server, tokens, tmp_path):  # noqa: F811
    """The OOM killer (here: SIGKILL) takes the validation child: the next upload starts a new one."""
    import psutil

    srv = psutil.Process(server.proc.pid)
    before = srv.children()
    assert before
    for child in before:
        os.kill(child.pid, signal.SIGKILL)
    psutil.wait_procs(before, timeout=30)
    path = demo_state.drops / "etsy" / "takedowns" / "etsy_takedowns_2019-02.csv"
    changed = tmp_path / path.name
    changed.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-2]))
    r = _post(server, tokens["etsy"], changed, "takedowns", "2019-02")
    assert r.status_code in (201, 422), r.text[:500]
    assert r.json()["org_id"] == "etsy"
    after = {c.pid for c in srv.children()}
    assert after and not after & {c.pid for c in before}


def test_validation_process_is_recycled_when_large(demo_state, tmp_path, monkeypatch):  # noqa: F811
    """SubmissionWorker with a tiny RSS limit: every submission leaves the child 'too large', so
    it is stopped and the next submission runs in a fresh child; results are unchanged."""
    import datetime as dt

    from ingestion.api.worker import SubmissionWorker
    from ingestion.submission import SubmissionRequest

    home = demo_state.copy_home(tmp_path)
    for k in ("EWTO_AS_OF", "EWTO_PSEUDONYM_KEY"):  # the spawned child's environment
        monkeypatch.setenv(k, demo_state.env(home)[k])
    worker = SubmissionWorker(home, max_rss=1)
    try:
        broken = tmp_path / "broken.xlsx"
        broken.write_bytes(b"PK\x03\x04 not a workbook")
        received = dt.datetime(2019, 6, 1, tzinfo=dt.UTC)
        first = worker.submit(SubmissionRequest("etsy", "takedowns", "2019-05", broken, received))
        assert worker.pid is None and worker.started == 1  # stopped after the job
        second = worker.submit(SubmissionRequest("etsy", "takedowns", "2019-05", broken, received))
        assert worker.started == 2
        assert first.rejected and first.report["failures"][0]["rule"] == "file_type"
        assert second.report["status"] == "duplicate" and second.rejected
    finally:
        worker.close()


def test_validation_process_killed_mid_job_fails_cleanly(demo_state, tmp_path, monkeypatch):  # noqa: F811
    """A child killed while it works (here during its start-up imports, which take seconds):
    WorkerFailed (the API's 503), nothing landed, and the next submission gets a new child."""
    import datetime as dt

    import psutil

    from ingestion.api.worker import SubmissionWorker, WorkerFailed
    from ingestion.submission import SubmissionRequest

    home = demo_state.copy_home(tmp_path)
    for k in ("EWTO_AS_OF", "EWTO_PSEUDONYM_KEY"):  # the spawned child's environment
        monkeypatch.setenv(k, demo_state.env(home)[k])
    history_before = sorted(p.name for p in (home / "history" / "submissions").glob("*.parquet"))
    worker = SubmissionWorker(home)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    req = SubmissionRequest("etsy", "takedowns", "2019-05", broken, dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    result: dict[str, BaseException] = {}

    def run() -> None:
        try:
            worker.submit(req)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            result["exc"] = exc

    try:
        t = threading.Thread(target=run)
        t.start()
        deadline = time.monotonic() + 30
        while worker.pid is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.3)
        psutil.Process(worker.pid).kill()
        t.join(timeout=60)
        assert isinstance(result.get("exc"), WorkerFailed), result
        assert sorted(p.name for p in (home / "history" / "submissions").glob("*.parquet")) == history_before
        again = worker.submit(req)
        assert again.rejected and worker.started == 2
    finally:
        worker.close()


def test_validation_does_not_block_the_server(demo_state, server, tokens, tmp_path):  # noqa: F811
    path = demo_state.drops / "etsy" / "takedowns" / "etsy_takedowns_2019-03.csv"
    changed = tmp_path / path.name
    changed.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-1]))
    result: dict[str, httpx.Response] = {}
    t = threading.Thread(
        target=lambda: result.setdefault("r", _post(server, tokens["etsy"], changed, "takedowns", "2019-03"))
    )
    t.start()
    latencies = []
    while t.is_alive():
        t0 = time.monotonic()
        assert httpx.get(server.url + "/v1/health", timeout=30).status_code == 200
        latencies.append(time.monotonic() - t0)
        time.sleep(0.2)
    t.join()
    assert result["r"].status_code in (201, 422), result["r"].text
    assert latencies and max(latencies) < 10, latencies


# ------------------------------------------------------------------------------- schemathesis
def test_schemathesis_finds_no_server_errors(server, tokens, tmp_path):
    """Property-based run against the served OpenAPI document, authenticated as a member.

    All checks except positive_data_acceptance: a schema-valid multipart body whose file is
    not a valid export is rejected with 422 by design (the contract is not expressible in
    the OpenAPI schema).
    """
    exe = Path(ewto_executable()).parent / "schemathesis"
    if not exe.exists():
        pytest.skip("schemathesis is not installed (dev dependency group)")
    proc = subprocess.run(
        [
            str(exe),
            "run",
            server.url + "/openapi.json",
            "-H",
            f"Authorization: Bearer {tokens['google']}",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "10",
            "--seed",
            "20190630",
            "--workers",
            "1",
            "--request-timeout",
            "300",
            "--generation-database",
            "none",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        cwd=tmp_path,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]
    assert " 500 " not in server.log_text() and "Traceback" not in server.log_text(), server.log_text()[
        -5000:
    ]
