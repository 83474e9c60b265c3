"""数据管理: login, the upload → check → preview → publish flow, rollback and the audit log,
with AppTest on a real data dir; plus the pieces under it (password hashing, the change
comparison, exports that neutralise formulas, loads after a rollback)."""

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from dashboard import auth, changes, export
from etl import pipeline, settings, warehouse
from tests.util import HEADER, RecordingStorage, baoji_rows, download, query, write_long_csv

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PASSWORD = "correct horse battery"
HASH = auth.hash_password(PASSWORD)


def _csv(rows: str) -> bytes:
    return (HEADER + rows).encode("utf-8")


# every county of 宝鸡, two years: complete, so the city total is aggregated and nothing is missing
BASE_ROWS = baoji_rows("城市低保人数", 300)
UPDATE = _csv("眉县,610326,2023,城市低保人数,320,人\n")


@pytest.fixture
def base(served):
    return served


def value(base: Path, region: str, year: int, indicator: str = "dibao_urban_persons"):
    rows = query(
        warehouse.current_db(base),
        "SELECT value FROM facts WHERE region_code = ? AND year = ? AND indicator_id = ?",
        [region, year, indicator],
    )
    return rows[0][0] if rows else None


def open_admin(monkeypatch, base, configured=True) -> AppTest:
    monkeypatch.setenv("MZ_DATA_DIR", str(base))
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    if configured:
        monkeypatch.setenv(auth.ENV_HASH, HASH)
    else:
        monkeypatch.delenv(auth.ENV_HASH, raising=False)
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("pages/admin.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def login(at: AppTest, password: str = PASSWORD) -> AppTest:
    at.text_input(key="login_password").set_value(password)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at) -> str:
    return " ".join(
        str(e.value)
        for kind in ("markdown", "error", "warning", "info", "success", "caption")
        for e in getattr(at, kind)
    )


# ---------------------------------------------------------------- access
def test_password_hash_is_salted_and_verifies():
    assert auth.verify_password(PASSWORD, HASH)
    assert not auth.verify_password("wrong password", HASH)
    assert auth.hash_password(PASSWORD) != HASH  # a new salt every time
    assert not auth.verify_password(PASSWORD, "garbage") and not auth.verify_password(PASSWORD, "")


def test_hash_password_command_prints_a_working_hash():
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "hash-password"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("password_hash"))
    assert auth.verify_password(PASSWORD, line.split('"')[1])
    short = subprocess.run(
        [sys.executable, "-m", "dashboard", "hash-password"], input="short\n", capture_output=True, text=True
    )
    assert short.returncode == 1 and "太短" in short.stderr


def test_without_an_admin_the_page_explains_and_offers_nothing(monkeypatch, base):
    at = open_admin(monkeypatch, base, configured=False)
    assert "尚未设置管理员" in texts(at) and "hash-password" in texts(at)
    assert not at.file_uploader and not at.text_input and not at.button


def test_viewer_sees_only_the_login_form(monkeypatch, base):
    at = open_admin(monkeypatch, base)
    assert not at.file_uploader
    assert [b.label for b in at.button] == ["登录"]
    assert "版本历史" not in texts(at)


def test_wrong_password_is_refused_logged_and_slowed(monkeypatch, base):
    at = login(open_admin(monkeypatch, base), "not the password")
    assert "密码错误" in texts(at) and not at.file_uploader
    start = time.perf_counter()
    login(at, "still not it")
    assert time.perf_counter() - start >= 0.5  # the second failure waits
    log = (base / "audit" / "audit.jsonl").read_text(encoding="utf-8")
    assert log.count('"login_failed"') == 2


class Waits:
    """auth's clock: the real time, but the waits before checking a password are recorded, not slept."""

    def __init__(self):
        self.slept: list[float] = []

    time = staticmethod(time.time)

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 1))


def test_another_sessions_failures_do_not_delay_a_login(monkeypatch, base):
    """No client address is known here (AppTest has no connection, like a session behind a proxy
    that names nobody): one session's failures slow that session, not the administrator's."""
    waits = Waits()
    monkeypatch.setattr(auth, "time", waits)
    at = open_admin(monkeypatch, base)
    for n in range(3):
        login(at, f"guess {n}")
    assert waits.slept == [0, 0.5, 1]
    admin = login(open_admin(monkeypatch, base))
    assert admin.file_uploader and waits.slept[-1] == 0
    entries = [json.loads(line) for line in (base / "audit" / "audit.jsonl").read_text().splitlines()]
    assert [e["client"] for e in entries if e["event"].startswith("login")] == ["unknown"] * 4


def test_many_failures_slow_everybody_down_but_lock_nobody_out(monkeypatch, base):
    waits = Waits()
    monkeypatch.setattr(auth, "time", waits)
    at = open_admin(monkeypatch, base)
    for n in range(settings.GLOBAL_FAILED_LOGINS):
        at.session_state["login_failures"] = 0  # as from a fresh session each time
        login(at, f"guess {n}")
    assert waits.slept == [0] * settings.GLOBAL_FAILED_LOGINS
    admin = login(open_admin(monkeypatch, base))
    assert admin.file_uploader and waits.slept[-1] == 1  # a distributed attack slows everybody a little


def test_admin_session_expires_after_inactivity(monkeypatch, base):
    at = login(open_admin(monkeypatch, base))
    assert at.file_uploader
    at.session_state["admin_seen"] = time.time() - settings.ADMIN_IDLE_SECONDS - 1
    at.run()
    assert not at.file_uploader and "自动退出" in texts(at)


# ---------------------------------------------------------------- the flow
def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader[0].set_value([(name, content, "text/csv") for name, content in files]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_upload_preview_publish_rollback(monkeypatch, base):
    old_version = warehouse.current_version(base)
    at = upload(login(open_admin(monkeypatch, base)), ("眉县2023.csv", UPDATE))
    assert "校验通过" in texts(at)
    # 眉县 and the 宝鸡市 total (3,600 → 3,620) change; nothing else
    assert metric(at, "变化数据") == "2" and metric(at, "新增数据") == "0" and metric(at, "删除数据") == "0"
    changed = [d.value for d in at.dataframe if "发布后" in d.value.columns][0]
    row = changed[changed["地区"] == "眉县"].iloc[0]
    assert (row["地区"], row["年份"], row["当前值"], row["发布后"], row["变化"]) == (
        "眉县",
        2023,
        "300",
        "320",
        "+6.7%",
    )
    assert value(base, "610326", 2023) == 300  # nothing written before publishing

    at.button(key="publish").click().run()
    assert not at.exception
    assert value(base, "610326", 2023) == 320 and value(base, "610300", 2023) == 3620
    new_version = warehouse.current_version(base)
    assert new_version != old_version and "已发布新版本" in texts(at)
    manifest = warehouse.read_manifest(base, new_version)
    assert manifest["user"] == "admin" and manifest["changes"]["changed"] == 2
    assert [i["name"] for i in manifest["inputs"]][-1] == "眉县2023.csv"

    # the overview of the same server shows the new version without a restart
    at.switch_page("pages/overview.py").run()
    assert not at.exception
    at.switch_page("pages/admin.py").run()
    history = [d.value for d in at.dataframe if "版本" in d.value.columns and "发布人" in d.value.columns][0]
    assert history.iloc[0]["版本"] == new_version and history.iloc[0]["当前"] == "✔"

    at.selectbox(key="rollback_to").set_value(old_version)
    at.checkbox(key="confirm_rollback").check().run()
    at.button(key="rollback").click().run()
    assert not at.exception
    assert warehouse.current_version(base) == old_version and value(base, "610326", 2023) == 300
    events = [line for line in (base / "audit" / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e.split('"event": "')[1].split('"')[0] for e in events] == [
        "login",
        "upload",
        "publish",
        "rollback",
    ]


def test_a_region_chosen_in_the_picker_places_a_file_that_names_none(monkeypatch, base):
    """A long table without a 地区 column is refused until the clerk picks the region it is about;
    the publish then keeps that choice."""
    at = upload(
        login(open_admin(monkeypatch, base)),
        ("眉县补报.csv", "区划代码,年份,指标,数值,单位\n,2024,养老床位数,1200,张\n".encode()),
    )
    assert "发现 1 个错误" in texts(at) and "导入时选择表格所属地区" in " ".join(
        str(v) for d in at.dataframe for v in d.value.to_numpy().ravel()
    )
    picker = at.selectbox(key="upload_region")
    assert picker.format_func("610326") == "宝鸡市眉县（610326）"
    picker.set_value("610326").run()
    assert not at.exception and not at.error and "可以发布" in texts(at)
    at.checkbox(key="confirm_warnings").check().run()
    at.button(key="publish").click().run()
    assert not at.exception and value(base, "610326", 2024, "elderly_beds") == 1200
    assert warehouse.read_manifest(base, warehouse.current_version(base))["inputs"][-1]["region"] == "610326"


def test_bad_file_shows_issues_and_publishes_nothing(monkeypatch, base):
    before = sorted(p.name for p in (base / "warehouse" / "versions").iterdir())
    at = upload(
        login(open_admin(monkeypatch, base)), ("错误.csv", _csv("眉县,610326,2023,城市低保人数,三百,人\n"))
    )
    assert "发现 1 个错误" in texts(at)
    issues = [d.value for d in at.dataframe if "问题" in d.value.columns][0]
    assert issues.iloc[0][["文件", "行", "列"]].tolist() == ["错误.csv", "2", "E"]
    assert not [b for b in at.button if b.key == "publish"]  # no preview, no publish
    sheet = openpyxl.load_workbook(io.BytesIO(download(at, "下载问题清单 (xlsx)，发回区县修改")))["数据"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("级别", "文件", "工作表", "行", "列", "数值") and rows[1][:6] == (
        "错误",
        "错误.csv",
        None,
        "2",
        "E",
        "三百",
    )
    assert sorted(p.name for p in (base / "warehouse" / "versions").iterdir()) == before


def test_traversal_name_stays_in_the_upload_folder(monkeypatch, base, tmp_path):
    at = upload(login(open_admin(monkeypatch, base)), ("../../../../evil.csv", UPDATE))
    assert "校验通过" in texts(at)
    folder = Path(at.session_state["upload_dir"])
    assert [p.relative_to(folder).as_posix() for p in folder.rglob("*.csv")] == ["00/evil.csv"]
    assert not list(Path(folder.anchor).glob("evil.csv")) and not list(tmp_path.rglob("evil.csv"))


def test_oversized_file_is_refused_in_chinese(monkeypatch, base):
    huge = _csv("眉县,610326,2023,城市低保人数,320,人\n") + b"#" * (settings.UPLOAD_LIMIT_MB * 1024 * 1024)
    at = upload(login(open_admin(monkeypatch, base)), ("太大.csv", huge))
    assert "文件过大" in texts(at) and "太大.csv" in texts(at)
    assert not at.metric and not [b for b in at.button if b.key == "publish"]


def test_formula_text_in_an_upload_is_inert_in_the_issues_list(monkeypatch, base):
    evil = '=HYPERLINK("http://evil.example","点我")'
    at = upload(
        login(open_admin(monkeypatch, base)),
        ("注入.csv", _csv(f'"{evil.replace(chr(34), chr(34) * 2)}",,2023,城市低保人数,1,人\n')),
    )
    assert "错误" in texts(at) and not [b for b in at.button if b.key == "publish"]
    sheet = openpyxl.load_workbook(io.BytesIO(download(at, "下载问题清单 (xlsx)，发回区县修改")))["数据"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert any(c.value == evil and c.data_type == "s" for c in cells)  # a string cell, text unchanged


def test_warnings_need_confirmation(monkeypatch, base):
    # 300 → 900 in a year is flagged as an unusual change (bound ±50%), not an error
    at = upload(
        login(open_admin(monkeypatch, base)), ("跳变.csv", _csv("眉县,610326,2023,城市低保人数,900,人\n"))
    )
    assert at.button(key="publish").disabled and at.checkbox(key="confirm_warnings")
    at.checkbox(key="confirm_warnings").check().run()
    assert not at.button(key="publish").disabled
    at.button(key="publish").click().run()
    assert value(base, "610326", 2023) == 900


def test_stale_check_cannot_publish(monkeypatch, base):
    at = upload(login(open_admin(monkeypatch, base)), ("眉县2023.csv", UPDATE))
    pipeline.load(
        base, [write_long_csv(base.parent / "other.csv", "岐山县,610323,2023,城市低保人数,301,人\n")]
    )
    at.run()
    assert "已被他人更新" in texts(at)
    assert not [b for b in at.button if b.key == "publish"]


# ---------------------------------------------------------------- the pieces
def test_compare_counts_and_percentages():
    key = ["region_code", "year", "indicator_id"]
    old = pd.DataFrame(
        [["a", 2023, "x", 100.0], ["a", 2024, "x", 50.0], ["b", 2023, "x", 0.0]], columns=key + ["value"]
    )
    new = pd.DataFrame(
        [["a", 2023, "x", 110.0], ["b", 2023, "x", 5.0], ["c", 2023, "x", 1.0]], columns=key + ["value"]
    )
    diff = changes.compare(old, new).set_index(key)
    assert changes.summary(diff.reset_index()) == {"new": 1, "changed": 2, "unchanged": 0, "removed": 1}
    assert diff.loc[("a", 2023, "x"), "pct"] == pytest.approx(10.0)
    assert pd.isna(diff.loc[("b", 2023, "x"), "pct"])  # no percentage from a zero base
    assert diff.loc[("a", 2024, "x"), "status"] == "removed"
    same = changes.compare(old, old.assign(value=old["value"] + 1e-12))
    assert set(same["status"]) == {"unchanged"}
    assert changes.biggest_moves(diff.reset_index(), 1).iloc[0].tolist() == ["a", "x"]


def test_exports_neutralise_formulas():
    table = pd.DataFrame(
        {"文件": ['=HYPERLINK("http://x")', "@SUM(A1)", "+1", "-2", "眉县"], "数值": [1, -2, 3, 4, 5]}
    )
    csv = export.csv_bytes(table).decode("utf-8-sig").splitlines()
    assert csv[1].startswith("\"'=HYPERLINK") and csv[2].startswith("'@SUM") and csv[4].startswith("'-2")
    assert csv[5] == "眉县,5" and csv[2].endswith(",-2")  # numbers keep their sign
    book = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(table, "说明")))
    cells = [row[0] for row in book["数据"].iter_rows(min_row=2, values_only=True)]
    assert cells[:2] == ['=HYPERLINK("http://x")', "@SUM(A1)"]  # string cells in xlsx: the text as is
    assert all(c.data_type != "f" for row in book["数据"].iter_rows() for c in row)


def test_load_after_rollback_builds_on_the_served_version(tmp_path):
    base = tmp_path / "data"
    first = pipeline.load(base, [write_long_csv(tmp_path / "a.csv", BASE_ROWS)]).version
    pipeline.load(base, [write_long_csv(tmp_path / "b.csv", "岐山县,610323,2024,城市低保人数,200,人\n")])
    warehouse.rollback(base, first)
    pipeline.load(base, [write_long_csv(tmp_path / "c.csv", "凤县,610330,2024,城市低保人数,100,人\n")])
    assert value(base, "610326", 2023) == 300 and value(base, "610330", 2024) == 100
    assert value(base, "610323", 2024) is None  # the rolled-back file does not come back


def test_server_settings_keep_xsrf_on_and_cap_uploads():
    import tomllib

    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableXsrfProtection"] is True
    assert settings.UPLOAD_LIMIT_MB <= config["server"]["maxUploadSize"] <= 200
    assert (
        not (Path(APP).parent / ".streamlit" / "secrets.toml").exists()
        or subprocess.run(
            ["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=Path(APP).parent
        ).returncode
        == 0
    )
