"""The platform from the command line: ``bangfu serve`` and the main job ``bangfu demo``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from bangfu.cli import render
from bangfu.cli.database import DatabaseOption, Target, existing, reported_failures, require_current, resolve

HostOption = Annotated[str, typer.Option("--host", help="监听地址；内网部署可用 0.0.0.0")]
PortOption = Annotated[int, typer.Option("--port", min=1, max=65535, help="监听端口")]

# Demo accounts, one per role: printed by `bangfu demo`, never created anywhere else.
DEMO_PASSWORD = "bangfu-demo-2024"
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


def run_server(url: str, host: str, port: int, workers: int = 1) -> None:
    import os

    import uvicorn

    from bangfu.settings import DATABASE_URL_ENV

    # Each worker process builds its own application (and connection pool) from the environment.
    os.environ[DATABASE_URL_ENV] = url
    uvicorn.run(
        "bangfu.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


def demo_township() -> str:
    from bangfu.core import regions

    return regions.townships_of(DEMO_COUNTY)[0].code


def ensure_demo_accounts(url: str) -> list[tuple[str, str, str]]:
    """Create the demo accounts that are missing; (username, role label, region) of each."""
    from bangfu.accounts.users import add_user, find_account
    from bangfu.core.vocabulary import ROLE_LABELS
    from bangfu.store.db import make_engine, make_sessionmaker, unit_of_work
    from bangfu.web.views import region_name

    engine = make_engine(url)
    shown = []
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
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
                    )
                shown.append((username, ROLE_LABELS[role], region_name(code)))
    finally:
        engine.dispose()
    return shown


def load_demo_population(target: Target, persons: int) -> None:
    """Fill an empty registry with a synthetic population (20,000 persons by default); keep a filled one."""
    from bangfu.cli.store_cmds import load_synthetic
    from bangfu.store.bulk import RegistryNotEmptyError, check_loadable
    from bangfu.synth.population import write_population

    try:
        check_loadable(target.url, append=False)
    except RegistryNotEmptyError:
        _say("登记库已有数据，沿用现有数据。")
        return
    with tempfile.TemporaryDirectory(prefix="bangfu-demo-") as folder:
        write_population(Path(folder), persons, max(1, persons // 40), seed=2021, year=2024)
        load_synthetic(target, Path(folder), seed=2021, year=2024, append=False)


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: HostOption = "127.0.0.1",
        port: PortOption = 8000,
        workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="工作进程数（一般取 CPU 核数）")] = 1,
        database: DatabaseOption = None,
    ) -> None:
        """启动平台（网页与 /api/v1 接口）。数据库须先用 bangfu init 初始化。"""
        target = existing(database)
        require_current(target)
        _say(f"帮扶平台：http://{host}:{port}/ （数据库 {target.shown}；按 Ctrl+C 停止）")
        run_server(target.url, host, port, workers)

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
        with reported_failures(target):
            upgrade(target.url)
            load_demo_population(target, persons)
            accounts = ensure_demo_accounts(target.url)
        _say(f"数据库：{target.shown}")
        _say(f"演示账号（口令均为 {DEMO_PASSWORD}，仅供演示，切勿用于生产）：")
        for username, role, region in accounts:
            _say(f"  {username:<10} {role}　{region}")
        if no_serve:
            _say(f"启动平台：bangfu serve --port {port}")
            return
        _say(f"平台地址：http://{host}:{port}/ ；居民自测：http://{host}:{port}/self-check ；按 Ctrl+C 停止")
        run_server(target.url, host, port)
