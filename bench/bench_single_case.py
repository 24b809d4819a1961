"""Single-case latency: parse_case + evaluate_case, in process, on a warm interpreter.

Cases: the bundled examples (src/bangfu/data/examples/*.json) plus synthetic persons and
organisations drawn from a small synthetic population and turned back into case JSON. Each timed
evaluation parses the JSON object (already decoded from text) and evaluates every benefit.

Usage: .venv/bin/python bench/bench_single_case.py [--evaluations 20000] [--synthetic 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from bangfu.policy.case import Case, parse_case
from bangfu.policy.engine import evaluate_case
from bangfu.policy.loader import load_bundled
from bangfu.policy.population_cases import iter_cases
from bangfu.synth.population import write_population
from provenance import code_version, machine

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


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evaluations", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--synthetic", type=int, default=40, help="synthetic persons and as many organisations")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 6, 30))
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)

    print(f"code {code_version()}; machine {machine()}")
    policy = load_bundled()
    cases = load_cases(args.synthetic, args.date)
    for _, data in cases:  # every case must evaluate; a failure here is a bug, not a timing
        evaluate_case(policy, parse_case(data))

    def one(index: int) -> float:
        data = cases[index % len(cases)][1]
        started = time.perf_counter()
        evaluate_case(policy, parse_case(data))
        return (time.perf_counter() - started) * 1000

    for index in range(args.warmup):
        one(index)
    timings = [one(index) for index in range(args.evaluations)]

    by_kind: dict[str, list[float]] = {}
    for index, ms in enumerate(timings):
        by_kind.setdefault(cases[index % len(cases)][0].split("/")[0], []).append(ms)
    ordered = sorted(timings)
    result = {
        "code": code_version(),
        "machine": machine(),
        "cases": len(cases),
        "evaluations": len(timings),
        "p50_ms": percentile(ordered, 50),
        "p95_ms": percentile(ordered, 95),
        "p99_ms": percentile(ordered, 99),
        "max_ms": ordered[-1],
        "mean_ms": statistics.fmean(timings),
        "p50_ms_by_kind": {k: statistics.median(v) for k, v in sorted(by_kind.items())},
    }
    print(f"{result['evaluations']:,} evaluations over {result['cases']} cases (after {args.warmup:,} warm-up)")
    print(f"  p50 {result['p50_ms']:.3f} ms  p95 {result['p95_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms")
    print(f"  max {result['max_ms']:.3f} ms  mean {result['mean_ms']:.3f} ms")
    for kind, ms in result["p50_ms_by_kind"].items():
        print(f"  p50 {kind:<22} {ms:.3f} ms")
    p50_met = result["p50_ms"] <= P50_TARGET_MS
    p99_met = result["p99_ms"] <= P99_TARGET_MS
    print(f"  target p50 <= {P50_TARGET_MS} ms: {'met' if p50_met else 'MISSED'}")
    print(f"  target p99 <= {P99_TARGET_MS} ms: {'met' if p99_met else 'MISSED'}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
