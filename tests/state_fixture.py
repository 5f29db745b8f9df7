"""A realistic $EWTO_HOME for the surface tests (API, SQL, report), built once per session.

`ewto simulate --start 2017-01 --end 2019-06 --scale 0.003 --seed 7`, `ewto ingest` and
`ewto build` run as subprocesses of the project's `ewto` with EWTO_AS_OF=2019-06-30 and a
test pseudonym key: about 5 minutes on a busy 2-core machine (simulate ~10 s, ingest
~3 min, build ~2 min), so it is built once per pytest session and shared.

Use it with `from tests.state_fixture import demo_state  # noqa: F401` and a `demo_state`
argument. The state is shared and must stay read-only: a test that writes (uploads,
tokens, publish) copies it first with `demo_state.copy_home(tmp_path)`.

EWTO_TEST_STATE_DIR=/some/dir keeps the state there and reuses it across sessions when it
is complete (a `.complete` marker is written last); delete the folder to rebuild.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
AS_OF = "2019-06-30"
PSEUDONYM_KEY = "ewto-test-pseudonym-key-0123456789abcdef"
SIMULATE = ["--start", "2017-01", "--end", "2019-06", "--scale", "0.003", "--seed", "7"]


def ewto_executable() -> Path:
    for candidate in (Path(sys.executable).parent / "ewto", REPO / ".venv" / "bin" / "ewto"):
        if candidate.exists():
            return candidate
    pytest.skip("the ewto executable is not installed (uv sync)")


@dataclass(frozen=True)
class DemoState:
    root: Path  # the folder holding drops/ and home/
    home: Path  # $EWTO_HOME (read-only for tests)
    drops: Path
    seconds: dict[str, float]  # how long each step took (empty when reused)

    @property
    def marts(self) -> Path:
        return self.home / "marts.duckdb"

    def env(self, home: Path | None = None, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "EWTO_HOME": str(home or self.home),
                "EWTO_AS_OF": AS_OF,
                "EWTO_PSEUDONYM_KEY": PSEUDONYM_KEY,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("EWTO_DEBUG", None)
        env.update(extra)
        return env

    def copy_home(self, dest: Path) -> Path:
        """A private, writable copy of the state's $EWTO_HOME (a few MB)."""
        target = Path(dest) / "home"
        shutil.copytree(self.home, target, ignore=shutil.ignore_patterns("locks", "*.tmp", "target", "logs"))
        return target

    def ewto(
        self, *args: str, home: Path | None = None, timeout: float = 900, **kw
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ewto_executable()), *args],
            env=self.env(home),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=REPO,
            **kw,
        )


def build_demo_state(root: Path) -> DemoState:
    root.mkdir(parents=True, exist_ok=True)
    home, drops = root / "home", root / "drops"
    marker = root / ".complete"
    state = DemoState(root, home, drops, {})
    if marker.exists() and (home / "marts.duckdb").exists():
        return state
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(drops, ignore_errors=True)
    seconds: dict[str, float] = {}
    steps = [
        ("simulate", ["simulate", "--out", str(drops), *SIMULATE]),
        ("ingest", ["ingest", "--from", str(drops)]),
        ("build", ["build"]),
    ]
    for name, args in steps:
        start = time.monotonic()
        proc = state.ewto(*args)
        seconds[name] = time.monotonic() - start
        if proc.returncode != 0:
            raise RuntimeError(
                f"`ewto {' '.join(args)}` failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
    marker.write_text(" ".join(f"{k}={v:.1f}s" for k, v in seconds.items()) + "\n")
    return DemoState(root, home, drops, seconds)


# Built once per process. A fixture imported into several test modules is a separate
# session fixture in each (pytest keys fixtures by the module that holds them), so the
# state itself is cached here: every module gets the same one.
_BUILT: dict[str, DemoState] = {}


@pytest.fixture(scope="session")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> DemoState:
    """The demo state (simulate + ingest + build), built once per session."""
    ewto_executable()
    if "state" in _BUILT:
        return _BUILT["state"]
    keep = os.environ.get("EWTO_TEST_STATE_DIR")
    root = Path(keep) if keep else tmp_path_factory.mktemp("ewto-demo-state")
    state = build_demo_state(root)
    _BUILT["state"] = state
    if state.seconds:
        total = sum(state.seconds.values())
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in state.seconds.items())
        print(f"\n[demo_state] built in {total:.0f} s ({steps}) at {root}", file=sys.stderr)
    return state
