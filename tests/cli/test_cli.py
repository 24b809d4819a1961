"""The ``bangfu`` command line, driven in-process through Typer's CliRunner.

Exit codes: 0 done, 1 rule tests failed, 2 bad input, 3 policy conflict.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from bangfu.cli import app

EXAMPLES = Path(str(resources.files("bangfu") / "data" / "examples"))
PERSON_EXAMPLE = EXAMPLES / "01-person-cross-province.json"
ORGANIZATION_EXAMPLE = EXAMPLES / "05-organization-base.json"


def invoke(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return json.loads(result.stdout)


def case_json(**person: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"categories": ["poverty_alleviated"], "hukou_region": "141123"}
    body.update(person)
    return {"date": "2024-06-30", "region": "141123", "person": body}


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli_population")
    result = invoke("synth", "--out", str(folder), "--persons", "1200", "--organizations", "80", "--seed", "11")
    assert result.exit_code == 0, result.stderr
    assert "persons 1,200 行" in result.stdout
    for table in ("persons", "employment", "training", "received", "organizations", "trainees", "org_received"):
        assert (folder / f"{table}.parquet").is_file()
    return folder


# ---------------------------------------------------------------- policy evaluate


def test_evaluate_person_example() -> None:
    data = ok_json(invoke("policy", "evaluate", str(PERSON_EXAMPLE)))
    assert data["entity"] == "person"
    assert data["policy"]["id"] == "shanxi-2021"
    assert len(data["benefits"]) == 6
    cross = next(b for b in data["benefits"] if b["id"] == "transport_cross_province")
    assert (cross["status"], cross["amount_fen"]) == ("granted", 80000)


def test_evaluate_organization_example() -> None:
    data = ok_json(invoke("policy", "evaluate", str(ORGANIZATION_EXAMPLE)))
    assert data["entity"] == "organization"
    assert len(data["benefits"]) == 7


def test_evaluate_from_stdin() -> None:
    data = ok_json(invoke("policy", "evaluate", "-", stdin=PERSON_EXAMPLE.read_text(encoding="utf-8")))
    assert len(data["benefits"]) == 6


def test_evaluate_as_table() -> None:
    result = invoke("policy", "evaluate", str(PERSON_EXAMPLE), "--table")
    assert result.exit_code == 0
    assert "可享受" in result.stdout
    assert "跨省务工一次性交通补贴" in result.stdout


def test_malformed_case_names_the_field(tmp_path: Path) -> None:
    data = json.loads(PERSON_EXAMPLE.read_text(encoding="utf-8"))
    data["person"]["employment"][0]["start"] = "2024-13-01"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = invoke("policy", "evaluate", str(path))
    assert result.exit_code == 2
    assert "person.employment[0].start" in result.stderr
    assert "2024-13-01" in result.stderr
    assert result.stdout == ""


def test_wrong_type_in_case_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(case_json(employment=[{"start": "2024-03-01", "travel_cost_fen": 800.5}])))
    result = invoke("policy", "evaluate", str(path))
    assert result.exit_code == 2
    assert "person.employment[0].travel_cost_fen" in result.stderr


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "date": "2024-06-30",\n  "person": {,}\n}\n', encoding="utf-8")
    result = invoke("policy", "evaluate", str(path))
    assert result.exit_code == 2
    assert "第 3 行第 14 列" in result.stderr
    assert "broken.json" in result.stderr


def test_missing_case_file(tmp_path: Path) -> None:
    result = invoke("policy", "evaluate", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "nope.json" in result.stderr


def test_missing_case_file_with_brackets_in_name(tmp_path: Path) -> None:
    result = invoke("policy", "evaluate", str(tmp_path / "missing[draft].json"))
    assert result.exit_code == 2
    assert "missing[draft].json" in result.stderr


def test_missing_case_file_with_closing_tag_in_name(tmp_path: Path) -> None:
    result = invoke("policy", "evaluate", str(tmp_path / "missing[/draft].json"))
    assert result.exit_code == 2


def test_unknown_policy() -> None:
    result = invoke("policy", "evaluate", str(PERSON_EXAMPLE), "--policy", "no-such-policy")
    assert result.exit_code == 2
    assert "no-such-policy" in result.stderr
    assert "shanxi-2021" in result.stderr


def test_broken_policy_folder(tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    shutil.copytree(resources.files("bangfu") / "policies" / "shanxi-2021", folder)  # type: ignore[arg-type]
    path = folder / "benefits" / "04-labour-export.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("fund: revitalization", "fund: nowhere", 1))
    result = invoke("policy", "evaluate", str(PERSON_EXAMPLE), "--policy", str(folder))
    assert result.exit_code == 2
    assert "04-labour-export.yaml" in result.stderr
    assert "nowhere" in result.stderr


@pytest.fixture
def conflict_policy(tmp_path: Path) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(resources.files("bangfu") / "policies" / "shanxi-2021", folder)  # type: ignore[arg-type]
    path = folder / "benefits" / "04-labour-export.yaml"
    text = path.read_text(encoding="utf-8")
    line = "    precedence: [transport_cross_province, transport_in_province_organized]\n"
    assert line in text
    path.write_text(text.replace(line, ""), encoding="utf-8")
    return folder


def test_undeclared_conflict_exits_3(conflict_policy: Path, tmp_path: Path) -> None:
    spells = [
        {"start": "2024-01-10", "end": "2024-03-31", "work_region": "440305", "travel_cost_fen": 60000},
        {"start": "2024-04-10", "work_region": "140105", "organized_export": True, "travel_cost_fen": 20000},
    ]
    path = tmp_path / "both.json"
    path.write_text(json.dumps(case_json(employment=spells)), encoding="utf-8")
    result = invoke("policy", "evaluate", str(path), "--policy", str(conflict_policy))
    assert result.exit_code == 3
    assert "transport_once_a_year" in result.stderr
    # with the bundled policy the same case is decided by the declared precedence
    assert invoke("policy", "evaluate", str(path)).exit_code == 0


# ---------------------------------------------------------------- policy list / test


def test_policy_list_json() -> None:
    # one document named: its description (every document without --policy: tests/cli/test_policy_check.py)
    info = ok_json(invoke("policy", "list", "--json", "--policy", "shanxi-2021"))
    assert len(info["benefits"]) == 13
    assert info["valid_from"] == "2021-07-01" and info["valid_to"] == "2025-12-31"
    keys = {p["key"] for p in info["parameters"]}
    assert "transport_cross_province.cap_fen" in keys
    assert len(info["parameters"]) >= 20
    assert all(p["clause"] and p["quote"] for p in info["parameters"])
    cap = next(p for p in info["parameters"] if p["key"] == "transport_cross_province.cap_fen")
    assert cap["values"] == [{"from": "2021-07-01", "to": None, "value": 80000, "display": "800.00 元"}]
    window = next(p for p in info["parameters"] if p["key"] == "work_for_training.window_end")
    assert window["values"][0]["value"] == "2021-12-01"


def test_policy_list_table() -> None:
    result = invoke("policy", "list")
    assert result.exit_code == 0
    assert "transport_cross_province" in result.stdout
    assert "2021-07-01 至 2025-12-31" in result.stdout


def test_policy_test_passes() -> None:
    result = invoke("policy", "test")
    assert result.exit_code == 0, result.stdout
    assert "项通过" in result.stdout
    assert "0 项失败" in result.stdout


def test_policy_test_reports_failures(tmp_path: Path) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "- name: 错误的期望\n"
        "  case: {date: 2024-06-30, region: '141123', person: {categories: [poverty_alleviated],"
        " employment: [{start: 2024-03-01, work_region: '440305', travel_cost_fen: 95000}]}}\n"
        "  expect:\n    transport_cross_province: {amount_fen: 1}\n",
        encoding="utf-8",
    )
    result = invoke("policy", "test", str(path))
    assert result.exit_code == 1
    assert "失败" in result.stdout
    assert "transport_cross_province.amount_fen" in result.stdout
    assert "0 项通过，1 项失败" in result.stdout


def test_policy_test_with_no_tests_fails(tmp_path: Path) -> None:
    assert invoke("policy", "test", str(tmp_path)).exit_code == 1


# ---------------------------------------------------------------- synth / population / whatif


def test_population_json(population: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    data = ok_json(
        invoke(
            "policy",
            "population",
            "--data",
            str(population),
            "--date",
            "2024-06-30",
            "--policy",
            "shanxi-2021",
            "--json",
            "--out",
            str(out),
        )
    )
    assert data["date"] == "2024-06-30"
    assert data["backend"] == "duckdb"
    assert data["entities"] == {"person": 1200, "organization": 80}
    assert len(data["benefits"]) == 13
    cross = data["benefits"]["transport_cross_province"]
    assert cross["granted"] > 0 and cross["amount"] > 0
    assert data["by_fund_fen"]["revitalization"] == (
        cross["amount"] + data["benefits"]["transport_in_province_organized"]["amount"]
    )
    assert sum(data["by_region_fen"].values()) == sum(data["by_fund_fen"].values())
    persons = pq.read_table(out / "person_results.parquet")
    assert persons.num_rows == 1200
    assert sum(persons.column("transport_cross_province__amount_fen").to_pylist()) == cross["amount"]
    # one document: the benefits as they always were, and the same figures under its id
    (document,) = data["documents"].values()
    assert document["benefits"] == data["benefits"]
    assert document["entities"] == data["entities"]


def test_population_table(population: Path) -> None:
    result = invoke("policy", "population", "--data", str(population), "--date", "2024-06-30")
    assert result.exit_code == 0
    assert "个人 1,200 个" in result.stdout


def test_population_after_expiry_pays_only_what_happened_in_its_period(population: Path) -> None:
    data = ok_json(
        invoke(
            "policy",
            "population",
            "--data",
            str(population),
            "--date",
            "2026-01-01",
            "--policy",
            "shanxi-2021",
            "--json",
        )
    )
    benefits = data["benefits"]
    # applications made after 2025-12-31 are for no document: nothing granted, nothing paid
    for bid in ("hiring_subsidy", "employment_base_reward", "welfare_post_eligibility", "labour_export_service"):
        assert benefits[bid]["granted"] == 0 and benefits[bid]["amount"] == 0
    # trips of 2025 are still decided by the 2021 policy, as of its last day
    assert benefits["transport_cross_province"]["granted"] > 0


def test_whatif_raises_revitalization_cost(population: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "raise.yaml"
    overrides.write_text(
        "- {parameter: transport_cross_province.cap_fen, from: 2024-01-01, value: 100000, note: 提高到 1000 元}\n",
        encoding="utf-8",
    )
    data = ok_json(
        invoke(
            "policy",
            "whatif",
            "--data",
            str(population),
            "--date",
            "2024-06-30",
            "--overrides",
            str(overrides),
            "--json",
        )
    )
    by_fund = {row["key"]: row for row in data["by_fund"]}
    revitalization = by_fund["revitalization"]
    assert revitalization["difference_fen"] > 0
    assert revitalization["scenario_fen"] - revitalization["baseline_fen"] == revitalization["difference_fen"]
    assert by_fund["employment"]["difference_fen"] == 0
    assert data["by_region"]
    assert sum(r["difference_fen"] for r in data["by_region"]) == revitalization["difference_fen"]
    table = invoke("policy", "whatif", "--data", str(population), "--date", "2024-06-30", "--overrides", str(overrides))
    assert table.exit_code == 0
    assert "衔接推进乡村振兴补助资金" in table.stdout


def test_whatif_with_bad_override(population: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "bad.yaml"
    overrides.write_text("- {parameter: transport_cross_province.cap_fen, from: 2024-01-01, value: 1000.5}\n")
    result = invoke(
        "policy", "whatif", "--data", str(population), "--date", "2024-06-30", "--overrides", str(overrides)
    )
    assert result.exit_code == 2
    assert "bad.yaml[0].value" in result.stderr


@pytest.mark.parametrize("command", ["population", "whatif"])
def test_bad_date(population: Path, tmp_path: Path, command: str) -> None:
    overrides = tmp_path / "o.yaml"
    overrides.write_text("- {parameter: transport_cross_province.cap_fen, from: 2024-01-01, value: 1}\n")
    extra = ["--overrides", str(overrides)] if command == "whatif" else []
    result = invoke("policy", command, "--data", str(population), "--date", "2024-02-30", *extra)
    assert result.exit_code == 2
    assert "--date" in result.stderr
    assert "2024-02-30" in result.stderr


def test_bad_backend(population: Path) -> None:
    result = invoke("policy", "population", "--data", str(population), "--date", "2024-06-30", "--backend", "oracle")
    assert result.exit_code == 2
    assert "oracle" in result.stderr


def test_population_on_empty_dir(tmp_path: Path) -> None:
    result = invoke("policy", "population", "--data", str(tmp_path), "--date", "2024-06-30")
    assert result.exit_code == 2
    assert "persons.parquet" in result.stderr
    assert "bangfu synth" in result.stderr


def test_population_conflict_exits_3(conflict_policy: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert (
        invoke("synth", "--out", str(data), "--persons", "3000", "--organizations", "1", "--seed", "5").exit_code == 0
    )
    result = invoke(
        "policy", "population", "--data", str(data), "--date", "2024-06-30", "--policy", str(conflict_policy)
    )
    assert result.exit_code == 3, result.stderr
    assert "transport_once_a_year" in result.stderr


def test_synth_rejects_zero_persons(tmp_path: Path) -> None:
    result = invoke("synth", "--out", str(tmp_path), "--persons", "0")
    assert result.exit_code == 2
    assert not (tmp_path / "persons.parquet").exists()


# ---------------------------------------------------------------- demo and help


def test_policy_examples() -> None:
    result = invoke("policy", "examples")
    assert result.exit_code == 0
    assert "可享受" in result.stdout
    for name in ("01-person-cross-province.json", "06-organization-incubator.json"):
        assert name in result.stdout


@pytest.mark.parametrize("args", [["--help"], ["policy", "--help"]])
def test_help(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0
    assert "policy" in result.stdout or "evaluate" in result.stdout
