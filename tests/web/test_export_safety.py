"""The roster a browser or API client downloads holds no live formula, whatever names were imported."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_support import XING, api_token, build_registry, id_number, page_login

from bangfu.registry.imports.importer import import_file
from bangfu.store.db import make_engine
from bangfu.web.app import create_app
from database_servers import settings_for
from hostile_files import FORMULA_NAMES, assert_no_formula_cells


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # A platform of its own: the shared one's tests count its people exactly.
    folder = tmp_path_factory.mktemp("injection")
    url = f"sqlite:///{(folder / 'bangfu.db').as_posix()}"
    build_registry(url)
    source = folder / "people.csv"
    with source.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["姓名", "身份证号", "户籍所在县", "人员类别", "劳动能力", "联系电话"])
        for serial, name in enumerate(FORMULA_NAMES, 500):
            writer.writerow([name, id_number(XING, serial, dt.date(1980, 1, 1)), "兴县", "脱贫人口", "全劳力", ""])
    engine = make_engine(url)
    try:
        assert import_file(engine, "people", source).inserted == len(FORMULA_NAMES)
    finally:
        engine.dispose()
    app = create_app(settings_for(url))
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
    app.state.context.close()


def expected() -> list[str]:
    return sorted("'" + name.strip() for name in FORMULA_NAMES)


def test_the_api_export_holds_formula_names_as_text(client: TestClient) -> None:
    answer = client.get("/api/v1/people/export", headers=api_token(client, "county_xing"))
    assert answer.status_code == 200, answer.text
    assert sorted(assert_no_formula_cells(answer.content)) == expected()


def test_the_page_export_holds_formula_names_as_text(client: TestClient) -> None:
    page_login(client, "county_xing")
    answer = client.get("/people/export")
    assert answer.status_code == 200, answer.text
    assert sorted(assert_no_formula_cells(answer.content)) == expected()
