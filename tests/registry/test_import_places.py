from __future__ import annotations

import pytest

from bangfu.registry.imports.places import shanxi_county, work_region


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("140105", "140105"),
        ("１４０１０５", "140105"),
        (" 140105 ", "140105"),
        ("140105000000", "140105"),  # 12-digit statistical code
        ("小店区", "140105"),
        ("小店", "140105"),
        ("太原市小店区", "140105"),
        ("山西省太原市小店区", "140105"),
        ("阳泉市城区", "140302"),
        ("阳泉城区", "140302"),
        ("晋城市城区", "140502"),
        ("平遥县", "140728"),
        ("盂县", "140322"),
    ],
)
def test_shanxi_county_codes_and_names(text: str, code: str) -> None:
    assert shanxi_county(text) == code


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("城区", "有多个同名的县（区）：阳泉市城区（140302）、晋城市城区（140502）"),
        ("110105", "不在山西省（属于北京市）"),
        ("北京市朝阳区", "不在山西省"),
        ("陕西省西安市", "不在山西省"),
        ("太原市", "是省或市，不是县"),
        ("山西省", "是省或市，不是县"),
        ("140100", "不是山西省的县级行政区划代码"),
        ("140199", "不是山西省的县级行政区划代码"),
        ("1401", "应为 6 位行政区划代码"),
        ("140171", "统计用区域"),
        ("不存在县", "不是山西省的县（区、市）名称"),
        ("", "为空"),
    ],
)
def test_refused_places_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        shanxi_county(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("江苏省", "32"),
        ("江苏省苏州市昆山市", "32"),
        ("北京", "11"),
        ("内蒙古", "15"),
        ("440305", "440305"),
        ("太原市", "1401"),
        ("山西省", "14"),
        ("太原市小店区", "140105"),
        ("平遥", "140728"),
    ],
)
def test_work_region(text: str, code: str) -> None:
    assert work_region(text) == code


@pytest.mark.parametrize("text", ["省外", "990000", "山西省不存在县"])
def test_work_region_refuses_what_it_cannot_place(text: str) -> None:
    with pytest.raises(ValueError, match="务工地"):
        work_region(text)
