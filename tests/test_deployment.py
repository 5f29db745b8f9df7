"""The deployed topology without Docker: Airflow on PostgreSQL and Redis (loopback), with the
api-server, scheduler, dag-processor, triggerer and a Celery worker as separate processes,
collecting a small SYNTHETIC coalition from real local sources:

  google     HTTPS-style API (http.server in a thread): paginated JSON records, bearer token
  instagram  the same API answering 500: its fetch fails alone, it shows late/missing
  etsy       SFTP (asyncssh server in a subprocess)
  alibaba    drop folder (GB18030 CSV; the simulator's rejected files and a resubmission)
  traffic    drop folder (monitoring)

Then the faults: re-running finished runs (cleared through the API) changes nothing in the
marts; a Celery worker SIGKILLed in the middle of a landing task, then restarted: the task
is retried and the lake holds each submission exactly once.

Needs PostgreSQL and Redis on 127.0.0.1 (trust auth for user postgres): skipped with the
reason when they are unreachable, failed instead when EWTO_REQUIRE_SERVICES=1. A fresh
database `ewto_test_<random>` and an empty Redis database number are used and cleaned up;
every process started is stopped (its whole process tree) even when the test fails.
Wall time: each phase's seconds and the load average before and after are written to the
terminal at the end of the test (also without -s) and, when EWTO_DEPLOY_TIMINGS names a
file, as JSON there; docs/operations.md keeps the measured figures. The target is under 5
minutes on the 2-core machine; that is measured, not asserted (speed belongs in
benchmarks/): the hard timeout below only stops a hung stack.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AIRFLOW = BIN / "airflow"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REQUIRE = os.environ.get("EWTO_REQUIRE_SERVICES") == "1"
PERIODS = "2021-01..2021-02"
FAULT_PERIOD = "2021-03"
AS_OF = "2021-04-30"
WORKER_NAME = "ewto-celery-worker"
ORGS = ["google", "instagram", "etsy", "alibaba", "traffic"]

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]  # hung stack only


# ------------------------------------------------------------------------------------------
# services
# ------------------------------------------------------------------------------------------
def _unreachable() -> str | None:
    try:
        import psycopg2

        psycopg2.connect(dbname="postgres", connect_timeout=3, **PG).close()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL on 127.0.0.1:5432 (user postgres) is unreachable: {exc}".strip()
    try:
        import redis

        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        return f"Redis on 127.0.0.1:6379 is unreachable: {exc}"
    return None


@pytest.fixture(scope="module")
def services() -> None:
    reason = _unreachable()
    if reason:
        if REQUIRE:
            pytest.fail(f"EWTO_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(f"{reason} (set EWTO_REQUIRE_SERVICES=1 to fail instead)")


@pytest.fixture(scope="module")
def database(services: None) -> Iterator[str]:
    import psycopg2

    name = f"ewto_test_{secrets.token_hex(4)}"
    con = psycopg2.connect(dbname="postgres", **PG)
    con.autocommit = True
    con.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        con.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()


@pytest.fixture(scope="module")
def redis_db(services: None) -> Iterator[int]:
    import redis

    for n in range(15, 0, -1):  # an empty database number, not db 0 (other users)
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=n)
        if client.dbsize() == 0:
            client.set("ewto_test_lock", "1")
            try:
                yield n
            finally:
                client.flushdb()
            return
    pytest.skip("no empty Redis database number 1..15")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------
# processes
# ------------------------------------------------------------------------------------------
class Stack:
    """Processes started by this test, each in its own session, stopped with its whole tree."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self, name: str, args: list[str], extra: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args,
            env={**self.env, **(extra or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self.logs,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def tree(self, name: str) -> list[int]:
        import psutil

        proc = self.procs[name]
        try:
            root = psutil.Process(proc.pid)
            return [proc.pid, *(c.pid for c in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return [proc.pid]

    def kill(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Signal the process, its process group and every descendant (task runners put
        themselves in their own process group), then reap it."""
        if name not in self.procs:
            return
        pids = self.tree(name)
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in [*pids, *self._leftovers(pids)]:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        for pid in self._leftovers(pids):  # children that outlived a clean exit
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    @staticmethod
    def _leftovers(pids: list[int]) -> list[int]:
        import psutil

        return [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            with contextlib.suppress(Exception):
                self.kill(name)

    def tail(self, lines: int = 25) -> str:
        out = []
        for log in sorted(self.logs.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"----- {log.name}\n" + "\n".join(text))
        return "\n".join(out)


class Api:
    """The Airflow 3 public REST API (v2) with a JWT from /auth/token."""

    def __init__(self, base: str, user: str, password: str) -> None:
        import httpx

        self.base = base
        self.client = httpx.Client(base_url=base, timeout=30)
        self.user, self.password = user, password

    def login(self) -> None:
        r = self.client.post("/auth/token", json={"username": self.user, "password": self.password})
        r.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def get(self, path: str, **params: Any) -> Any:
        r = self.client.get(f"/api/v2{path}", params=params)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = self.client.post(f"/api/v2{path}", json=body)
        if r.status_code >= 400:
            raise AssertionError(f"POST {path}: {r.status_code} {r.text}")
        return r.json()

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        r = self.client.patch(f"/api/v2{path}", json=body)
        r.raise_for_status()
        return r.json()

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns", order_by="run_after", limit=100)["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=200)["task_instances"]


def _wait(what: str, check, timeout: float, stack: Stack, every: float = 2.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # noqa: BLE001 - the API may not be up yet
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(
        f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})\n{stack.tail()}"
    )


def _run_done(api: Api, dag_id: str, run_id: str) -> dict[str, Any] | None:
    run = api.get(f"/dags/{dag_id}/dagRuns/{run_id}")
    return run if run["state"] in ("success", "failed") else None


def _connect(marts: Path):  # noqa: ANN202
    """Read-only, with `marts.<table>` resolving (the file's catalog is also named marts)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{marts}' AS ewto (READ_ONLY)")
    con.execute("USE ewto.marts")
    return con


def _marts_snapshot(marts: Path) -> dict[str, list[tuple]]:
    con = _connect(marts)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'ewto' "
                "AND schema_name = 'marts' ORDER BY 1"
            ).fetchall()
        ]
        return {
            t: sorted(con.execute(f'SELECT * FROM ewto.marts."{t}"').fetchall(), key=repr) for t in tables
        }
    finally:
        con.close()


def _query(marts: Path, sql: str) -> list[tuple]:
    con = _connect(marts)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ------------------------------------------------------------------------------------------
# the coalition
# ------------------------------------------------------------------------------------------
def _expected_rows(files: list[Any], org: str, periods: set[str], served_latest_only: bool) -> dict[str, int]:
    """Rows that should reach fct_takedowns per period: the latest valid version."""
    out: dict[str, int] = {}
    for p in sorted(periods):
        versions = sorted((f for f in files if f.org_id == org and f.period == p), key=lambda f: f.version)
        if not versions:
            continue
        candidates = versions[-1:] if served_latest_only else versions
        valid = [f for f in candidates if f.defect is None]
        if valid:
            out[p] = valid[-1].rows
    return out


def _report_timings(request: pytest.FixtureRequest, timings: dict[str, float], load: dict) -> None:
    """To the terminal (past pytest's capture) and to $EWTO_DEPLOY_TIMINGS if set."""
    record = {
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "load_average_1_5_15": load,
        "cpus": os.cpu_count(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    line = f"deployment test wall time: {timings.get('total', 0):.0f} s " + json.dumps(record)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # what capsys.disabled() does
            reporter.write_line("")
            reporter.write_line(line)
    else:
        print(line)
    target = os.environ.get("EWTO_DEPLOY_TIMINGS")
    if target:
        Path(target).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def deployment(database: str, redis_db: int, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    from ingestion.sources.demo import RecordsServer, small_config

    t0 = time.monotonic()
    timings: dict[str, float] = {}
    load = {"before": [round(x, 2) for x in os.getloadavg()]}
    # not pytest's tmp_path: other pytest sessions on a shared machine prune
    # /tmp/pytest-of-<user> while this long test runs
    tmp = Path(tempfile.mkdtemp(prefix="ewto-deploy-"))
    (tmp / "logs").mkdir()
    # the locked celery 5.7 lacks a name the celery provider imports: the image installs
    # ingestion.sources.celery_compat with a .pth file, the test with a sitecustomize
    shim = tmp / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text("import ingestion.sources.celery_compat as _c\n_c.install()\n")
    drops, staged, home = tmp / "drops", tmp / "staged", tmp / "home"
    token, sftp_password = secrets.token_urlsafe(16), secrets.token_urlsafe(12)

    # 1. a small SYNTHETIC coalition, simulated into a staging folder; the drop folders
    #    start with January and February, March is delivered during the fault test
    config = small_config(tmp / "config", ORGS)
    env_sim = {**os.environ, "EWTO_CONFIG_DIR": str(config)}
    code = (
        "import json,sys; from pathlib import Path; from ingestion.simulate import simulate; "
        "s = simulate(Path(sys.argv[1]), start='2021-01', end='2021-03', scale=0.002, seed=11); "
        "print(json.dumps([f.__dict__ for f in s.files], default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(staged)], env=env_sim, capture_output=True, text=True, check=True
    )
    from types import SimpleNamespace

    files = [SimpleNamespace(**f) for f in json.loads(out.stdout.strip().splitlines()[-1])]
    # the fault test's March delivery is ten times larger, so that its landing lasts long
    # enough to be killed in the middle (validation of a few thousand rows)
    big = subprocess.run(
        [
            sys.executable,
            "-c",
            code.replace("scale=0.002", "scale=0.02").replace("start='2021-01'", "start='2021-03'"),
            str(tmp / "staged_big"),
        ],
        env=env_sim,
        capture_output=True,
        text=True,
        check=True,
    )
    march = [SimpleNamespace(**f) for f in json.loads(big.stdout.strip().splitlines()[-1])]
    files = [f for f in files if f.period != FAULT_PERIOD] + [f for f in march if f.period == FAULT_PERIOD]
    for f in march:
        (staged / f.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(tmp / "staged_big" / f.path, staged / f.path)
    for f in files:
        if f.period != FAULT_PERIOD:
            dst = drops / f.path
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.link(staged / f.path, dst)  # keeps the simulated mtime (arrival time)
    timings["simulate"] = time.monotonic() - t0

    stack: Stack | None = None
    server = RecordsServer(drops, token=token, fail={"instagram"}, page_size=100)
    server.__enter__()
    try:
        sftp_port = _free_port()
        ready = tmp / "sftp.ready"
        api_port = _free_port()
        sources = {
            "google": {
                "type": "https",
                "url": f"{server.url}/api/{{org}}/{{dataset}}",
                "conn_id": "ewto_api",
                "retries": 1,
                "backoff_seconds": 0.2,
            },
            "instagram": {
                "type": "https",
                "url": f"{server.url}/api/{{org}}/{{dataset}}",
                "conn_id": "ewto_api",
                "retries": 1,
                "backoff_seconds": 0.2,
            },
            "etsy": {
                "type": "sftp",
                "host": "127.0.0.1",
                "port": sftp_port,
                "path": "/",
                "conn_id": "ewto_sftp",
            },
        }
        config = small_config(tmp / "config", ORGS, sources)
        users = tmp / "passwords.json"
        admin_pw = secrets.token_urlsafe(12)
        users.write_text(json.dumps({"admin": admin_pw}))
        db_url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EWTO_"))} | {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": f"{shim}{os.pathsep}{REPO}",
            "AIRFLOW_HOME": str(tmp / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(users),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@127.0.0.1:5432/{database}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "ingestion.sources.celery_config.CELERY_CONFIG",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__PARSING_PROCESSES": "1",
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "5",
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",  # a busy 2-core machine
            "AIRFLOW_CONN_EWTO_API": json.dumps({"conn_type": "http", "password": token}),
            "AIRFLOW_CONN_EWTO_SFTP": json.dumps(
                {"conn_type": "sftp", "login": "etsy", "password": sftp_password}
            ),
            "EWTO_HOME": str(home),
            "EWTO_CONFIG_DIR": str(config),
            "EWTO_DROP_DIR": str(drops),
            "EWTO_AS_OF": AS_OF,
            "EWTO_PSEUDONYM_KEY": secrets.token_urlsafe(32),
            "EWTO_RETRY_DELAY_SECONDS": "2",
            "EWTO_FETCH_RETRIES": "0",
            "EWTO_COLLECT_SCHEDULE": "none",  # manual runs only: unpausing must not start one
        }
        stack = Stack(env, tmp / "logs")
        stack.start(
            "sftp",
            [
                sys.executable,
                "-m",
                "ingestion.sources.demo",
                "sftp",
                "--root",
                str(drops / "etsy"),
                "--port",
                str(sftp_port),
                "--user",
                "etsy",
                "--password",
                sftp_password,
                "--ready-file",
                str(ready),
            ],
        )

        t = time.monotonic()
        migrate = subprocess.run(
            [str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True, cwd=tmp, check=False
        )
        assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
        timings["db_migrate"] = time.monotonic() - t

        t = time.monotonic()
        stack.start(
            "api-server",
            [str(AIRFLOW), "api-server", "--port", str(api_port), "--host", "127.0.0.1", "--workers", "1"],
        )
        stack.start("scheduler", [str(AIRFLOW), "scheduler"])
        stack.start("dag-processor", [str(AIRFLOW), "dag-processor"])
        stack.start("triggerer", [str(AIRFLOW), "triggerer"])
        worker_cmd = [
            str(AIRFLOW),
            "celery",
            "worker",
            "--concurrency",
            "2",
            "--skip-serve-logs",
            "--without-gossip",
            "--without-mingle",
            "--celery-hostname",
            f"{WORKER_NAME}@%h",
        ]
        worker_env = {
            "EWTO_WORKER_NAME": WORKER_NAME,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "ingestion.sources.demo.worker_hostname",
        }
        stack.start("worker", worker_cmd, worker_env)
        api = Api(f"http://127.0.0.1:{api_port}", "admin", admin_pw)
        _wait(
            "the api-server", lambda: api.client.get("/api/v2/monitor/health").status_code == 200, 180, stack
        )
        api.login()
        for dag_id in ("ewto_collect", "ewto_warehouse"):
            _wait(f"{dag_id} to be parsed", lambda d=dag_id: api.get(f"/dags/{d}"), 180, stack)
            api.patch(f"/dags/{dag_id}", {"is_paused": False})
        _wait("the SFTP server", ready.exists, 60, stack, every=0.5)
        timings["stack_ready"] = time.monotonic() - t

        yield {
            "api": api,
            "stack": stack,
            "env": env,
            "home": home,
            "drops": drops,
            "staged": staged,
            "files": files,
            "server": server,
            "timings": timings,
            "worker_cmd": worker_cmd,
            "worker_env": worker_env,
            "tmp": tmp,
            "database": database,
        }
    finally:
        if stack is not None:
            stack.stop_all()
        server.__exit__(None, None, None)
        timings["total"] = time.monotonic() - t0
        load["after"] = [round(x, 2) for x in os.getloadavg()]
        (tmp / "timings.json").write_text(json.dumps(timings, indent=1))
        _report_timings(request, timings, load)
        if os.environ.get("EWTO_KEEP_TMP") == "1":
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _trigger(api: Api, conf: dict[str, Any]) -> str:
    run = api.post("/dags/ewto_collect/dagRuns", {"logical_date": None, "conf": conf})
    return run["dag_run_id"]


def _warehouse_runs_after(api: Api, n_before: int, stack: Stack, timeout: float = 420) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        runs = api.runs("ewto_warehouse")
        if len(runs) <= n_before:
            return None
        last = runs[-1]
        return last if last["state"] in ("success", "failed") else None

    run = _wait("the asset-triggered warehouse run", done, timeout, stack, every=3)
    assert run["state"] == "success", f"warehouse run failed: {run}\n{stack.tail(60)}"
    assert run["run_type"] == "asset_triggered", run
    return run


def test_deployment(deployment: dict[str, Any]) -> None:
    api: Api = deployment["api"]
    stack: Stack = deployment["stack"]
    timings: dict[str, float] = deployment["timings"]
    home: Path = deployment["home"]
    files = deployment["files"]

    # ---- the collection, triggered through the REST API --------------------------------
    t = time.monotonic()
    run_id = _trigger(api, {"period": PERIODS})
    run = _wait("the collection run", lambda: _run_done(api, "ewto_collect", run_id), 600, stack, every=3)
    timings["collect_run"] = time.monotonic() - t
    tis = api.task_instances("ewto_collect", run_id)
    by = {(ti["task_id"], ti.get("rendered_map_index") or ti["map_index"]): ti for ti in tis}
    # a failing source fails its own fetch only, and the run shows red
    assert by[("member.fetch", "instagram")]["state"] == "failed", by
    for org in ORGS:
        assert by[("member.land", org)]["state"] == "success", (org, by[("member.land", org)])
        if org != "instagram":
            assert by[("member.fetch", org)]["state"] == "success", (org, by[("member.fetch", org)])
    assert by[("announce", -1)]["state"] == "success"
    assert run["state"] == "failed" and by[("sources_ok", -1)]["state"] == "upstream_failed"
    # every task ran on the Celery worker: each organisation's mapped fetch and land too
    ran = [ti for ti in tis if ti["state"] in ("success", "failed")]
    assert ran and all(ti["hostname"] == WORKER_NAME for ti in ran), [
        (ti["task_id"], ti["hostname"]) for ti in ran
    ]
    mapped = {(ti["task_id"], ti.get("rendered_map_index")) for ti in ran if ti["map_index"] >= 0}
    assert mapped == {(t, o) for t in ("member.fetch", "member.land") for o in ORGS}, mapped
    assert all(ti["queue"] == "default" for ti in ran)
    import psycopg2

    con = psycopg2.connect(dbname=deployment["database"], **PG)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT count(*) FROM celery_taskmeta")
            n_celery = cur.fetchone()[0]
    finally:
        con.close()
    assert n_celery >= len(ran), (n_celery, len(ran))

    # ---- the asset-triggered warehouse build ---------------------------------------------
    t = time.monotonic()
    _warehouse_runs_after(api, 0, stack)
    timings["warehouse_run"] = time.monotonic() - t
    marts = home / "marts.duckdb"
    assert (home / "headline.txt").read_text().startswith("***")
    got = dict(
        ((m, p.isoformat()[:7]), n)
        for m, p, n in _query(
            marts, "SELECT member_id, month, count(*) FROM marts.fct_takedowns GROUP BY 1, 2"
        )
    )
    periods = {"2021-01", "2021-02"}
    for org, api_only in (("google", True), ("etsy", False), ("alibaba", False)):
        for p, n in _expected_rows(files, org, periods, api_only).items():
            assert got.get((org, p), 0) == n, (org, p, got)
    assert not any(m == "instagram" for m, _ in got), got
    status = dict(
        ((o, m.isoformat()[:7]), s)
        for o, m, s in _query(
            marts,
            "SELECT org_id, month, status FROM marts.kpi_submission_compliance WHERE dataset = 'takedowns'",
        )
    )
    for p in periods:
        assert status[("instagram", p)] in ("late", "missing"), status
        # the API's Last-Modified (the simulated arrival) is google's received_at
        served = max((f for f in files if f.org_id == "google" and f.period == p), key=lambda f: f.version)
        expected = "rejected" if served.defect else ("late" if served.late else "on_time")
        assert status[("google", p)] == expected, (p, status)
    monitoring = _query(marts, "SELECT count(*) FROM marts.kpi_reduction_progress")[0][0]
    assert monitoring > 0
    alerts = [json.loads(line) for line in (home / "operator_alerts.jsonl").read_text().splitlines()]
    assert any(a["task_id"] == "member.fetch" and a["org_id"] == "instagram" for a in alerts), alerts

    # ---- re-running finished runs changes nothing in the marts ---------------------------
    t = time.monotonic()
    before = _marts_snapshot(marts)
    n_wh = len(api.runs("ewto_warehouse"))
    wh_run = api.runs("ewto_warehouse")[-1]["dag_run_id"]
    for dag_id, rid in (("ewto_collect", run_id), ("ewto_warehouse", wh_run)):
        api.post(
            f"/dags/{dag_id}/clearTaskInstances",
            {"dry_run": False, "dag_run_id": rid, "only_failed": False, "reset_dag_runs": True},
        )
    _wait("the cleared collection run", lambda: _run_done(api, "ewto_collect", run_id), 600, stack, every=3)
    _wait("the cleared warehouse run", lambda: _run_done(api, "ewto_warehouse", wh_run), 600, stack, every=3)
    tis = {
        (ti["task_id"], ti.get("rendered_map_index") or ti["map_index"]): ti
        for ti in api.task_instances("ewto_collect", run_id)
    }
    assert tis[("announce", -1)]["state"] == "skipped", tis[("announce", -1)]  # nothing new: no rebuild
    # google's API was asked conditionally (ETag of the first run): 304, nothing downloaded
    assert deployment["server"].not_modified >= 2, deployment["server"].not_modified
    time.sleep(5)
    assert len(api.runs("ewto_warehouse")) == n_wh
    assert api.get(f"/dags/ewto_warehouse/dagRuns/{wh_run}")["state"] == "success"
    assert _marts_snapshot(marts) == before
    timings["rerun_unchanged"] = time.monotonic() - t

    # ---- a worker SIGKILLed in the middle of a landing task, then restarted --------------
    t = time.monotonic()
    victim = "alibaba"
    new = [f for f in files if f.org_id == victim and f.period == FAULT_PERIOD]
    assert new, "the simulator wrote no March file for the victim"
    for f in new:
        dst = deployment["drops"] / f.path
        os.link(deployment["staged"] / f.path, dst)
    fault_run = _trigger(api, {"period": FAULT_PERIOD, "orgs": [victim]})

    def landing() -> bool:
        ti = {(x["task_id"]): x for x in api.task_instances("ewto_collect", fault_run)}.get("member.land")
        return bool(ti and ti["state"] == "running")

    _wait("the landing task to run", landing, 300, stack, every=0.3)

    def first_attempt_log() -> str:
        logs = Path(deployment["env"]["AIRFLOW_HOME"]) / "logs" / "dag_id=ewto_collect"
        for path in logs.glob("run_id=*/task_id=member.land/**/attempt=1.log"):
            if fault_run in str(path):
                return path.read_text(errors="replace")
        return ""

    # the task's own code has started (its first line is in the log), not just its process
    _wait("the landing to start", lambda: f"landing {victim}:" in first_attempt_log(), 300, stack, 0.2)
    time.sleep(0.5)  # inside the landing: reading, validating or writing
    stack.kill("worker", signal.SIGKILL)
    killed_log = first_attempt_log()
    # killed before the task reported its counts: in the middle of the landing
    assert f"{victim}: {{" not in killed_log and "nothing new" not in killed_log, killed_log[-2000:]
    import polars as pl

    def committed() -> int:
        paths = list((home / "history" / "submissions").glob(f"{victim}_takedowns_{FAULT_PERIOD}_*.parquet"))
        return len(paths)

    print(
        f"\nworker killed; submissions of {victim} {FAULT_PERIOD} committed before the retry: {committed()}"
    )
    time.sleep(2)
    stack.start("worker", deployment["worker_cmd"], deployment["worker_env"])
    run = _wait(
        "the collection run after the kill",
        lambda: _run_done(api, "ewto_collect", fault_run),
        600,
        stack,
        every=3,
    )
    land = next(x for x in api.task_instances("ewto_collect", fault_run) if x["task_id"] == "member.land")
    assert land["state"] == "success" and land["try_number"] >= 2, land
    assert run["state"] == "success", run
    _warehouse_runs_after(api, n_wh, stack)
    lake = home / "lake" / "takedowns" / f"org_id={victim}" / f"period={FAULT_PERIOD}"
    assert len(list(lake.glob("*.parquet"))) == 1, list(lake.iterdir())
    hist = pl.read_parquet(home / "history" / "submissions" / "*.parquet")
    mine = hist.filter((pl.col("org_id") == victim) & (pl.col("period") == FAULT_PERIOD))
    assert mine.filter(pl.col("status") != "duplicate").height == len(new), mine
    expected = _expected_rows(files, victim, {FAULT_PERIOD}, False).get(FAULT_PERIOD, 0)
    n = _query(
        marts,
        f"SELECT count(*) FROM marts.fct_takedowns WHERE member_id = '{victim}' "
        f"AND month = DATE '{FAULT_PERIOD}-01'",
    )[0][0]
    assert n == expected
    timings["worker_killed"] = time.monotonic() - t
