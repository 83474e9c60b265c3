"""The publish path end to end: one lock from reading the served inputs to the pointer swap and
the move into raw/ (load, build, rollback, 数据管理), inputs never lost by a crash, one list of
accepted inputs, conflicts between the files of one load, errors after combining, uncalculated
formulas whatever the XML looks like, full disks, folders and header-only files.

Every refusal is checked the same way: the error's code, its Chinese message with the file (and
sheet, row, column where there is one), and every byte under <data-dir>/warehouse and raw/
unchanged. The concurrency tests use real processes and the real lock (no mocking of it); where
a moment must be hit (right after the pointer swap, inside a publish) the subprocess wraps one
warehouse function.
"""

import errno
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from etl import cli, pipeline, sources, warehouse
from etl.issues import error
from tests.util import HEADER, baoji_rows, query, write_long_csv

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- helpers
def snapshot(base: Path) -> dict[str, str]:
    """Every file (sha256) and folder under <data-dir>/warehouse and raw/."""
    out = {}
    for sub in ("warehouse", "raw"):
        root = base / sub
        for path in sorted(root.rglob("*")) if root.exists() else []:
            key = path.relative_to(base).as_posix()
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "<folder>"
    return out


def facts(
    base: Path,
    sql: str = "SELECT region_code, year, indicator_id, value FROM facts "
    "WHERE origin = 'reported' ORDER BY ALL",
):
    return query(warehouse.current_db(base), sql)


def count(base: Path, indicator: str) -> int:
    return query(
        warehouse.current_db(base),
        "SELECT count(*) FROM facts WHERE indicator_id = ? AND origin = 'reported'",
        [indicator],
    )[0][0]


def manifest_names(base: Path) -> list[str]:
    return [i["name"] for i in warehouse.read_manifest(base, warehouse.current_version(base))["inputs"]]


def raw_names(base: Path) -> list[str]:
    return sorted(p.name.split("_", 2)[2] for p in (base / "raw").iterdir() if p.is_file())


def staged(base: Path) -> list[Path]:
    folder = base / "raw" / pipeline.STAGING
    return sorted(folder.iterdir()) if folder.exists() else []


def only_error(outcome: pipeline.Outcome, code: str):
    assert not outcome.ok and [i.code for i in outcome.issues.errors] == [code], [
        i.as_text() for i in outcome.issues.errors
    ]
    return outcome.issues.errors[0]


@pytest.fixture
def base(served):
    return served


def etl(*args, data_dir: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etl", *args, "--data-dir", str(data_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


# A pre-warmed `python -m etl …`: imports first, says "ready", runs the command line it is then
# given on stdin (so several start within milliseconds of each other), exits with its code.
# `HOOK` (optional) wraps one warehouse function, e.g. to die right after the pointer swap.
RUNNER = textwrap.dedent("""
    import os, signal, sys, time
    from etl import cli, pipeline, warehouse
    hook = os.environ.get("HOOK", "")
    if hook == "die_after_swap":
        real_swap = warehouse._swap_pointer
        def swap(base, version):
            real_swap(base, version)
            os.kill(os.getpid(), signal.SIGKILL)
        warehouse._swap_pointer = swap
    elif hook == "die_while_writing":
        def write(folder, tables):
            os.kill(os.getpid(), signal.SIGKILL)
        warehouse._write_tables = write
    elif hook == "slow_publish":          # holds the (real) lock a while, saying when it has it
        real_recover, real_write = pipeline._recover_staging, warehouse._write_tables
        def recover(base):
            print("locked", flush=True)
            real_recover(base)
        def write(folder, tables):
            time.sleep(float(os.environ.get("SLOW", "1.5")))
            real_write(folder, tables)
        pipeline._recover_staging, warehouse._write_tables = recover, write
    print("ready", flush=True)
    args = sys.stdin.readline().split("\\t")
    sys.exit(cli.main([a.strip() for a in args]))
""")


def runner(env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


def go(proc: subprocess.Popen, *args) -> None:
    proc.stdin.write("\t".join(map(str, args)) + "\n")
    proc.stdin.flush()


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


# A process holding the publish lock (as a long build would) until its stdin closes.
HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from etl import warehouse
    with warehouse.publish_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        sys.stdin.read()
""")


class Holder:
    def __init__(self, base: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(base)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------- 1. one lock for every writer
def test_two_loads_started_together_both_end_up_served(base, tmp_path):
    """Pre-warmed `etl load` processes released within milliseconds of each other, twice: every
    file is in the final version (manifest and facts) and in raw/; one of each pair waited."""
    pairs = [("农村低保人数", "特困人员救助供养人数"), ("低保边缘人口数", "持证社会工作者人数")]
    ids = {
        "农村低保人数": "dibao_rural_persons",
        "特困人员救助供养人数": "tekun_persons",
        "低保边缘人口数": "near_dibao_persons",
        "持证社会工作者人数": "certified_social_workers",
    }
    waited = 0
    for round_, pair in enumerate(pairs):
        files = [
            write_long_csv(tmp_path / f"r{round_}_{n}.csv", baoji_rows(ind, 10 + n))
            for n, ind in enumerate(pair)
        ]
        procs = [runner() for _ in files]
        for proc, path in zip(procs, files):
            go(proc, "load", path, "--data-dir", base)
        results = [finish(proc) for proc in procs]
        for code, out, err in results:
            assert code == 0 and "已发布新版本" in out, out + err
        waited += sum(pipeline.WAITING in err for _, _, err in results)
    assert waited >= 1, "the loads never overlapped: the test did not test the lock"
    names = ["base.csv"] + [f"r{r}_{n}.csv" for r in range(2) for n in range(2)]
    assert sorted(manifest_names(base)) == sorted(names)
    for pair in pairs:
        for indicator in pair:
            assert count(base, ids[indicator]) == 24, indicator  # 12 counties x 2 years
    assert count(base, "dibao_urban_persons") == 24
    assert raw_names(base) == sorted(names) and not staged(base)
    assert [e["event"] for e in warehouse.history(base)].count("publish") == 5


def test_rollback_during_a_load_waits_and_holds(base, tmp_path):
    """A rollback asked for while a load holds the lock waits for it, then applies: it is never
    undone by the load. The load built on the version served when it took the lock; a load after
    the rollback builds on the version rolled back to."""
    first = warehouse.current_version(base)
    assert pipeline.load(base, [write_long_csv(tmp_path / "x.csv", baoji_rows("农村低保人数", 50))]).ok
    slow = runner({"HOOK": "slow_publish", "SLOW": "1.5"})
    back = runner()
    go(
        slow,
        "load",
        write_long_csv(tmp_path / "y.csv", baoji_rows("特困人员救助供养人数", 7)),
        "--data-dir",
        base,
    )
    assert slow.stdout.readline().strip() == "locked"
    started = time.monotonic()
    go(back, "rollback", first, "--data-dir", base)
    code, out, err = finish(back)
    assert code == 0 and f"已回退到版本 {first}" in out, out + err
    assert pipeline.WAITING in err and time.monotonic() - started > 0.5  # it waited for the load
    code, out, err = finish(slow)
    assert code == 0 and "已发布新版本" in out, out + err
    loaded = out.split("已发布新版本 ")[1].split("：")[0]
    assert warehouse.current_version(base) == first  # the rollback held
    events = [(e["event"], e["version"]) for e in warehouse.history(base)]
    assert events[-2:] == [("publish", loaded), ("rollback", first)]
    assert sorted(i["name"] for i in warehouse.read_manifest(base, loaded)["inputs"]) == [
        "base.csv",
        "x.csv",
        "y.csv",
    ]
    # the next load builds on what is served (the rollback's version), not on the load's
    assert pipeline.load(base, [write_long_csv(tmp_path / "z.csv", baoji_rows("低保边缘人口数", 3))]).ok
    assert sorted(manifest_names(base)) == ["base.csv", "z.csv"]
    assert count(base, "dibao_rural_persons") == 0


def test_a_second_writer_waits_then_gives_up_busy_with_nothing_changed(base, tmp_path, monkeypatch):
    new = write_long_csv(tmp_path / "凤县.csv", "凤县,610330,2023,农村低保人数,120,人\n")
    before, version = snapshot(base), warehouse.current_version(base)
    with Holder(base) as holder:
        monkeypatch.setenv(warehouse.ENV_PUBLISH_WAIT, "0.5")
        steps = []
        started = time.monotonic()
        outcome = pipeline.load(base, [new], lambda step, done, total: steps.append(step))
        took = time.monotonic() - started
        issue = only_error(outcome, "busy")
        assert pipeline.WAITING in steps and 0.5 <= took < 5
        assert (
            issue.file == "凤县.csv" and "另一项发布" in issue.message and "本次未做任何改动" in issue.message
        )
        assert "文件 凤县.csv：另一项发布（导入、重建或回滚）正在进行，已等待 0.5 秒" in issue.as_text()
        assert only_error(pipeline.build(base), "busy")
        with pytest.raises(warehouse.Busy, match="已等待 0.5 秒"):
            pipeline.rollback(base, version)
        # the command line: a line on stderr while waiting, the busy error, exit code 1
        proc = etl("load", str(new), data_dir=base, env={warehouse.ENV_PUBLISH_WAIT: "0.5"})
        assert proc.returncode == 1 and pipeline.WAITING in proc.stderr, proc.stdout + proc.stderr
        assert "[错误] 文件 凤县.csv：另一项发布" in proc.stdout and "数据仓库未作任何改动" in proc.stdout
        proc = etl("rollback", version, data_dir=base, env={warehouse.ENV_PUBLISH_WAIT: "0.5"})
        assert proc.returncode == 1 and "未回退：另一项发布" in proc.stderr, proc.stdout + proc.stderr
        assert snapshot(base) == before and warehouse.current_version(base) == version
        holder.release()
        assert pipeline.load(base, [new]).ok  # once it is free, the load goes through
    assert count(base, "dibao_rural_persons") == 1


def test_the_lock_is_reentrant_in_a_thread_and_exclusive_between_threads(base, monkeypatch):
    """The caller holds the lock and publish takes it again (no deadlock); another thread of the
    same process (another 数据管理 session) waits for it like another process would."""
    monkeypatch.setenv(warehouse.ENV_PUBLISH_WAIT, "0.3")
    tables = {
        "facts": pd.DataFrame(
            {
                "region_code": ["610302"],
                "year": [2023],
                "indicator_id": ["population"],
                "value": [1.0],
                "origin": ["reported"],
                "is_sample": [False],
            }
        )
    }
    results = []
    with warehouse.publish_lock(base):
        version = warehouse.publish(base, tables, {})
        worker = threading.Thread(target=lambda: results.append(pipeline.build(base)))
        worker.start()
        worker.join(10)
    assert warehouse.current_version(base) == version
    assert only_error(results[0], "busy")


def test_the_admin_guard_refuses_a_publish_when_the_version_moved(base, tmp_path):
    """数据管理 publishes what it previewed: a load in between (another clerk) refuses it."""
    checked = warehouse.current_version(base)
    assert pipeline.load(
        base, [write_long_csv(tmp_path / "other.csv", "岐山县,610323,2023,城市低保人数,301,人\n")]
    ).ok
    before = snapshot(base)
    outcome = pipeline.load(
        base,
        [write_long_csv(tmp_path / "mine.csv", "眉县,610326,2023,城市低保人数,320,人\n")],
        base_version=checked,
    )
    issue = only_error(outcome, "busy")
    assert (
        issue.file == "mine.csv"
        and "校验之后数据已被他人更新" in issue.message
        and "本次未发布" in issue.message
    )
    assert snapshot(base) == before


# ---------------------------------------------------------------- 2. a crash never loses an input
@pytest.mark.parametrize("moment", ["die_after_swap", "die_while_writing"])
def test_a_load_killed_around_the_swap_loses_nothing(base, tmp_path, moment):
    """SIGKILL right after the pointer swap (published, file still in staging) or while writing
    the version (not published): the next load of another file and the next build agree with
    what was served — the first file's facts are kept exactly when it was published."""
    before = warehouse.current_version(base)
    first = write_long_csv(tmp_path / "first.csv", baoji_rows("农村低保人数", 500))
    proc = runner({"HOOK": moment})
    go(proc, "load", first, "--data-dir", base)
    code, out, err = finish(proc)
    assert code == -signal.SIGKILL, out + err
    published = moment == "die_after_swap"
    assert (warehouse.current_version(base) != before) == published
    assert [p.name.endswith("first.csv") for p in staged(base)] == [True]  # not yet in raw/
    assert raw_names(base) == ["base.csv"]

    second = write_long_csv(tmp_path / "second.csv", baoji_rows("特困人员救助供养人数", 40))
    proc = etl("load", str(second), data_dir=base)
    assert proc.returncode == 0 and "已发布新版本" in proc.stdout, proc.stdout + proc.stderr
    kept = ["base.csv", "first.csv", "second.csv"] if published else ["base.csv", "second.csv"]
    assert sorted(manifest_names(base)) == kept and raw_names(base) == kept and not staged(base)
    assert count(base, "dibao_rural_persons") == (24 if published else 0)
    assert count(base, "tekun_persons") == 24
    served = facts(base)
    proc = etl("build", data_dir=base)
    assert proc.returncode == 0 and "数据无变化" in proc.stdout, proc.stdout + proc.stderr
    assert facts(base) == served
    assert not list((base / "warehouse" / "versions").glob(".tmp-*"))


def test_a_staged_input_of_a_version_no_longer_served_is_kept(base, tmp_path):
    """Recovery keeps a staged file any version lists (a rollback may have moved CURRENT away
    from the version that published it) and removes one no version lists."""
    first = warehouse.current_version(base)
    path = write_long_csv(tmp_path / "later.csv", baoji_rows("农村低保人数", 500))
    assert pipeline.load(base, [path]).ok
    pipeline.rollback(base, first)
    later = next(p for p in (base / "raw").iterdir() if p.name.endswith("later.csv"))
    staging = base / "raw" / pipeline.STAGING
    later.replace(staging / later.name)  # listed by a version, but not the current one
    (staging / "20260101T000000000000_deadbeef_never.csv").write_text(
        HEADER + "眉县,,2023,城市低保人数,1,人\n", encoding="utf-8"
    )
    assert pipeline.load(
        base, [write_long_csv(tmp_path / "c.csv", "凤县,610330,2023,农村低保人数,1,人\n")]
    ).ok
    assert raw_names(base) == ["base.csv", "c.csv", "later.csv"] and not staged(base)
    assert sorted(manifest_names(base)) == ["base.csv", "c.csv"]


# ---------------------------------------------------------------- 3. one list of accepted inputs
def test_a_txt_file_loads_and_every_later_build_reads_it_again(base, tmp_path):
    assert sources.INPUT_SUFFIXES == sources.EXCEL_SUFFIXES | sources.CSV_SUFFIXES
    assert pipeline.INPUT_SUFFIXES is sources.INPUT_SUFFIXES
    txt = tmp_path / "凤县.txt"
    txt.write_text(HEADER + "凤县,610330,2023,农村低保人数,120,人\n", encoding="utf-8")
    outcome = pipeline.load(base, [txt])
    assert outcome.ok and outcome.changed
    assert raw_names(base) == ["base.csv", "凤县.txt"]
    served = facts(base)
    assert ("610330", 2023, "dibao_rural_persons", 120.0) in served
    outcome = pipeline.build(base)
    assert outcome.ok and outcome.changed is False and facts(base) == served
    assert sorted(i["name"] for i in outcome.inputs) == ["base.csv", "凤县.txt"]


def test_a_suffix_build_would_not_read_is_refused(base, tmp_path):
    """A workbook named .zip reads fine as content, but build would never pick it up from raw/:
    refused by load_source, nothing kept."""
    ok = write_long_csv(tmp_path / "ok.csv", "凤县,610330,2023,农村低保人数,120,人\n")
    odd = tmp_path / "数据.dat"
    shutil.copyfile(ok, odd)
    before = snapshot(base)
    issue = only_error(pipeline.load(base, [odd]), "not_spreadsheet")
    assert issue.file == "数据.dat" and "“数据.dat”不是 Excel" in issue.message
    assert snapshot(base) == before


# ---------------------------------------------------------------- 4. conflicts within one load
def test_two_files_of_one_load_may_not_disagree(base, tmp_path):
    a = write_long_csv(
        tmp_path / "a.csv", "眉县,610326,2023,农村低保人数,900,人\n凤县,610330,2023,农村低保人数,5,人\n"
    )
    b = write_long_csv(
        tmp_path / "b.csv", "凤县,610330,2023,农村低保人数,5,人\n\n眉县,610326,2023,农村低保人数,950,人\n"
    )
    before = snapshot(base)
    outcome = pipeline.load(base, [a, b])
    issue = only_error(outcome, "duplicate")
    assert (issue.file, issue.row, issue.column, issue.value) == ("b.csv", 4, "E", "950")
    assert issue.message == (
        "眉县2023年“农村低保人数”在本次导入的两个文件中数值不同："
        "文件 a.csv，第2行，E列为 900，文件 b.csv，第4行，E列为 950。"
    )
    assert issue.as_text().startswith("[错误] 文件 b.csv，第4行，E列：眉县2023年")
    assert only_error(pipeline.validate(base, [a, b]), "duplicate") == issue
    assert snapshot(base) == before
    proc = etl("load", str(a), str(b), data_dir=base)
    assert proc.returncode == 1 and "文件 a.csv，第2行，E列为 900" in proc.stdout and snapshot(base) == before
    # the same value in both files is fine (凤县 above); a later load still corrects an earlier one
    same = write_long_csv(tmp_path / "same.csv", "眉县,610326,2023,农村低保人数,900,人\n")
    assert pipeline.load(base, [a, same]).ok
    assert pipeline.load(base, [b]).ok
    assert ("610326", 2023, "dibao_rural_persons", 950.0) in facts(base)


# ---------------------------------------------------------------- 5. errors after combining
def test_errors_found_after_combining_block_build_and_load(base, tmp_path, monkeypatch):
    real = pipeline.derive

    def derive(reported, catalog, registry):
        out, issues = real(reported, catalog, registry)
        return out, issues + [
            error(
                "out_of_range",
                "宝鸡市2023年“低保覆盖率”算得 150%，超出合理范围（0～100%）。",
                file="眉县.csv",
                row=2,
                column="E",
                value="150",
            )
        ]

    new = write_long_csv(tmp_path / "眉县.csv", "眉县,610326,2023,农村低保人数,120,人\n")
    before = snapshot(base)
    monkeypatch.setattr(pipeline, "derive", derive)
    for outcome in (pipeline.load(base, [new]), pipeline.build(base), pipeline.validate(base, [new])):
        issue = only_error(outcome, "out_of_range")
        assert outcome.version is None and issue.as_text().startswith(
            "[错误] 文件 眉县.csv，第2行，E列：宝鸡市"
        )
        assert snapshot(base) == before
    assert pipeline.check_files(base, [new])[2] is None  # 数据管理 offers no preview, no publish
    assert cli.main(["load", str(new), "--data-dir", str(base)]) == 1
    assert snapshot(base) == before


# ---------------------------------------------------------------- 6. uncalculated formulas, parsed
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook(cells_row2: str, *, prefix: str = "") -> bytes:
    """A hand-made xlsx: a long table whose row 2 is `cells_row2` (raw XML) and whose
    workbook lists the sheet with r:id before name (the order no regex expected)."""
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns{":" + prefix if prefix else ""}="{MAIN}"'

    def text(ref, value):
        return f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t>{value}</{p}t></{p}is></{p}c>'

    header = "".join(
        text(f"{c}1", v) for c, v in zip("ABCDEF", ["地区", "区划代码", "年份", "指标", "数值", "单位"])
    )
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<{p}worksheet {ns}><{p}sheetData><{p}row r="1">{header}</{p}row>'
        f'<{p}row r="2">{text("A2", "眉县")}{text("B2", "610326")}<{p}c r="C2"><{p}v>2023</{p}v></{p}c>'
        f"{text('D2', '农村低保人数')}{cells_row2}{text('F2', '人')}</{p}row>"
        f"</{p}sheetData></{p}worksheet>"
    )
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Target="xl/workbook.xml" Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>",
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet r:id="rId1" sheetId="1" name="数据"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Target="worksheets/sheet1.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Id="rId1"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content.encode("utf-8"))
    return buf.getvalue()


@pytest.mark.parametrize(
    "cell",
    [
        '<c t="n" r="E2"><f>1+1</f></c>',
        '<c s="0" r="E2" t="n"><f>1+1</f><v/></c>',
        '<c\n  r = \'E2\'><f t="shared" ref="E2" si="0">1+1</f><v></v></c>',
    ],
)
def test_an_uncalculated_formula_is_found_whatever_the_attribute_order(base, tmp_path, cell):
    path = tmp_path / "公式.xlsx"
    path.write_bytes(workbook(cell))
    before = snapshot(base)
    issue = only_error(pipeline.load(base, [path]), "formula")
    assert (issue.file, issue.sheet, issue.row, issue.column) == ("公式.xlsx", "数据", 2, "E")
    assert issue.as_text().startswith(
        "[错误] 文件 公式.xlsx，工作表 数据，第2行，E列：单元格 E2 是公式，但文件中没有保存计算结果"
    )
    assert snapshot(base) == before


def test_a_formula_with_its_cached_value_loads(base, tmp_path):
    path = tmp_path / "已计算.xlsx"
    path.write_bytes(workbook('<c t="n" s="0" r="E2"><f>100+20</f><v>120</v></c>'))
    outcome = pipeline.load(base, [path])
    assert outcome.ok, [i.as_text() for i in outcome.issues.items]
    assert ("610326", 2023, "dibao_rural_persons", 120.0) in facts(base)


def test_formula_scan_is_namespace_aware_and_positional():
    prefixed = workbook('<x:c t="n" r="E2"><x:f>1+1</x:f></x:c>', prefix="x")
    with zipfile.ZipFile(io.BytesIO(prefixed)) as zf:
        assert sources._uncalculated_formulas(zf.read("xl/worksheets/sheet1.xml")) == ["E2"]
    # cells without r take the next column; a formula in another namespace is not a cell's
    xml = (
        f'<worksheet xmlns="{MAIN}" xmlns:o="urn:other"><sheetData><row r="7"><c><v>1</v></c><c><f>A7</f></c>'
        f'<c r="D7"><o:f>x</o:f><v>2</v></c><c t="str"><f>"a"</f><v>a</v></c></row>'
        '<row><c r="B8"><f>1</f></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    assert sources._uncalculated_formulas(xml) == ["B7", "B8"]
    assert sources._uncalculated_formulas(b"<worksheet><sheetData><row") == []  # damaged: calamine says so


def test_the_sparse_sheet_guard_reads_either_quote(base, tmp_path, monkeypatch):
    """The extent guard (a cell at XFD makes calamine allocate a dense range) may not be slipped
    past with single quotes or blanks around "=", which XML allows as well."""
    import python_calamine

    def parser(*args, **kwargs):
        raise AssertionError("calamine must not see this file")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", parser)
    for cell in ("<c r='XFD2'><v>1</v></c>", '<c r = "XFD2"><v>1</v></c>'):
        path = tmp_path / "稀疏.xlsx"
        path.write_bytes(workbook(cell))
        before = snapshot(base)
        issue = only_error(pipeline.load(base, [path]), "too_large")
        assert (issue.file, issue.sheet) == ("稀疏.xlsx", "数据") and "16,384 列" in issue.message
        assert snapshot(base) == before


# ---------------------------------------------------------------- 7. a full disk
@pytest.mark.parametrize("where", ["staging", "version", "pointer"])
def test_a_full_disk_is_a_chinese_error_and_leaves_nothing_behind(base, tmp_path, monkeypatch, capsys, where):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "staging":
        monkeypatch.setattr(
            pipeline.shutil, "copyfile", lambda src, dst: (Path(dst).write_bytes(b"half"), full())
        )
    elif where == "version":
        real = warehouse._write_tables
        monkeypatch.setattr(warehouse, "_write_tables", lambda folder, tables: (real(folder, tables), full()))
    else:  # CURRENT.tmp written, then the rename onto CURRENT fails
        real_replace = os.replace
        monkeypatch.setattr(
            warehouse.os,
            "replace",
            lambda src, dst: full() if Path(dst).name == "CURRENT" else real_replace(src, dst),
        )
    new = write_long_csv(tmp_path / "凤县.csv", "凤县,610330,2023,农村低保人数,120,人\n")
    if where != "staging":  # a file dropped into raw/ by hand: the next build has work to do
        write_long_csv(base / "raw" / "手工放入.csv", "陇县,610327,2023,农村低保人数,7,人\n")
    before, version = snapshot(base), warehouse.current_version(base)
    outcome = pipeline.load(base, [new])
    issue = only_error(outcome, "write_failed")
    assert issue.message == "磁盘空间不足，无法写入数据仓库，本次未发布，当前版本保持不变。"
    assert issue.file == "凤县.csv" and outcome.version is None and not outcome.changed
    assert snapshot(base) == before and warehouse.current_version(base) == version
    assert cli.main(["load", str(new), "--data-dir", str(base)]) == 1
    printed = capsys.readouterr().out
    assert "[错误] 文件 凤县.csv：磁盘空间不足，无法写入数据仓库" in printed and "Traceback" not in printed
    assert snapshot(base) == before
    if where != "staging":
        assert only_error(pipeline.build(base), "write_failed").file == ""
        assert snapshot(base) == before


def test_a_full_disk_during_rollback_is_reported_in_chinese(base, tmp_path, monkeypatch, capsys):
    first = warehouse.current_version(base)
    assert pipeline.load(
        base, [write_long_csv(tmp_path / "b.csv", "凤县,610330,2023,农村低保人数,1,人\n")]
    ).ok
    before = snapshot(base)

    def full(base, version):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(warehouse, "_swap_pointer", full)
    assert cli.main(["rollback", first, "--data-dir", str(base)]) == 1
    assert "未回退：磁盘空间不足，无法写入数据仓库，本次未回滚，当前版本保持不变。" in capsys.readouterr().err
    assert snapshot(base) == before


# ---------------------------------------------------------------- 8. folders and header-only files
def test_a_folder_given_as_a_file_is_not_a_file(base, tmp_path):
    folder = tmp_path / "眉县数据"
    folder.mkdir()
    before = snapshot(base)
    issue = only_error(pipeline.load(base, [folder]), "not_a_file")
    assert issue.file == "眉县数据" and issue.message == "“眉县数据”是文件夹，不是数据文件，无法导入。"
    assert snapshot(base) == before
    proc = etl("load", str(folder), data_dir=base)
    assert proc.returncode == 1 and "[错误] 文件 眉县数据：“眉县数据”是文件夹" in proc.stdout, (
        proc.stdout + proc.stderr
    )
    assert "Is a directory" not in proc.stdout + proc.stderr
    issue = only_error(pipeline.load(base, [tmp_path / "没有.csv"]), "file_unreadable")
    assert issue.message == "无法打开文件“没有.csv”：文件不存在。"
    assert snapshot(base) == before


def test_a_header_only_file_is_empty_and_publishes_nothing(base, tmp_path):
    path = tmp_path / "空表.csv"
    path.write_text(HEADER, encoding="utf-8")
    before = snapshot(base)
    issue = only_error(pipeline.load(base, [path]), "empty")
    assert (
        issue.file == "空表.csv"
        and issue.message.startswith("文件中没有任何数据")
        and "只有表头" in issue.message
    )
    assert snapshot(base) == before
    proc = etl("load", str(path), data_dir=base)
    assert proc.returncode == 1 and "[错误] 文件 空表.csv：文件中没有任何数据" in proc.stdout
    assert snapshot(base) == before


# ---------------------------------------------------------------- 数据管理 under the same lock
def test_the_admin_page_waits_for_the_lock_and_says_busy_in_chinese(base, monkeypatch):
    from tests.test_admin import UPDATE, login, open_admin, texts, upload

    monkeypatch.setenv(warehouse.ENV_PUBLISH_WAIT, "0.5")
    first = warehouse.current_version(base)
    at = upload(login(open_admin(monkeypatch, base)), ("眉县2023.csv", UPDATE))
    assert "校验通过" in texts(at)
    before = snapshot(base)
    with Holder(base) as holder:
        at.button(key="publish").click().run()
        assert not at.exception, [e.value for e in at.exception]
        shown = " ".join(str(e.value) for e in at.error)
        assert "发布失败：文件 眉县2023.csv：另一项发布（导入、重建或回滚）正在进行，已等待 0.5 秒" in shown
        assert "本次未做任何改动，当前版本保持不变" in shown
        assert snapshot(base) == before and warehouse.current_version(base) == first
        holder.release()
    at.button(key="publish").click().run()  # once free, the same check publishes
    assert warehouse.current_version(base) != first and "已发布新版本" in texts(at)
    with Holder(base):
        at.selectbox(key="rollback_to").set_value(first)
        at.checkbox(key="confirm_rollback").check().run()
        at.button(key="rollback").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert "回滚失败：另一项发布" in " ".join(str(e.value) for e in at.error)
        assert warehouse.current_version(base) != first
    events = (base / "audit" / "audit.jsonl").read_text(encoding="utf-8")
    assert events.count('"publish"') == 1 and '"rollback"' not in events
