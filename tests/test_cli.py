"""End-to-end: the `python -m etl` commands as a clerk or operator runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.util import query
from tests.util import write_long_csv as write

REPO = Path(__file__).resolve().parents[1]


def etl(*args, data_dir: Path, check: bool = False) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "etl", *args, "--data-dir", str(data_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow
def test_load_validate_versions_rollback(tmp_path):
    data = tmp_path / "data"
    first = write(
        tmp_path / "眉县2023.csv",
        "眉县,610326,2023,城市低保人数,0.03,万人\n眉 县,,2023,养老床位数,2.3,万张\n",
    )
    assert etl("where", data_dir=data).returncode == 1

    proc = etl("validate", str(first), "--json", data_dir=data, check=True)
    assert json.loads(proc.stdout)["ok"] is True

    proc = etl("load", str(first), data_dir=data, check=True)
    assert "已发布新版本" in proc.stdout
    db = etl("where", data_dir=data, check=True).stdout.strip()
    assert query(db, "SELECT indicator_id, value, origin FROM facts ORDER BY 1") == [
        ("dibao_urban_persons", 300.0, "reported"),
        ("elderly_beds", 23000.0, "reported"),
    ]
    lineage = query(db, 'SELECT file_name, sheet, row, "column" FROM lineage ORDER BY row')
    assert lineage == [("眉县2023.csv", "", 2, "E"), ("眉县2023.csv", "", 3, "E")]
    assert (data / "raw").exists() and len(list((data / "raw").glob("*眉县2023.csv"))) == 1

    again = etl("load", str(first), data_dir=data, check=True)
    assert "数据无变化" in again.stdout
    assert len(list((data / "raw").glob("*.csv"))) == 1

    second = write(tmp_path / "凤县2023.csv", "凤县,610330,2023,城市低保人数,120,人\n")
    etl("load", str(second), data_dir=data, check=True)
    db2 = etl("where", data_dir=data, check=True).stdout.strip()
    assert db2 != db
    assert query(db2, "SELECT count(*) FROM facts WHERE region_code IN ('610326','610330')") == [(3,)]

    versions = etl("versions", data_dir=data, check=True).stdout.splitlines()
    assert len(versions) == 2 and versions[1].startswith("*")
    old = versions[0].split()[0]
    etl("rollback", old, data_dir=data, check=True)
    assert etl("where", data_dir=data, check=True).stdout.strip() == db
    assert etl("rollback", "nope", data_dir=data).returncode == 1


def test_bad_file_exits_1_with_chinese_location(tmp_path):
    bad = write(tmp_path / "bad.csv", "眉县,610326,2023,城市低保人数,约300,人\n")
    proc = etl("load", str(bad), data_dir=tmp_path / "data")
    assert proc.returncode == 1
    assert "文件 bad.csv，第2行，E列" in proc.stdout and "约300" in proc.stdout
    assert "数据仓库未作任何改动" in proc.stdout
    assert not (tmp_path / "data" / "warehouse" / "CURRENT").exists()
    proc = etl("validate", str(bad), "--json", data_dir=tmp_path / "data")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["ok"] is False
    assert report["errors"][0] | {"message": ""} == {
        "severity": "error",
        "code": "not_a_number",
        "message": "",
        "file": "bad.csv",
        "sheet": "",
        "row": 2,
        "column": "E",
        "value": "约300",
        "suggestion": report["errors"][0]["suggestion"],
    }


def test_build_uses_env_data_dir_and_sample(tmp_path):
    data = tmp_path / "envdata"
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "build"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "MZ_DATA_DIR": str(data)},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "示例数据" in proc.stdout
    db = str(next((data / "warehouse" / "versions").glob("*/warehouse.duckdb")))
    assert query(db, "SELECT value FROM meta WHERE key = 'is_sample'") == [("true",)]
    assert query(db, "SELECT bool_and(is_sample) FROM facts") == [(True,)]
    origins = dict(query(db, "SELECT origin, count(*) FROM facts GROUP BY 1"))
    assert set(origins) == {"reported", "aggregated", "derived"}


def test_template_command(tmp_path):
    out = tmp_path / "宝鸡_2025.xlsx"
    etl("template", "--city", "610300", "--year", "2025", "--out", str(out), data_dir=tmp_path, check=True)
    assert out.exists() and out.stat().st_size > 0


@pytest.mark.parametrize("setting, expected", [(None, "False"), ("1", "True")])
def test_etl_processes_keep_numpy_off_huge_pages_unless_told(setting, expected):
    """Imported before numpy (as `python -m etl` does), etl turns numpy's transparent-huge-page
    advice off (page-fault stalls in a load: etl/__init__.py); an explicit setting wins."""
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if setting is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = setting
    code = "import etl, numpy._core.multiarray as m; print(m._get_madvise_hugepage())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_settings_command_prints_the_readme_table(capsys):
    """`python -m etl settings` prints the 设置 table README.md carries (tests/test_settings.py
    checks README against the registry)."""
    from etl import cli, settings

    assert cli.main(["settings"]) == 0
    printed = capsys.readouterr().out
    assert printed == settings.markdown_table() and "`NUMPY_MADVISE_HUGEPAGE`" in printed
