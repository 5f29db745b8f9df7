"""docker-compose.yml, Dockerfile and .env.example, checked without a Docker engine: the
YAML parses, the topology is Airflow's official one for 3.x, every Airflow command exists
in the pinned Airflow of our environment, every ${VAR} has a line in .env.example, the
image's tag matches the pinned version, and the volumes are declared and consistent."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
AIRFLOW = Path(sys.executable).parent / "airflow"
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"

AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
ALL_SERVICES = {"postgres", "redis", "airflow-init", *AIRFLOW_SERVICES}
VAR_RE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])[^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _pinned_airflow() -> str:
    m = re.search(r'"apache-airflow==([^"]+)"', (REPO / "pyproject.toml").read_text())
    assert m, "pyproject.toml pins apache-airflow"
    return m.group(1)


def test_topology(compose: dict) -> None:
    assert set(compose["services"]) == ALL_SERVICES
    for name, svc in compose["services"].items():
        if name.startswith("airflow-"):
            assert svc["image"] == "ewto-airflow:latest", name
            assert svc["build"]["dockerfile"] == "Dockerfile", name
            env = svc["environment"]
            assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
            assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
            assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://"), name
            assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
            assert env["EWTO_HOME"] == "/opt/ewto/var", name
            assert {"redis", "postgres"} <= set(svc["depends_on"]), name


def test_commands_and_healthchecks(compose: dict) -> None:
    services = compose["services"]
    for name, command in AIRFLOW_SERVICES.items():
        svc = services[name]
        assert svc["command"] == command, name
        assert svc["restart"] == "always", name
        test = svc["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) >= 2, name
        if name != "airflow-worker":
            assert svc["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["airflow-apiserver"]["ports"] == ["${AIRFLOW_API_PORT:-8080}:8080"]
    assert "/api/v2/version" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "8974/health" in " ".join(services["airflow-scheduler"]["healthcheck"]["test"])
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "DagProcessorJob" in services["airflow-dag-processor"]["healthcheck"]["test"][1]
    assert "TriggererJob" in services["airflow-triggerer"]["healthcheck"]["test"][1]
    assert "inspect ping" in services["airflow-worker"]["healthcheck"]["test"][1]
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    init = services["airflow-init"]
    assert init["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    assert "airflow version" in init["command"][-1]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


SUBCOMMANDS = [
    ["api-server"],
    ["scheduler"],
    ["dag-processor"],
    ["triggerer"],
    ["celery", "worker"],
    ["jobs", "check"],
    ["db", "migrate"],
    ["version"],
]


def test_airflow_commands_exist() -> None:
    """Each service's command (and those of the healthchecks and airflow-init) is a
    subcommand of the pinned Airflow's CLI: resolved in its parser, in one interpreter."""
    code = f"""
import argparse, json
from airflow.cli.cli_parser import get_parser
parser = get_parser()
def sub(p, name):
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction) and name in a.choices:
            return a.choices[name]
    return None
out = {{}}
for path in {SUBCOMMANDS!r}:
    p = parser
    for name in path:
        p = sub(p, name) if p is not None else None
    out[" ".join(path)] = p.format_help() if p is not None else None
print(json.dumps(out))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    helps = json.loads(proc.stdout.strip().splitlines()[-1])
    missing = [cmd for cmd, text in helps.items() if text is None]
    assert not missing, f"not airflow subcommands: {missing}"
    assert "--job-type" in helps["jobs check"] and "--hostname" in helps["jobs check"]
    assert "--port" in helps["api-server"]


def test_api_server_help_runs() -> None:
    """One real invocation, as the container runs it."""
    proc = subprocess.run(
        [str(AIRFLOW), "api-server", "--help"], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0 and "--port" in proc.stdout, proc.stderr[-2000:]


def test_celery_app_path_of_the_worker_healthcheck() -> None:
    """The worker's healthcheck app imports, with the compat shim the image installs (.pth)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import ingestion.sources.celery_compat as c; c.install(); "
            "from airflow.providers.celery.executors.celery_executor import app; print(app)",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ewto_celery_compat.pth" in DOCKERFILE.read_text()


def test_locked_celery_and_provider_need_the_shim() -> None:
    """Documents why the shim exists; fails (so the shim can go) once the lock is fixed."""
    import importlib.metadata
    import importlib.util

    celery = tuple(int(x) for x in importlib.metadata.version("celery").split(".")[:2])
    provider = importlib.metadata.version("apache-airflow-providers-celery")
    if celery < (5, 7):
        pytest.skip(f"celery {celery} still has celery.backends.database.retry: the shim is a no-op")
    src = Path(importlib.util.find_spec("airflow.providers.celery.executors.celery_executor_utils").origin)
    assert "retry" in src.read_text(), f"provider {provider} no longer imports retry: drop the shim"


def test_celery_config_options_importable() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ingestion.sources.celery_config import CELERY_CONFIG as c; "
            "assert 'ingestion.sources.preload' in c['imports'] and c['broker_url'] is not None",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_every_variable_is_in_env_example() -> None:
    used = set(VAR_RE.findall(COMPOSE.read_text(encoding="utf-8")))
    names = {name for name, _ in used}
    defined = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#") and "=" in line
    }
    assert names, "compose uses variables"
    assert names <= defined, f"not in .env.example: {sorted(names - defined)}"
    required = {name for name, op in used if op in (":?", "?")}
    for secret in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "EWTO_PSEUDONYM_KEY"):
        assert secret in required, f"{secret} must be required (${{{secret}:?...}}), never defaulted"
        assert re.search(rf"^{secret}=\s*$", ENV_EXAMPLE.read_text(), re.M), (
            f"{secret} has a value in .env.example"
        )


def test_env_is_ignored_and_example_is_not() -> None:
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
    docker_ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ".env" in docker_ignored  # secrets never enter the build context


def test_dockerfile_base_matches_pinned_airflow() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms == [f"apache/airflow:{_pinned_airflow()}-python3.11"], froms
    import importlib.metadata

    assert importlib.metadata.version("apache-airflow") == _pinned_airflow()
    # the locked dependencies, exported from uv.lock, then the project
    assert "uv export --frozen --no-dev" in text and "uv pip install" in text
    assert "--require-hashes" in text
    for folder in ("ingestion", "dags", "dbt_project", "config", "expectations"):
        assert re.search(rf"^COPY .*\b{folder}\b", text, re.M), folder
        assert (REPO / folder).is_dir(), folder
    assert "COPY . " not in text  # nothing unlisted (.env, var/) is copied


def _mount(spec: str) -> tuple[str, str]:
    """`source:target[:mode]`, where source may be `${VAR:-./default}`."""
    m = re.match(r"^(.*?):(/[^:]*)(?::(?:ro|rw))?$", spec)
    assert m, spec
    return m.group(1), m.group(2)


def test_volumes(compose: dict) -> None:
    declared = set(compose.get("volumes") or {})
    named: set[str] = set()
    for name, svc in compose["services"].items():
        for vol in svc.get("volumes", []):
            src, target = _mount(vol)
            if not src.startswith((".", "/", "$")):
                named.add(src)
                assert src in declared, f"{name}: volume {src} is not declared"
            assert target.startswith("/"), vol
    assert named == declared, f"declared but unused: {sorted(declared - named)}"
    common = compose["x-airflow-common"]
    mounts = {_mount(v)[1]: _mount(v)[0] for v in common["volumes"]}
    assert mounts["/opt/ewto/var"] == "ewto-home"  # EWTO_HOME on a named volume
    assert common["environment"]["EWTO_HOME"] == "/opt/ewto/var"
    assert mounts["/opt/ewto/drops"].startswith("${EWTO_DROP_HOST_DIR")
    assert common["environment"]["EWTO_DROP_DIR"] == "/opt/ewto/drops"
    # every Airflow service sees the same state
    for name in AIRFLOW_SERVICES:
        assert compose["services"][name]["volumes"] == common["volumes"], name
    # the Dockerfile's defaults agree with compose
    text = DOCKERFILE.read_text()
    assert "EWTO_HOME=/opt/ewto/var" in text and "AIRFLOW__CORE__DAGS_FOLDER=/opt/ewto/dags" in text
