"""文字解读: known data in, exact Chinese sentences out."""

from dashboard.narrative import Story, sentences, text
from etl.catalog import Target

BEDS = dict(
    name="每千名老年人养老床位数", unit="张", decimals=1, higher_is_better=True, place="宝鸡市", year=2024
)
FLOOR = Target(value=35, op=">=", year=2020, scope="全国", source="规划")


def test_increase_with_a_run_counties_and_target():
    story = Story(
        **BEDS,
        series={2020: 30.0, 2021: 31.5, 2022: 33.0, 2023: 34.0, 2024: 36.0},
        counties=[("渭滨区", 38.2), ("眉县", 33.1), ("凤县", 40.5)],
        target=FLOOR,
    )
    assert sentences(story) == [
        "2024年宝鸡市每千名老年人养老床位数为36.0张，比上年增加2.0张（+5.9%），已连续4年上升。",
        "3个区县中，凤县最高（40.5张），眉县最低（33.1张）；目标不低于35.0张，1个区县未达标：眉县。",
    ]


def test_decrease_counts_in_wan():
    story = Story(
        name="低保人数",
        unit="人",
        decimals=0,
        higher_is_better=None,
        place="福州市",
        year=2023,
        series={2022: 64_000.0, 2023: 59_400.0},
    )
    assert text(story) == "2023年福州市低保人数为5.94万人，比上年减少4,600人（-7.2%）。"


def test_no_change_and_all_counties_meet_target():
    story = Story(
        **BEDS, series={2023: 36.0, 2024: 36.01}, counties=[("渭滨区", 38.2), ("眉县", 35.0)], target=FLOOR
    )
    assert sentences(story) == [
        "2024年宝鸡市每千名老年人养老床位数为36.0张，与上年持平。",
        "2个区县中，渭滨区最高（38.2张），眉县最低（35.0张）；目标不低于35.0张，各区县均已达标。",
    ]


def test_missing_data_and_sample_caveat():
    story = Story(
        **BEDS, series={2023: 34.0}, counties=[("渭滨区", 38.2)], missing=["眉县", "凤县"], sample=True
    )
    assert sentences(story) == [
        "2024年宝鸡市暂无每千名老年人养老床位数数据。",
        "仅有渭滨区的区县数据（38.2张）。",
        "注：眉县、凤县缺少2024年数据，全市合计仅在所有区县都有数据时计算；以上为示例数据，并非真实统计。",
    ]


def test_single_county_without_last_year():
    story = Story(**{**BEDS, "place": "眉县"}, series={2024: 33.1}, counties=[("眉县", 33.1)], target=FLOOR)
    assert text(story) == (
        "2024年眉县每千名老年人养老床位数为33.1张，上年无可比数据。"
        "仅有眉县的区县数据（33.1张）；目标不低于35.0张，1个区县未达标：眉县。"
    )


def test_lower_is_better_ranks_lowest_first_and_money_in_yi():
    story = Story(
        name="低保资金支出",
        unit="万元",
        decimals=1,
        higher_is_better=False,
        place="宝鸡市",
        year=2024,
        series={2022: 60_000.0, 2023: 58_000.0, 2024: 57_300.0},
        counties=[("渭滨区", 5_200.0), ("眉县", 3_100.0)],
    )
    assert sentences(story) == [
        "2024年宝鸡市低保资金支出为5.73亿元，比上年减少700.0万元（-1.2%）。",
        "2个区县中，眉县最低（3,100万元），渭滨区最高（5,200万元）。",
    ]


def test_published_figure_is_cited_with_agreement_or_difference():
    doc = "李峰科在2020年全市民政工作会议上的讲话"
    base = dict(name="养老床位数", unit="张", decimals=0, higher_is_better=True, place="宝鸡市", year=2019)
    agree = Story(**base, series={2019: 23040.0}, published=[(2019, 23000.0, "2.3万张", doc, 500.0)])
    assert f"2019年数值与{doc}公布的2.3万张一致。" in text(agree)
    differ = Story(**base, series={2019: 25000.0}, published=[(2019, 23000.0, "2.3万张", doc, 500.0)])
    assert f"2019年数值2.50万张，与{doc}公布的2.3万张相差+8.7%。" in text(differ)
    missing = Story(**base, series={2020: 25000.0}, published=[(2019, 23000.0, "2.3万张", doc, 500.0)])
    assert "本库暂无该年数据" in text(missing)
