"""One target check: `Target.meets` decides every 达标 / 未达标, for a floor (">=") and a ceiling
("<="), in the topic table, 区县对比's table, the ranking colours, the deck's 需要关注的事项 and
the narrative; `store.target_of` picks the target in force."""

import copy
import math
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from dashboard import charts, deck, narrative, store, theme
from etl import pipeline, warehouse
from etl.catalog import (
    TARGET_OPS,
    Target,
    catalog_from_data,
    load_catalog,
    read_catalog_data,
    target_in_force,
)
from etl.regions import load_registry
from tests.util import RecordingStorage, query

APP = str(Path(__file__).resolve().parents[1] / "app.py")
BEDS = "beds_per_1000_elderly"
CEILING = Target(value=35, op="<=", year=2025, scope="测试", source="测试规划")
FLOOR = Target(value=35, op=">=", year=2020, scope="全国", source="规划")


def target(op: str, value: float = 35) -> Target:
    return Target(value=value, op=op, year=2025, scope="测试", source="测试规划")


@pytest.mark.parametrize(
    "op,below,equal,above",
    [
        (">=", False, True, True),
        (">", False, False, True),
        ("<=", True, True, False),
        ("<", True, False, False),
    ],
)
def test_meets_for_every_op(op, below, equal, above):
    t = target(op)
    assert (t.meets(34.9), t.meets(35), t.meets(35.0), t.meets(35.1)) == (below, equal, equal, above)
    assert t.meets(35) is equal  # a real bool, not numpy's
    for missing in (None, math.nan, float("nan"), pd.NA, pd.NaT):
        assert t.meets(missing) is None


def test_every_op_is_covered_and_written():
    assert {t.op for t in map(target, TARGET_OPS)} == TARGET_OPS
    assert [(t.symbol, t.goal_words, t.miss_words) for t in map(target, (">=", "<=", ">", "<"))] == [
        ("≥", "不低于", "低于"),
        ("≤", "不高于", "高于"),
        (">", "高于", "不高于"),
        ("<", "低于", "不低于"),
    ]
    assert target(">=").label("张/千名老年人") == "目标 ≥35张/千名老年人（2025年）"
    assert Target(value=12.5, op="<=", year=None, scope="", source="").label() == "目标 ≤12.5"


def plan(value: float, year: int | None, n: int = 0) -> Target:
    return Target(value=value, op=">=", year=year, scope="全国", source=f"规划{n}")


@pytest.mark.parametrize(
    "year,chosen",
    [
        (2016, 0),  # before 十三五's end: its 2020 goal
        (2020, 0),
        (2021, 1),  # 十四五: the 2025 goal
        (2025, 1),
        (2026, 1),  # past every plan: the latest goal still stands
    ],
)
def test_the_target_in_force_is_the_plan_covering_the_year(year, chosen):
    plans = [plan(35, 2020, 0), plan(40, 2025, 1), plan(30, None, 2)]
    assert target_in_force(plans, year) is plans[chosen]


def test_undated_targets_and_ties():
    undated = plan(30, None)
    assert target_in_force([undated], 2024) is undated  # the only one
    assert target_in_force([undated, plan(35, 2020)], 2024).year == 2020  # a dated one wins
    first, second = plan(35, 2025, 1), plan(38, 2025, 2)
    assert target_in_force([first, second], 2023) is first  # same year: the first listed
    assert target_in_force([first, second], 2030) is first
    assert target_in_force([], 2024) is None


# ---------------------------------------------------------------------------- store.target_of


def _publish_with_targets(base: Path, beds_targets: list[dict]) -> None:
    data = copy.deepcopy(read_catalog_data())
    next(i for i in data["indicators"] if i["id"] == BEDS)["targets"] = beds_targets
    tables, _ = pipeline.assemble([], catalog_from_data(data), load_registry(), is_sample=False)
    warehouse.publish(base, tables, {"command": "test"})


@pytest.mark.parametrize(
    "listed,year,chosen",
    [
        ([(35, ">=", 2020), (40, ">=", 2025), (30, ">=", None)], 2024, (40, 2025)),  # 十四五 for 2024
        ([(35, ">=", 2020), (40, ">=", 2025), (30, ">=", None)], 2019, (35, 2020)),  # 十三五 for 2019
        ([(30, "<=", None), (35, ">=", 2020)], 2024, (35, 2020)),  # a dated one over an undated one
        ([(30, "<=", None)], 2024, (30, None)),  # undated, when it is the only one
        ([(35, ">=", 2025), (38, ">=", 2025)], 2024, (35, 2025)),  # same year: the first listed
    ],
)
def test_target_of_reads_the_warehouse_targets_for_the_year(monkeypatch, tmp_path, listed, year, chosen):
    _publish_with_targets(
        tmp_path,
        [
            {"value": v, "op": op, "year": y, "scope": "全国", "source": f"规划{n}"}
            for n, (v, op, y) in enumerate(listed)
        ],
    )
    monkeypatch.setenv("MZ_DATA_DIR", str(tmp_path))
    got = store.target_of(BEDS, year)
    assert isinstance(got, Target) and (got.value, got.year) == chosen
    assert got.op == next(op for v, op, y in listed if (v, y) == chosen)
    assert store.target_of("population", year) is None


# ---------------------------------------------------------------------------- a ceiling everywhere


@pytest.fixture
def ceiling(monkeypatch, sample):
    """每千名老年人养老床位数 with a ceiling of 35 instead of its floor; cached answers that hold
    the floor are forgotten before and after."""
    real = store.target_of
    monkeypatch.setattr(store, "target_of", lambda ind, year: CEILING if ind == BEDS else real(ind, year))
    monkeypatch.setenv("MZ_DATA_DIR", str(sample))
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    store.clear_caches()
    yield sample
    store.clear_caches()


def beds_2024(base: Path) -> dict[str, float]:
    """County name → 2024 value of 宝鸡's counties."""
    rows = query(
        warehouse.current_db(base),
        "SELECT r.name, f.value FROM facts f JOIN regions r ON r.code = f.region_code "
        "WHERE f.year = 2024 AND f.indicator_id = ? AND r.parent_code = '610300'",
        [BEDS],
    )
    return dict(rows)


def run(page: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_topic_table_marks_a_ceiling(ceiling):
    values = beds_2024(ceiling)
    assert any(v > 35 for v in values.values()) and any(v <= 35 for v in values.values())
    table = run("elderly_care", to="2024", view="表格").dataframe[0].value.set_index("地区")
    counties = table.loc[list(values)]
    assert counties["是否达标"].to_dict() == {n: "达标" if v <= 35 else "未达标" for n, v in values.items()}


def test_compare_table_marks_a_ceiling(ceiling):
    values = beds_2024(ceiling)
    table = run("compare", to="2024", ind=BEDS, cview="排名表").dataframe[0].value.set_index("区县")
    assert table["是否达标"].to_dict() == {n: "达标" if v <= 35 else "未达标" for n, v in values.items()}


def test_ranking_colours_and_lines_follow_the_op():
    meta = load_catalog().frame().set_index("id").loc[BEDS]
    rows = pd.DataFrame({"region_name": ["甲", "乙", "丙"], "value": [30.0, 35.0, 40.0]})
    for t, good in ((CEILING, {"甲", "乙"}), (FLOOR, {"乙", "丙"})):
        fig = charts.ranking(rows, meta, 2024, target=t)
        colours = dict(zip(fig.data[0].y, fig.data[0].marker.color))
        assert {n for n, c in colours.items() if c == theme.COLORS[0]} == good
        assert {n for n, c in colours.items() if c == theme.COLORS[1]} == {"甲", "乙", "丙"} - good
        assert [a.text for a in fig.layout.annotations] == [t.label()]
    trend = charts.trend(rows.assign(region_code="1", year=2024), meta, "0", target=CEILING)
    assert [a.text for a in trend.layout.annotations] == ["目标 ≤35张/千名老年人（2025年）"]


def test_deck_attention_says_above_a_ceiling(ceiling):
    values = beds_2024(ceiling)
    scope = deck.Scope("610300", 2024, store.counties_of("610300"), 2016)
    (slide,) = deck.build(scope, ["attention"])
    (line,) = [b for b in slide.bullets if b.startswith("每千名老年人养老床位数")]
    head, _, listed = line.partition("：")
    assert head == "每千名老年人养老床位数高于目标（35.0张）"
    assert {item.split(" ")[0] for item in listed.split("、")} == {n for n, v in values.items() if v > 35}


def test_narrative_of_a_ceiling():
    story = narrative.Story(
        name="低保资金支出",
        unit="万元",
        decimals=0,
        higher_is_better=False,
        place="宝鸡市",
        year=2024,
        series={2024: 900.0},
        counties=[("渭滨区", 800.0), ("眉县", 1200.0)],
        target=target("<=", 1000),
    )
    assert narrative.counties_sentence(story) == (
        "2个区县中，渭滨区最低（800万元），眉县最高（1,200万元）；目标不高于1,000万元，1个区县未达标：眉县。"
    )
    floor = narrative.Story(**{**story.__dict__, "target": target(">=", 1000)})
    assert narrative.counties_sentence(floor).endswith("目标不低于1,000万元，1个区县未达标：渭滨区。")


def test_cards_say_whether_the_value_meets_the_target_in_force(ceiling):
    """The beds card of 宝鸡 in 2024 names the ceiling and judges the city's own value by it."""
    city = dict(
        query(
            warehouse.current_db(ceiling),
            "SELECT year, value FROM facts WHERE region_code = '610300' AND indicator_id = ?",
            [BEDS],
        )
    )[2024]
    at = run("elderly_care", to="2024")
    expected = f"目标 ≤35张（2025年）：{'达标' if city <= 35 else '未达标'}；区县最高："
    assert any(c.value.startswith(expected) for c in at.caption), [c.value for c in at.caption]
    # only the cards with a target (beds, nursing-bed share), not 养老床位数 or 养老机构数
    assert sum("目标" in c.value for c in at.caption) == 2
