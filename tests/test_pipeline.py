"""Pipeline behaviour across files: later loads win, lineage, warnings that do not block."""

from pathlib import Path

from etl import pipeline, warehouse
from tests.util import LINEAGE_SCHEMA, query
from tests.util import write_long_csv as write


def rows(base: Path, sql: str):
    return query(warehouse.current_db(base), sql)


def test_later_file_wins_and_lineage_follows(tmp_path):
    base = tmp_path / "data"
    a = write(tmp_path / "a.csv", "眉县,,2023,城市低保人数,300,人\n眉县,,2023,农村低保人数,900,人\n")
    b = write(tmp_path / "b.csv", "\n眉县,,2023,城市低保人数,310,人\n")
    assert pipeline.load(base, [a]).ok
    outcome = pipeline.load(base, [b])
    assert outcome.ok and outcome.changed
    assert rows(base, "SELECT indicator_id, value FROM facts WHERE region_code='610326' ORDER BY 1") == [
        ("dibao_rural_persons", 900.0),
        ("dibao_urban_persons", 310.0),
    ]
    assert rows(base, "SELECT indicator_id, file_name, row FROM lineage ORDER BY 1") == [
        ("dibao_rural_persons", "a.csv", 3),
        ("dibao_urban_persons", "b.csv", 3),
    ]
    manifest = warehouse.read_manifest(base, warehouse.current_version(base))
    assert [i["name"] for i in manifest["inputs"]] == ["a.csv", "b.csv"]
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])


def test_a_load_wins_over_a_file_dropped_into_raw_by_hand(tmp_path):
    """A file put into raw/ by hand has no load time in its name: it is read before every
    loaded file, so a correction loaded later is served, now and after a rebuild, whatever the
    dropped file is called."""
    base = tmp_path / "data"
    (base / "raw").mkdir(parents=True)
    write(base / "raw" / "宝鸡.csv", "眉县,,2023,城市低保人数,300,人\n凤县,,2023,城市低保人数,50,人\n")
    assert pipeline.build(base).ok
    correction = write(tmp_path / "眉县更正.csv", "眉县,,2023,城市低保人数,320,人\n")
    outcome = pipeline.load(base, [correction])
    assert outcome.ok and outcome.changed
    served = "SELECT region_code, value FROM facts WHERE indicator_id = 'dibao_urban_persons' ORDER BY 1"
    assert rows(base, served) == [("610326", 320.0), ("610330", 50.0)]
    assert rows(base, "SELECT file_name FROM lineage WHERE region_code = '610326'") == [("眉县更正.csv",)]
    assert pipeline.build(base).ok
    assert rows(base, served) == [("610326", 320.0), ("610330", 50.0)]
    later = write(base / "raw" / "0_early_name.csv", "凤县,,2023,城市低保人数,60,人\n")  # dropped in later
    assert pipeline.input_files(base / "raw")[:2] == [later, base / "raw" / "宝鸡.csv"]


def test_yoy_jump_and_missing_counties_warn_without_blocking(tmp_path):
    base = tmp_path / "data"
    f = write(tmp_path / "jump.csv", "眉县,,2022,养老床位数,100,张\n眉县,,2023,养老床位数,400,张\n")
    outcome = pipeline.load(base, [f])
    assert outcome.ok and outcome.changed
    codes = sorted({i.code for i in outcome.issues.warnings})
    assert codes == ["missing_counties", "yoy_jump"]
    jump = next(i for i in outcome.issues.warnings if i.code == "yoy_jump")
    assert (jump.file, jump.row, jump.column) == ("jump.csv", 3, "E") and "300%" in jump.message
    assert rows(base, "SELECT count(*) FROM issues WHERE code = 'yoy_jump'") == [(1,)]


def test_real_load_replaces_sample_data(tmp_path):
    base = tmp_path / "data"
    sample = base / "sample"
    sample.mkdir(parents=True)
    write(sample / "示例.csv", "凤县,,2023,城市低保人数,50,人\n")
    assert pipeline.build(base).is_sample
    assert rows(base, "SELECT value FROM meta WHERE key='is_sample'") == [("true",)]
    real = write(tmp_path / "real.csv", "眉县,,2023,城市低保人数,300,人\n")
    assert pipeline.load(base, [real]).ok
    assert rows(base, "SELECT region_code, is_sample FROM facts") == [("610326", False)]
    assert rows(base, "SELECT value FROM meta WHERE key='is_sample'") == [("false",)]
    # A rebuild reads raw/ (now non-empty) and gives the same content: nothing new published.
    assert pipeline.build(base).changed is False


def test_validate_writes_nothing(tmp_path):
    base = tmp_path / "data"
    f = write(tmp_path / "ok.csv", "眉县,,2023,城市低保人数,300,人\n")
    outcome = pipeline.validate(base, [f])
    assert outcome.ok and outcome.version is None
    assert not base.exists() or not any(base.rglob("*.duckdb"))


def test_untracked_quarterly_items_are_skipped_with_a_warning(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "眉县"
    for row in (
        ["民政统计季报"],
        ["填报单位：宝鸡市眉县民政局", None, None, "2023年第4季度"],
        ["指标名称", "代码", "单位", "数量"],
        ["一、社会救助"],
        ["（一）城市最低生活保障"],
        ["    保障人数", "01", "人", 300],
        ["    其中：女性", "02", "人", 150],
        ["二、其他"],
        ["    殡葬服务机构数", "03", "个", 2],
    ):
        sheet.append(row)
    path = tmp_path / "季报.xlsx"
    book.save(path)
    base = tmp_path / "data"
    outcome = pipeline.load(base, [path])
    assert outcome.ok and outcome.changed
    skipped = sorted((i.code, i.value) for i in outcome.issues.warnings if i.code.endswith("_skipped"))
    assert skipped == [("breakdown_skipped", "其中：女性"), ("indicator_skipped", "殡葬服务机构数")]
    assert rows(base, "SELECT region_code, indicator_id, value FROM facts") == [
        ("610326", "dibao_urban_persons", 300.0)
    ]


def test_lineage_view_has_one_row_per_fact_with_the_files_stored_once(tmp_path):
    """`lineage` is a view over `lineage_files` (a file's name and sha256 once), `lineage_texts`
    and `lineage_cells` (integers per fact) with the contract's columns and types; a file
    replaced by a later one keeps only the facts it still wins."""
    base = tmp_path / "data"
    a = write(
        tmp_path / "a.csv",
        "眉县,,2023,城市低保人数,300,人\n眉县,,2023,农村低保人数,900,人\n眉县,,2022,农村低保人数,800,人\n",
    )
    b = write(tmp_path / "b.csv", "\n眉县,,2023,城市低保人数,310,人\n")
    assert pipeline.load(base, [a]).ok and pipeline.load(base, [b]).ok
    manifest = warehouse.read_manifest(base, warehouse.current_version(base))
    sha = {i["name"]: i["sha256"] for i in manifest["inputs"]}
    assert rows(base, "SELECT table_type FROM information_schema.tables WHERE table_name = 'lineage'") == [
        ("VIEW",)
    ]
    assert (
        rows(
            base,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'lineage' ORDER BY ordinal_position",
        )
        == LINEAGE_SCHEMA
    )
    assert rows(base, "SELECT * FROM lineage ORDER BY indicator_id, year") == [
        ("610326", 2022, "dibao_rural_persons", "a.csv", sha["a.csv"], "", 4, "E"),
        ("610326", 2023, "dibao_rural_persons", "a.csv", sha["a.csv"], "", 3, "E"),
        ("610326", 2023, "dibao_urban_persons", "b.csv", sha["b.csv"], "", 3, "E"),
    ]
    assert rows(base, "SELECT file_id, file_name, file_sha256 FROM lineage_files ORDER BY file_id") == [
        (0, "a.csv", sha["a.csv"]),
        (1, "b.csv", sha["b.csv"]),
    ]
    assert rows(base, "SELECT count(*) FROM lineage_cells") == [(3,)]
    assert rows(base, "SELECT count(*) FROM lineage_texts WHERE text = 'a.csv' OR length(text) = 64") == [
        (0,)
    ]
