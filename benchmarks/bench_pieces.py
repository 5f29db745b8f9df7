"""CPU seconds of reading a large CSV in pieces (`ingestion.readers.csv_pieces`), alone.

Why: in `bench_intake.py` the reading of a piece overlaps with other stages on other
threads, and its CPU cannot be told apart from theirs. Here the file is memory-mapped as
`submit_files` maps it and its pieces are read one after another, nothing else running in
the process: the CPU (`time.process_time()`, every thread of the process) of each piece,
best of `--runs`, and of the whole file (the best run). Another checkout's code is measured
with the same script by putting that checkout first on `PYTHONPATH`.

    .venv/bin/python benchmarks/bench_pieces.py /tmp/ewto-intake/takedowns_2020-03.csv --runs 3
    PYTHONPATH=/path/to/main .venv/bin/python benchmarks/bench_pieces.py ... # main's code
"""

from __future__ import annotations

import argparse
import mmap
import sys
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH: another checkout wins

from ingestion.readers import csv_pieces  # noqa: E402
from ingestion.registry import ExportFormat  # noqa: E402


def one_run(path: Path, piece_bytes: int) -> tuple[float, list[float], int]:
    """CPU of csv_pieces' set-up, of each piece, and the rows read."""
    with open(path, "rb") as fh:
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        t = time.process_time()
        pieces = csv_pieces(path, data, ExportFormat(), piece_bytes)
        setup = time.process_time() - t
        if pieces is None:
            raise SystemExit(f"{path} is not read in pieces")
        each, rows = [], 0
        while True:
            t = time.process_time()
            piece = next(pieces, None)
            if piece is None:
                break
            each.append(time.process_time() - t)
            rows += piece.frame.height
            del piece
        return setup, each, rows
    finally:
        data.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--piece-bytes", type=int, default=128 << 20)
    args = ap.parse_args()
    runs = [one_run(args.csv, args.piece_bytes) for _ in range(args.runs)]
    pieces = [min(r[1][k] for r in runs) for k in range(len(runs[0][1]))]
    totals = [r[0] + sum(r[1]) for r in runs]
    print(f"{len(pieces)} pieces, {runs[0][2]:,} rows; CPU s, best of {args.runs}:")
    print(f"  set-up {min(r[0] for r in runs):.3f}")
    print("  pieces " + " ".join(f"{p:.3f}" for p in pieces))
    full = pieces[1:] or pieces
    print(f"  full-size pieces: median {sorted(full)[len(full) // 2]:.3f}")
    print(f"  whole file: best run {min(totals):.2f} (runs: {', '.join(f'{t:.2f}' for t in totals)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
