"""``bangfu import people|households|organizations|employment|training FILE``: county files into the registry.

Exit 0 when the file was imported, even with refused rows (they are counted and written to the
rejects file); exit 2 when nothing was imported: the file cannot be read, its header lacks columns,
the database is not initialised or the import failed (it is then rolled back entirely).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bangfu.cli import render
from bangfu.cli.database import DatabaseOption, Target, existing, opened, reported_failures
from bangfu.cli.errors import fail
from bangfu.cli.report_cmds import refresh_after_write
from bangfu.registry.imports.headers import KINDS as KIND_SPECS
from bangfu.registry.imports.headers import expected_headers_zh, layout_spec

if TYPE_CHECKING:
    from bangfu.context import Context

JsonOption = Annotated[
    bool,
    typer.Option("--json", help="输出 JSON：inserted、updated、unchanged、rejected、rejects_file、absent、absent_file"),
]
RejectsDirOption = Annotated[
    Path | None,
    typer.Option("--rejects-dir", help="拒绝文件（被拒绝的行及原因，CSV）写入的目录；默认为导入文件所在目录"),
]


def _say(message: str, *, stderr: bool = False) -> None:
    render.console(stderr=stderr).print(message, markup=False, highlight=False)


def _expected(kind: str) -> str:
    return f"\n{KIND_SPECS[kind].label}表格应有的列（括号内为可接受的其他写法）：\n{expected_headers_zh(kind)}"


def _print_report(report: object, *, as_json: bool) -> None:
    from bangfu.registry.imports.importer import ImportReport

    assert isinstance(report, ImportReport)
    notes = [f"提醒：{warning}" for warning in report.warnings]
    if report.blank_rows:
        notes.append(f"提醒：另有 {report.blank_rows:,} 个空行，已跳过")
    if report.earlier_import_at is not None:
        notes.append(f"提醒：内容完全相同的文件已于 {report.earlier_import_at:%Y-%m-%d %H:%M} 导入过")
    if report.absent_file is not None:
        notes.append(
            f"提醒：已登记、有人口编号的 {report.absent:,} 人本次下载未列出（或其行被拒绝），"
            f"系统未删除，名单已写入：{report.absent_file}（请核实是否迁出、死亡或退出监测）"
        )
    if as_json:
        sys.stdout.write(json.dumps(report.summary(), ensure_ascii=False) + "\n")
        for note in notes:
            _say(note, stderr=True)
        return
    label = layout_spec(report.kind, report.layout).label
    encoding = f"，{report.encoding}" if report.encoding else ""
    _say(f"{label}表格 {report.file.name}{encoding}：共 {report.rows:,} 行，用时 {report.seconds:.1f} 秒")
    conflicts = f"（其中与已登记信息冲突 {report.conflicts:,} 行）" if report.conflicts else ""
    _say(
        f"新增 {report.inserted:,} 行，更新 {report.updated:,} 行，未变 {report.unchanged:,} 行，"
        f"拒绝 {report.rejected:,} 行{conflicts}"
    )
    if report.rejects_file is not None:
        _say(f"被拒绝的行及原因已写入：{report.rejects_file}（改正后可直接再次导入）")
    for note in notes:
        _say(note)


def run_import(kind: str, file: Path, *, as_json: bool, database: str | None, rejects_dir: Path | None) -> None:
    if not file.is_file():
        fail(f"找不到导入文件 {file}：请检查路径")
    target = existing(database)
    with opened(target) as context:
        _import(kind, file, target, context, rejects_dir, as_json)


def _import(kind: str, file: Path, target: Target, context: Context, rejects_dir: Path | None, as_json: bool) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from bangfu.registry.imports import IMPORTERS
    from bangfu.registry.imports.headers import HeaderError
    from bangfu.registry.imports.row_feed import WorkerFeedError
    from bangfu.registry.imports.rows import FileRefused, ReadError

    nothing = "本次导入没有写入任何数据"
    with reported_failures(target):
        try:
            report = IMPORTERS[kind](context.engine, file, rejects_dir)
        except HeaderError as exc:
            fail(f"{file.name}：{exc}")
        except FileRefused as exc:
            fail(f"拒绝导入 {file.name}：{exc}；{nothing}")
        except ReadError as exc:
            fail(f"无法读取 {file.name}：{exc}{_expected(kind)}")
        except PermissionError as exc:
            fail(
                f"无法写入拒绝文件的目录 {exc.filename}（{exc.strerror}）：请用 --rejects-dir 指定可写的目录；{nothing}"
            )
        except SQLAlchemyError as exc:
            # Rolled back: say so, then let reported_failures name the database and what to check.
            _say(f"导入失败，{nothing}（已全部回滚）", stderr=True)
            raise exc
        except WorkerFeedError as exc:
            fail(f"读取 {file.name} 失败：{exc}；{nothing}")
        except OSError as exc:
            fail(f"读写文件失败（{exc.filename or file}：{exc.strerror or exc}）；{nothing}")
    _print_report(report, as_json=as_json)
    if report.inserted or report.updated:
        refresh_after_write(target, context, stderr=as_json)


def _command(kind: str) -> Callable[..., None]:
    def command(
        file: Annotated[Path, typer.Argument(help="CSV（UTF-8 或 GBK）或 XLSX 文件", show_default=False)],
        as_json: JsonOption = False,
        database: DatabaseOption = None,
        rejects_dir: RejectsDirOption = None,
    ) -> None:
        run_import(kind, file, as_json=as_json, database=database, rejects_dir=rejects_dir)

    return command


def register(app: typer.Typer) -> None:
    import_app = typer.Typer(
        help="导入县级报送的表格（CSV 或 XLSX）：人员、家庭户、单位、务工就业、培训。表头见 docs/import-headers.md",
        no_args_is_help=True,
    )
    for kind, spec in KIND_SPECS.items():
        import_app.command(
            kind,
            help=(
                f"导入{spec.label}表格。整个文件一次提交：已登记且无变化的行记为未变，有变化的更新，"
                "与已登记姓名不符的行拒绝（不覆盖）；被拒绝的行写入拒绝文件。"
            ),
        )(_command(kind))
    app.add_typer(import_app, name="import")
