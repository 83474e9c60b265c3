"""示例数据: the generated files go through all four readers into the warehouse unchanged,
and the city totals equal the figures the bureaus published, read from data/published/."""

import duckdb
import pandas as pd
import pytest

from etl import pipeline, published, warehouse
from etl.catalog import load_catalog
from etl.paths import sample_dir
from etl.regions import load_registry
from etl.sample import CITIES, RATIO_ANCHORS, Published, generate, sample_truth


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("sample")
    outcome = pipeline.build(base)
    assert outcome.ok, [i.as_text() for i in outcome.issues.errors[:5]]
    con = duckdb.connect(str(warehouse.current_db(base)), read_only=True)
    yield base, outcome, con
    con.close()


def city_value(con, city, year, ind):
    row = con.execute(
        "SELECT value, origin FROM facts WHERE region_code=? AND year=? AND indicator_id=?", [city, year, ind]
    ).fetchone()
    return row


def test_files_in_all_four_shapes(built):
    base, _, _ = built
    names = sorted(p.name for p in sample_dir(base).iterdir())
    for shape in ("长表.csv", "统计年鉴表.xlsx", "民政统计季报.xlsx", "填报模板.xlsx"):
        assert sum(n.endswith(shape) for n in names) >= len(CITIES), shape
    assert all(n.startswith("示例数据_") for n in names)
    baoji = next(sample_dir(base).glob("*宝鸡市_长表.csv")).read_bytes()
    baoji.decode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        baoji.decode("utf-8")
    assert next(sample_dir(base).glob("*福州市_长表.csv")).read_bytes().startswith(b"\xef\xbb\xbf")


def test_every_county_value_survives_the_readers(built):
    _, _, con = built
    got = con.execute(
        "SELECT region_code, year, indicator_id, value FROM facts WHERE origin='reported' "
        "AND region_code IN (SELECT code FROM regions WHERE level='county')"
    ).df()
    truth = sample_truth()
    merged = truth.merge(
        got,
        on=["region_code", "year", "indicator_id"],
        how="outer",
        indicator=True,
        suffixes=("_truth", "_got"),
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["value_truth"] == merged["value_got"]).all()


def test_sample_is_flagged_and_traced(built):
    _, outcome, con = built
    assert outcome.is_sample
    assert con.execute("SELECT value FROM meta WHERE key='is_sample'").fetchone() == ("true",)
    assert con.execute("SELECT bool_and(is_sample) FROM facts").fetchone() == (True,)
    missing = con.execute(
        "SELECT count(*) FROM facts f LEFT JOIN lineage l USING (region_code, year, indicator_id) "
        "WHERE f.origin='reported' AND l.file_sha256 IS NULL"
    ).fetchone()[0]
    assert missing == 0


def test_published_city_figures(built):
    _, _, con = built
    assert city_value(con, "610300", 2019, "elderly_beds")[0] == 23000  # 2.3万张
    assert round(city_value(con, "610300", 2019, "beds_per_1000_elderly")[0]) == 36  # 36‰
    assert city_value(con, "610300", 2019, "temp_relief_cases")[0] == 41700  # 4.17万人次
    assert city_value(con, "610300", 2019, "temp_relief_funds")[0] == 2844
    assert city_value(con, "610300", 2019, "vagrant_relief_cases")[0] == 9085
    assert city_value(con, "610300", 2019, "marriage_registrations")[0] == 23000
    assert city_value(con, "610300", 2020, "population")[0] == 3321853  # 七普
    assert city_value(con, "350100", 2020, "population")[0] == 8291268
    assert city_value(con, "350102", 2020, "population")[0] == 669090  # 鼓楼区 七普
    assert city_value(con, "610305", 2020, "population")[0] == 386156  # 凤翔区 七普
    assert city_value(con, "350100", 2023, "certified_social_workers")[0] == 9151
    assert round(city_value(con, "350100", 2023, "social_workers_per_10k")[0], 1) == 10.9
    assert city_value(con, "350100", 2023, "elderly_care_institutions")[0] == 167
    assert city_value(con, "350100", 2023, "elderly_canteens")[0] == 528
    assert round(city_value(con, "659000", 2020, "beds_per_1000_elderly")[0], 1) == 36.8
    mawei = con.execute(
        "SELECT value FROM facts WHERE region_code='350105' AND year=2019 "
        "AND indicator_id='dibao_rural_persons'"
    ).fetchone()[0]
    assert mawei == 1100  # 福建统计年鉴2020: 0.11万人


def test_every_city_year_complete(built):
    _, _, con = built
    n = con.execute("SELECT count(*) FROM indicators").fetchone()[0]
    per_city = con.execute(
        "SELECT region_code, year, count(*) FROM facts WHERE region_code IN (?, ?, ?) GROUP BY ALL",
        list(CITIES),
    ).fetchall()
    assert len(per_city) == len(CITIES) * 10
    assert all(count == n for _, _, count in per_city)


def test_generator_is_deterministic(tmp_path):
    first = generate(tmp_path / "a")
    second = generate(tmp_path / "b")
    for a, b in zip(first, second):
        if a.suffix == ".csv":
            assert a.read_bytes() == b.read_bytes()
    pd.testing.assert_frame_equal(sample_truth(), sample_truth())


def totals(truth, registry):
    """Sample values summed by city as well as by county: (region, year, indicator) → value."""
    by_county = truth.set_index(["region_code", "year", "indicator_id"])["value"]
    by_city = (
        truth.assign(region_code=truth["region_code"].map(registry.city_of))
        .groupby(["region_code", "year", "indicator_id"])["value"]
        .sum()
    )
    return pd.concat([by_county, by_city])


def test_totals_equal_every_published_anchor():
    catalog, registry = load_catalog(), load_registry()
    got = totals(sample_truth(catalog, registry), registry)
    anchors = Published(catalog, registry).anchors(registry)
    assert len(anchors) > 40
    assert {key: got[key] for key in anchors} == anchors
    for city, year, ind_id in RATIO_ANCHORS:
        ratio = catalog.get(ind_id)
        value = got[(city, year, ratio.numerator[0])] / got[(city, year, ratio.denominator[0])] * ratio.scale
        assert round(value, 1) == Published(catalog, registry).figure(city, year, ind_id)


def published_copy(tmp_path, monkeypatch, edits):
    """data/published copied to tmp_path with `edits` ({(file, region name, year, label as written):
    value or None to drop the row}) applied, and read instead of the real one."""
    folder = tmp_path / "published"
    folder.mkdir()
    for name in ("seed_facts.csv", "research_facts.csv"):
        df = pd.read_csv(published.PUBLISHED_DIR / name, dtype=str, keep_default_na=False)
        for (file, region, year, label), value in edits.items():
            if file != name:
                continue
            hit = (df["region_name"] == region) & (df["year"] == str(year)) & (df["indicator_zh"] == label)
            assert hit.sum() == 1, (region, year, label)
            df = df[~hit] if value is None else df.assign(value=df["value"].mask(hit, value))
        df.to_csv(folder / name, index=False)
    monkeypatch.setattr(published, "PUBLISHED_DIR", folder)


def test_anchors_are_read_from_data_published(tmp_path, monkeypatch):
    """Every kind of anchor follows a changed figure in the files: nothing is typed into the code."""
    seed, research = "seed_facts.csv", "research_facts.csv"
    published_copy(
        tmp_path,
        monkeypatch,
        {
            (seed, "宝鸡市", 2019, "临时救助人次"): "4.5",  # 万人次
            (seed, "宝鸡市", 2019, "每千名老年人养老床位"): "40",  # → 60+ base
            (seed, "福州市", 2023, "慈善组织数"): "95",
            (seed, "福州市", 2023, "每万人持证社工数"): "10",  # → population
            (research, "宝鸡市", 2020, "常住人口（七普）"): "3400000",
            (research, "福州市", 2020, "常住人口（七普，含平潭；县级分列只列12个县(市)区）"): "8300000",
            (research, "鼓楼区", 2020, "常住人口（七普）"): "670000",
            (research, "陈仓区", 2020, "山区常住人口（七普）"): "90000",
            (research, "马尾区", 2019, "农村居民最低生活保障人数"): "0.2",  # 万人
            (research, "新疆生产建设兵团", 2020, "每千名老年人拥有养老床位（“十三五”末）"): "30.5",
        },
    )
    registry = load_registry()
    got = totals(sample_truth(load_catalog(), registry), registry)
    assert got[("610300", 2019, "temp_relief_cases")] == 45_000
    assert got[("610300", 2019, "pop_60plus")] == 575_000  # 23000 / 40 × 1000
    assert got[("350100", 2023, "charity_organizations")] == 95
    assert got[("350100", 2023, "population")] == 9_151_000  # 9151 / 10 × 10,000
    assert got[("610300", 2020, "population")] == 3_400_000
    assert got[("350100", 2020, "population")] == 8_300_000
    assert got[("350102", 2020, "population")] == 670_000
    assert got[("610304", 2020, "population")] == 389_990 + 90_000  # 川塬 + 山区
    assert got[("350105", 2019, "dibao_rural_persons")] == 2_000
    beds = got[("659000", 2020, "elderly_beds")] / got[("659000", 2020, "pop_60plus")] * 1000
    assert round(beds, 1) == 30.5


@pytest.mark.parametrize(
    "edit, message",
    [
        (("seed_facts.csv", "福州市", 2023, "持证社会工作者人数"), "350100 2023 certified_social_workers"),
        (("seed_facts.csv", "宝鸡市", 2019, "养老床位数"), "610300 2019 elderly_beds"),
        (
            ("research_facts.csv", "新疆生产建设兵团", 2020, "每千名老年人拥有养老床位（“十三五”末）"),
            "659000 2020 beds_per_1000_elderly",
        ),
    ],
)
def test_a_missing_anchor_figure_stops_the_generator(tmp_path, monkeypatch, edit, message):
    published_copy(tmp_path, monkeypatch, {edit: None})
    with pytest.raises(ValueError, match=message):
        sample_truth(load_catalog(), load_registry())
