"""Command-line entry points. Exit codes: 0 done, 1 tests failed, 2 bad input, 3 policy conflict, 4 back end failed."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from contextlib import ExitStack
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bangfu.batch.locations import remote_scheme
from bangfu.cli import (
    account_cmds,
    audit_cmds,
    budget_cmds,
    check_cmds,
    claims_cmds,
    export_cmds,
    import_cmds,
    people_cmds,
    platform_cmds,
    policy_doc_cmds,
    population_report,
    registry_cmds,
    render,
    report_cmds,
    store_cmds,
)
from bangfu.cli.database import DatabaseOption, current_connection, existing, opened
from bangfu.cli.errors import fail
from bangfu.cli.policy_options import PolicyOption, get_policy, policy_set
from bangfu.policy.case import CaseError, parse_case
from bangfu.policy.engine import PolicyConflictError, evaluate_case
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.loader import PolicyError
from bangfu.policy.model import FUNDS, Policy
from bangfu.policy.policy_set import PolicySet

if TYPE_CHECKING:
    from bangfu.batch.locations import Location

app = typer.Typer(help="帮扶（Bangfu）：就业帮扶政策的规则即代码与人群测算", no_args_is_help=True, add_completion=False)
policy_app = typer.Typer(help="政策：评估、列出、测试、检查政策包、人群测算与政策假设测算", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
policy_doc_cmds.register(policy_app)
registry_cmds.register(app)
import_cmds.register(app)
export_cmds.register(app)
account_cmds.register(app)
audit_cmds.register(app)
platform_cmds.register(app)
report_cmds.register(app)
check_cmds.register(app)
claims_cmds.register(app)
people_cmds.register(app)
budget_cmds.register(app)

BACKEND_FAILED = 4  # the compute back end (Spark) could not start or its job failed


def parse_day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} 的值 {text!r} 不是有效日期，应为 YYYY-MM-DD（如 2024-06-30）")


def read_case_file(path: Path) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"找不到案例文件 {path}")
    except UnicodeDecodeError:
        fail(f"{path} 不是 UTF-8 编码的文本，请另存为 UTF-8 JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path} 第 {exc.lineno} 行第 {exc.colno} 列：JSON 格式错误（{exc.msg}）")


@policy_app.command("evaluate")
def policy_evaluate(
    case_file: Annotated[Path | None, typer.Argument(help="案例 JSON 文件；- 表示从标准输入读取")] = None,
    id_number: Annotated[
        str | None, typer.Option("--id-number", help="改为评估数据库中登记的这个人（身份证号）")
    ] = None,
    credit_code: Annotated[
        str | None, typer.Option("--credit-code", help="改为评估数据库中登记的这个单位（统一社会信用代码）")
    ] = None,
    on: Annotated[str | None, typer.Option("--date", help="从数据库评估时的评估日期，默认今天")] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    table: Annotated[bool, typer.Option("--table", help="输出中文表格而不是 JSON")] = False,
) -> None:
    """评估一个案例（个人或单位）可享受的全部政策，输出 JSON；案例取自 JSON 文件或数据库登记。"""
    sources = [given for given in (case_file, id_number, credit_code) if given is not None]
    if len(sources) != 1:
        fail("请给出且只给出一个案例来源：案例 JSON 文件，或 --id-number 身份证号，或 --credit-code 信用代码")
    if on is not None and case_file is not None:
        fail("--date 只用于从数据库评估；案例文件的评估日期写在其 date 字段中")
    policies = policy_set(policy)
    if case_file is not None:
        data, shown = read_case_file(case_file), str(case_file)
    else:
        day = parse_day(on, "--date") if on is not None else dt.date.today()
        data, shown, policies = registered_case(database, policies, id_number, credit_code, day)
    try:
        result = evaluate_all(policies, parse_case(data))
    except CaseError as exc:
        fail(f"案例字段 {exc.path}：{exc.message}")
    except PolicyConflictError as exc:
        fail(str(exc), code=3)
    if table:
        render.console().print(render.case_table(shown, result))
    else:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


def registered_case(
    database: str | None, policies: PolicySet, id_number: str | None, credit_code: str | None, day: dt.date
) -> tuple[Any, str, PolicySet]:
    """The case JSON of a registered person or organization, how to name it in a table title, and the policy
    set with the database's local standards and activated programmes (ADR 0023)."""
    from bangfu.core.disclosure import masked_id_number
    from bangfu.registry.stored_cases import NotRegisteredError, organization_key, person_key, stored_case

    target = existing(database)
    with opened(target, policies=policies) as context, current_connection(target, context) as connection:
        try:
            if id_number is not None:
                key, entity = person_key(connection, id_number), "person"
            else:
                key, entity = organization_key(connection, credit_code or ""), "organization"
        except NotRegisteredError as exc:
            what = "身份证号" if id_number is not None else "统一社会信用代码"
            fail(f"数据库 {target.shown} 中没有登记{what}为 {exc} 的{'人员' if id_number else '单位'}")
        except ValueError as exc:
            fail(str(exc))
        shown = (
            f"身份证号 {masked_id_number(id_number)}" if id_number is not None else f"统一社会信用代码 {credit_code}"
        )
        return stored_case(connection, entity, key, day), f"{shown}（数据库登记）", context.policies


def _backend(name: str) -> Any:
    from bangfu.batch.base import BackendError

    if name == "duckdb":
        from bangfu.batch.duckdb_backend import DuckDBBackend

        return DuckDBBackend()
    if name == "spark":
        from bangfu.batch.spark_backend import SparkBackend
        from bangfu.settings import Settings

        try:
            return SparkBackend(Settings.from_env().spark)
        except BackendError as exc:  # no Java, a JVM that would not start: the message says which
            fail(str(exc), code=BACKEND_FAILED)
    fail(f"--backend 应为 duckdb 或 spark，实为 {name!r}")


DataOption = Annotated[
    str | None,
    typer.Option(
        "--data",
        help="人群数据目录（Parquet，见 bangfu synth）；Spark 后端也可用 hdfs://、s3a:// 等远程目录",
    ),
]
FromDatabaseOption = Annotated[
    bool, typer.Option("--from-database", help="改为读取登记库中的人群（数据库见 --database）")
]
SourceDatabaseOption = Annotated[
    str | None, typer.Option("--database", help="读取此数据库（SQLAlchemy URL），隐含 --from-database")
]
DateOption = Annotated[str, typer.Option("--date", help="评估日期 YYYY-MM-DD")]
BackendOption = Annotated[str, typer.Option("--backend", help="duckdb（默认）或 spark")]


def _run_population(
    policies: PolicySet | Policy, backend: Any, data: Location, day: dt.date, out: Path | None = None
) -> Any:
    from bangfu.batch.base import BackendError
    from bangfu.policy.batch_run import PopulationDataError, evaluate_population

    try:
        return evaluate_population(policies, backend, data, day, out_dir=out)
    except PopulationDataError as exc:
        fail(str(exc))
    except BackendError as exc:  # a failed Spark job: a Chinese reason here, the Java detail in its log
        fail(str(exc), code=BACKEND_FAILED)
    except PolicyConflictError as exc:
        fail(str(exc), code=3)


def _data_location(text: str, backend: str) -> Location:
    """``--data`` as given: a local folder, or (Spark only) a remote folder's URI, kept as text."""
    from bangfu.batch.locations import is_remote, remote_refused

    if not is_remote(text):
        return Path(text)
    if backend != "spark":
        fail(remote_refused(text))
    return text


def _population_source(
    stack: ExitStack,
    data: str | None,
    from_database: bool,
    database: str | None,
    policies: PolicySet,
    day: dt.date,
    backend: str,
) -> tuple[Location, float | None, PolicySet]:
    """The population's Parquet folder (``--data``, or the stored population exported for ``day``) and the
    policy set to run: with a database, the one its stored standards and activations make."""
    from_database = from_database or database is not None
    if (data is None) == (not from_database):
        fail("请二选一：--data 人群数据目录（Parquet），或 --from-database [--database 地址] 读取登记库")
    if data is not None:
        return _data_location(data, backend), None, policies
    target = existing(database)
    context = stack.enter_context(opened(target, policies=policies))
    location, seconds = stack.enter_context(store_cmds.exported_population(target, context, day))
    # the stored local standards (and activated programmes) count, as on the pages (ADR 0023)
    return location, seconds, context.policies


def _with_added(policies: PolicySet, folders: list[Path]) -> PolicySet:
    for folder in folders:
        try:
            policies = policies.with_added(folder)
        except PolicyError as exc:
            fail(str(exc))
    return policies


@policy_app.command("population")
def policy_population(
    date: DateOption,
    data: DataOption = None,
    from_database: FromDatabaseOption = False,
    database: SourceDatabaseOption = None,
    policy: PolicyOption = None,
    add: Annotated[
        list[Path] | None, typer.Option("--add", help="另加政策目录（尚未内置的新政策），与政策集一并测算；可多次给出")
    ] = None,
    backend: BackendOption = "duckdb",
    out: Annotated[Path | None, typer.Option("--out", help="结果目录：每人每项的结论写成 Parquet")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON 汇总")] = False,
) -> None:
    """对整个人群（个人与单位）按政策集中的每份政策测算，输出各政策、各项的人数与金额。"""
    if out is not None and out.parts and remote_scheme(out.parts[0].rstrip(":") + "://") is not None:
        # Typer has already made a Path of it (hdfs://nn/x reads hdfs:/nn/x): refuse it rather than write there
        where = f"{out.parts[0]}// 远程地址"
        fail(f"--out 只能是本机或共享挂载的目录，不能是{where}：请写到共享目录，或运行后再上传（见 docs/spark.md）")
    policies = _with_added(policy_set(policy), add or [])
    day = parse_day(date, "--date")
    engine = _backend(backend)
    with ExitStack() as stack:
        source, export_seconds, policies = _population_source(
            stack, data, from_database, database, policies, day, backend
        )
        started = time.perf_counter()
        run = _run_population(policies, engine, source, day, out)
        seconds = time.perf_counter() - started
    if as_json:
        payload = {
            "date": day.isoformat(),
            "backend": backend,
            "seconds": round(seconds, 3),
            **({} if export_seconds is None else {"export_seconds": round(export_seconds, 3)}),
            "entities": {r.entity: r.entities() for r in run.runs},
            # one document: keyed by benefit id, as always; several: "document/benefit"
            "benefits": {key: t for r in run.runs for key, t in r.totals().items()},
            "documents": population_report.documents_json(policies, run),
            "by_fund_fen": run.by_fund(),
            "by_region_fen": run.by_region(),
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    con = render.console()
    for item in population_report.tables(policies, run, backend):
        con.print(item, markup=False, highlight=False)
    exported = "" if export_seconds is None else f"（另从登记库导出 {export_seconds:.2f} 秒）"
    con.print(
        f"用时 {seconds:.2f} 秒{exported}" + (f"；明细已写入 {out}" if out else ""), markup=False, highlight=False
    )


def _scenario(baseline: PolicySet, add: Path | None, overrides: Path | None) -> PolicySet:
    """The set a what-if runs beside ``baseline``: with the programme folder added, or with the overrides."""
    from bangfu.policy.whatif import apply_overrides, load_overrides

    if add is not None:
        return _with_added(baseline, [add])
    assert overrides is not None
    try:
        changed = apply_overrides(baseline.default, load_overrides(overrides), str(overrides))
    except PolicyError as exc:
        fail(str(exc))
    documents = tuple(changed if d.id == changed.id else d for d in baseline.documents)
    return PolicySet(documents, baseline.default_id, baseline.left_out)


@policy_app.command("whatif")
def policy_whatif(
    date: DateOption,
    data: DataOption = None,
    from_database: FromDatabaseOption = False,
    database: SourceDatabaseOption = None,
    overrides: Annotated[
        Path | None, typer.Option("--overrides", help="参数假设文件（YAML 或 JSON），用于默认政策或 --policy 所指政策")
    ] = None,
    add: Annotated[
        Path | None, typer.Option("--add", help="新政策目录：预览加入政策集后的成本，及其对其他政策的影响")
    ] = None,
    policy: PolicyOption = None,
    backend: BackendOption = "duckdb",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """政策假设测算：按假设参数重算，或预览新增一份政策，按资金来源和地区报告成本及差额。"""
    from bangfu.policy.whatif import cost_difference

    if (overrides is None) == (add is None):
        fail("请二选一：--overrides 参数假设文件，或 --add 新政策目录")
    day = parse_day(date, "--date")
    engine = _backend(backend)
    with ExitStack() as stack:
        source, _, baseline_set = _population_source(
            stack, data, from_database, database, policy_set(policy), day, backend
        )
        scenario_set = _scenario(baseline_set, add, overrides)
        baseline = _run_population(baseline_set, engine, source, day)
        scenario = _run_population(scenario_set, engine, source, day)
    by_fund = cost_difference(baseline.by_fund(), scenario.by_fund())
    by_region = [r for r in cost_difference(baseline.by_region(), scenario.by_region()) if r["difference_fen"]]
    if add is not None:
        added = scenario_set.document(_added_id(baseline_set, scenario_set))
        preview = population_report.added_preview(scenario_set, added, baseline, scenario)
        if as_json:
            payload = {"date": day.isoformat(), **preview, "by_fund": by_fund, "by_region": by_region}
            sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
            return
        con = render.console()
        for item in population_report.preview_tables(preview, day):
            con.print(item, markup=False, highlight=False)
        con.print(render.difference_table("合计（按资金来源，含对其他政策的影响）", by_fund, lambda k: FUNDS.get(k, k)))
        return
    if as_json:
        payload = {"date": day.isoformat(), "by_fund": by_fund, "by_region": by_region}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    con = render.console()
    con.print(render.difference_table(f"按资金来源（评估日 {day}）", by_fund, lambda k: FUNDS.get(k, k)))
    con.print(render.difference_table("按地区（仅列出有变化的县）", by_region, render.region_label))


def _added_id(baseline: PolicySet, scenario: PolicySet) -> str:
    known = {d.id for d in baseline.documents}
    return next(d.id for d in scenario.documents if d.id not in known)


@app.command("synth")
def synth(
    out: Annotated[Path | None, typer.Option("--out", help="Parquet 输出目录（写入数据库时可省略）")] = None,
    persons: Annotated[int, typer.Option("--persons", min=1, help="人数")] = 20_000,
    organizations: Annotated[int, typer.Option("--organizations", min=0, help="单位数")] = 500,
    seed: Annotated[int, typer.Option("--seed", help="随机种子（相同种子得到相同数据）")] = 2021,
    year: Annotated[int, typer.Option("--year", min=2019, max=2030, help="数据所在年份")] = 2024,
    to_database: Annotated[
        bool, typer.Option("--to-database", help="同时写入登记库（数据库见 --database；须先运行 bangfu init）")
    ] = False,
    database: Annotated[
        str | None, typer.Option("--database", help="写入此数据库（SQLAlchemy URL），隐含 --to-database")
    ] = None,
    append: Annotated[bool, typer.Option("--append", help="登记库已有人员或单位时仍追加写入")] = False,
) -> None:
    """生成山西省合成人群（有效身份证号、真实县级代码），写为 Parquet，或一并写入登记库。"""
    import tempfile

    from bangfu.synth.population import write_population

    to_database = to_database or database is not None
    if out is None and not to_database:
        fail("请用 --out 指定 Parquet 输出目录，或用 --to-database / --database 写入登记库")
    if append and not to_database:
        fail("--append 只用于写入登记库：请同时给出 --to-database 或 --database")
    with ExitStack() as stack:
        target = context = None
        if to_database:
            target = existing(database)
            context = stack.enter_context(opened(target))
            store_cmds.check_loadable(target, context, append=append)
        folder = out or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bangfu-synth-")))
        started = time.perf_counter()
        counts = write_population(folder, persons, organizations, seed=seed, year=year)
        summary = "，".join(f"{name} {count:,} 行" for name, count in counts.items())
        where = f"已写入 {out}" if out else "已生成"
        render.console().print(
            f"{where}：{summary}（{time.perf_counter() - started:.1f} 秒）", markup=False, highlight=False
        )
        if target is not None and context is not None:
            store_cmds.load_synthetic(target, context, folder, seed=seed, year=year, append=append)


@policy_app.command("examples")
def policy_examples(policy: PolicyOption = None) -> None:
    """评估政策自带的示例案例（个人与单位），打印中文结果表。"""
    loaded = get_policy(policy)
    con = render.console()
    con.print(
        f"[bold]{loaded.title}[/bold]\n执行期 {loaded.validity_text()}；{loaded.key_counties_note}", highlight=False
    )
    examples = resources.files("bangfu") / "data" / "examples"
    for item in sorted(examples.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        result = evaluate_case(loaded, parse_case(json.loads(item.read_text(encoding="utf-8"))))
        con.print(render.case_table(item.name, result))
    con.print(
        "更多：bangfu policy evaluate 案例.json ｜ bangfu policy list ｜ bangfu synth --out 目录", highlight=False
    )
