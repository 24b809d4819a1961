"""The platform from the command line: ``bangfu serve`` and the main job ``bangfu demo``."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bangfu.accounts.passwords import DEMO_PASSWORD
from bangfu.cli import render
from bangfu.cli.database import DatabaseOption, Target, existing, opened, reported_failures, require_current, resolve
from bangfu.cli.demo_guard import check_demo_accounts_before_serving, refuse_unless_demo_database
from bangfu.cli.errors import fail

if TYPE_CHECKING:
    from bangfu.context import Context

HostOption = Annotated[str, typer.Option("--host", help="监听地址；内网部署可用 0.0.0.0")]
PortOption = Annotated[int, typer.Option("--port", min=1, max=65535, help="监听端口")]

# Demo accounts, one per role: printed by `bangfu demo`, never created anywhere else (users.is_demo).
DEMO_COUNTY = "141123"  # 兴县 (吕梁市), a demo key county
DEMO_ACCOUNTS = (
    ("sheng", "province", "14", "省级管理员（演示）", True),
    ("lvliang", "city", "1411", "吕梁市人社局（演示）", False),
    ("xingxian", "county", DEMO_COUNTY, "兴县人社局（演示）", True),
    ("xiangzhen", "township", "", "兴县乡镇协理员（演示）", False),
    ("shenji", "auditor", "14", "省审计（演示，只读）", False),
)


def _say(message: str) -> None:
    render.console().print(message, markup=False, highlight=False)


@dataclass(frozen=True)
class Tls:
    """The certificate (chain) and private key ``serve`` answers HTTPS with."""

    cert: Path
    key: Path


def checked_tls(cert: Path | None, key: Path | None) -> Tls | None:
    """Both files or neither; readable and a matching pair, or a message saying which and why (exit 2)."""
    import ssl

    if cert is None and key is None:
        return None
    if cert is None or key is None:
        fail("--tls-cert 与 --tls-key 须同时给出：证书文件和它的私钥文件")
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        try:
            path.read_bytes()
        except OSError as exc:
            fail(f"{option}：无法读取 {path}（{exc.strerror}）")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError):
        fail(f"--tls-cert/--tls-key：{cert} 与 {key} 不是匹配的 PEM 证书与私钥：请核对这两个文件")
    return Tls(cert, key)


def run_server(
    url: str, host: str, port: int, workers: int = 1, *, tls: Tls | None = None, public_https: bool = False
) -> None:
    import os

    import uvicorn

    from bangfu.settings import DATABASE_URL_ENV, PUBLIC_HTTPS_ENV

    # Each worker process builds its own application (and connection pool) from the environment.
    os.environ[DATABASE_URL_ENV] = url
    # Served over HTTPS, here or by a proxy in front: Secure cookies and HSTS (bangfu.settings).
    if tls is not None or public_https:
        os.environ[PUBLIC_HTTPS_ENV] = "1"
    # proxy_headers=False: X-Forwarded-For is read by the application alone, and only from the proxies
    # in BANGFU_TRUSTED_PROXIES (web/client_address.py). uvicorn's own reading would believe 127.0.0.1
    # by default, so that anything on this machine could pose as any address.
    uvicorn.run(
        "bangfu.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )


def demo_township() -> str:
    from bangfu.core import regions

    return regions.townships_of(DEMO_COUNTY)[0].code


def ensure_demo_accounts(context: Context) -> list[tuple[str, str, str]]:
    """Create the demo accounts that are missing; (username, role label, region) of each."""
    from bangfu.accounts.users import add_user, find_account
    from bangfu.core.vocabulary import ROLE_LABELS
    from bangfu.store.db import unit_of_work
    from bangfu.web.views import region_name

    shown = []
    with unit_of_work(context.sessions) as session:
        for username, role, region, display_name, can_unmask in DEMO_ACCOUNTS:
            code = region or demo_township()
            if find_account(session, username) is None:
                add_user(
                    session,
                    username=username,
                    role=role,
                    region_code=code,
                    password=DEMO_PASSWORD,
                    display_name=display_name,
                    can_unmask=can_unmask,
                    actor="bangfu demo",
                    is_demo=True,
                )
            shown.append((username, ROLE_LABELS[role], region_name(code)))
    return shown


# Demo budgets: the demo county, each fund, the synthetic data's years and today's, so that a demo
# approval is not refused for want of a budget (ADR 0035); 10 million yuan each, demo only.
DEMO_BUDGET_FEN = 10_000_000 * 100
DEMO_BUDGET_FIRST_YEAR = 2021


def ensure_demo_budgets(context: Context) -> None:
    """Allocate the demo county's budgets that are missing (each allocation audited as any other)."""
    from sqlalchemy import select

    from bangfu.claims import budgets

    finance = budgets.Scope("bangfu demo", "province", "14")
    years = range(DEMO_BUDGET_FIRST_YEAR, dt.date.today().year + 1)
    with context.engine.begin() as connection:
        query = select(budgets.BUDGETS.c.fund, budgets.BUDGETS.c.year).where(
            budgets.BUDGETS.c.region_code == DEMO_COUNTY
        )
        held = {(fund, year) for fund, year in connection.execute(query)}
        for fund in ("revitalization", "employment", "unemployment_insurance"):
            for year in years:
                if (fund, year) not in held:
                    budgets.set_budget(
                        connection, region=DEMO_COUNTY, fund=fund, year=year, amount_fen=DEMO_BUDGET_FEN,
                        scope=finance, reason="演示数据",
                    )  # fmt: skip


def load_demo_population(target: Target, context: Context, persons: int) -> None:
    """Fill an empty registry with a synthetic population (20,000 persons by default); keep a filled one."""
    from bangfu.cli.store_cmds import load_synthetic
    from bangfu.store.counts import RegistryNotEmptyError
    from bangfu.synth.population import write_population
    from bangfu.synth.registry_load.load import check_loadable

    try:
        with context.engine.connect() as connection:
            check_loadable(connection, append=False)
    except RegistryNotEmptyError:
        _say("登记库已有数据，沿用现有数据。")
        return
    with tempfile.TemporaryDirectory(prefix="bangfu-demo-") as folder:
        write_population(Path(folder), persons, max(1, persons // 40), seed=2021, year=2024)
        load_synthetic(target, context, Path(folder), seed=2021, year=2024, append=False)


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: HostOption = "127.0.0.1",
        port: PortOption = 8000,
        workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="工作进程数（一般取 CPU 核数）")] = 1,
        database: DatabaseOption = None,
        tls_cert: Annotated[
            Path | None, typer.Option("--tls-cert", help="HTTPS 证书文件（PEM，可含中间证书链）", show_default=False)
        ] = None,
        tls_key: Annotated[
            Path | None, typer.Option("--tls-key", help="HTTPS 私钥文件（PEM，未加密）", show_default=False)
        ] = None,
        public_https: Annotated[
            bool,
            typer.Option(
                "--public-https", help="由前置代理（如 nginx）提供 HTTPS 时使用：Cookie 标记 Secure 并发送 HSTS"
            ),
        ] = False,
    ) -> None:
        """启动平台（网页与 /api/v1 接口）。数据库须先用 bangfu init 初始化。"""
        tls = checked_tls(tls_cert, tls_key)
        target = existing(database)
        with opened(target) as context:
            require_current(target, context)
            check_demo_accounts_before_serving(target, context)
        scheme = "https" if tls else "http"
        _say(f"帮扶平台：{scheme}://{host}:{port}/ （数据库 {target.shown}；按 Ctrl+C 停止）")
        run_server(target.url, host, port, workers, tls=tls, public_https=public_https)

    @app.command("demo")
    def demo(
        host: HostOption = "127.0.0.1",
        port: PortOption = 8000,
        persons: Annotated[int, typer.Option("--persons", min=100, help="演示人群人数")] = 20_000,
        no_serve: Annotated[bool, typer.Option("--no-serve", help="只准备数据和账号，不启动平台")] = False,
        database: DatabaseOption = None,
    ) -> None:
        """一键演示：初始化内置数据库、载入合成人群、建立各角色演示账号，并启动平台。"""
        from bangfu.store.migrate import upgrade

        target = resolve(database)
        with opened(target) as context:
            refuse_unless_demo_database(target, context)
            with reported_failures(target):
                with context.engine.begin() as connection:
                    upgrade(connection)
                load_demo_population(target, context, persons)
                accounts = ensure_demo_accounts(context)
                ensure_demo_budgets(context)
        _say(f"数据库：{target.shown}")
        _say(f"演示账号（口令均为 {DEMO_PASSWORD}，仅供演示，切勿用于生产）：")
        for username, role, region in accounts:
            _say(f"  {username:<10} {role}　{region}")
        if no_serve:
            _say(f"启动平台：bangfu serve --port {port}")
            return
        _say(f"平台地址：http://{host}:{port}/ ；居民自测：http://{host}:{port}/self-check ；按 Ctrl+C 停止")
        run_server(target.url, host, port)
