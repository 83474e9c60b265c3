"""The view definitions (data/catalog/views.yaml): schema, every kind of mistake refused with its
place named, and an edited file really changing what the pages and the deck show."""

import copy
import re
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from dashboard import deck, missions, navigation, store, topic, views
from dashboard.views import load_views, read_views_data, validate_views, views_from_data
from etl.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@pytest.fixture
def data():
    return copy.deepcopy(read_views_data())


def topic_of(data, topic_id):
    return next(t for t in data["topics"] if t["id"] == topic_id)


def test_shipped_views_are_valid_and_loaded_once(data):
    assert validate_views(data) == []
    shipped = load_views()
    assert load_views() is shipped is load_views(views.VIEWS_FILE)
    assert list(shipped.topics) == ["social_relief", "elderly_care", "charity", "social_work"]
    catalog = load_catalog()
    for t in shipped.topics.values():
        assert 1 <= t.cards <= len(t.indicators) and set(t.indicators) <= set(catalog.indicators)
    slides = shipped.deck.slide_ids
    assert slides[:2] == ("cover", "kpi") and slides[-2:] == ("map", "attention")
    assert shipped.overview.card_ids == (
        "dibao_urban_persons",
        "dibao_rural_persons",
        "beds_per_1000_elderly",
        "charity_funds_raised",
        "social_workers_per_10k",
    )


def test_every_topic_has_its_page_in_the_navigation():
    scripts = {script for pages in navigation.SECTIONS.values() for script, _, _ in pages}
    for topic_id, t in load_views().topics.items():
        page = f"pages/{topic_id}.py"
        assert page in scripts, page
        assert f'topic.render("{topic_id}")' in (ROOT / page).read_text(encoding="utf-8")
        titles = {script: title for script, title, _ in navigation.SECTIONS["专题"]}
        assert titles[page] == t.title


def _set(path, value):
    """A mutation that sets data[path…] = value (a path of keys and list positions)."""

    def mutate(d):
        for key in path[:-1]:
            d = d[key]
        d[path[-1]] = value

    return mutate


def charity(d):
    return topic_of(d, "charity")


@pytest.mark.parametrize(
    "mutate,expected",
    [
        # unknown indicator ids, wherever they are
        (
            lambda d: topic_of(d, "elderly_care")["indicators"].append("beds_per_1000"),
            "topics #2 (elderly_care).indicators #10: unknown indicator id 'beds_per_1000' "
            "(did you mean beds_per_1000_elderly?)",
        ),
        (
            lambda d: d["overview"]["cards"][0]["parts"].append("dibao_persons"),
            "overview.cards #1.parts #3: unknown indicator id 'dibao_persons'",
        ),
        (_set(["overview", "topic_cards", 0], "coverage"), "overview.topic_cards #1: unknown indicator id"),
        (
            _set(["overview", "map_indicators"], []),
            "overview.map_indicators: must be a list of indicator ids",
        ),
        (
            _set(["compare", "scatter_y"], "社会工作者"),
            "compare.scatter_y: unknown indicator id '社会工作者'",
        ),
        (_set(["query", "indicators"], "beds_per_1000_elderly"), "query.indicators: must be a list"),
        (
            lambda d: d["deck"]["kpi"].append("nursing_share"),
            "deck.kpi #7: unknown indicator id 'nursing_share'",
        ),
        (_set(["deck", "map"], "beds"), "deck.map: unknown indicator id 'beds'"),
        (
            lambda d: d["deck"]["attention"]["indicators"].append(None),
            "deck.attention.indicators #15: unknown indicator id None",
        ),
        (
            lambda d: charity(d)["indicators"].append("charity_organizations"),
            "topics #3 (charity).indicators #4: charity_organizations listed twice",
        ),
        # unknown (misspelt) keys and missing ones, at every level
        (lambda d: d.update(topic=[]), "views.yaml: unknown key 'topic' (did you mean 'topics'?)"),
        (
            lambda d: charity(d).update(card=3),
            "topics #3 (charity): unknown key 'card' (did you mean 'cards'?)",
        ),
        (lambda d: d["overview"]["cards"][1].update(unit="张"), "overview.cards #2: unknown key 'unit'"),
        (
            lambda d: d["deck"]["slides"][0].update(titel="封面"),
            "deck.slides #1 (cover): unknown key 'titel'",
        ),
        (lambda d: d["deck"]["attention"].update(drop_pct=5), "deck.attention: unknown key 'drop_pct'"),
        (lambda d: d["compare"].pop("scatter_x"), "compare: 'scatter_x' missing"),
        # topics
        (
            lambda d: d["topics"].append(copy.deepcopy(d["topics"][0])),
            "topics #5 (social_relief).id: duplicate topic id 'social_relief'",
        ),
        (lambda d: charity(d).update(id="Charity Page"), "topics #3 (Charity Page).id: must be a snake_case"),
        (
            lambda d: charity(d).update(cards=4),
            "topics #3 (charity).cards: must be a whole number from 1 to the number of indicators (3), not 4",
        ),
        (lambda d: charity(d).update(cards=0), "topics #3 (charity).cards: must be a whole number"),
        (lambda d: charity(d).update(cards="3"), "topics #3 (charity).cards: must be a whole number"),
        (lambda d: charity(d).update(cards=True), "topics #3 (charity).cards: must be a whole number"),
        (lambda d: charity(d).update(title=""), "topics #3 (charity).title: must be a non-empty text"),
        (
            lambda d: d["deck"]["slides"][1].update(title=None),
            "deck.slides #2 (kpi).title: must be a non-empty text",
        ),
        (_set(["topics"], []), "topics: must be a list of topics"),
        # an overview card over several indicators adds them up
        (
            lambda d: d["overview"]["cards"][0]["parts"].append("dibao_funds"),
            "overview.cards #1.parts: a card over several indicators shows their sum: "
            "they must be sum indicators of one unit",
        ),
        # slides
        (
            lambda d: d["deck"]["slides"].append({"id": "elderly-trend", "title": "养老"}),
            "deck.slides #13 (elderly-trend).id: unknown slide id 'elderly-trend' "
            "(did you mean elderly_care-trend?)",
        ),
        (
            lambda d: d["deck"]["slides"].append({"id": "chart", "title": "图"}),
            "deck.slides #13 (chart).id: unknown slide id 'chart' (known: cover, kpi, map, attention",
        ),
        (lambda d: charity(d).update(id="donations"), "deck.slides #7 (charity-trend).id: unknown slide id"),
        (
            lambda d: d["deck"]["slides"].append({"id": "kpi", "title": "核心指标"}),
            "deck.slides #13 (kpi).id: slide kpi listed twice",
        ),
        (_set(["deck", "slides"], "cover,kpi"), "deck.slides: must be a list of {id, title}"),
        # attention rules
        (
            _set(["deck", "attention", "drop_percent"], "10%"),
            "deck.attention.drop_percent: must be a percent between 0 and 100, not '10%'",
        ),
        (_set(["deck", "attention", "drop_percent"], -10), "deck.attention.drop_percent: must be a percent"),
        (_set(["deck", "attention", "drop_percent"], True), "deck.attention.drop_percent: must be a percent"),
        (
            _set(["deck", "attention", "target_check"], "yes"),
            "deck.attention.target_check: must be true or false",
        ),
    ],
)
def test_mistakes_are_refused_with_their_place(data, mutate, expected):
    mutate(data)
    problems = validate_views(data)
    assert any(expected in p for p in problems), problems
    with pytest.raises(ValueError, match=re.escape(expected)):
        views_from_data(data)


def test_every_problem_is_reported_at_once(data):
    topic_of(data, "charity").update(cards=9, card=1)
    data["deck"]["map"] = "nope"
    problems = validate_views(data)
    assert len(problems) == 3
    with pytest.raises(ValueError) as error:
        views_from_data(data)
    assert str(error.value).splitlines() == ["视图定义有误（data/catalog/views.yaml）：", *problems]


def test_an_invalid_file_fails_to_load(tmp_path):
    broken = tmp_path / "views.yaml"
    broken.write_text("topics: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match="不是有效的 YAML"):
        load_views(broken)
    broken.write_text("[]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="views must be a mapping"):
        load_views(broken)


# ---------------------------------------------------------------------------- an edited file


@pytest.fixture
def edited(monkeypatch, tmp_path, sample, data):
    """views.yaml with 养老服务 headed by two other cards, a one-card 总览, a three-slide deck and
    stricter attention rules, in place of the shipped file (VIEWS_FILE points at the copy)."""
    care = topic_of(data, "elderly_care")
    care.update(
        title="养老服务（试）",
        cards=2,
        indicators=["elderly_beds", "nursing_bed_share", "beds_per_1000_elderly", "pop_60plus"],
    )
    data["overview"]["cards"] = [{"label": "养老床位合计", "parts": ["elderly_beds", "home_care_beds"]}]
    data["deck"].update(
        kpi=["elderly_beds", "pop_60plus"],
        map="nursing_bed_share",
        slides=[
            {"id": "elderly_care-trend", "title": "养老走势"},
            {"id": "kpi", "title": "核心"},
            {"id": "attention", "title": "关注"},
        ],
        attention={"target_check": False, "drop_percent": 0.001, "indicators": ["elderly_beds"]},
    )
    path = tmp_path / "views.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(views, "VIEWS_FILE", path)
    monkeypatch.setenv("MZ_DATA_DIR", str(sample))
    return sample


def test_an_edited_file_changes_the_topic_page_and_the_overview(edited):
    assert topic.topics()["elderly_care"].card_ids == ("elderly_beds", "nursing_bed_share")
    assert [k.label for k in missions.kpis()] == ["养老床位合计"]
    names = store.indicator_names()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["to"] = "2024"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    topic_cards = [names[i] for i in load_views().overview.topic_cards]
    assert [m.label for m in at.metric] == ["养老床位合计", *topic_cards]
    at.switch_page("pages/elderly_care.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "养老服务（试）"
    assert [m.label for m in at.metric] == [names["elderly_beds"], names["nursing_bed_share"]]
    assert at.selectbox(key="pick_ind").options == [
        names[i] for i in ("elderly_beds", "nursing_bed_share", "beds_per_1000_elderly", "pop_60plus")
    ]


def test_an_edited_file_changes_the_deck(edited):
    assert deck.slide_ids() == ["elderly_care-trend", "kpi", "attention"]
    assert deck.slide_titles() == {"elderly_care-trend": "养老走势", "kpi": "核心", "attention": "关注"}
    names = store.indicator_names()
    scope = deck.Scope("610300", 2024, store.counties_of("610300"), 2016)
    trend, kpi, attention = deck.build(scope, deck.slide_ids())
    assert trend.title == f"养老服务（试）：{names['elderly_beds']}走势"  # the topic's first indicator
    assert [label for label, _, _ in kpi.numbers] == [names["elderly_beds"], names["pop_60plus"]]
    beds = store.facts(scope.children, ("elderly_beds",), 2023, 2024).pivot_table(
        index="region_name", columns="year", values="value"
    )
    fell = sorted(beds.index[beds[2024] < beds[2023] * (1 - 0.00001)])
    assert fell, "the sample should have a county whose beds fell"
    (line,) = attention.bullets  # target_check: false, one indicator checked
    head, _, listed = line.partition("：")
    assert head == f"{names['elderly_beds']}同比下降超过0.001%"
    assert sorted(item.split(" ")[0] for item in listed.split("、")) == fell
    (shown,) = deck.build(scope, ["map"])
    assert names["nursing_bed_share"] in shown.title
