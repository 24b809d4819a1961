"""Page benchmark: every page an official or a citizen uses, on PostgreSQL holding the province, under wrk.

Issue 11's target: every page at most 300 ms p95 server time with 10 clients on the 3.3-million-person
registry, and a first paint at most 1 s on a phone-sized Chromium over loopback.

prepare (once; --reuse keeps it): ``bench_platform.prepare`` makes and fills the database --database on
--server (``bangfu synth``, accounts ``bench_province`` and ``bench_county`` of 兴县 141123); this script
adds ``bench_township``, an official of the 兴县 township holding the most persons.
measure: ``bangfu serve --workers W`` is started; each account signs in through the login page (its
session cookie); each page of PAGES is fetched once and checked (status, what it must show), then wrk
(a C load generator on the same machine, which records every request) drives it with --connections
clients for --seconds, as the role that uses it, cycling through sampled persons, organizations and
name fragments. The self-check answer is a POST with the form's CSRF cookie and field. Before the load,
while the server is idle (a page's first paint is what one user sees; a server still working through
the load's backlog measured the backlog), Debian's headless Chromium (as tests/web/test_browser.py drives
it) at 375×812, cache disabled, loads each page --paints times in a fresh context; the median of
``first-contentful-paint`` (Performance API) is reported. The POST answer has no paint of its own. The
county's export is a download of its whole roster, not a page: it is not driven by 10 clients but
fetched --downloads times one after another, and the median and longest time to the last byte reported.

Usage:
  .venv/bin/python bench/bench_pages.py --persons 3300000 --organizations 50000 --prepare-only
  .venv/bin/python bench/bench_pages.py --persons 3300000 --organizations 50000 --reuse \
      --json-out bench/out/pages.json
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from bench_platform import (
    BANGFU,
    COUNTY,
    PASSWORD,
    SERVER,
    WRK_DONE,
    lua_string,
    page_cookie,
    prepare,
    run_wrk,
    serving,
)
from provenance import code_version, machine

DATABASE = "bangfu_bench_pages"
P95_LIMIT_MS = 300.0
PAINT_LIMIT_MS = 1000.0
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As tests/web/test_browser.py: a headless Chromium on a machine without network or GPU.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SELF_CHECK_ANSWER = {
    "date": "2024-06-30",
    "hukou_region": COUNTY,
    "categories": "poverty_alleviated",
    "labor_capacity": "ordinary",
    "work_place": "other_province",
    "work_province": "44",
    "work_start": "2024-03-01",
    "travel_cost": "650",
}


@dataclass
class Page:
    """One page as one role uses it: the paths wrk cycles through, and a text the answer must hold."""

    name: str
    role: str  # an account of ACCOUNTS, or "citizen" (no session)
    paths: list[str]
    shows: str
    method: str = "GET"
    body: str | None = None
    paint: bool = True
    # A file to download (the export): timed one request at a time, not under wrk.
    download: bool = False
    headers: dict[str, str] = field(default_factory=dict)


ACCOUNTS = {"province": "bench_province", "county": "bench_county", "township": "bench_township"}


def township_of(url: str) -> str:
    """The township of 兴县 holding the most registered persons (the township official's)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            code = connection.scalar(
                text(
                    "SELECT township_code FROM persons WHERE hukou_region = :county AND township_code IS NOT NULL "
                    "GROUP BY township_code ORDER BY count(*) DESC, township_code LIMIT 1"
                ),
                {"county": COUNTY},
            )
    finally:
        engine.dispose()
    if code is None:
        raise RuntimeError("no person of 兴县 has a township: the registry is not filled")
    return str(code)


def add_township_account(url: str, township: str) -> None:
    """``bench_township`` (once), as an administrator adds it with ``bangfu user add``."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            known = connection.scalar(text("SELECT 1 FROM users WHERE username = 'bench_township'"))
    finally:
        engine.dispose()
    if known:
        return
    command = [BANGFU, "user", "add", "bench_township", "--role", "township", "--region", township]
    subprocess.run(
        [*command, "--password-stdin", "--database", url],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@dataclass
class Sample:
    persons: list[int]
    organizations: list[int]
    fragments: list[str]


def sample(url: str, township: str, seed: int) -> Sample:
    """Persons and organizations of 兴县, and name fragments (two characters) of the township's persons."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            persons = connection.scalars(
                text("SELECT id FROM persons WHERE hukou_region = :c ORDER BY random() LIMIT 200"), {"c": COUNTY}
            ).all()
            organizations = connection.scalars(
                text("SELECT id FROM organizations WHERE region_code = :c ORDER BY random() LIMIT 100"), {"c": COUNTY}
            ).all()
            names = connection.scalars(
                text("SELECT name FROM persons WHERE township_code = :t ORDER BY random() LIMIT 100"), {"t": township}
            ).all()
    finally:
        engine.dispose()
    generator = random.Random(seed)
    fragments = sorted({str(name)[:2] for name in names})
    for chosen in (persons, organizations, fragments):
        generator.shuffle(chosen)  # type: ignore[arg-type]
    if not persons or not organizations or not fragments:
        raise RuntimeError("兴县 has no persons, organizations or names to sample")
    return Sample([int(p) for p in persons], [int(o) for o in organizations], fragments)


def self_check_form(base: str) -> tuple[str, str]:
    """The self-check's CSRF cookie (``name=value``) and the form body answering SELF_CHECK_ANSWER."""
    with urllib.request.urlopen(f"{base}/self-check", timeout=30) as answer:
        html = answer.read().decode()
        cookie = answer.headers["set-cookie"].split(";", 1)[0]
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return cookie, urllib.parse.urlencode({"csrf_token": token, **SELF_CHECK_ANSWER})


def pages(township: str, chosen: Sample, base: str) -> list[Page]:
    """Every page, as the role that uses it."""
    cookie, answer = self_check_form(base)
    people_search = [f"/people?{urllib.parse.urlencode({'name': f, 'region': township})}" for f in chosen.fragments]
    return [
        Page("dashboard_province", "province", ["/"], "就业帮扶"),
        Page("dashboard_county", "county", ["/"], "兴县"),
        Page("dashboard_township", "township", ["/"], "兴县"),
        Page("people_name_in_township", "county", people_search, "人员"),
        Page("people_township_list", "township", ["/people"], "人员"),
        Page("person", "county", [f"/people/{p}" for p in chosen.persons], "身份证"),
        Page("organizations", "county", ["/organizations"], "单位"),
        Page("organization", "county", [f"/organizations/{o}" for o in chosen.organizations], "单位"),
        Page("policy", "citizen", ["/policy"], "政策"),
        Page("policy_on_date", "citizen", ["/policy?date=2024-06-30"], "政策"),
        Page("self_check", "citizen", ["/self-check"], "测算"),
        Page(
            "self_check_answer",
            "citizen",
            ["/self-check"],
            "跨省务工一次性交通补贴",
            method="POST",
            body=answer,
            paint=False,
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        ),
        Page("checks", "county", ["/checks"], "核查"),
        Page("standards_admin", "county", ["/admin/standards"], "标准"),
        Page("policies_admin", "province", ["/admin/policies"], "政策"),
        Page("account", "township", ["/account"], "账户"),
        Page("people_export_county", "county", ["/people/export"], "", paint=False, download=True),
    ]


def headers_of(page: Page, cookies: dict[str, str]) -> dict[str, str]:
    given = dict(page.headers)
    if page.role != "citizen":
        given["Cookie"] = cookies[page.role]
    return given


def check(base: str, page: Page, headers: dict[str, str]) -> None:
    """The page answers 200 with what it must show (an export: a workbook), so no error page is timed."""
    data = page.body.encode() if page.body else None
    request = urllib.request.Request(f"{base}{page.paths[0]}", data=data, headers=headers, method=page.method)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            body = answer.read()
            kind = answer.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{page.name}: {page.paths[0]} answered {exc.code}: {exc.read()[:500]!r}") from None
    if page.name.startswith("people_export"):
        if not kind.startswith(XLSX) or not body.startswith(b"PK"):
            raise RuntimeError(f"{page.name}: not a workbook ({kind})")
    elif page.shows not in body.decode():
        raise RuntimeError(f"{page.name}: {page.paths[0]} does not show {page.shows!r}")


def page_script(page: Page, headers: dict[str, str]) -> str:
    """A wrk script cycling through the page's paths with its headers (and body)."""
    rows = ",\n".join(f"  {lua_string(path)}" for path in page.paths)
    header_lines = "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    body = lua_string(page.body) if page.body else "nil"
    return f"""
local paths = {{
{rows}
}}
local counter = 0
{header_lines}
request = function()
  counter = counter + 1
  return wrk.format({lua_string(page.method)}, paths[(counter % #paths) + 1], nil, {body})
end
{WRK_DONE}
"""


def first_paints(base: str, listed: list[Page], cookies: dict[str, str], loads: int) -> dict[str, dict[str, float]]:
    """Median and worst ``first-contentful-paint`` over ``loads`` loads of each page, each in a fresh context."""
    from playwright.sync_api import sync_playwright

    wait_for_paint = """() => new Promise(resolve => {
      const seen = performance.getEntriesByName('first-contentful-paint')[0];
      if (seen) { resolve(seen.startTime); return; }
      new PerformanceObserver(list => {
        const entry = list.getEntriesByName('first-contentful-paint')[0];
        if (entry) resolve(entry.startTime);
      }).observe({type: 'paint', buffered: true});
      setTimeout(() => resolve(null), 10000);
    })"""
    results: dict[str, dict[str, float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for page in listed:
                if not page.paint:
                    continue
                times = []
                for load in range(loads):
                    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
                    try:
                        if page.role != "citizen":
                            name, value = cookies[page.role].split("=", 1)
                            context.add_cookies([{"name": name, "value": value, "url": base}])
                        tab = context.new_page()
                        context.new_cdp_session(tab).send("Network.setCacheDisabled", {"cacheDisabled": True})
                        path = page.paths[load % len(page.paths)]
                        answer = tab.goto(f"{base}{path}", wait_until="load")
                        if answer is None or answer.status != 200:
                            raise RuntimeError(f"{page.name}: the browser got {answer and answer.status}")
                        painted = tab.evaluate(wait_for_paint)
                        if painted is None:
                            raise RuntimeError(f"{page.name}: no first-contentful-paint entry")
                        times.append(float(painted))
                    finally:
                        context.close()
                results[page.name] = {"median_ms": statistics.median(times), "max_ms": max(times)}
        finally:
            browser.close()
    return results


def downloads(base: str, page: Page, headers: dict[str, str], times: int) -> dict[str, object]:
    """``times`` downloads of ``page`` one after another: seconds to the last byte, and the file's size."""
    seconds, sizes = [], []
    for _ in range(times):
        request = urllib.request.Request(f"{base}{page.paths[0]}", headers=headers)
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as answer:
            sizes.append(len(answer.read()))
        seconds.append(time.perf_counter() - started)
    return {
        "role": page.role,
        "downloads": times,
        "median_s": round(statistics.median(seconds), 2),
        "max_s": round(max(seconds), 2),
        "bytes": max(sizes),
    }


def measure(url: str, township: str, args: argparse.Namespace) -> dict[str, object]:
    chosen = sample(url, township, seed=2021)
    with serving(url, args.workers) as base:
        cookies = {role: page_cookie(base, username) for role, username in ACCOUNTS.items()}
        listed = [page for page in pages(township, chosen, base) if not args.only or page.name in args.only]
        for page in listed:
            check(base, page, headers_of(page, cookies))
        # A few unrecorded seconds first: the workers' first requests import modules and fill caches.
        warm = Page("warm_up", "county", ["/"] + [f"/people/{p}" for p in chosen.persons[:20]], "")
        run_wrk(base, page_script(warm, headers_of(warm, cookies)), "pages_warm_up", 3, args.connections)
        paints: dict[str, dict[str, float]] = {}
        if args.paints and CHROMIUM is not None:
            paints = first_paints(base, listed, cookies, args.paints)
        elif args.paints:
            print("no system Chromium (Debian package chromium): first paint not measured", flush=True)
        files = {
            page.name: downloads(base, page, headers_of(page, cookies), args.downloads)
            for page in listed
            if page.download
        }
        for name, download in files.items():
            print(f"{name:28} {json.dumps(download, ensure_ascii=False)}", flush=True)
        load: dict[str, dict[str, object]] = {}
        for page in listed:
            if page.download:
                continue
            result: dict[str, object] = dict(
                run_wrk(base, page_script(page, headers_of(page, cookies)), f"page_{page.name}", args.seconds,
                        args.connections)
            )  # fmt: skip
            result["role"] = page.role
            # No completed request (every one past wrk's timeout) is no evidence, not a pass.
            result["met"] = bool(result["requests"] and result["p95_ms"] <= P95_LIMIT_MS and result["failed"] == 0)  # type: ignore[operator]
            load[page.name] = result
            print(f"{page.name:28} {json.dumps(result, ensure_ascii=False)}", flush=True)
    return {"load": load, "first_paint": paints, "downloads": files}


def table(found: dict[str, dict[str, dict[str, object]]]) -> str:
    lines = [
        f"{'page':28} {'role':9} {'req/s':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'fail':>5} {'≤300':>5} "
        f"{'paint':>7} {'≤1s':>4}"
    ]
    for name, result in found["load"].items():
        paint = found["first_paint"].get(name)
        painted = f"{'—':>7} {'':>4}"
        if paint:
            median = float(paint["median_ms"])
            painted = f"{median:7.0f} {'yes' if median <= PAINT_LIMIT_MS else 'NO':>4}"
        lines.append(
            f"{name:28} {result['role']!s:9} {float(result['rps']):7.1f} {float(result['p50_ms']):8.1f} "  # type: ignore[arg-type]
            f"{float(result['p95_ms']):8.1f} {float(result['p99_ms']):8.1f} {result['failed']!s:>5} "  # type: ignore[arg-type]
            f"{'yes' if result['met'] else 'NO':>5} {painted}"
        )
    for name, file in found.get("downloads", {}).items():
        lines.append(
            f"{name:28} {file['role']!s:9} download one at a time: median {file['median_s']} s, "
            f"longest {file['max_s']} s, {int(file['bytes']):,} bytes"  # type: ignore[call-overload]
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--database", default=DATABASE, help="the database's name on --server")
    parser.add_argument("--persons", type=int, default=3_300_000)
    parser.add_argument("--organizations", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=10, help="wrk's time on each page")
    parser.add_argument("--connections", type=int, default=10, help="clients at once on each page")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--paints", type=int, default=3, help="browser loads of each page (0: no first paint)")
    parser.add_argument("--downloads", type=int, default=3, help="one-at-a-time downloads of the export")
    parser.add_argument("--only", nargs="*", help="measure only these pages (by name)")
    parser.add_argument("--reuse", action="store_true", help="keep an already prepared database")
    parser.add_argument("--prepare-only", action="store_true", help="build the database and its accounts, then stop")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.prepare_only:
        sys.exit("wrk is missing: apt-get install wrk")
    print(f"code {code_version()}; machine {machine()}", flush=True)
    started = time.perf_counter()
    url = prepare(args.server, args.persons, args.organizations, args.reuse, database=args.database)
    township = township_of(url)
    add_township_account(url, township)
    print(f"database {args.database} ready in {time.perf_counter() - started:.0f} s; township {township}", flush=True)
    if args.prepare_only:
        return
    found = measure(url, township, args)
    print(table(found))  # type: ignore[arg-type]
    report = {
        "code": code_version(),
        "machine": machine(),
        "database": args.database,
        "persons": args.persons,
        "organizations": args.organizations,
        "township": township,
        "connections": args.connections,
        "workers": args.workers,
        "seconds": args.seconds,
        "paints": args.paints,
        "downloads_each": args.downloads,
        "targets": {"p95_ms": P95_LIMIT_MS, "first_paint_median_ms": PAINT_LIMIT_MS},
        **found,
    }
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
