"""Platform load benchmark: the HTTP API on PostgreSQL holding the province (3.3 million persons), under wrk.

prepare (once; --reuse keeps a prepared database): a database on --server is created, migrated, filled
with ``bangfu synth --database`` (which also refreshes the dashboard figures) and given two accounts
(province, and county 兴县). Then per run: ``bangfu serve --workers W`` is started, tokens are taken
through ``POST /api/v1/auth/token``, and wrk (Debian package ``wrk``, a C load generator on the same
machine) drives each scenario for --seconds with --connections open connections:
- evaluate: ``POST /api/v1/policy/evaluate`` with the bundled example cases in turn (province token);
- id_search: ``GET /api/v1/people?id_number=…`` over 2,000 registered ID numbers drawn at random;
- name_in_county: ``GET /api/v1/people?name=…&region=141123`` over 500 names of 兴县 (county token);
  both with --search-connections clients (10: a county bureau's staff at once), and again with
  --connections for the record;
the province dashboard (``GET /api/v1/dashboard`` and the page ``/``) is timed request by request,
alone. Each run starts with 3 unrecorded seconds of the evaluation (the workers' first requests import
modules and fill caches). Latency percentiles are wrk's (it records every request); every figure is
the median over runs.

Usage:
  .venv/bin/python bench/bench_platform.py --persons 3300000 --organizations 50000 --runs 3 \
      --json-out bench/out/platform.json [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from provenance import code_version, machine

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "bangfu_bench_platform"
PASSWORD = "bench-password-2024"
COUNTY = "141123"
TARGETS = {"evaluate": ("p99_ms", 100.0), "id_search": ("p95_ms", 50.0), "name_in_county": ("p95_ms", 200.0)}
BANGFU = str(Path(sys.executable).with_name("bangfu"))
OUT = Path(__file__).resolve().parent / "out" / "platform"

WRK_DONE = """
done = function(summary, latency, requests)
  local failed = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
  io.write(string.format('RESULT {"requests": %d, "failed": %d, "seconds": %.3f, '
      .. '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\\n',
    summary.requests, failed, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for this text


def wrk_script(token: str, requests: list[tuple[str, str, str | None]]) -> str:
    """A wrk script cycling through (method, path, body) requests with the bearer token."""
    rows = ",\n".join(
        f"  {{{lua_string(method)}, {lua_string(path)}, {lua_string(body) if body else 'nil'}}}"
        for method, path, body in requests
    )
    return f"""
local requests = {{
{rows}
}}
local counter = 0
wrk.headers["Authorization"] = {lua_string("Bearer " + token)}
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local r = requests[(counter % #requests) + 1]
  return wrk.format(r[1], r[2], nil, r[3])
end
{WRK_DONE}
"""


def database_url(server: str, name: str) -> str:
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def prepare(server: str, persons: int, organizations: int, reuse: bool, database: str = DATABASE) -> str:
    """The filled database ``database`` on ``server`` (dropped and made again unless ``reuse``); its URL."""
    url = database_url(server, database)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database})
        if exists and not reuse:
            connection.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
            exists = None
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            loaded = connection.scalar(text("SELECT count(*) FROM persons")) if exists else 0
    finally:
        engine.dispose()
    if not loaded:
        subprocess.run([BANGFU, "init", "--database", url], check=True, stdout=subprocess.DEVNULL)
        started = time.perf_counter()
        subprocess.run(
            [BANGFU, "synth", "--persons", str(persons), "--organizations", str(organizations), "--database", url],
            check=True,
        )
        print(f"loaded {persons:,} persons in {time.perf_counter() - started:.0f} s", flush=True)
        for username, role, region in (("bench_province", "province", "14"), ("bench_county", "county", COUNTY)):
            subprocess.run(
                [
                    BANGFU,
                    "user",
                    "add",
                    username,
                    "--role",
                    role,
                    "--region",
                    region,
                    "--password-stdin",
                    "--database",
                    url,
                ],
                input=PASSWORD + "\n",
                text=True,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        engine.dispose()
    return url


def samples(url: str, seed: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Registered ID numbers and (name, county) pairs drawn at random (TABLESAMPLE, then shuffled)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            numbers = connection.scalars(text("SELECT id_number FROM persons TABLESAMPLE SYSTEM (1) LIMIT 2000")).all()
            # The county account's own county: a search elsewhere would be answered empty without a query.
            pairs = connection.execute(
                text("SELECT name, hukou_region FROM persons WHERE hukou_region = :county ORDER BY random() LIMIT 500"),
                {"county": COUNTY},
            ).all()
    finally:
        engine.dispose()
    generator = random.Random(seed)
    chosen = list(numbers)
    generator.shuffle(chosen)
    named = [(str(name), str(region)) for name, region in pairs]
    generator.shuffle(named)
    return chosen, named


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(url: str, workers: int) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [BANGFU, "serve", "--port", str(port), "--workers", str(workers), "--database", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    told = process.stderr.read() if process.stderr else ""
                    raise RuntimeError(f"server did not start: {told}") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def token(base: str, username: str) -> str:
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{base}/api/v1/auth/token", data=form, timeout=30) as answer:
        return str(json.load(answer)["access_token"])


def run_wrk(base: str, script: str, name: str, seconds: int, connections: int) -> dict[str, float]:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.lua"
    path.write_text(script, encoding="utf-8")
    threads = min(2, connections)
    completed = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(path),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def timed_get(base: str, path: str, headers: dict[str, str], times: int) -> dict[str, float]:
    durations = []
    for _ in range(times):
        request = urllib.request.Request(f"{base}{path}", headers=headers)
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
            assert answer.status == 200, answer.status
        durations.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(durations), "max_ms": max(durations)}


def page_cookie(base: str, username: str) -> str:
    """Sign in through the login form (CSRF cookie and field) and return the session cookie header."""
    with urllib.request.urlopen(f"{base}/login", timeout=30) as answer:
        html = answer.read().decode()
        csrf_cookie = answer.headers["set-cookie"].split(";", 1)[0]
    csrf = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": csrf}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(f"{base}/login", data=form, headers={"Cookie": csrf_cookie})
    try:
        opener.open(request, timeout=30)
    except urllib.error.HTTPError as redirect:  # 303 to the dashboard
        session = next(v for k, v in redirect.headers.items() if k.lower() == "set-cookie" and "bangfu_session" in v)
        return session.split(";", 1)[0]
    raise RuntimeError("login did not redirect")


def one_run(
    base: str, numbers: list[str], pairs: list[tuple[str, str]], seconds: int, connections: int, search_connections: int
) -> dict[str, dict[str, float]]:
    province = token(base, "bench_province")
    county = token(base, "bench_county")
    examples = resources.files("bangfu") / "data" / "examples"
    cases = [
        ("POST", "/api/v1/policy/evaluate", p.read_text(encoding="utf-8"))
        for p in sorted(examples.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".json")
    ]
    id_requests = [("GET", f"/api/v1/people?id_number={n}", None) for n in numbers]
    name_requests = [
        ("GET", f"/api/v1/people?{urllib.parse.urlencode({'name': name, 'region': region})}", None)
        for name, region in pairs
    ]
    # A few unrecorded seconds first: the workers' first requests import modules and fill caches.
    run_wrk(base, wrk_script(province, cases), "warm_up", 3, connections)
    results = {
        "evaluate": run_wrk(base, wrk_script(province, cases), "evaluate", seconds, connections),
        "id_search": run_wrk(base, wrk_script(province, id_requests), "id_search", seconds, search_connections),
        "name_in_county": run_wrk(
            base, wrk_script(county, name_requests), "name_in_county", seconds, search_connections
        ),
        # The searches again with as many clients as the evaluation, for the record.
        "id_search_at_evaluate_load": run_wrk(
            base, wrk_script(province, id_requests), "id_search_50", seconds, connections
        ),
        "name_in_county_at_evaluate_load": run_wrk(
            base, wrk_script(county, name_requests), "name_in_county_50", seconds, connections
        ),
    }
    results["dashboard_api"] = timed_get(base, "/api/v1/dashboard", {"Authorization": f"Bearer {province}"}, 20)
    results["dashboard_page"] = timed_get(base, "/", {"Cookie": page_cookie(base, "bench_province")}, 20)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--persons", type=int, default=3_300_000)
    parser.add_argument("--organizations", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50, help="clients of the evaluation scenario")
    parser.add_argument("--search-connections", type=int, default=10, help="clients of the search scenarios")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--reuse", action="store_true", help="keep an already prepared database")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    print(f"code {code_version()}; machine {machine()}", flush=True)
    url = prepare(args.server, args.persons, args.organizations, args.reuse)
    numbers, pairs = samples(url, seed=2021)
    runs = []
    for index in range(args.runs):
        with serving(url, args.workers) as base:
            result = one_run(base, numbers, pairs, args.seconds, args.connections, args.search_connections)
        runs.append(result)
        print(f"run {index + 1}: {json.dumps(result)}", flush=True)
    summary = {
        scenario: {key: statistics.median(run[scenario][key] for run in runs) for key in runs[0][scenario]}
        for scenario in runs[0]
    }
    for scenario, (key, limit) in TARGETS.items():
        summary[scenario]["target"] = f"{key} <= {limit}"
        summary[scenario]["met"] = summary[scenario][key] <= limit
    summary["dashboard_api"]["met"] = summary["dashboard_api"]["max_ms"] <= 1000
    summary["dashboard_page"]["met"] = summary["dashboard_page"]["max_ms"] <= 1000
    report = {
        "code": code_version(),
        "machine": machine(),
        "persons": args.persons,
        "connections": args.connections,
        "search_connections": args.search_connections,
        "workers": args.workers,
        "seconds": args.seconds,
        "runs": runs,
        "median": summary,
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
