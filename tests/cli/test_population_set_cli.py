"""`policy population` over several documents and `policy whatif --add DIR`, driven through the CLI.

The documents are copies of the bundled one (tests/document_copies.py) with their own ids, levels and
regions, so these tests hold whatever documents are bundled beside shanxi-2021: the base set is pinned
with ``--policy shanxi-2021``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from bangfu.cli import app
from document_copies import TRANSPORT, cross_exclusion, derived_document, three_documents

DAY = "2024-06-30"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return json.loads(result.stdout)


def one_line(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("set_cli_population")
    result = invoke("synth", "--out", str(folder), "--persons", "2500", "--organizations", "60", "--seed", "13")
    assert result.exit_code == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return three_documents(tmp_path_factory.mktemp("set_cli_documents"))


@pytest.fixture(scope="module")
def county_programme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A county programme (兴县, 141123) whose cross-province subsidy comes before the province's."""
    return derived_document(
        tmp_path_factory.mktemp("county_programme"),
        "test-programme",
        level="county",
        region="141123",
        valid_from="2024-01-01",
        valid_to="2026-12-31",
        only=TRANSPORT,
        cross_exclusions=[
            cross_exclusion(
                "one_cross_province_subsidy",
                ["test-programme:transport_cross_province", "shanxi-2021:transport_cross_province"],
                "calendar_year",
            )
        ],
    )


def test_population_over_three_documents(population: Path, documents: list[Path], tmp_path: Path) -> None:
    city, county = documents
    out = tmp_path / "results"
    args = ["--data", str(population), "--date", DAY, "--policy", "shanxi-2021", "--add", str(city)]
    data = ok_json(invoke("policy", "population", *args, "--add", str(county), "--json", "--out", str(out)))
    assert list(data["documents"]) == ["shanxi-2021", "test-city", "test-county"]
    province, city_json, county_json = (data["documents"][d] for d in data["documents"])
    assert province["entities"] == data["entities"] == {"person": 2500, "organization": 60}
    assert 0 < county_json["entities"]["person"] < city_json["entities"]["person"] < 2500
    assert "organization" not in county_json["entities"]  # its copy keeps only the transport subsidies
    assert set(county_json["benefits"]) == set(TRANSPORT)
    assert set(county_json["by_region_fen"]) <= {"141123"}
    # several documents: results named document/benefit, every amount counted once
    assert (
        data["benefits"]["test-county/transport_cross_province"] == county_json["benefits"]["transport_cross_province"]
    )
    for fund, fen in data["by_fund_fen"].items():
        assert fen == sum(d["by_fund_fen"].get(fund, 0) for d in data["documents"].values())
    persons = pq.read_table(out / "person_results.parquet")
    assert persons.num_rows == 2500
    statuses = persons.column("test-county/transport_cross_province__status").to_pylist()
    assert statuses.count(None) == 2500 - county_json["entities"]["person"]  # outside the county: not answered
    table = invoke("policy", "population", *args, "--add", str(county))
    assert table.exit_code == 0, table.stderr
    assert "（测试副本 test-county）" in table.stdout and "县级" in table.stdout


def test_whatif_add_previews_cost_and_the_change_to_others(population: Path, county_programme: Path) -> None:
    args = ["policy", "whatif", "--data", str(population), "--date", DAY, "--policy", "shanxi-2021"]
    data = ok_json(invoke(*args, "--add", str(county_programme), "--json"))
    added = data["added"]
    assert added["id"] == "test-programme" and added["level"] == "county"
    assert added["by_fund_fen"]["revitalization"] > 0
    assert set(added["by_region_fen"]) == {"141123"}
    # the county's subsidy comes first: the province's is no longer paid to the same persons
    (change,) = [o for o in data["others"] if o["benefit"] == "transport_cross_province"]
    assert change["document"] == "shanxi-2021"
    assert change["difference_fen"] < 0 and change["granted_difference"] < 0 and change["excluded_difference"] > 0
    by_fund = {row["key"]: row for row in data["by_fund"]}
    others = sum(o["difference_fen"] for o in data["others"])
    assert by_fund["revitalization"]["difference_fen"] == added["by_fund_fen"]["revitalization"] + others
    assert sum(r["difference_fen"] for r in data["by_region"]) == sum(r["difference_fen"] for r in data["by_fund"])
    assert {r["key"] for r in data["by_region"]} == {"141123"}
    table = invoke(*args, "--add", str(county_programme))
    assert table.exit_code == 0, table.stderr
    text = table.stdout
    assert "新增政策《" in text and "按资金来源" in text and "对其他政策的影响" in text
    assert "跨省务工一次性交通补贴" in text and "衔接推进乡村振兴补助资金" in text
    assert "县级，地区 兴县（141123）" in text
    assert "《关于切实加强就业帮扶巩固拓展脱贫攻坚成果助力乡村振兴的实施意见》" in text  # the others by title


def test_whatif_add_checks_the_set_first(population: Path, documents: list[Path]) -> None:
    """The county's exclusion names the city's document, which the base set lacks: refused, file and key named."""
    _, county = documents
    args = ["policy", "whatif", "--data", str(population), "--date", DAY, "--policy", "shanxi-2021"]
    result = invoke(*args, "--add", str(county))
    assert result.exit_code == 2
    message = one_line(result.stderr)
    assert "cross_exclusions[0].members" in message and "test-city" in message
    duplicate = invoke(*args, "--add", str(county.parent / "test-city"), "--add", str(county))
    assert duplicate.exit_code == 2  # --add is given once


def test_whatif_needs_overrides_or_a_document(population: Path, county_programme: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "o.yaml"
    overrides.write_text("- {parameter: transport_cross_province.cap_fen, from: 2024-01-01, value: 1}\n")
    base = ["policy", "whatif", "--data", str(population), "--date", DAY]
    for extra in ([], ["--overrides", str(overrides), "--add", str(county_programme)]):
        result = invoke(*base, *extra)
        assert result.exit_code == 2
        assert "请二选一：--overrides参数假设文件，或--add新政策目录" in one_line(result.stderr)


@pytest.mark.parametrize("uri", ["hdfs://namenode:8020/bangfu/population", "s3a://bucket/population"])
def test_duckdb_refuses_a_remote_folder_in_chinese(uri: str) -> None:
    result = invoke("policy", "population", "--data", uri, "--date", DAY)
    assert result.exit_code == 2
    message = one_line(result.stderr)
    assert "DuckDB后端只能读取本机目录" in message and uri in message and "--backendspark" in message


def test_out_is_never_a_remote_address(population: Path) -> None:
    result = invoke("policy", "population", "--data", str(population), "--date", DAY, "--out", "hdfs://nn:8020/results")
    assert result.exit_code == 2
    assert "--out只能是本机或共享挂载的目录" in one_line(result.stderr)
