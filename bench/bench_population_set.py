"""Population benchmark over several documents: the three-document set beside the one document, same data, same run.

Each run is a fresh subprocess; the two modes alternate run by run so that they meet the same load on a
shared machine. ``single``: every benefit of shanxi-2021 (today's run). ``set``: every benefit of every
document of ``set_documents.three_document_set`` (the province's 2021 document, a continuation and a
county programme, with cross-document exclusions). Timed as ``bench_population.py``: from the back end's
creation until the result Parquet files are written. Reported: medians of wall, CPU and peak RSS per mode,
and the ratio set ÷ single, both of the medians and the median of the run-by-run ratios. The load
average is recorded before and after each run.

Usage:
  .venv/bin/python bench/bench_population_set.py --data /tmp/pop-3.3m --runs 5 [--date 2024-06-30] \
      [--modes single,set] [--memory-limit 1536MB] [--temp-dir DIR] [--json-out bench/out/set.json]
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

import pyarrow.parquet as pq

from provenance import code_version, machine

RATIO_TARGET = 1.5


def child(
    data: Path, day: dt.date, mode: str, memory_limit: str, threads: int | None, temp_dir: str | None
) -> dict[str, Any]:
    from bangfu.batch.duckdb_backend import DuckDBBackend
    from bangfu.policy.batch_run import evaluate_population
    from bangfu.policy.policy_set import PolicySet
    from set_documents import three_document_set

    with tempfile.TemporaryDirectory(prefix="bangfu_bench_set_") as tmp:
        policies = three_document_set(Path(tmp) / "documents") if mode == "set" else PolicySet.bundled("shanxi-2021")
        out_dir = Path(tmp) / "out"
        started, cpu_started = time.perf_counter(), time.process_time()
        backend = DuckDBBackend(memory_limit=memory_limit, threads=threads)
        if temp_dir:  # where DuckDB spills past its memory limit
            backend.con.execute(f"SET temp_directory = '{temp_dir}'")
        run = evaluate_population(policies, backend, data, day, out_dir=out_dir)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        spilled = backend.con.execute("SELECT COALESCE(MAX(size), 0) FROM duckdb_temporary_files()").fetchone()
        backend.close()
        out_bytes = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file())
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "mode": mode,
        "documents": [d.id for d in policies.documents],
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": rss_kb / 1024,
        "entity_s": {r.entity: r.seconds for r in run.runs},
        "entities": {r.entity: r.entities() for r in run.runs},
        "result_columns": sum(len(r.query.benefit_ids) for r in run.runs),
        "amount_fen": sum(run.by_fund().values()),
        "by_document_fen": {d: sum(run.by_fund(d).values()) for d in run.runs[0].query.documents},
        "out_mb": out_bytes / 2**20,
        "spilled_at_end_mb": (spilled[0] if spilled else 0) / 2**20,
    }


def rows_of(data: Path) -> dict[str, int]:
    return {p.stem: pq.ParquetFile(p).metadata.num_rows for p in sorted(data.glob("*.parquet"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="population folder (bangfu synth --out)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 6, 30))
    parser.add_argument("--modes", default="single,set")
    parser.add_argument("--memory-limit", default="1536MB", help="DuckDB memory_limit (the back end's default)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--temp-dir", default=None, help="DuckDB temp_directory (spilling)")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.data, args.date, args.child, args.memory_limit, args.threads, args.temp_dir)
        print(json.dumps(result))
        return 0

    code = code_version()
    modes = args.modes.split(",")
    rows = rows_of(args.data)
    print(f"code {code}; machine {machine()}; rows {rows}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for index in range(args.runs):
        for mode in modes:
            command = [
                sys.executable,
                __file__,
                "--child",
                mode,
                "--data",
                str(args.data),
                "--date",
                args.date.isoformat(),
            ]
            command += ["--memory-limit", args.memory_limit]
            if args.threads:
                command += ["--threads", str(args.threads)]
            if args.temp_dir:
                command += ["--temp-dir", args.temp_dir]
            load_before = os.getloadavg()[0]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            run = json.loads(output.strip().splitlines()[-1])
            run["load_before"], run["load_after"] = load_before, os.getloadavg()[0]
            runs[mode].append(run)
            print(
                f"run {index + 1} {mode}: wall {run['wall_s']:.2f} s, CPU {run['cpu_s']:.2f} s, "
                f"peak RSS {run['peak_rss_mb']:.0f} MB, {run['result_columns']} result keys, "
                f"amount {run['amount_fen'] / 100:,.2f} yuan; load {run['load_before']:.1f} -> {run['load_after']:.1f}",
                flush=True,
            )
    medians = {
        mode: {what: statistics.median(r[what] for r in mode_runs) for what in ("wall_s", "cpu_s", "peak_rss_mb")}
        for mode, mode_runs in runs.items()
        if mode_runs
    }
    for mode, median in medians.items():
        print(
            f"{mode}: median wall {median['wall_s']:.2f} s, CPU {median['cpu_s']:.2f} s, "
            f"peak RSS {median['peak_rss_mb']:.0f} MB"
        )
    summary: dict[str, Any] = {"code": code, "code_after": code_version(), "machine": machine(), "rows": rows}
    summary |= {"date": args.date.isoformat(), "memory_limit": args.memory_limit, "runs": runs, "medians": medians}
    if {"single", "set"} <= set(medians):
        wall = medians["set"]["wall_s"] / medians["single"]["wall_s"]
        cpu = medians["set"]["cpu_s"] / medians["single"]["cpu_s"]
        paired = statistics.median(s["wall_s"] / o["wall_s"] for s, o in zip(runs["set"], runs["single"], strict=True))
        verdict = "met" if wall <= RATIO_TARGET else "MISSED"
        print(
            f"set / single: wall {wall:.2f}x (target <= {RATIO_TARGET}x: {verdict}), CPU {cpu:.2f}x, "
            f"run-by-run wall ratios median {paired:.2f}x"
        )
        summary["ratios"] = {"wall": wall, "cpu": cpu, "paired_wall_median": paired}
    if summary["code_after"] != code:
        print(f"WARNING: the code changed during the benchmark ({code} -> {summary['code_after']})")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
