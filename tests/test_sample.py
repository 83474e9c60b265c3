"""示例数据: the generated files go through all four readers into the warehouse unchanged,
and the city totals equal the figures the bureaus published."""
import duckdb
import pandas as pd
import pytest

from etl import pipeline, warehouse
from etl.paths import sample_dir
from etl.sample import CITIES, generate, sample_truth


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("sample")
    outcome = pipeline.build(base)
    assert outcome.ok, [i.as_text() for i in outcome.issues.errors[:5]]
    con = duckdb.connect(str(warehouse.current_db(base)), read_only=True)
    yield base, outcome, con
    con.close()


def city_value(con, city, year, ind):
    row = con.execute("SELECT value, origin FROM facts WHERE region_code=? AND year=? AND indicator_id=?",
                      [city, year, ind]).fetchone()
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
    got = con.execute("SELECT region_code, year, indicator_id, value FROM facts WHERE origin='reported' "
                      "AND region_code IN (SELECT code FROM regions WHERE level='county')").df()
    truth = sample_truth()
    merged = truth.merge(got, on=["region_code", "year", "indicator_id"], how="outer", indicator=True,
                         suffixes=("_truth", "_got"))
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["value_truth"] == merged["value_got"]).all()


def test_sample_is_flagged_and_traced(built):
    _, outcome, con = built
    assert outcome.is_sample
    assert con.execute("SELECT value FROM meta WHERE key='is_sample'").fetchone() == ("true",)
    assert con.execute("SELECT bool_and(is_sample) FROM facts").fetchone() == (True,)
    missing = con.execute("SELECT count(*) FROM facts f LEFT JOIN lineage l USING (region_code, year, indicator_id) "
                          "WHERE f.origin='reported' AND l.file_sha256 IS NULL").fetchone()[0]
    assert missing == 0


def test_published_city_figures(built):
    _, _, con = built
    assert city_value(con, "610300", 2019, "elderly_beds")[0] == 23000           # 2.3万张
    assert round(city_value(con, "610300", 2019, "beds_per_1000_elderly")[0]) == 36  # 36‰
    assert city_value(con, "610300", 2019, "temp_relief_cases")[0] == 41700      # 4.17万人次
    assert city_value(con, "610300", 2019, "temp_relief_funds")[0] == 2844
    assert city_value(con, "610300", 2019, "vagrant_relief_cases")[0] == 9085
    assert city_value(con, "610300", 2019, "marriage_registrations")[0] == 23000
    assert city_value(con, "610300", 2020, "population")[0] == 3321853           # 七普
    assert city_value(con, "350100", 2020, "population")[0] == 8291268
    assert city_value(con, "350102", 2020, "population")[0] == 669090            # 鼓楼区 七普
    assert city_value(con, "610305", 2020, "population")[0] == 386156            # 凤翔区 七普
    assert city_value(con, "350100", 2023, "certified_social_workers")[0] == 9151
    assert round(city_value(con, "350100", 2023, "social_workers_per_10k")[0], 1) == 10.9
    assert city_value(con, "350100", 2023, "elderly_care_institutions")[0] == 167
    assert city_value(con, "350100", 2023, "elderly_canteens")[0] == 528
    assert round(city_value(con, "659000", 2020, "beds_per_1000_elderly")[0], 1) == 36.8
    mawei = con.execute("SELECT value FROM facts WHERE region_code='350105' AND year=2019 "
                        "AND indicator_id='dibao_rural_persons'").fetchone()[0]
    assert mawei == 1100                                                          # 福建统计年鉴2020: 0.11万人


def test_every_city_year_complete(built):
    _, _, con = built
    n = con.execute("SELECT count(*) FROM indicators").fetchone()[0]
    per_city = con.execute("SELECT region_code, year, count(*) FROM facts WHERE region_code IN (?, ?, ?) "
                           "GROUP BY ALL", list(CITIES)).fetchall()
    assert len(per_city) == len(CITIES) * 10
    assert all(count == n for _, _, count in per_city)


def test_generator_is_deterministic(tmp_path):
    first = generate(tmp_path / "a")
    second = generate(tmp_path / "b")
    for a, b in zip(first, second):
        if a.suffix == ".csv":
            assert a.read_bytes() == b.read_bytes()
    pd.testing.assert_frame_equal(sample_truth(), sample_truth())
