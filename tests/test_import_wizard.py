"""导入向导 in 数据管理 (dashboard/import_wizard.py), with AppTest on a real data dir: a bureau table
no reader recognises → the wizard → mapping → facts preview → saved recipe → the upload checked
again → publish; the next file of that shape is read without the wizard; deleting a recipe is
audited. Plus the sheet preview (merged cells) and the header guess."""

import json

from dashboard import import_wizard
from etl import recipes, warehouse
from etl.sources import load_source
from tests.test_admin import login, open_admin, texts, value
from tests.test_recipes import BODY_2023, BODY_2024, bureau_sheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(at, *paths):
    at.file_uploader[0].set_value([(p.name, p.read_bytes(), XLSX) for p in paths]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def events(base) -> list[dict]:
    lines = (base / "audit" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_sheet_preview_fills_merged_cells_and_the_header_is_guessed(tmp_path):
    path = bureau_sheet(tmp_path / "a.xlsx", 2023, BODY_2023)
    (grid,) = load_source(path)[0].grids
    frame = import_wizard.sheet_frame(grid)
    assert list(frame.columns) == ["A", "B", "C", "D", "E"] and list(frame.index[:5]) == [1, 2, 3, 4, 5]
    # B3:C3 "城市困难群众" is merged over both columns, A3:A4 over both rows
    assert frame.loc[3, "B"] == frame.loc[3, "C"] == "城市困难群众\nUrban relief"
    assert frame.loc[4, "A"] == "县（市、区）\nCounty"
    assert frame.loc[5, "B"] == "0.12" and frame.loc[5, "C"] == "1234500" and frame.loc[5, "E"] == ""
    assert import_wizard.guess_header(grid) == ([3, 4], 5)


def test_wizard_maps_an_unknown_table_saves_a_recipe_and_publishes(monkeypatch, served, tmp_path):
    base = served
    first = bureau_sheet(tmp_path / "救助2023.xlsx", 2023, BODY_2023)
    at = upload(login(open_admin(monkeypatch, base)), first)
    assert "找不到可识别的表头" in " ".join(str(d.value.to_numpy()) for d in at.dataframe)
    assert at.expander[0].label.startswith("导入向导：为无法识别的表建立导入配方")
    assert at.selectbox(key="wz_sheet").value == 0  # the unrecognised sheet
    # the guess is the printed header (rows 3–4, data from row 5); regions in A, the year in the title
    assert at.multiselect(key="wz0-hdr").value == [3, 4] and at.number_input(key="wz0-first").value == 5
    assert at.radio(key="wz0-yearmode").value == "title"  # guessed: the title says （2023年）
    assert at.selectbox(key="wz0-ind-B").value == "dibao_urban_persons"  # suggested from the header
    assert at.selectbox(key="wz0-ind-D").value != "elderly_care_institutions"  # 张 is not 家
    at.selectbox(key="wz0-ind-B").set_value("dibao_urban_persons")
    at.text_input(key="wz0-unit-B").set_value("万人")
    at.selectbox(key="wz0-ind-C").set_value("dibao_funds")
    at.selectbox(key="wz0-ind-D").set_value("elderly_beds").run()
    assert at.selectbox(key="wz0-ind-E").value == import_wizard.SKIP  # 备注 is not data
    assert not at.exception, [e.value for e in at.exception]
    facts = next(d.value for d in at.dataframe if "来源单元格" in d.value.columns)
    wei = facts[(facts["地区"] == "渭滨区") & (facts["指标"] == "城市低保人数")].iloc[0]
    assert (wei["年份"], wei["数值"], wei["单位"], wei["来源单元格"]) == (2023, 1200.0, "人", "B5")
    jin = facts[(facts["地区"] == "金台区") & (facts["指标"] == "低保资金支出")].iloc[0]
    assert jin["来源单元格"] == "C7"

    at.text_input(key="wz0-name").set_value("宝鸡社会救助表").run()
    at.button(key="wz0-save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved, problems = recipes.load_recipes(base)
    assert problems == [] and [(r.name, r.author, r.header_rows) for r in saved] == [
        ("宝鸡社会救助表", "admin", (3, 4))
    ]
    assert "已保存导入配方“宝鸡社会救助表”" in texts(at)
    assert "找不到可识别的表头" not in " ".join(str(d.value.to_numpy()) for d in at.dataframe)
    assert value(base, "610302", 2023) == 300  # nothing published yet
    at.checkbox(key="confirm_warnings").check().run()  # the jumps against the served 300s
    at.button(key="publish").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert value(base, "610302", 2023) == 1200
    assert value(base, "610302", 2023, "dibao_funds") == 123.45  # 1234500 元 → 万元
    version = warehouse.current_version(base)

    # the next year's file of that shape: read with the recipe, no wizard needed
    at = upload(at, bureau_sheet(tmp_path / "救助2024.xlsx", 2024, BODY_2024))
    assert "未能识别" not in " ".join(o for s in at.selectbox for o in map(str, s.options))
    assert not at.expander[0].label.startswith("导入向导：为无法识别")
    assert "工作表“救助”按导入配方“宝鸡社会救助表”读取，9 条数据" in texts(at)  # each file as it is read
    notes = next(d.value for d in at.dataframe if "问题" in d.value.columns and "按导入配方" in str(d.value))
    assert notes.iloc[0]["问题"] == "按导入配方“宝鸡社会救助表”读取。" and notes.iloc[0]["工作表"] == "救助"
    assert any(t.label.startswith("说明（") for t in at.tabs)  # a note, not a warning to confirm
    if at.checkbox(key="confirm_warnings"):
        at.checkbox(key="confirm_warnings").check().run()
    at.button(key="publish").click().run()
    assert warehouse.current_version(base) != version and value(base, "610303", 2024) == 1000

    at.selectbox(key="wz_recipe").set_value("宝鸡社会救助表")
    at.button(key="wz_delete").click().run()
    assert recipes.load_recipes(base)[0] == []
    published = [e for e in events(base) if e["event"] == "publish"][-1]  # the recipe's use, audited
    assert published["files"][0]["sheets"] == {"救助": "recipe:宝鸡社会救助表"}
    uploaded = [e for e in events(base) if e["event"] == "upload"][-1]
    assert uploaded["read_as"] == {"救助2024.xlsx": {"救助": "recipe:宝鸡社会救助表"}}
    kinds = [e["event"] for e in events(base)]
    assert "recipe_save" in kinds and kinds[-1] == "recipe_delete"
    assert events(base)[-1]["recipe"] == "宝鸡社会救助表"


def test_a_changed_header_goes_back_to_the_wizard(monkeypatch, served, tmp_path):
    base = served
    recipes.save_recipe(base, recipes.new_recipe(**_recipe_fields(tmp_path)))
    header = [
        ["县（市、区）\nCounty", "城市困难群众\nUrban relief", None, "养老机构\nElderly care", "说明"],
        [None, "保障对象（万人）\nRecipients", "救助金额（元）\nFunds", "床位（张）\nBeds", None],
    ]
    changed = bureau_sheet(tmp_path / "改版.xlsx", 2024, BODY_2024, header=header)
    at = upload(login(open_admin(monkeypatch, base)), changed)
    issues = " ".join(str(d.value.to_numpy()) for d in at.dataframe)
    assert "找不到可识别的表头" in issues and "宝鸡社会救助表" in issues  # the close recipe is named
    assert at.expander[0].label.startswith("导入向导：为无法识别的表建立导入配方")


def _recipe_fields(tmp_path) -> dict:
    (grid,) = load_source(bureau_sheet(tmp_path / "x.xlsx", 2023, BODY_2023))[0].grids
    return dict(
        name="宝鸡社会救助表",
        signature=recipes.header_signature(grid, (3, 4)),
        header_rows=(3, 4),
        first_data_row=5,
        indicators=(recipes.ColumnMap("B", "dibao_urban_persons", "万人"),),
        region_column="A",
        year_mode="title",
        author="admin",
    )


def test_a_broken_recipe_file_is_shown_and_can_be_deleted(monkeypatch, served):
    base = served
    folder = recipes.recipes_dir(base)
    folder.mkdir(parents=True)
    (folder / "手改坏了.yaml").write_text("name: 手改坏了\nheader_rows: [3\n", encoding="utf-8")
    at = login(open_admin(monkeypatch, base))
    assert "手改坏了.yaml" in " ".join(e.value for e in at.error)  # named, with what is wrong
    assert at.selectbox(key="wz_recipe").value == "手改坏了"
    at.button(key="wz_delete").click().run()
    assert not at.exception and not (folder / "手改坏了.yaml").exists()
    assert events(base)[-1] | {"time": None} == {
        "time": None,
        "event": "recipe_delete",
        "user": "admin",
        "recipe": "手改坏了",
    }
