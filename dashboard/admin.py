"""数据管理 sections: template, upload and check, preview, publish, history and rollback, audit log.

Everything here runs only after `auth.current_admin()` said who is logged in (pages/admin.py).
The clerk's files go to a private temporary folder of the session under a sanitised name;
checking writes nothing to the warehouse or raw/ (only, for files without errors, what reading
them gave to the fact cache, so the publish that follows reads nothing twice), and publishing
goes through `etl.pipeline.load`, the same path as the command line, so a publish here is as
atomic as one there. Publishing and rolling back hold the warehouse's publish lock
(`etl.pipeline.load` / `etl.pipeline.rollback`): they wait for a publish in progress elsewhere
(the page says so) and never undo it; a publish refuses when the served version is no longer the
one the preview was computed against.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from etl import pipeline, warehouse
from etl.issues import SEVERITY_WORDS
from etl.paths import data_dir
from etl.readers import how_read
from etl.regions import load_registry
from etl.settings import UPLOAD_LIMIT_MB
from etl.sources import INPUT_SUFFIXES, safe_upload_name, sha256_file
from etl.template import write_template

from . import audit, changes, charts, export, import_wizard, store
from .format import escape_markdown, fmt_change, fmt_number

ISSUE_COLUMNS = {
    "severity": "级别",
    "file": "文件",
    "sheet": "工作表",
    "row": "行",
    "column": "列",
    "value": "数值",
    "message": "问题",
    "suggestion": "建议",
}
EVENT_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "expired": "超时退出",
    "upload": "上传校验",
    "publish": "发布",
    "rollback": "回滚",
    "recipe_save": "保存导入配方",
    "recipe_delete": "删除导入配方",
}
COMMAND_LABELS = {"build": "命令行重建", "load": "上传发布"}
UPLOAD_TYPES = sorted(s.lstrip(".") for s in INPUT_SUFFIXES)  # what the ETL reads and keeps in raw/
# Errors of the publish itself (not of the files): said as they are, not as a failed check.
PUBLISH_ERRORS = {"busy", "write_failed", "file_unreadable"}


@dataclass
class Check:
    """The result of checking one set of uploaded files, kept in the session until published."""

    key: tuple
    paths: list[Path]
    outcome: pipeline.Outcome
    fresh: list[dict]
    tables: dict | None
    base_version: str | None
    diff: pd.DataFrame | None
    region: str | None = None
    reads: list[pipeline.FileRead] = field(default_factory=list)


def _local_time(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return iso or ""


# ---------------------------------------------------------------- template
def template_section() -> None:
    st.subheader("① 下载填报模板")
    cities = store.cities_with_data()
    left, middle, right = st.columns([2, 1, 2], vertical_alignment="bottom")
    city = left.selectbox("城市", cities, format_func=store.region_name, key="tpl_city")
    year = middle.number_input(
        "年份",
        min_value=2000,
        max_value=dt.date.today().year,
        key="tpl_year",
        value=dt.date.today().year - 1,
        step=1,
    )
    right.download_button(
        "下载模板 (xlsx)",
        _template_bytes(city, int(year)),
        f"{store.region_name(city)}_{int(year)}年_民政统计填报表.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _template_bytes(city: str, year: int) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = write_template(city, year, Path(tmp) / "template.xlsx")
        return out.read_bytes()


# ---------------------------------------------------------------- upload and check
def _upload_dir() -> Path:
    folder = st.session_state.get("upload_dir")
    if folder is None or not Path(folder).exists():
        folder = tempfile.mkdtemp(prefix="mz-upload-")
        st.session_state.upload_dir = folder
    return Path(folder)


def _save(uploads) -> list[Path]:
    """Write the uploads into the session's folder under safe, distinct names (upload order kept)."""
    folder = _upload_dir()
    shutil.rmtree(folder)
    paths = []
    for n, upload in enumerate(uploads):  # a folder each: two files may share a name
        path = folder / f"{n:02d}" / safe_upload_name(upload.name)
        path.parent.mkdir(parents=True)
        path.write_bytes(upload.getvalue())
        paths.append(path)
    return paths


def upload_section(user: str) -> Check | None:
    """Upload → check with progress → issues table. Returns the check of the current upload."""
    st.subheader("② 上传并校验")
    limit = UPLOAD_LIMIT_MB
    uploads = st.file_uploader(
        f"上传各区县报回的填报表或统计表（xlsx / csv，可多选，单个文件不超过 {limit} MB）",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key=f"uploads-{st.session_state.get('upload_round', 0)}",
    )
    if not uploads:
        st.session_state.pop("check", None)
        return None
    too_big = [u.name for u in uploads if u.size > limit * 1024 * 1024]
    if too_big:
        names = "、".join(escape_markdown(name) for name in too_big)
        st.error(f"文件过大（超过 {limit} MB）：{names}。请拆分后再上传。")
        return None
    codes = load_registry().picker_labels
    region = st.selectbox(
        "表格所属地区（可选）",
        [None, *codes],
        format_func=lambda c: "不指定（按表格中写明的地区）" if c is None else codes[c],
        key="upload_region",
        help="标题没有写明地区的单一地区统计表，以及表中无法确定的重名区县（如“鼓楼区”），按这里选择的地区导入。",
    )
    key = (tuple((u.file_id, u.name, u.size) for u in uploads), region)
    check = st.session_state.get("check")
    checked_now = check is None or check.key != key
    if checked_now:  # each file was shown as it was read
        check = _run_check(key, uploads, region)
        st.session_state.check = check
        audit.record(
            "upload",
            user,
            files=[{"name": u.name, "sha256": sha256_file(p)} for u, p in zip(uploads, check.paths)],
            read_as={read.name: read.sheets for read in check.reads},  # readers and import recipes
            errors=len(check.outcome.issues.errors),
            warnings=len(check.outcome.issues.warnings),
        )
    if check.reads and not checked_now:
        with st.expander("各文件读取情况"):
            st.markdown("\n\n".join(file_line(read) for read in check.reads))
    _issues_table(check.outcome)
    import_wizard.offer(check, user)
    return check


def file_line(read: pipeline.FileRead) -> str:
    """One file of a check as the clerk follows it: how each sheet was read, how many values,
    how many errors."""
    sheets = "；".join(
        f"工作表“{escape_markdown(sheet)}”按{escape_markdown(how_read(shape))}读取"
        for sheet, shape in read.sheets.items()
    )
    errors = sum(i.severity == "error" for i in read.issues)
    mark = ":red[✗]" if errors else ":green[✓]"
    return (
        f"{mark} {read.number}/{read.total} **{escape_markdown(read.name)}**："
        + (sheets + "，" if sheets else "")
        + f"{read.facts:,} 条数据"
        + (f"，{errors} 个错误" if errors else "")
    )


def _first_errors(read: pipeline.FileRead, limit: int = 3) -> list[str]:
    errors = [i for i in read.issues if i.severity == "error"][:limit]
    return [
        f"- {escape_markdown(i.location())}：{escape_markdown(i.message)}"
        if i.location()
        else f"- {i.message}"
        for i in errors
    ]


def _run_check(key: tuple, uploads, region: str | None) -> Check:
    """Check the upload, showing each file as soon as it is read (its sheets, the reader or
    import recipe of each, its first errors) — a large upload is not a silent wait."""
    base = data_dir()
    paths = _save(uploads)
    reads: list[pipeline.FileRead] = []
    with st.status(f"正在校验 {len(paths)} 个文件……", expanded=True) as status:
        bar = st.progress(0.0, text="正在校验……")

        def progress(step: str, done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0, text=f"{step}：{done}/{total}")

        def on_file(read: pipeline.FileRead) -> None:
            reads.append(read)
            st.markdown("\n".join([file_line(read), *_first_errors(read)]))

        version = warehouse.current_version(base)
        outcome, fresh, tables = pipeline.check_files(base, paths, progress, region, on_file=on_file)
        bar.empty()
        status.update(label="校验完成", state="complete" if outcome.ok else "error", expanded=False)
    diff = None
    if tables is not None:
        old = (
            store.query("SELECT region_code, year, indicator_id, value FROM facts")
            if version
            else pd.DataFrame(columns=changes.KEY + ["value"])
        )
        diff = changes.compare(old, tables["facts"])
    return Check(key, paths, outcome, fresh, tables, version, diff, region, reads)


def issue_frame(items) -> pd.DataFrame:
    """Issues as the clerk reads them: Chinese headers, Excel coordinates, severity in words."""
    rows = pd.DataFrame([vars(i) for i in items], columns=list(ISSUE_COLUMNS))
    rows["severity"] = rows["severity"].map(SEVERITY_WORDS)
    rows["row"] = rows["row"].astype("Int64").astype("string")  # Excel row numbers, blank when none
    return rows.fillna("").rename(columns=ISSUE_COLUMNS)


def _issues_table(outcome: pipeline.Outcome) -> None:
    errors, warnings, notes = outcome.issues.errors, outcome.issues.warnings, outcome.issues.notes
    if not errors and not warnings:
        st.success(f"校验通过：{len(outcome.inputs)} 个文件，没有发现问题。")
    if not errors and not warnings and not notes:
        return
    if errors:
        st.error(f"发现 {len(errors)} 个错误：请修改后重新上传，有错误时不能发布。")
    if warnings:
        st.warning(f"{len(warnings)} 条警告：请核对；确认无误后可以发布。")
    table = issue_frame(errors + warnings + notes)
    groups = [
        (label, items) for label, items in (("错误", errors), ("警告", warnings), ("说明", notes)) if items
    ]
    for tab, (label, _) in zip(st.tabs([f"{label}（{len(items)}）" for label, items in groups]), groups):
        tab.dataframe(
            table[table["级别"] == label].drop(columns="级别"),
            hide_index=True,
            width="stretch",
            column_config={
                "问题": st.column_config.TextColumn(width="large"),
                "建议": st.column_config.TextColumn(width="medium"),
            },
        )
    stamp = dt.datetime.now().strftime("%Y%m%d_%H%M")
    st.download_button(
        "下载问题清单 (xlsx)，发回区县修改",
        export.xlsx_bytes(table, f"数据校验问题清单，生成于 {stamp}。"),
        f"校验问题清单_{stamp}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
    )


# ---------------------------------------------------------------- preview
def preview_section(check: Check) -> None:
    st.subheader("③ 预览：发布后的变化")
    diff, tables = check.diff, check.tables
    if check.base_version and warehouse.read_manifest(data_dir(), check.base_version).get("is_sample"):
        st.info("当前发布的是示例数据：首次发布真实数据会替换全部示例数据（下表中的“删除”即示例数据）。")
    counts = changes.summary(diff)
    for column, (status, label) in zip(st.columns(4), changes.STATUS_LABELS.items()):
        column.metric(f"{label}数据", f"{counts[status]:,}")
    names = tables["regions"].set_index("code")["name"]
    indicators = tables["indicators"].set_index("id")
    moved = diff[diff["status"] != "unchanged"]
    if moved.empty:
        st.info("与当前版本相比没有任何变化。")
        return
    left, middle, right = st.columns(3)
    statuses = left.multiselect(
        "变化类型",
        ["changed", "new", "removed"],
        default=["changed", "new", "removed"],
        format_func=changes.STATUS_LABELS.get,
        key="pv_status",
    )
    regions = middle.multiselect(
        "区县",
        sorted(moved["region_code"].unique()),
        format_func=lambda c: names.get(c, c),
        placeholder="全部",
        key="pv_region",
    )
    wanted = right.multiselect(
        "指标",
        sorted(moved["indicator_id"].unique(), key=lambda i: indicators.loc[i, "position"]),
        format_func=lambda i: indicators.loc[i, "name_zh"],
        placeholder="全部",
        key="pv_ind",
    )
    shown = moved[moved["status"].isin(statuses)]
    if regions:
        shown = shown[shown["region_code"].isin(regions)]
    if wanted:
        shown = shown[shown["indicator_id"].isin(wanted)]
    st.dataframe(change_table(shown, names, indicators), hide_index=True, width="stretch")
    st.caption("变化最大的几组数据：")
    for column, (_, move) in zip(st.columns(3), changes.biggest_moves(diff).iterrows()):
        rows = diff[
            (diff["region_code"] == move["region_code"]) & (diff["indicator_id"] == move["indicator_id"])
        ]
        column.plotly_chart(
            charts.before_after(
                rows[["year", "old"]].rename(columns={"old": "value"}).dropna(),
                rows[["year", "new"]].rename(columns={"new": "value"}).dropna(),
                indicators.loc[move["indicator_id"]],
                names.get(move["region_code"], move["region_code"]),
            ),
            key=f"move-{move['region_code']}-{move['indicator_id']}",
            config={"displaylogo": False},
        )


def change_table(shown: pd.DataFrame, names: pd.Series, indicators: pd.DataFrame) -> pd.DataFrame:
    """The preview table: changed values first, biggest |%| on top; numbers as the catalog
    writes them (decimals, thousands separators), "—" where a side has no value."""
    order = shown.assign(
        rank=shown["status"].map({"changed": 0, "new": 1, "removed": 2}), size=-shown["pct"].abs().fillna(0)
    ).sort_values(["rank", "size", "region_code", "year"])
    decimals = order["indicator_id"].map(indicators["decimals"]).astype(int)
    return pd.DataFrame(
        {
            "地区": order["region_code"].map(names),
            "年份": order["year"],
            "指标": order["indicator_id"].map(indicators["name_zh"]),
            "单位": order["indicator_id"].map(
                indicators["display_unit"].where(indicators["display_unit"] != "", indicators["unit"])
            ),
            "当前值": [fmt_number(v, d) for v, d in zip(order["old"], decimals)],
            "发布后": [fmt_number(v, d) for v, d in zip(order["new"], decimals)],
            "变化": [fmt_change(p) for p in order["pct"]],
            "类型": order["status"].map(changes.STATUS_LABELS),
        }
    )


# ---------------------------------------------------------------- publish
def publish_section(check: Check, user: str) -> None:
    st.subheader("④ 发布")
    base = data_dir()
    issues = check.outcome.issues
    if issues.errors:
        st.button("发布", disabled=True, help="有错误，不能发布", key="publish")
        return
    if warehouse.current_version(base) != check.base_version:
        st.warning("校验之后数据已被他人更新。请重新上传校验，再发布。")
        return
    confirmed = True
    if issues.warnings:
        confirmed = st.checkbox(
            f"我已核对以上 {len(issues.warnings)} 条警告，确认发布", key="confirm_warnings"
        )
    if not st.button("发布新版本", type="primary", disabled=not confirmed, key="publish"):
        return
    bar = st.progress(0.0, text="正在发布……")
    summary = changes.summary(check.diff)
    outcome = pipeline.load(
        base,
        check.paths,
        _progress(bar),
        user=user,
        changes=summary,
        base_version=check.base_version,
        region=check.region,
    )
    bar.empty()
    if not outcome.ok:
        failed = [i for i in outcome.issues.errors if i.code in PUBLISH_ERRORS]
        if failed:
            for issue in failed:  # file and sheet names, cell values: the clerk's text
                where = escape_markdown(issue.location())
                st.error(
                    f"发布失败：{where + '：' if where else ''}{escape_markdown(issue.message)}"
                    + (f"（建议：{escape_markdown(issue.suggestion)}）" if issue.suggestion else "")
                )
            return
        st.error("发布失败：重新校验时发现错误，数据未做任何改动。")
        _issues_table(outcome)
        return
    # each file with how its sheets were read (an import recipe's use is on record)
    files = [{k: i[k] for k in ("name", "sha256", "sheets") if k in i} for i in check.fresh]
    audit.record(
        "publish", user, version=outcome.version, files=files, changes=summary, changed=outcome.changed
    )
    shutil.rmtree(st.session_state.pop("upload_dir"), ignore_errors=True)
    st.session_state.pop("check", None)
    st.session_state.upload_round = st.session_state.get("upload_round", 0) + 1
    st.session_state.flash = (
        f"已发布新版本 {outcome.version}：新增 {summary['new']}、变化 {summary['changed']}、"
        f"删除 {summary['removed']} 条数据。所有用户下一次操作时即看到新数据。"
        if outcome.changed
        else "内容与当前版本完全相同，未产生新版本。"
    )
    st.rerun()


def _progress(bar):
    """The pipeline's progress callback on a Streamlit progress bar (waiting for the lock included)."""

    def update(step: str, done: int, total: int) -> None:
        if step == pipeline.WAITING:
            bar.progress(0.0, text=f"{step}（另一位管理员或命令行正在发布，请稍候）")
        else:
            bar.progress(done / total if total else 1.0, text=f"{step}：{done}/{total}")

    return update


# ---------------------------------------------------------------- history and rollback
def history_frame(base: Path) -> pd.DataFrame:
    current = warehouse.current_version(base)
    rows = []
    for m in reversed(warehouse.list_versions(base)):
        change = m.get("changes") or {}
        rows.append(
            {
                "当前": "✔" if m["version"] == current else "",
                "版本": m["version"],
                "发布时间": _local_time(m.get("created", "")),
                "发布人": m.get("user", ""),
                "方式": COMMAND_LABELS.get(m.get("command"), m.get("command", ""))
                + ("（示例数据）" if m.get("is_sample") else ""),
                "文件": "；".join(f"{i['name']}（{i['sha256'][:12]}…）" for i in m.get("inputs", [])),
                "数据条数": m.get("row_counts", {}).get("facts"),
                "变化": (
                    f"新增 {change.get('new', 0)}，变化 {change.get('changed', 0)}，"
                    f"删除 {change.get('removed', 0)}"
                    if change
                    else ""
                ),
            }
        )
    return pd.DataFrame(rows)


def history_section(user: str) -> None:
    st.subheader("版本历史与回滚")
    base = data_dir()
    table = history_frame(base)
    if table.empty:
        st.info("还没有发布任何版本。")
        return
    st.dataframe(table, hide_index=True, width="stretch")
    with st.expander("各版本文件明细（SHA-256）"):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "版本": m["version"],
                        "文件": i["name"],
                        "SHA-256": i["sha256"],
                        "数据条数": i.get("facts"),
                    }
                    for m in reversed(warehouse.list_versions(base))
                    for i in m.get("inputs", [])
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    current = warehouse.current_version(base)
    others = [v for v in table["版本"] if v != current and warehouse.is_current_schema(base, v)]
    if not others:
        return
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    target = left.selectbox(
        "回滚到版本",
        others,
        key="rollback_to",
        format_func=lambda v: f"{v}（{table.set_index('版本').loc[v, '发布时间']}）",
    )
    sure = right.checkbox("确认回滚：所有用户将看到该版本的数据", key="confirm_rollback")
    if st.button("回滚", disabled=not sure, key="rollback"):
        bar = st.progress(0.0, text="正在回滚……")
        try:
            previous = pipeline.rollback(base, target, user=user, progress=_progress(bar))
        except (ValueError, warehouse.Busy) as exc:
            bar.empty()
            st.error(f"回滚失败：{escape_markdown(exc)}")
            return
        except pipeline.WRITE_ERRORS as exc:
            bar.empty()
            st.error(f"回滚失败：{escape_markdown(pipeline.write_failed_message(exc, '回滚'))}")
            return
        bar.empty()
        audit.record("rollback", user, version=target, previous=previous)
        st.session_state.pop("check", None)
        st.session_state.flash = f"已回滚到版本 {target}。"
        st.rerun()


def audit_section() -> None:
    with st.expander("操作日志（登录、上传、发布、回滚）"):
        rows = audit.entries()
        if not rows:
            st.caption("暂无记录。")
            return
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "时间": _local_time(e["time"]),
                        "操作": EVENT_LABELS.get(e["event"], e["event"]),
                        "用户": e["user"],
                        "详情": "；".join(
                            f"{k}={v}" for k, v in e.items() if k not in ("time", "event", "user")
                        ),
                    }
                    for e in rows
                ]
            ),
            hide_index=True,
            width="stretch",
        )
