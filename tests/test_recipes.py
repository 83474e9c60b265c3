"""Import recipes (etl/recipes.py): a clerk's saved mapping for a sheet no reader recognises, read
automatically the next time a sheet with the same header comes in."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from etl import cli, pipeline, recipes
from etl.catalog import load_catalog
from etl.readers import RAW_COLUMNS, read_source
from etl.recipes import ColumnMap, Recipe, RecipeError
from etl.regions import load_registry
from etl.resolve import resolve
from etl.settings import MAX_RECIPE_BYTES
from etl.sources import load_source
from tests.util import query, xlsx

CATALOG, REGISTRY = load_catalog(), load_registry()
SIGNATURE = (
    "县(市、区)county|城市困难群众urbanrelief/保障对象(万人)recipients|"
    "城市困难群众urbanrelief/救助金额(元)funds|养老机构elderlycare/床位(张)beds|备注"
)
HEADER = [
    ["县（市、区）\nCounty", "城市困难群众\nUrban relief", None, "养老机构\nElderly care", "备注"],
    [None, "保障对象（万人）\nRecipients", "救助金额（元）\nFunds", "床位（张）\nBeds", None],
]
MERGES = ["A1:E1", "A3:A4", "B3:C3", "E3:E4"]


def bureau_sheet(path: Path, year: int, body: list[list], header: list[list] = HEADER) -> Path:
    """A table as the city bureau prints it: a title with the year, a blank line, a two-row
    bilingual header (the region column headed "县（市、区） County", group headers merged over
    their columns), a 合计 row, notes under the table."""
    rows = [[f"宝鸡市各县区社会救助和养老服务情况（{year}年）", None, None, None, None], [None] * 5]
    rows += header + body
    rows += [
        ["注：本表为年末数。", None, None, None, None],
        ["资料来源：宝鸡市民政局", None, None, None, None],
    ]
    return xlsx(path, {"救助": rows}, {"救助": MERGES})


BODY_2023 = [
    ["渭滨区", 0.12, 1234500, 800, None],
    [None] * 5,
    ["金台区", 0.0985, 987000, "-", "新建"],
    ["合  计", 0.2185, 2221500, 800, None],
]
BODY_2024 = [
    ["渭滨区", 0.15, 2000000, 900, None],
    ["610303", 0.1, 1000000, 100, None],  # a code typed into the region column
    ["合  计", 0.25, 3000000, 1000, None],
]


def recipe(**changes) -> Recipe:
    """The clerk's recipe for the bureau's table: regions in A, the year from the title, B/C/D as
    城市低保人数 (in 万人), 低保资金支出 (in 元) and 养老床位数 (the header's 张)."""
    fields = dict(
        name="宝鸡社会救助表",
        author="张三",
        created="2024-03-01T10:00:00+08:00",
        signature=SIGNATURE,
        header_rows=(3, 4),
        first_data_row=5,
        region_column="A",
        year_mode="title",
        indicators=(
            ColumnMap("B", "dibao_urban_persons", "万人"),
            ColumnMap("C", "dibao_funds", "元"),
            ColumnMap("D", "elderly_beds", None),
        ),
    )
    return Recipe(**(fields | changes))


def grid_of(path: Path):
    source, issues = load_source(path)
    assert source is not None and issues == [], issues
    return source


def texts(issues) -> list[tuple]:
    return [(i.severity, i.code, i.sheet, i.row, i.column, i.message) for i in issues]


# ---------------------------------------------------------------- the sheet and its signature


def test_no_reader_knows_the_bureau_table(tmp_path):
    source = grid_of(bureau_sheet(tmp_path / "a.xlsx", 2023, BODY_2023))
    raw, issues = read_source(source)
    assert raw.empty
    assert [(i.code, i.sheet) for i in issues] == [("no_header", "救助")]
    assert "“数据管理”的“导入向导”中为这种表建立导入配方" in issues[0].suggestion
    assert "相近" not in issues[0].suggestion  # no recipe exists, none is named


def test_signature_header_cells_and_suggestions(tmp_path):
    (grid,) = grid_of(bureau_sheet(tmp_path / "a.xlsx", 2023, BODY_2023)).grids
    assert recipes.header_signature(grid, [3, 4]) == SIGNATURE
    assert recipes.header_cells(grid, [3, 4]) == {
        "A": "县（市、区） County",
        "B": "城市困难群众 Urban relief / 保障对象（万人） Recipients",
        "C": "城市困难群众 Urban relief / 救助金额（元） Funds",
        "D": "养老机构 Elderly care / 床位（张） Beds",
        "E": "备注",
    }
    # Whitespace, full width, case and merged-or-not do not change it; names and order do.
    spaced = [
        [
            "县 （市、区）\nCOUNTY",
            "城市困难群众 \nUrban Relief",
            "城市困难群众\nURBAN RELIEF",
            "养老机构\nElderly care",
            None,
        ],
        [None, "保障对象(万人)\nRecipients", "救助金额(元)\nFunds", "床位(张)\nBeds", "备注"],
    ]
    (other,) = grid_of(xlsx(tmp_path / "b.xlsx", {"s": [[None], [None]] + spaced})).grids
    assert recipes.header_signature(other, [3, 4]) == SIGNATURE
    swapped = [[r[0], r[2], r[1], r[3], r[4]] for r in spaced]
    (other,) = grid_of(xlsx(tmp_path / "c.xlsx", {"s": [[None], [None]] + swapped})).grids
    assert recipes.header_signature(other, [3, 4]) != SIGNATURE
    # A cell that is only a year is "〈年〉": years across read next year's table too.
    (years,) = grid_of(
        xlsx(tmp_path / "d.xlsx", {"s": [["地方", 2022, "2023年", "2023年城市低保人数"]]})
    ).grids
    assert recipes.header_signature(years, [1]) == "地方|〈年〉|〈年〉|2023年城市低保人数"

    assert recipes.suggest_indicators("城市低保人数（万人）", CATALOG, limit=2) == [
        ("dibao_urban_persons", 1.0),
        ("dibao_urban_households", 0.833),
    ]
    draft = recipes.draft_indicators(grid, [3, 4], CATALOG)
    assert draft["B"] == {"id": "dibao_urban_persons", "score": 0.625, "unit": "万人"}
    assert draft["C"]["unit"] == "元" and draft["D"]["unit"] == "张"


# ---------------------------------------------------------------- save, reload, apply


def test_save_reload_apply_and_resolve(tmp_path):
    base = tmp_path / "data"
    path = recipes.save_recipe(base, recipe())
    assert path == base / "recipes" / "宝鸡社会救助表.yaml"
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == {
        "name": "宝鸡社会救助表",
        "author": "张三",
        "created": "2024-03-01T10:00:00+08:00",
        "signature": SIGNATURE,
        "header_rows": [3, 4],
        "first_data_row": 5,
        "regions": {"column": "A"},
        "years": {"title": True},
        "indicators": {
            "B": {"id": "dibao_urban_persons", "unit": "万人"},
            "C": {"id": "dibao_funds", "unit": "元"},
            "D": {"id": "elderly_beds"},
        },
    }
    loaded, issues = recipes.load_recipes(base)
    assert loaded == [recipe()] and issues == []
    assert recipes.recipe_from_yaml(recipes.to_yaml(recipe())) == recipe()
    assert recipes.fingerprint(loaded) == recipes.fingerprint([recipe()])
    assert recipes.fingerprint(loaded) != recipes.fingerprint([recipe(first_data_row=6)])
    with pytest.raises(RecipeError, match="已有名为“宝鸡社会救助表”的导入配方"):
        recipes.save_recipe(base, recipe())
    with pytest.raises(RecipeError, match="已有导入配方“宝鸡社会救助表”读取同样表头的表"):
        recipes.save_recipe(base, recipe(name="另一个"))
    assert recipes.save_recipe(base, recipe(author="李四"), replace=True) == path
    assert recipes.load_recipes(base)[0] == [recipe(author="李四")]

    source = grid_of(bureau_sheet(tmp_path / "宝鸡2023.xlsx", 2023, BODY_2023))
    (grid,) = source.grids
    assert recipes.find_recipe(grid, loaded) == recipe()
    raw, issues = recipes.apply(recipe(), grid)
    assert issues == [] and list(raw.columns) == RAW_COLUMNS
    assert [tuple(r) for r in raw.itertuples(index=False)] == [
        ("救助", 5, "B", "渭滨区", None, 2023, "dibao_urban_persons", "", None, "万人", 0.12),
        ("救助", 5, "C", "渭滨区", None, 2023, "dibao_funds", "", None, "元", 1234500),
        ("救助", 5, "D", "渭滨区", None, 2023, "elderly_beds", "", None, "张", 800),
        ("救助", 7, "B", "金台区", None, 2023, "dibao_urban_persons", "", None, "万人", 0.0985),
        ("救助", 7, "C", "金台区", None, 2023, "dibao_funds", "", None, "元", 987000),
        ("救助", 8, "B", "合  计", None, 2023, "dibao_urban_persons", "", None, "万人", 0.2185),
        ("救助", 8, "C", "合  计", None, 2023, "dibao_funds", "", None, "元", 2221500),
        ("救助", 8, "D", "合  计", None, 2023, "elderly_beds", "", None, "张", 800),
    ]

    raw, issues = read_source(source, loaded)
    assert texts(issues) == [("note", "recipe_used", "救助", None, "", "按导入配方“宝鸡社会救助表”读取。")]
    assert set(raw["shape"]) == {"recipe:宝鸡社会救助表"}
    facts, found = resolve(raw, CATALOG, REGISTRY)
    assert found == []
    assert [
        (f.region_code, f.year, f.indicator_id, f.value, f.sheet, f.row, f.column)
        for f in facts.itertuples(index=False)
    ] == [
        ("610302", 2023, "dibao_urban_persons", 1200.0, "救助", 5, "B"),
        ("610302", 2023, "dibao_funds", 123.45, "救助", 5, "C"),
        ("610302", 2023, "elderly_beds", 800.0, "救助", 5, "D"),
        ("610303", 2023, "dibao_urban_persons", 985.0, "救助", 7, "B"),
        ("610303", 2023, "dibao_funds", 98.7, "救助", 7, "C"),
        ("610300", 2023, "dibao_urban_persons", 2185.0, "救助", 8, "B"),  # 合计: the common parent
        ("610300", 2023, "dibao_funds", 222.15, "救助", 8, "C"),
        ("610300", 2023, "elderly_beds", 800.0, "救助", 8, "D"),
    ]

    shown, found = recipes.preview(recipe(), grid, CATALOG, REGISTRY, limit=2)
    assert found == [] and list(shown["value"]) == [1200.0, 123.45]
    assert recipes.delete_recipe(base, "宝鸡社会救助表") == path and not path.exists()
    with pytest.raises(RecipeError, match="没有名为“宝鸡社会救助表”的导入配方"):
        recipes.delete_recipe(base, "宝鸡社会救助表")


def test_a_wrong_region_name_is_the_normal_error(tmp_path):
    body = [["渭滨区", 0.12, 1234500, 800, None], ["金台 县", 0.1, 1, 2, None]]
    source = grid_of(bureau_sheet(tmp_path / "a.xlsx", 2023, body))
    raw, issues = read_source(source, [recipe()])
    _, found = resolve(raw, CATALOG, REGISTRY)
    assert [(i.code, i.file, i.sheet, i.row, i.column, i.message) for i in found] == [
        ("unknown_region", "a.xlsx", "救助", 6, "B", "地区“金台 县”无法识别。")
    ]


def test_years_across_one_region_and_a_fixed_year(tmp_path):
    sheet = [
        ["眉县社会救助统计", None, None, None],
        ["项目类别", "2021年", 2022, "2023年末"],
        ["城市困难群众（人）", 310, 305, "…"],
        ["说明：2023年数据待核。", None, None, None],
    ]
    (grid,) = grid_of(xlsx(tmp_path / "a.xlsx", {"眉县": sheet})).grids
    across = recipe(
        signature=recipes.header_signature(grid, [2]),
        header_rows=(2,),
        first_data_row=3,
        region_column=None,
        region_code="610326",
        year_mode="across",
        indicators=(ColumnMap("B", "dibao_urban_persons"), ColumnMap("C", "dibao_urban_persons")),
    )
    assert across.signature == "项目类别|〈年〉|〈年〉|〈年〉"
    assert recipes.recipe_from_yaml(recipes.to_yaml(across)) == across
    facts, issues = recipes.preview(across, grid, CATALOG, REGISTRY)
    assert issues == []
    assert [(f.region_code, f.year, f.value, f.row, f.column) for f in facts.itertuples()] == [
        ("610326", 2021, 310.0, 3, "B"),
        ("610326", 2022, 305.0, 3, "C"),
    ]
    # A fixed year refuses a sheet whose header names another year.
    fixed = dataclasses.replace(across, year_mode="year", year=2023)
    raw, issues = recipes.apply(fixed, grid)
    assert raw.empty and [(i.code, i.row, i.value) for i in issues] == [("year_invalid", 2, "2021")]
    assert (
        "导入配方“宝鸡社会救助表”规定年份为2023年，但此表的标题或表头写的是2021年、2022年。"
        == issues[0].message
    )


# ---------------------------------------------------------------- another file, the pipeline


def test_the_same_layout_next_year_is_loaded_automatically(tmp_path):
    base = tmp_path / "data"
    recipes.save_recipe(base, recipe())
    first = bureau_sheet(tmp_path / "宝鸡2023.xlsx", 2023, BODY_2023)
    outcome = pipeline.load(base, [first])
    assert outcome.ok and outcome.changed, [i.as_text() for i in outcome.issues.items]
    second = bureau_sheet(tmp_path / "宝鸡2024.xlsx", 2024, BODY_2024)
    outcome = pipeline.load(base, [second])
    assert outcome.ok and outcome.changed, [i.as_text() for i in outcome.issues.errors]
    assert ("recipe_used", "宝鸡2024.xlsx") in [(i.code, i.file) for i in outcome.issues.notes]
    sql = (
        'SELECT f.region_code, f.year, f.indicator_id, f.value, l.file_name, l.row, l."column" '
        "FROM facts f JOIN lineage l USING (region_code, year, indicator_id) "
        "WHERE f.origin = 'reported' AND f.year = 2024 ORDER BY 1, 3"
    )
    expected = [
        ("610300", 2024, "dibao_funds", 300.0, "宝鸡2024.xlsx", 7, "C"),
        ("610300", 2024, "dibao_urban_persons", 2500.0, "宝鸡2024.xlsx", 7, "B"),
        ("610300", 2024, "elderly_beds", 1000.0, "宝鸡2024.xlsx", 7, "D"),
        ("610302", 2024, "dibao_funds", 200.0, "宝鸡2024.xlsx", 5, "C"),
        ("610302", 2024, "dibao_urban_persons", 1500.0, "宝鸡2024.xlsx", 5, "B"),
        ("610302", 2024, "elderly_beds", 900.0, "宝鸡2024.xlsx", 5, "D"),
        ("610303", 2024, "dibao_funds", 100.0, "宝鸡2024.xlsx", 6, "C"),
        ("610303", 2024, "dibao_urban_persons", 1000.0, "宝鸡2024.xlsx", 6, "B"),
        ("610303", 2024, "elderly_beds", 100.0, "宝鸡2024.xlsx", 6, "D"),
    ]
    db = base / "warehouse" / "versions" / outcome.version / "warehouse.duckdb"
    assert query(db, sql) == expected
    assert query(db, "SELECT count(*) FROM facts WHERE origin = 'reported' AND year = 2023") == [(8,)]
    rebuilt = pipeline.build(base)  # a rebuild reads raw/ with the recipe again
    assert rebuilt.ok, [i.as_text() for i in rebuilt.issues.errors]
    assert query(base / "warehouse" / "versions" / rebuilt.version / "warehouse.duckdb", sql) == expected


def test_a_header_moved_by_a_title_line_is_still_read(tmp_path):
    """Next year's table has a second title line: the header sits one row lower. The recipe
    still reads it (header, data and lineage rows moved with it); moved 4 rows, it does not."""
    rows = [
        ["宝鸡市各县区社会救助和养老服务情况（2024年）", None, None, None, None],
        ["（宝鸡市民政局编）", None, None, None, None],
        [None] * 5,
        *HEADER,
        *BODY_2024,
        ["注：本表为年末数。", None, None, None, None],
    ]
    path = xlsx(tmp_path / "宝鸡2024.xlsx", {"救助": rows}, {"救助": ["A1:E1", "A4:A5", "B4:C4", "E4:E5"]})
    source = grid_of(path)
    raw, issues = read_source(source, [recipe()])
    assert [i.code for i in issues] == ["recipe_used"]
    assert raw[["row", "column", "region", "value"]].head(3).values.tolist() == [
        [6, "B", "渭滨区", 0.15],
        [6, "C", "渭滨区", 2000000],
        [6, "D", "渭滨区", 900],
    ]
    far = [[None] * 5] * 3 + rows
    path = xlsx(tmp_path / "far.xlsx", {"救助": far}, {"救助": ["A4:E4", "A7:A8", "B7:C7", "E7:E8"]})
    raw, issues = read_source(grid_of(path), [recipe()])
    assert raw.empty and [i.code for i in issues] == ["no_header"]


def test_a_changed_header_is_not_read_and_names_the_close_recipe(tmp_path):
    header = [HEADER[0], [None, "保障人数（万人）\nRecipients", *HEADER[1][2:]]]
    source = grid_of(bureau_sheet(tmp_path / "a.xlsx", 2023, BODY_2023, header))
    raw, issues = read_source(source, [recipe()])
    assert raw.empty and [(i.code, i.sheet) for i in issues] == [("no_header", "救助")]
    assert issues[0].suggestion.endswith(
        "此表与导入配方“宝鸡社会救助表”的表头相近，但有不同："
        "B列：配方为“城市困难群众urbanrelief/保障对象(万人)recipients”，"
        "此表为“城市困难群众urbanrelief/保障人数(万人)recipients”。表头确有变化时，请在导入向导中修改该配方。"
    )


def test_a_forced_recipe_on_another_sheet_is_an_error(tmp_path):
    other = xlsx(
        tmp_path / "other.xlsx", {"长表": [["地区", "年份", "指标", "数值"], ["凤县", 2023, "养老床位数", 8]]}
    )
    raw, issues = read_source(grid_of(other), [recipe()], forced="宝鸡社会救助表")
    assert raw.empty and [(i.code, i.sheet) for i in issues] == [("no_header", "长表")]
    assert issues[0].message.startswith(
        "导入配方“宝鸡社会救助表”与此表的表头不一致（第3、4行）：表头列数不同：配方有5列，此表有0列；"
        "A列：配方为“县(市、区)county”，此表为“（空）”"
    )
    raw, issues = read_source(grid_of(other), [recipe()], forced="没有这个")
    assert [(i.code, i.message) for i in issues] == [
        ("recipe_invalid", "没有名为“没有这个”的导入配方（或该配方有误，未能读取）。")
    ]
    # The right sheet forced: read, even though a reader would not have been asked.
    right = bureau_sheet(tmp_path / "a.xlsx", 2023, BODY_2023)
    raw, issues = read_source(grid_of(right), [recipe()], forced="宝鸡社会救助表")
    assert len(raw) == 8 and [i.code for i in issues] == ["recipe_used"]


# ---------------------------------------------------------------- invalid recipes


def test_validate_names_every_problem_in_chinese():
    data = recipes.recipe_to_data(recipe())
    assert recipes.validate(data, CATALOG, REGISTRY) == []
    bad = data | {
        "regions": {"code": "999999"},
        "header_rows": [4, 3],
        "first_data_row": 2,
        "indicators": {
            "B": {"id": "no_such"},
            "a1": {"id": "dibao_funds"},
            "C": {"id": "dibao_funds", "unit": "斤"},
        },
        "colour": "red",
    }
    del bad["signature"]
    assert recipes.validate(bad, CATALOG, REGISTRY) == [
        "不认识的项：colour（可用的项：author、created、first_data_row、header_rows、indicators、name、"
        "regions、signature、skip_rows、years）。",
        "缺少必填项：signature。",
        "header_rows 的行号应从小到大排列且不重复。",
        "数据开始的行（第2行）应在表头（第4行）之下。",
        "区划代码“999999”不在全国区划代码表中。",
        "B列的指标“no_such”不在指标目录中（请使用指标说明页中的指标代码）。",
        "indicators 的列“a1”不是有效的列字母（如 C）。",
        "C列的单位“斤”无法换算为“低保资金支出”的单位“万元”。",
    ]
    assert recipes.validate(data | {"years": {"column": "B"}}, CATALOG, REGISTRY) == [
        "B列不能既是年份列又是数值列。"
    ]
    assert recipes.validate(data | {"name": "../x"}, CATALOG, REGISTRY) == [
        '配方名称“../x”含有不能用于文件名的字符（\\ / : * ? " < > | 、开头的“.”或首尾空格）。'
    ]
    with pytest.raises(RecipeError, match="指标“dibao”不在指标目录中"):
        recipes.save_recipe(Path("/nonexistent"), recipe(indicators=(ColumnMap("B", "dibao"),)))


def test_load_recipes_refuses_bad_files_naming_them(tmp_path):
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "坏的.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    (folder / "太大.yaml").write_text("#" * (MAX_RECIPE_BYTES + 1), encoding="utf-8")
    (folder / "指标错.yaml").write_text(
        recipes.to_yaml(recipe(name="指标错", indicators=(ColumnMap("B", "nope"),))), encoding="utf-8"
    )
    (folder / "好的.yaml").write_text(recipes.to_yaml(recipe(name="好的")), encoding="utf-8")
    (folder / "改了名.yaml").write_text(recipes.to_yaml(recipe(name="别的名字")), encoding="utf-8")
    found, issues = recipes.load_recipes(tmp_path)
    assert found == [recipe(name="好的")]
    assert [(i.severity, i.code, i.file, i.message) for i in issues] == [
        ("error", "recipe_invalid", "recipes/坏的.yaml", "导入配方不是有效的 YAML（第2行）。"),
        (
            "error",
            "recipe_invalid",
            "recipes/太大.yaml",
            f"导入配方文件超过{MAX_RECIPE_BYTES:,}字节，不予读取。",
        ),
        (
            "error",
            "recipe_invalid",
            "recipes/指标错.yaml",
            "B列的指标“nope”不在指标目录中（请使用指标说明页中的指标代码）。",
        ),
        ("error", "recipe_invalid", "recipes/改了名.yaml", "配方名称“别的名字”与文件名“改了名”不一致。"),
    ]


# ---------------------------------------------------------------- CLI


def test_cli_lists_shows_and_deletes(tmp_path, capsys):
    base = tmp_path / "data"
    assert cli.main(["recipes", "--data-dir", str(base)]) == 0
    assert "尚无导入配方" in capsys.readouterr().out
    recipes.save_recipe(base, recipe())
    assert cli.main(["recipes", "--data-dir", str(base)]) == 0
    assert capsys.readouterr().out == (
        "宝鸡社会救助表  张三  2024-03-01T10:00:00+08:00  3列：B列→城市低保人数（万人），"
        "C列→低保资金支出（元），D列→养老床位数\n"
    )
    assert cli.main(["recipes", "--show", "宝鸡社会救助表", "--data-dir", str(base)]) == 0
    assert capsys.readouterr().out == recipes.to_yaml(recipe())
    other = xlsx(
        tmp_path / "other.xlsx", {"表": [["地区", "年份", "指标", "数值"], ["凤县", 2023, "养老床位数", 8]]}
    )
    assert cli.main(["validate", str(other), "--recipe", "宝鸡社会救助表", "--data-dir", str(base)]) == 1
    assert "导入配方“宝鸡社会救助表”与此表的表头不一致" in capsys.readouterr().out
    assert cli.main(["validate", str(other), "--recipe", "无此配方", "--data-dir", str(base)]) == 1
    assert "没有名为“无此配方”的可用导入配方" in capsys.readouterr().err
    assert cli.main(["recipes", "--delete", "宝鸡社会救助表", "--data-dir", str(base)]) == 0
    assert "已删除导入配方“宝鸡社会救助表”" in capsys.readouterr().out
    assert cli.main(["recipes", "--delete", "宝鸡社会救助表", "--data-dir", str(base)]) == 1
    assert "没有名为“宝鸡社会救助表”的导入配方。" in capsys.readouterr().err


def test_the_wizard_guesses_where_the_year_is_and_suggests_units_that_fit(tmp_path):
    title = grid_of(bureau_sheet(tmp_path / "t.xlsx", 2023, BODY_2023)).grids[0]
    assert recipes.guess_years(title, (3, 4)) == "title"
    drafts = recipes.draft_indicators(title, (3, 4), CATALOG)
    assert drafts["B"] == {"id": "dibao_urban_persons", "score": 0.625, "unit": "万人"}
    assert CATALOG.indicators[drafts["D"]["id"]].unit == "张"  # 床位（张）: never a count of 家
    rows = [["地区", "2021年", "2022年", "2023年"], ["渭滨区", 1, 2, 3]]
    across = grid_of(xlsx(tmp_path / "a.xlsx", {"表": rows})).grids[0]
    assert recipes.guess_years(across, (1,)) == "across"
    rows = [["地区", "年份", "床位"], ["渭滨区", 2023, 3]]
    column = grid_of(xlsx(tmp_path / "c.xlsx", {"表": rows})).grids[0]
    assert recipes.guess_years(column, (1,)) == "column"
    rows = [["地区", "床位"], ["渭滨区", 3]]
    assert recipes.guess_years(grid_of(xlsx(tmp_path / "y.xlsx", {"表": rows})).grids[0], (1,)) == "year"
