"""CPU seconds of `map_to_contract` on one piece of a large CSV, optionally against another checkout.

    .venv/bin/python benchmarks/bench_map.py --csv /tmp/ewto-intake/takedowns_2020-03.csv
    .venv/bin/python benchmarks/bench_map.py --csv ... --other /work/main   # before/after, same frame

The piece is the first `--mb` MB of the CSV (cut at a line break, as the intake cuts its
pieces), read with `read_csv_bytes` for a member with the default export (UTC). Each
mapping is timed with `time.process_time()` (best of `--repeat`). With `--other`, that
checkout's `ingestion/mapping.py` is imported under another name, timed the same way, and
its output frame compared with this checkout's (`DataFrame.equals`). Generate the CSV with
`benchmarks/bench_intake.py --only csv --workdir DIR`. Data are SYNTHETIC.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import polars as pl  # noqa: E402

from ingestion import mapping  # noqa: E402
from ingestion.readers import read_csv_bytes  # noqa: E402
from ingestion.registry import ExportFormat  # noqa: E402

RECEIVED = dt.datetime(2020, 4, 2)


def _other_mapping(checkout: Path) -> ModuleType:
    """Another checkout's mapping module (it imports this checkout's contract and registry)."""
    spec = importlib.util.spec_from_file_location(
        "ingestion.mapping_other", checkout / "ingestion" / "mapping.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _best(module: ModuleType, frame: pl.DataFrame, repeat: int) -> tuple[float, pl.DataFrame]:
    best, out = float("inf"), None
    for _ in range(repeat):
        cpu = time.process_time()
        out = module.map_to_contract(frame, "takedowns", ExportFormat(), "UTC", "2020-03", RECEIVED).frame
        best = min(best, time.process_time() - cpu)
    assert out is not None
    return best, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, required=True, help="a canonical takedowns CSV")
    ap.add_argument("--mb", type=int, default=128, help="size of the piece (the intake's is 128 MB)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--other", type=Path, default=None, help="another checkout to time and compare")
    args = ap.parse_args()
    with args.csv.open("rb") as f:
        body = f.read(args.mb * 1024 * 1024)
    body = body[: body.rfind(b"\n") + 1]
    frame, _ = read_csv_bytes(body, ",", ExportFormat())
    print(f"piece: {len(body) / 1e6:,.0f} MB, {frame.height:,} rows, {frame.width - 1} columns")
    cpu, out = _best(mapping, frame, args.repeat)
    print(f"map_to_contract, this checkout ({REPO}): {cpu:.3f} CPU-s (best of {args.repeat})")
    if args.other:
        other_cpu, other_out = _best(_other_mapping(args.other), frame, args.repeat)
        print(f"map_to_contract, {args.other}: {other_cpu:.3f} CPU-s (best of {args.repeat})")
        same = other_out.schema == out.schema and other_out.equals(out)
        print(f"output frames equal: {same}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
