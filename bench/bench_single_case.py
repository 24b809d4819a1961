"""Single-case latency: parse_case + evaluate_case, in process, on a warm interpreter.

Cases: the bundled examples (src/bangfu/data/examples/*.json) plus synthetic persons and
organisations drawn from a small synthetic population and turned back into case JSON. Each timed
evaluation parses the JSON object (already decoded from text) and evaluates every benefit.

``--documents three``: ``evaluate_all`` over the three-document set of ``set_documents.py`` instead
(the province's 2021 document, a continuation, a county programme with cross-document exclusions);
every case is asked on each of ``--dates`` (documents in force, one expired), and one in ten persons
is placed in the county (140821), so that all three documents answer it.

Usage: .venv/bin/python bench/bench_single_case.py [--evaluations 20000] [--synthetic 40] \
    [--documents one|three] [--dates 2024-06-30,2025-12-31,2026-03-15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from bangfu.policy.case import Case, parse_case
from bangfu.policy.engine import evaluate_case
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.loader import load_bundled
from bangfu.policy.population_cases import iter_cases
from bangfu.synth.population import write_population
from provenance import code_version, machine
from set_documents import three_document_set

P50_TARGET_MS = 10.0
P99_TARGET_MS = 50.0


def case_json(case: Case) -> dict[str, Any]:
    """The case JSON that parse_case reads back into `case` (the inverse of parse_case)."""

    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    body: dict[str, Any] = {}
    for field in case.entity.fields.values():
        if field.path[0] == "$case":
            continue
        node = body
        for part in field.path[:-1]:
            node = node.setdefault(part, {})
        node[field.path[-1]] = plain(case.facts.get(field.name))
    for name, rows in case.collections.items():
        body[name] = [{k: plain(v) for k, v in row.items()} for row in rows]
    data: dict[str, Any] = {"date": case.date.isoformat(), case.entity.name: body}
    if case.entity.name == "person" and case.region is not None:
        data["region"] = case.region
    return data


def load_cases(synthetic: int, day: dt.date) -> list[tuple[str, dict[str, Any]]]:
    """(label, case JSON) for every bundled example and `synthetic` persons + organisations."""
    examples = Path(str(resources.files("bangfu") / "data" / "examples"))
    cases = [(f"example/{p.stem}", json.loads(p.read_text(encoding="utf-8"))) for p in sorted(examples.glob("*.json"))]
    with tempfile.TemporaryDirectory(prefix="bangfu_cases_") as tmp:
        write_population(Path(tmp), persons=max(synthetic, 1) * 10, organizations=max(synthetic, 1) * 10, year=day.year)
        for entity in ("person", "organization"):
            for index, case in enumerate(iter_cases(Path(tmp), entity, day, limit=synthetic)):
                data = case_json(case)
                assert parse_case(data) == case, f"case JSON does not round-trip: {data}"
                cases.append((f"synthetic-{entity}/{index}", data))
    return cases


def varied(cases: list[tuple[str, dict[str, Any]]], dates: list[dt.date]) -> list[tuple[str, dict[str, Any]]]:
    """Every case on every date; one person in ten moved to the county programme's county (140821)."""
    out = []
    for index, (label, data) in enumerate(cases):
        moved = dict(data)
        if "person" in moved and index % 10 == 0:
            moved["region"] = "140821"
            moved["person"] = {**moved["person"], "hukou_region": "140821"}
        out += [(f"{label}@{day}", {**moved, "date": day.isoformat()}) for day in dates]
    return out


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


Cases = list[tuple[str, dict[str, Any]]]


def modes(args: argparse.Namespace) -> dict[str, tuple[Cases, Callable[[Case], object]]]:
    """Per mode ("one", "three"): its cases and how one is evaluated."""
    cases = load_cases(args.synthetic, args.date)
    out: dict[str, tuple[Cases, Callable[[Case], object]]] = {}
    if args.documents in ("one", "both"):
        out["one"] = (cases, partial(evaluate_case, load_bundled()))
    if args.documents in ("three", "both"):
        policies = three_document_set(Path(tempfile.mkdtemp(prefix="bangfu_bench_documents_")))
        out["three"] = (
            varied(cases, [dt.date.fromisoformat(d) for d in args.dates.split(",")]),
            partial(evaluate_all, policies),
        )
    return out


def summary(cases: Cases, wall: list[float], cpu: list[float]) -> dict[str, Any]:
    by_kind: dict[str, list[float]] = {}
    for index, ms in enumerate(wall):
        by_kind.setdefault(cases[index % len(cases)][0].split("/")[0], []).append(ms)
    ordered, cpu_ordered = sorted(wall), sorted(cpu)
    return {
        "cases": len(cases),
        "evaluations": len(wall),
        "p50_ms": percentile(ordered, 50),
        "p95_ms": percentile(ordered, 95),
        "p99_ms": percentile(ordered, 99),
        "max_ms": ordered[-1],
        "mean_ms": statistics.fmean(wall),
        # CPU time of the evaluation: what it costs, without the waits a loaded machine adds to the wall time
        "cpu_p50_ms": percentile(cpu_ordered, 50),
        "cpu_p99_ms": percentile(cpu_ordered, 99),
        "p50_ms_by_kind": {k: statistics.median(v) for k, v in sorted(by_kind.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evaluations", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--synthetic", type=int, default=40, help="synthetic persons and as many organisations")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 6, 30))
    parser.add_argument("--documents", choices=("one", "three", "both"), default="one")
    parser.add_argument("--dates", default="2024-06-30,2025-12-31,2026-03-15", help="with --documents three")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)

    print(f"code {code_version()}; machine {machine()}; load average {os.getloadavg()[0]:.1f}")
    chosen = modes(args)
    for cases, evaluate in chosen.values():  # every case must evaluate; a failure here is a bug, not a timing
        for _, data in cases:
            evaluate(parse_case(data))
    wall: dict[str, list[float]] = {mode: [] for mode in chosen}
    cpu: dict[str, list[float]] = {mode: [] for mode in chosen}

    def one(mode: str, index: int) -> tuple[float, float]:
        cases, evaluate = chosen[mode]
        data = cases[index % len(cases)][1]
        started, cpu_started = time.perf_counter(), time.process_time()
        evaluate(parse_case(data))
        return (time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000

    for index in range(args.warmup):
        for mode in chosen:
            one(mode, index)
    load_before = os.getloadavg()[0]
    for index in range(args.evaluations):
        for mode in chosen:  # interleaved: the modes meet the same load
            ms, cpu_ms = one(mode, index)
            wall[mode].append(ms)
            cpu[mode].append(cpu_ms)
    result: dict[str, Any] = {"code": code_version(), "machine": machine(), "documents": args.documents}
    result |= {"load_before": load_before, "load_after": os.getloadavg()[0]}
    for mode, (cases, _) in chosen.items():
        figures = summary(cases, wall[mode], cpu[mode])
        result[mode] = figures
        print(f"{mode} document(s): {figures['evaluations']:,} evaluations over {figures['cases']} cases")
        print(f"  p50 {figures['p50_ms']:.3f} ms  p95 {figures['p95_ms']:.3f} ms  p99 {figures['p99_ms']:.3f} ms")
        print(f"  max {figures['max_ms']:.3f} ms  mean {figures['mean_ms']:.3f} ms")
        print(f"  CPU time p50 {figures['cpu_p50_ms']:.3f} ms  p99 {figures['cpu_p99_ms']:.3f} ms")
        for kind, ms in figures["p50_ms_by_kind"].items():
            print(f"  p50 {kind:<22} {ms:.3f} ms")
        p50_met = figures["p50_ms"] <= P50_TARGET_MS
        p99_met = figures["p99_ms"] <= P99_TARGET_MS
        print(f"  target p50 <= {P50_TARGET_MS} ms: {'met' if p50_met else 'MISSED'}")
        print(f"  target p99 <= {P99_TARGET_MS} ms: {'met' if p99_met else 'MISSED'}")
    print(f"load average {result['load_before']:.1f} -> {result['load_after']:.1f} during the timed evaluations")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
