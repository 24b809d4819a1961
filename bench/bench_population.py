"""Population benchmark: every benefit for every person and organisation, DuckDB back end.

Generates the synthetic population once (if DIR lacks it), then runs each evaluation in a fresh
subprocess so that peak RSS is per run. Timed: from DuckDBBackend creation until the result
Parquet files are written (policy loading and imports are not timed). CPU time (user + system,
all DuckDB threads) is reported too: on a shared machine it is steadier than wall time.

Usage:
  .venv/bin/python bench/bench_population.py --persons 3300000 --organizations 50000 --runs 5 \
      --date 2024-06-30 --data bench/out/population-3.3m [--json-out bench/out/population.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provenance import code_version, machine

WALL_TARGET_S = 5.0
RSS_TARGET_MB = 2048.0
STAMP = "population.json"


def ensure_population(data_dir: Path, persons: int, organizations: int, year: int) -> dict[str, int]:
    """Write the synthetic population into data_dir unless a matching one is already there."""
    from bangfu.synth.population import write_population

    stamp = data_dir / STAMP
    wanted = {"persons": persons, "organizations": organizations, "year": year}
    if stamp.exists():
        recorded = json.loads(stamp.read_text())
        if {k: recorded.get(k) for k in wanted} != wanted:
            raise SystemExit(f"{data_dir} holds a different population ({recorded}); pick another --data")
        return recorded["rows"]
    print(f"generating population into {data_dir} ...", flush=True)
    started = time.perf_counter()
    rows = write_population(data_dir, persons, organizations, year=year)
    print(f"  done in {time.perf_counter() - started:.1f} s: {rows}", flush=True)
    stamp.write_text(json.dumps({**wanted, "rows": rows}, indent=2))
    return rows


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def child(data_dir: Path, day: dt.date, threads: int | None) -> dict[str, object]:
    """One measured run (called in a fresh interpreter)."""
    from bangfu.batch.duckdb_backend import DuckDBBackend
    from bangfu.policy.batch_run import evaluate_population
    from bangfu.policy.loader import load_bundled

    policy = load_bundled()
    with tempfile.TemporaryDirectory(prefix="bangfu_bench_") as tmp:
        started, cpu_started = time.perf_counter(), time.process_time()
        backend = DuckDBBackend(threads=threads)
        run = evaluate_population(policy, backend, data_dir, day, out_dir=Path(tmp))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        backend.close()
        out_bytes = sum(p.stat().st_size for p in Path(tmp).iterdir())
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": rss_kb / 1024,
        "entity_s": {r.entity: r.seconds for r in run.runs},
        "entities": {r.entity: r.entities() for r in run.runs},
        "granted": {bid: t["granted"] for r in run.runs for bid, t in r.totals().items()},
        "amount_fen": sum(run.by_fund().values()),
        "out_mb": out_bytes / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=3_300_000)
    parser.add_argument("--organizations", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 6, 30))
    parser.add_argument("--data", type=Path, default=None, help="population folder (default bench/out/population-N)")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir = args.data or Path(__file__).parent / "out" / f"population-{args.persons}-{args.organizations}"

    if args.child:
        print(json.dumps(child(data_dir, args.date, args.threads)))
        return 0

    code = code_version()
    print(f"code {code}; machine {machine()}")
    rows = ensure_population(data_dir, args.persons, args.organizations, args.date.year)
    command = [sys.executable, __file__, "--child", "--data", str(data_dir), "--date", args.date.isoformat()]
    if args.threads:
        command += ["--threads", str(args.threads)]
    runs = []
    for index in range(args.runs):
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        run = json.loads(output.strip().splitlines()[-1])
        runs.append(run)
        per_entity = ", ".join(f"{k} {v:.2f} s" for k, v in run["entity_s"].items())
        print(
            f"run {index + 1}: wall {run['wall_s']:.2f} s, CPU {run['cpu_s']:.2f} s, "
            f"peak RSS {run['peak_rss_mb']:.0f} MB ({per_entity})"
        )
    if not runs:
        return 0

    wall = statistics.median(r["wall_s"] for r in runs)
    rss = statistics.median(r["peak_rss_mb"] for r in runs)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    print(f"rows: {rows}")
    print(f"granted: {runs[-1]['granted']}; total amount {runs[-1]['amount_fen'] / 100:,.2f} yuan")
    print(f"median wall {wall:.2f} s (target <= {WALL_TARGET_S} s: {verdict(wall <= WALL_TARGET_S)})")
    print(f"median CPU time (user + system, all threads) {cpu:.2f} s")
    print(f"median peak RSS {rss:.0f} MB (target <= {RSS_TARGET_MB:.0f} MB: {verdict(rss <= RSS_TARGET_MB)})")
    code_after = code_version()
    if code_after != code:
        print(f"WARNING: the code changed during the benchmark ({code} -> {code_after})")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        summary = {"code": code, "code_after": code_after, "machine": machine(), "date": args.date.isoformat()}
        summary |= {"rows": rows, "runs": runs}
        summary |= {"median_wall_s": wall, "median_cpu_s": cpu, "median_peak_rss_mb": rss}
        args.json_out.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
