"""Published figures: loaded whole, mapped to catalog indicators with exact unit conversion,
unmapped rows kept, and reconciled against warehouse values with the right status."""

import pandas as pd
import pytest

from etl import pipeline, warehouse
from etl.catalog import load_catalog
from etl.published import COLUMNS, PUBLISHED_DIR, load_published, reconcile
from etl.regions import load_registry
from tests.util import query, write_long_csv


@pytest.fixture(scope="module")
def published():
    return load_published(load_catalog(), load_registry())


def row(published, region, year, indicator_zh):
    found = published[
        (published["region_code"] == region)
        & (published["year"] == year)
        & (published["indicator_zh"] == indicator_zh)
    ]
    assert len(found) == 1, found
    return found.iloc[0]


def test_every_row_is_kept_with_its_source(published):
    seed = pd.read_csv(PUBLISHED_DIR / "seed_facts.csv", dtype=str)
    research = pd.read_csv(PUBLISHED_DIR / "research_facts.csv", dtype=str)
    assert len(published) == len(seed) + len(research)
    assert list(published.columns) == COLUMNS
    assert published["quote"].str.len().min() > 0 and published["document"].str.len().min() > 0


@pytest.mark.parametrize(
    "region, year, indicator_zh, indicator_id, value, tolerance",
    [
        ("610300", 2019, "养老床位数", "elderly_beds", 23000, 500),  # 2.3万张
        ("610300", 2019, "每千名老年人养老床位", "beds_per_1000_elderly", 36, 0.5),  # 36‰
        ("350100", 2023, "持证社会工作者人数", "certified_social_workers", 9151, 0.5),
        ("350100", 2023, "每万人持证社工数", "social_workers_per_10k", 10.9, 0.05),
        ("350100", 2023, "低保边缘家庭保障人数", "near_dibao_persons", 12400, 50),  # 1.24万人
    ],
)
def test_seed_figures_map_with_exact_units(
    published, region, year, indicator_zh, indicator_id, value, tolerance
):
    r = row(published, region, year, indicator_zh)
    assert (r["indicator_id"], r["value"], r["tolerance"], r["mapping_note"]) == (
        indicator_id,
        value,
        tolerance,
        "",
    )


def test_unmapped_rows_are_kept_and_say_why(published):
    unmapped = published[published["value"].isna()]
    assert len(unmapped) > 50 and (unmapped["mapping_note"] != "").all()
    assert "康养中心项目总投资" in set(unmapped["indicator_zh"])
    assert row(published, "610300", 2023, "康养中心项目总投资")["mapping_note"] == "指标目录中没有对应指标"


def test_periods_are_kept(published):
    assert row(published, "350100", 2023, "临时救助资金")["period"] == "ytd"
    national = published[
        (published["region_name"] == "全国") & published["indicator_zh"].str.contains("截至2021年3月")
    ]
    assert set(national["period"]) == {"part_year"}


def test_reconcile_statuses(published):
    beds, rate = (
        row(published, "610300", 2019, "养老床位数"),
        row(published, "610300", 2019, "每千名老年人养老床位"),
    )
    workers, funds = (
        row(published, "350100", 2023, "持证社会工作者人数"),
        row(published, "350100", 2023, "临时救助资金"),
    )
    facts = pd.DataFrame(
        [
            ["610300", 2019, "elderly_beds", 23040.0],  # 2.3万 written: 22,500–23,500 → 一致
            ["610300", 2019, "beds_per_1000_elderly", 38.2],  # a real deviation
            ["350100", 2023, "temp_relief_funds", 4000.0],  # a ytd figure against a year total
        ],
        columns=["region_code", "year", "indicator_id", "value"],
    )
    out = reconcile(pd.DataFrame([beds, rate, workers, funds]), facts).set_index("indicator_zh")
    assert out.loc["养老床位数", "status"] == "一致" and out.loc["养老床位数", "difference"] == 40
    assert out.loc["每千名老年人养老床位", "status"] == "偏差"
    assert out.loc["每千名老年人养老床位", "pct"] == pytest.approx(6.111, abs=1e-3)
    assert out.loc["持证社会工作者人数", "status"] == "无对应数据"
    assert out.loc["临时救助资金", "status"] == "口径不同"


def test_build_puts_published_figures_in_their_own_table(tmp_path):
    base = tmp_path / "data"
    outcome = pipeline.load(
        base, [write_long_csv(tmp_path / "a.csv", "眉县,610326,2023,城市低保人数,300,人\n")]
    )
    assert outcome.ok
    db = warehouse.current_db(base)
    (n,) = query(db, "SELECT count(*) FROM published")[0]
    assert n == len(load_published(load_catalog(), load_registry()))
    assert query(
        db,
        "SELECT value FROM published WHERE region_code = '610300' AND year = 2019 "
        "AND indicator_id = 'elderly_beds'",
    ) == [(23000.0,)]
    assert query(db, "SELECT count(*) FROM facts WHERE year = 2019") == [(0,)]  # never mixed into facts
