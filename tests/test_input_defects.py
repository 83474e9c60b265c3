"""Wrong numbers never get in silently (issue 15): each defect found by trying the load path as a
careless or hostile clerk would is refused with exit code 1 and a Chinese message naming file,
row and column, the warehouse left byte for byte as it was — or, where the file is right after
all, loaded with exactly the values it prints."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from etl.cli import main
from etl.warehouse import current_db
from tests.util import query, write_long_csv, xlsx


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (the warehouse and raw/), by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def load(data: Path, *files: Path) -> int:
    return main(["load", *map(str, files), "--data-dir", str(data)])


def refused(data: Path, capsys, *files: Path) -> str:
    """Load `files`, assert the refusal left every file of the data dir as it was; the output."""
    capsys.readouterr()
    before = tree_digest(data)
    assert load(data, *files) == 1
    assert tree_digest(data) == before
    out = capsys.readouterr().out
    assert "数据仓库未作任何改动" in out
    return out


def facts(data: Path, where: str) -> list[tuple]:
    return query(
        current_db(data),
        f"SELECT region_code, year, indicator_id, value FROM facts WHERE {where} ORDER BY 1, 2, 3",
    )


# ---------------------------------------------------------------- units
@pytest.mark.parametrize(
    "text",
    [
        # a blank unit cell
        "地区,区划代码,年份,指标,数值（万人）,单位\n眉县,610326,2024,城市低保人数,1.2,\n",
        # unit in the indicator header
        "地区,区划代码,年份,指标（万人）,数值\n眉县,610326,2024,城市低保人数,1.2\n",
        "宝鸡市各县城市低保人数（单位：万人）\n地区,区划代码,年份,指标,数值,单位\n眉县,610326,2024,城市低保人数,1.2,\n",
    ],
)
def test_a_unit_written_in_a_header_or_title_is_never_erased_by_a_blank_cell(served, tmp_path, text):
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    assert load(served, path) == 0
    assert facts(served, "year = 2024") == [("610326", 2024, "dibao_urban_persons", 12000.0)]


def test_two_units_that_disagree_are_an_error_naming_both(served, tmp_path, capsys):
    path = tmp_path / "conflict.csv"
    path.write_text(
        "地区,区划代码,年份,指标,数值（万人）,单位\n眉县,610326,2024,城市低保人数,1.2,人\n", encoding="utf-8"
    )
    out = refused(served, capsys, path)
    assert "文件 conflict.csv，第2行，E列" in out
    assert "单位前后不一致" in out and "“人”" in out and "“万人”" in out


def test_a_title_unit_that_disagrees_with_the_value_header_is_an_error(served, tmp_path, capsys):
    path = tmp_path / "title.csv"
    path.write_text(
        "城市低保人数（单位：人）\n地区,区划代码,年份,指标,数值（万人）\n眉县,610326,2024,城市低保人数,1.2\n",
        encoding="utf-8",
    )
    out = refused(served, capsys, path)
    assert "文件 title.csv，第2行，E列" in out and "单位前后不一致" in out


# ---------------------------------------------------------------- identity
def test_a_name_and_a_code_that_disagree_are_an_error_naming_both_places(served, tmp_path, capsys):
    path = write_long_csv(tmp_path / "mismatch.csv", "眉县,350102,2024,城市低保人数,300,人\n")
    out = refused(served, capsys, path)
    assert "文件 mismatch.csv，第2行，E列" in out
    assert "“眉县”（宝鸡市眉县，610326）" in out and "“350102”（福州市鼓楼区）" in out


def test_same_name_districts_follow_the_files_other_rows(served, tmp_path):
    path = write_long_csv(
        tmp_path / "南京.csv",
        "".join(
            f"{name},,2024,城市低保人数,{n},人\n"
            for n, name in enumerate(["玄武区", "秦淮区", "建邺区", "鼓楼区"], 1)
        ),
    )
    assert load(served, path) == 0
    assert facts(served, "region_code LIKE '3201%' AND year = 2024") == [
        ("320102", 2024, "dibao_urban_persons", 1.0),
        ("320104", 2024, "dibao_urban_persons", 2.0),
        ("320105", 2024, "dibao_urban_persons", 3.0),
        ("320106", 2024, "dibao_urban_persons", 4.0),
    ]
    assert facts(served, "region_code = '350102'") == []


def test_a_same_name_district_alone_is_an_ambiguity_listing_the_cities(served, tmp_path, capsys):
    out = refused(served, capsys, write_long_csv(tmp_path / "gulou.csv", "鼓楼区,,2024,城市低保人数,5,人\n"))
    assert "文件 gulou.csv，第2行，E列" in out and "有重名" in out
    assert all(
        place in out
        for place in ("福州市鼓楼区（350102）", "南京市鼓楼区（320106）", "开封市鼓楼区（410204）")
    )
    assert "福州市福州市" not in out


def test_a_province_total_row_in_a_table_of_its_cities_is_the_province(served, tmp_path):
    """福建统计年鉴 2020 表21-19 (2019): 全省 6.19 万人 above 福州市 0.71 万人 and the other cities."""
    rows = [("全  省", 6.19), ("福州市", 0.71), ("厦门市", 0.11), ("莆田市", 0.36)]
    path = tmp_path / "fujian.csv"
    path.write_text(
        "地区,年份,指标,数值（万人）\n"
        + "".join(f"{r},2019,城镇居民最低生活保障人数,{v}\n" for r, v in rows),
        encoding="utf-8",
    )
    assert load(served, path) == 0
    assert facts(served, "year = 2019 AND region_code IN ('350000', '350100', '350200', '350300')") == [
        ("350000", 2019, "dibao_urban_persons", 61900.0),
        ("350100", 2019, "dibao_urban_persons", 7100.0),
        ("350200", 2019, "dibao_urban_persons", 1100.0),
        ("350300", 2019, "dibao_urban_persons", 3600.0),
    ]


def test_a_total_row_no_single_parent_fits_is_skipped_with_a_warning(served, tmp_path, capsys):
    path = write_long_csv(
        tmp_path / "mixed.csv",
        "眉县,,2024,城市低保人数,5,人\n福州市,,2024,城市低保人数,7,人\n合计,,2024,城市低保人数,12,人\n",
    )
    capsys.readouterr()
    assert load(served, path) == 0
    out = capsys.readouterr().out
    assert "文件 mixed.csv，第4行，E列" in out and "合计行“合计”已跳过1个数据" in out
    assert facts(served, "year = 2024") == [
        ("350100", 2024, "dibao_urban_persons", 7.0),
        ("610326", 2024, "dibao_urban_persons", 5.0),
    ]


# ---------------------------------------------------------------- derived values
def test_a_ratio_from_absurd_parts_is_refused_naming_the_parts(served, tmp_path, capsys):
    path = write_long_csv(
        tmp_path / "absurd.csv",
        "眉县,610326,2024,60岁及以上人口,1e-300,人\n眉县,610326,2024,养老床位数,100,张\n",
    )
    out = refused(served, capsys, path)
    assert "每千名老年人养老床位数" in out and "超出合理范围" in out
    assert "养老床位数 100张" in out and "1e-300人" in out and "文件 absurd.csv" in out


# ---------------------------------------------------------------- the region the user chose
def test_a_region_chosen_on_load_places_a_table_that_names_none_and_later_builds_keep_it(
    served, tmp_path, capsys
):
    """A city's series without its name in the title ("主要民政指标"), loaded with --region 三明市;
    the choice travels with the file in raw/, so a rebuild reads it the same way."""
    path = xlsx(
        tmp_path / "series.xlsx",
        {"指标": [["主要民政指标"], ["项目", "2021年", "2022年"], ["养老床位数（张）", 17050, 17800]]},
    )
    out = refused(served, capsys, path)
    assert "没有写明地区" in out and "导入时选择表格所属地区" in out
    assert main(["load", str(path), "--region", "三明市", "--data-dir", str(served)]) == 0
    expected = [("350400", 2021, "elderly_beds", 17050.0), ("350400", 2022, "elderly_beds", 17800.0)]
    assert facts(served, "region_code = '350400'") == expected
    assert len(list((served / "raw").glob("*@350400_series.xlsx"))) == 1
    assert main(["build", "--data-dir", str(served)]) == 0
    assert facts(served, "region_code = '350400'") == expected


def test_a_region_chosen_on_load_decides_a_same_name_district(served, tmp_path):
    path = write_long_csv(tmp_path / "gulou.csv", "鼓楼区,,2024,城市低保人数,5,人\n")
    assert main(["load", str(path), "--region", "320100", "--data-dir", str(served)]) == 0
    assert facts(served, "year = 2024") == [("320106", 2024, "dibao_urban_persons", 5.0)]


@pytest.mark.parametrize("region,message", [("鼓楼区", "有重名"), ("火星市", "不是可识别的地区")])
def test_a_region_that_names_no_single_place_is_refused_before_reading(
    served, tmp_path, capsys, region, message
):
    path = write_long_csv(tmp_path / "x.csv", "眉县,,2024,城市低保人数,5,人\n")
    before = tree_digest(served)
    with pytest.raises(SystemExit) as exit_:
        main(["load", str(path), "--region", region, "--data-dir", str(served)])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert tree_digest(served) == before
