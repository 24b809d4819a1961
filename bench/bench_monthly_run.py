"""``bangfu claims run`` — the monthly eligibility run — on a PostgreSQL registry (issue 12, ADR 0037).

Each measurement runs in its own process so that its peak RSS is its own (``os.wait4``):
  selection   the set-based pre-selection alone: the stored population exported and evaluated by the
              population engine on DuckDB; who is granted at least one paid benefit (``granted_beneficiaries``)
  run         ``monthly_run`` as ``bangfu claims run`` calls it (pre-selection, then each selected
              beneficiary drafted and auto-checked), for ``--county`` or the whole registry
  rerun       the same again: drafts nothing (the money keys refuse every repeat)
Target (issue 12): the whole run for 3.3 million persons and 50,000 organizations within 3 minutes.

Usage: .venv/bin/python bench/bench_monthly_run.py --database URL [--month 2024-06] [--county 141123]
       [--skip-run] [--json-out FILE]
The database must hold a registry (``bangfu synth --database``) migrated by ``bangfu init``; the run
writes claims into it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from provenance import code_version, machine  # noqa: E402

SECONDS_TARGET = 180.0


def child(database: str, month: str, county: str | None, mode: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bangfu.claims.decisions import Actor
    from bangfu.claims.drafting import granted_beneficiaries, month_end, monthly_run
    from bangfu.claims.records import CLAIMS
    from bangfu.cli.database import existing, opened

    with opened(existing(database)) as context:
        started = time.perf_counter()
        if mode == "selection":
            granted = granted_beneficiaries(context.engine, context.policies, month_end(month))
            return {
                "seconds": time.perf_counter() - started,
                "persons_selected": len(granted["person"]),
                "organizations_selected": len(granted["organization"]),
            }
        report = monthly_run(
            context.engine, context.policies, month, actor="bench", region=county, checker=Actor("bench")
        )
        seconds = time.perf_counter() - started
        with context.engine.connect() as connection:
            flagged = (
                connection.scalar(
                    select(func.count()).select_from(CLAIMS).where(CLAIMS.c.id.in_(report.drafted), CLAIMS.c.flagged)
                )
                if report.drafted
                else 0
            )
        return {
            "seconds": seconds,
            "cases": report.cases,
            "drafted": len(report.drafted),
            "duplicates": report.duplicates,
            "refused": len(report.refused),
            "flagged": flagged,
        }


def timed(arguments: list[str]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", *arguments]
    load = os.getloadavg()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {stderr.decode()[-2000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    result["wall_s"] = round(wall, 2)
    result["load_average_before"] = [round(x, 2) for x in load]
    return result


def peak_rss_of_children_mb() -> int:
    import resource

    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--month", default="2024-06")
    parser.add_argument("--county", default=None)
    parser.add_argument("--skip-run", action="store_true", help="measure the pre-selection only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="run", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.database, args.month, args.county, args.mode)))
        return
    common = ["--database", args.database, "--month", args.month] + (["--county", args.county] if args.county else [])
    results: dict[str, Any] = {"machine": machine(), "code": code_version(), "month": args.month}
    results["county"] = args.county
    results["selection"] = timed([*common, "--mode", "selection"])
    results["selection"]["peak_rss_mb"] = peak_rss_of_children_mb()
    print(json.dumps({"selection": results["selection"]}, ensure_ascii=False), flush=True)
    if not args.skip_run:
        for name in ("run", "rerun"):
            results[name] = timed([*common, "--mode", "run"])
            results[name]["peak_rss_mb_so_far"] = peak_rss_of_children_mb()
            print(json.dumps({name: results[name]}, ensure_ascii=False), flush=True)
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
