"""``bangfu policy check DIR``: a programme package checked as files, alone and with the bundled documents;
``policy test`` and ``policy list`` over every bundled document."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bangfu.cli import app

TRANSPORT = "benefits/transport.yaml"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def check(folder: Path) -> Result:
    return invoke("policy", "check", str(folder))


@pytest.fixture
def linyi(policy_copy: Callable[..., Path]) -> Callable[..., Path]:
    """A copy of the 临猗县 package with text edits: ``linyi({file: [(old, new), …]})``."""

    def make(edits: dict[str, list[tuple[str, str]]] | None = None) -> Path:
        return policy_copy(edits, source="linyi-2024")

    return make


def test_a_sound_package_passes_with_a_summary(linyi: Callable[..., Path]) -> None:
    result = check(linyi())
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "政策包检查通过：linyi-2024《临猗县 2024 年脱贫劳动力外出务工交通补贴》" in out
    assert "层级：县级；地区：临猗县（140821）" in out
    assert "执行期：2024-01-01 至 2024-12-31" in out
    assert "政策项目：1 项（临猗县外出务工交通补贴）" in out
    assert "跨文件排除：one_transport_subsidy_a_year" in out
    assert "规则测试：22 项通过" in out
    assert "与内置政策一并检查：shanxi-2021、shanxi-2026（替换内置的同编号政策 linyi-2024）" in out


def test_the_placeholder_continuation_passes_and_says_so() -> None:
    result = invoke("policy", "check", "src/bangfu/policies/shanxi-2026")
    assert result.exit_code == 0, result.stderr
    assert "暂定：本文件的全部取值均为暂定" in result.stdout and "替代：shanxi-2021（执行期不重叠）" in result.stdout


def refused(result: Result, *phrases: str) -> None:
    assert result.exit_code == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert message.startswith("错误：政策包检查未通过："), message
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


def test_a_rule_reading_an_unknown_parameter_is_refused(linyi: Callable[..., Path]) -> None:
    folder = linyi(
        {TRANSPORT: [("else param('linyi_transport.outside_county_fen')", "else param('linyi_transport.abroad_fen')")]}
    )
    refused(check(folder), f"{folder}/{TRANSPORT}", "linyi_transport_subsidy.amount", "linyi_transport.abroad_fen")


def test_a_parameter_no_rule_reads_is_refused(linyi: Callable[..., Path]) -> None:
    last = "    - {from: 2024-01-01, to: 2024-12-31, value: 30000}"
    extra = (
        "\nlinyi_transport.abroad_fen:\n  label: 境外务工交通补贴标准\n  unit: fen\n"
        "  reference: {clause: 补贴标准（摘要）, quote: 摘要}\n  values: [{from: 2024-01-01, value: 200000}]\n"
    )
    folder = linyi({"parameters/transport.yaml": [(last, last + extra)]})
    refused(check(folder), f"{folder}/parameters", "linyi_transport.abroad_fen", "没有任何规则读取该参数")


def test_a_rule_reading_an_undeclared_fact_is_refused(linyi: Callable[..., Path]) -> None:
    folder = linyi({TRANSPORT: [("county(hukou_region) == '140821'", "hukou_county == '140821'")]})
    refused(
        check(folder), f"{folder}/{TRANSPORT}", "linyi_transport_subsidy.conditions[1].when", "未知的事实 hukou_county"
    )


def test_an_unknown_key_is_refused(linyi: Callable[..., Path]) -> None:
    folder = linyi({"policy.yaml": [("level: county", "level: county\nlevl: city")]})
    refused(check(folder), f"{folder}/policy.yaml", "未知的键 levl")


def test_overlapping_versions_of_one_document_are_refused(linyi: Callable[..., Path]) -> None:
    folder = linyi(
        {
            "policy.yaml": [
                ("id: linyi-2024", "id: linyi-2025\nreplaces: linyi-2024"),
                ("from: 2024-01-01\n  to: 2024-12-31", "from: 2024-07-01\n  to: 2025-12-31"),
            ]
        }
    )
    refused(
        check(folder),
        f"{folder}/policy.yaml: replaces",
        "执行期 2024-07-01 至 2025-12-31 与被替代的 linyi-2024（2024-01-01 至 2024-12-31）重叠",
    )


def test_a_next_version_that_starts_after_the_old_one_passes(linyi: Callable[..., Path]) -> None:
    folder = linyi(
        {
            "policy.yaml": [
                ("id: linyi-2024", "id: linyi-2025\nreplaces: linyi-2024"),
                ("from: 2024-01-01\n  to: 2024-12-31", "from: 2025-01-01\n  to: 2025-12-31"),
            ]
        }
    )
    # its values and tests are still those of 2024: the tests fail, which is the next thing it reports
    result = check(folder)
    assert result.exit_code == 1 and "规则测试" in result.stderr


def test_an_exclusion_naming_a_missing_document_is_refused(linyi: Callable[..., Path]) -> None:
    folder = linyi({TRANSPORT: [("- shanxi-2026:transport_cross_province", "- shanxi-2027:transport_cross_province")]})
    refused(check(folder), f"{folder}/{TRANSPORT}: cross_exclusions[0].members", "没有编号为 shanxi-2027 的政策")


def test_an_exclusion_naming_a_missing_benefit_is_refused(linyi: Callable[..., Path]) -> None:
    folder = linyi({TRANSPORT: [("- shanxi-2021:transport_cross_province", "- shanxi-2021:transport_abroad")]})
    refused(
        check(folder),
        f"{folder}/{TRANSPORT}: cross_exclusions[0].members",
        "政策 shanxi-2021 没有项目 transport_abroad",
    )
    own = linyi({TRANSPORT: [("- linyi-2024:linyi_transport_subsidy", "- linyi-2024:linyi_subsidy")]})
    refused(check(own), f"{own}/{TRANSPORT}: cross_exclusions[0].members", "本政策没有项目 linyi_subsidy")


def test_failing_rule_tests_fail_the_check(linyi: Callable[..., Path]) -> None:
    folder = linyi({"tests/transport.yaml": [("amount_fen: 60000}", "amount_fen: 80000}")]})
    result = check(folder)
    assert result.exit_code == 1
    assert "规则测试失败 transport.yaml#3" in result.stderr and "期望 80000，实为 60000" in result.stderr
    assert "规则测试 21 项通过，1 项失败" in " ".join(result.stderr.split())


def test_a_package_without_tests_or_policy_yaml_is_refused(linyi: Callable[..., Path], tmp_path: Path) -> None:
    folder = linyi()
    for test_file in (folder / "tests").iterdir():
        test_file.unlink()
    result = check(folder)
    assert result.exit_code == 1 and "没有规则测试" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = check(empty)
    assert result.exit_code == 2 and "找不到 policy.yaml" in result.stderr


# ---------------------------------------------------------------- policy test / list over every document


def test_policy_test_runs_every_bundled_document() -> None:
    result = invoke("policy", "test")
    assert result.exit_code == 0, result.stdout
    for line in ("shanxi-2021：", "shanxi-2026：14 项通过，0 项失败", "linyi-2024：22 项通过，0 项失败"):
        assert line in result.stdout
    narrowed = invoke("policy", "test", "--policy", "linyi-2024")
    assert narrowed.exit_code == 0 and narrowed.stdout.strip() == "规则测试：22 项通过，0 项失败"


def test_policy_test_of_a_folder(linyi: Callable[..., Path]) -> None:
    folder = linyi({"tests/transport.yaml": [("amount_fen: 60000}", "amount_fen: 80000}")]})
    result = invoke("policy", "test", "--policy", str(folder))
    assert result.exit_code == 1 and "规则测试：21 项通过，1 项失败" in result.stdout


def test_policy_list_shows_every_document() -> None:
    result = invoke("policy", "list")
    assert result.exit_code == 0
    out = result.stdout
    for phrase in ("linyi-2024", "县级", "临猗县（140821）", "2024-01-01 至 2024-12-31", "2026-01-01 至 长期"):
        assert phrase in out
    assert "暂定：本文件的全部取值均为暂定" in out
    info = json.loads(invoke("policy", "list", "--json").stdout)
    documents = {d["id"]: d for d in info["documents"]}
    assert list(documents) == ["shanxi-2021", "shanxi-2026", "linyi-2024"]
    assert (documents["linyi-2024"]["level"], documents["linyi-2024"]["region"]) == ("county", "140821")
    assert documents["shanxi-2026"]["placeholder"] and documents["shanxi-2026"]["replaces"] == "shanxi-2021"
    assert documents["shanxi-2021"]["placeholder"] is None
    assert documents["linyi-2024"]["cross_exclusions"][0]["members"][0] == "linyi-2024:linyi_transport_subsidy"
