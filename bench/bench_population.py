"""Population benchmark: every benefit for every person and organisation, DuckDB or Spark back end.

Generates the synthetic population once (if DIR lacks it), then runs each evaluation in a fresh
subprocess so that peak RSS is per run. Timed: from the back end's creation (for Spark, the JVM's
start) until the result Parquet files are written (policy loading and imports are not timed). CPU
time (user + system, all threads; for Spark the JVM's too) is reported as well: on a shared machine
it is steadier than wall time. ``--backend spark`` runs Spark in local mode with as many cores as
the machine has (or ``--threads``) and ``--spark-memory`` of driver heap; ``--backend both``
alternates the two, run by run, so that they share the machine's load.

Usage:
  .venv/bin/python bench/bench_population.py --persons 3300000 --organizations 50000 --runs 5 \
      --date 2024-06-30 --data bench/out/population-3.3m [--backend duckdb|spark|both] \
      [--json-out bench/out/population.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def jvm_usage() -> tuple[float, float]:
    """CPU seconds and peak RSS (MB) of this process's children: the Spark JVM and any Python workers."""
    import psutil

    cpu, peak_kb = 0.0, 0
    for proc in psutil.Process().children(recursive=True):
        try:
            times = proc.cpu_times()
            cpu += times.user + times.system
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except (psutil.Error, OSError):
            continue
        peak_kb += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    return cpu, peak_kb / 1024


def make_backend(name: str, threads: int | None, spark_memory: str, log_dir: Path) -> Any:
    if name == "spark":
        from bangfu.batch.spark_backend import SparkBackend
        from bangfu.batch.spark_settings import SparkSettings

        cores = threads or os.cpu_count() or 2
        settings = SparkSettings(master=f"local[{cores}]", log_dir=log_dir)
        return SparkBackend(settings, extra_config={"spark.driver.memory": spark_memory})
    from bangfu.batch.duckdb_backend import DuckDBBackend

    return DuckDBBackend(threads=threads)


def child(data_dir: Path, day: dt.date, threads: int | None, backend_name: str, spark_memory: str) -> dict[str, Any]:
    """One measured run (called in a fresh interpreter)."""
    from bangfu.policy.batch_run import evaluate_population
    from bangfu.policy.loader import load_bundled

    policy = load_bundled()
    with tempfile.TemporaryDirectory(prefix="bangfu_bench_") as tmp:
        out_dir = Path(tmp) / "out"
        started, cpu_started = time.perf_counter(), time.process_time()
        backend = make_backend(backend_name, threads, spark_memory, Path(tmp) / "logs")
        start_s = time.perf_counter() - started
        run = evaluate_population(policy, backend, data_dir, day, out_dir=out_dir)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        jvm_cpu, jvm_peak_mb = jvm_usage()
        backend.close()
        out_bytes = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file())
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "backend": backend_name,
        "wall_s": wall,
        "start_s": start_s,
        "cpu_s": cpu + jvm_cpu,
        "peak_rss_mb": rss_kb / 1024 + jvm_peak_mb,
        "entity_s": {r.entity: r.seconds for r in run.runs},
        "entities": {r.entity: r.entities() for r in run.runs},
        "granted": {bid: t["granted"] for r in run.runs for bid, t in r.totals().items()},
        "amount_fen": sum(run.by_fund().values()),
        "out_mb": out_bytes / 2**20,
    }


def summarize(name: str, runs: list[dict[str, Any]]) -> dict[str, float]:
    wall = statistics.median(r["wall_s"] for r in runs)
    rss = statistics.median(r["peak_rss_mb"] for r in runs)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    start = statistics.median(r["start_s"] for r in runs)
    print(f"{name}: {len(runs)} run(s)")
    print(f"  granted: {runs[-1]['granted']}; total amount {runs[-1]['amount_fen'] / 100:,.2f} yuan")
    if name == "duckdb":  # the targets of the population benchmark are DuckDB's
        print(f"  median wall {wall:.2f} s (target <= {WALL_TARGET_S} s: {verdict(wall <= WALL_TARGET_S)})")
    else:
        print(f"  median wall {wall:.2f} s, of which starting the back end {start:.2f} s (no target)")
    print(f"  median CPU time (user + system, all threads) {cpu:.2f} s")
    if name == "duckdb":
        print(f"  median peak RSS {rss:.0f} MB (target <= {RSS_TARGET_MB:.0f} MB: {verdict(rss <= RSS_TARGET_MB)})")
    else:
        print(f"  median peak RSS (Python + JVM) {rss:.0f} MB")
    return {"median_wall_s": wall, "median_cpu_s": cpu, "median_peak_rss_mb": rss, "median_start_s": start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=3_300_000)
    parser.add_argument("--organizations", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 6, 30))
    parser.add_argument("--data", type=Path, default=None, help="population folder (default bench/out/population-N)")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads / Spark cores (default: all)")
    parser.add_argument("--backend", choices=("duckdb", "spark", "both"), default="duckdb")
    parser.add_argument("--spark-memory", default="2g", help="Spark driver heap in local mode (default 2g)")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir = args.data or Path(__file__).parent / "out" / f"population-{args.persons}-{args.organizations}"

    if args.child:
        print(json.dumps(child(data_dir, args.date, args.threads, args.backend, args.spark_memory)))
        return 0

    code = code_version()
    print(f"code {code}; machine {machine()}")
    rows = ensure_population(data_dir, args.persons, args.organizations, args.date.year)
    backends = ("duckdb", "spark") if args.backend == "both" else (args.backend,)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in backends}
    for index in range(args.runs):
        for name in backends:  # alternated, so that both meet the same load on a shared machine
            command = [sys.executable, __file__, "--child", "--data", str(data_dir), "--date", args.date.isoformat()]
            command += ["--backend", name, "--spark-memory", args.spark_memory]
            if args.threads:
                command += ["--threads", str(args.threads)]
            load_before = os.getloadavg()[0]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            run = json.loads(output.strip().splitlines()[-1])
            run["load_before"], run["load_after"] = load_before, os.getloadavg()[0]
            runs[name].append(run)
            per_entity = ", ".join(f"{k} {v:.2f} s" for k, v in run["entity_s"].items())
            print(
                f"run {index + 1} {name}: wall {run['wall_s']:.2f} s (start {run['start_s']:.2f} s), "
                f"CPU {run['cpu_s']:.2f} s, peak RSS {run['peak_rss_mb']:.0f} MB ({per_entity}); "
                f"load average {run['load_before']:.1f} -> {run['load_after']:.1f}",
                flush=True,
            )
    if not args.runs:
        return 0

    print(f"rows: {rows}")
    medians = {name: summarize(name, name_runs) for name, name_runs in runs.items()}
    code_after = code_version()
    if code_after != code:
        print(f"WARNING: the code changed during the benchmark ({code} -> {code_after})")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        summary = {"code": code, "code_after": code_after, "machine": machine(), "date": args.date.isoformat()}
        summary |= {"rows": rows, "runs": runs, "medians": medians}
        if len(backends) == 1:  # the single-back-end layout earlier figures were recorded in
            summary |= {"runs": runs[backends[0]], **medians[backends[0]]}
        args.json_out.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
