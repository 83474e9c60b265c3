"""Downloads of exactly the data behind a view: CSV (UTF-8 with BOM, so Excel shows Chinese)
and xlsx, with Chinese column names and a 说明 sheet that carries the 示例数据 label.

Text comes from outside (an uploaded file's issues table echoes the clerk's cells; names come
from the warehouse), so none of it may run: in xlsx every text cell is a string cell
(`xlsx_bytes`, with xlsxwriter's `XLSX_OPTIONS`: no formula, array formula or hyperlink made
from text) and reads exactly as written; in CSV, which a spreadsheet parses itself, text that
it would run as a formula (beginning with = + - @ or {=, or a tab or carriage return) is
prefixed with an apostrophe.

A download button needs its bytes on every rerun, so the files are made once: a page's view
caches them with the view (`files`, `buttons`); any other table is cached by a digest of its
content (`download_buttons`), so an unchanged table does not write its workbook again.

A download can carry its title and the 示例数据 mark inside the table file itself, not only on
the 说明 sheet (`title`, `sample` of `files` / `download_buttons`): the xlsx then has a title row
above the table on its 数据 sheet ("民政数据看板 数据查询（示例数据）"), and a CSV of 示例数据 begins
with one line holding only the mark (`SAMPLE_LINE`) before the header row — a single cell, so
Excel and LibreOffice show it in A1 above the table, the csv module reads it as a one-field row,
and pandas reads the table with `read_csv(..., skiprows=1)`. A CSV of real data has no such line
(the header is its first line), so it loads into any tool as it is.

A chart is downloaded as a picture that carries its own context, as OWID's grapher does: the
title, region and years, unit, the source line and the 示例数据 mark (`chart_image`, PNG or SVG
rendered by kaleido through the meeting pack's chromium). Rendering takes a second or two, so
`chart_buttons` hands Streamlit a callable: the image is made only when the button is
clicked, never on a rerun."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from typing import NamedTuple

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from streamlit import runtime

from etl.template import XLSX_OPTIONS

COLUMNS = {
    "region_code": "区划代码",
    "region_name": "地区",
    "year": "年份",
    "indicator_id": "指标代码",
    "indicator": "指标",
    "value": "数值",
    "unit": "单位",
    "origin": "来源方式",
}
ORIGINS = {"reported": "上报", "aggregated": "汇总", "derived": "计算"}


# Where a rounded table keeps the value as stored. A column beside 数值 rather than a second sheet:
# a CSV has no sheets, so both files keep the same columns, and the exact value stays on the row
# of its rounded one (sorting or filtering keeps them together; a second sheet needs a join).
FULL_VALUE = "数值（未修约）"


def tidy(data: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Facts → the download table: names and units from the catalog, Chinese headers."""
    out = data.assign(
        indicator=data["indicator_id"].map(indicators["name_zh"]),
        unit=data["indicator_id"].map(
            indicators["display_unit"].where(indicators["display_unit"] != "", indicators["unit"])
        ),
        origin=data["origin"].map(ORIGINS).fillna(data["origin"]) if "origin" in data else "",
    )
    keep = [c for c in COLUMNS if c in out.columns]
    return out[keep].rename(columns=COLUMNS)


def round_each(values: pd.Series, decimals: pd.Series) -> pd.Series:
    """Each value rounded to its own number of decimals (`decimals`, aligned on the index: the
    catalog's `decimals` of each row's indicator) the way the other pages round one indicator's
    column (`Series.round`), so a figure reads the same everywhere (33.1, not 33.1128). A row
    without a number of decimals keeps its value."""
    out = values.astype("float64")
    for places in decimals.dropna().unique():
        rows = decimals == places
        out = out.mask(rows, out[rows].round(int(places)))
    return out


def tidy_rounded(data: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """`tidy` with 数值 rounded to each indicator's catalog decimals and the stored value, full
    precision, in `FULL_VALUE` (for the download; a screen shows 数值 only)."""
    out = tidy(data, indicators)
    out[FULL_VALUE] = out["数值"].astype("float64")
    out["数值"] = round_each(out["数值"], data["indicator_id"].map(indicators["decimals"]))
    return out


# What a spreadsheet opening a CSV reads as the start of a formula (OWASP's list, and "{=", an
# array formula as Excel writes it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "{=")


def inert(value):
    """A text a spreadsheet would evaluate, prefixed with ' (anything else as it is)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def neutralise(table: pd.DataFrame) -> pd.DataFrame:
    """Text cells (and headers) that a spreadsheet would evaluate, made inert with a leading '
    (for CSV; an xlsx keeps the text as it is, in string cells)."""
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    out = table.copy()
    for column in text:
        out[column] = out[column].map(inert)
    return out.rename(columns=inert)


# The first line of a CSV of 示例数据 (one cell; no ASCII comma or quote, so it is written bare).
SAMPLE_LINE = "示例数据：系统生成，非真实统计数据"


def csv_bytes(table: pd.DataFrame, sample: bool = False) -> bytes:
    """UTF-8 with BOM; with `sample`, the first line is `SAMPLE_LINE` alone (read the table
    with pandas' `skiprows=1`), then the header and the rows."""
    # 15 significant digits: exact for every stored figure, without binary noise (1222.6000000000001).
    # CRLF rows (RFC 4180): the csv module quotes a field holding any character of the line end,
    # so a carriage return inside a text stays in its quoted cell — with "\n" rows it went out
    # bare, and a spreadsheet started a new row there, with the text after it unprefixed.
    body = neutralise(table).to_csv(index=False, float_format="%.15g", lineterminator="\r\n")
    if sample:
        line = io.StringIO()
        csv.writer(line, lineterminator="\r\n").writerow([inert(SAMPLE_LINE)])
        body = line.getvalue() + body
    return body.encode("utf-8-sig")


def sheet_title(title: str, sample: bool) -> str:
    """The title row of a 数据 sheet: the title, marked when the data are 示例数据."""
    if not sample:
        return title
    return f"{title}（示例数据）" if title else SAMPLE_LINE


def xlsx_bytes(table: pd.DataFrame, note: str, title: str = "", sample: bool = False) -> bytes:
    """The one writer of frames to xlsx: `table` on a 数据 sheet and `note` on a 说明 sheet, text
    cells (headers too) as string cells holding the text unchanged, numbers as numbers. With a
    `title` (or `sample`), row 1 of 数据 holds `sheet_title` and the table starts at row 2."""
    heading = sheet_title(title, sample)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter", engine_kwargs={"options": XLSX_OPTIONS}) as writer:
        table.to_excel(writer, sheet_name="数据", index=False, startrow=1 if heading else 0)
        pd.DataFrame({"说明": [note]}).to_excel(writer, sheet_name="说明", index=False)
        data = writer.sheets["数据"]
        data.set_column(0, max(len(table.columns) - 1, 0), 14)
        if heading:  # one cell, not merged: the text runs on over the empty cells beside it
            data.write_string(0, 0, heading, writer.book.add_format({"bold": True, "font_size": 14}))
        writer.sheets["说明"].set_column(0, 0, 100)
    return buffer.getvalue()


class Files(NamedTuple):
    """A table's download files."""

    xlsx: bytes
    csv: bytes


def files(table: pd.DataFrame, note: str, title: str = "", sample: bool = False) -> Files:
    """xlsx and CSV of `table`; `title` and `sample` as `xlsx_bytes` and `csv_bytes` take them."""
    return Files(xlsx_bytes(table, note, title, sample), csv_bytes(table, sample))


@st.cache_data(max_entries=64, show_spinner=False)
def _files(digest: str, _table: pd.DataFrame, note: str, title: str = "", sample: bool = False) -> Files:
    """xlsx and CSV of a table, cached under the table's content digest: Streamlit would hash
    the whole frame once per cached function and rerun otherwise."""
    return files(_table, note, title, sample)


def content_digest(table: pd.DataFrame) -> str:
    """A digest of a table's values, index, column names and types."""
    digest = hashlib.blake2b(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    digest.update(repr([(str(c), str(t)) for c, t in table.dtypes.items()]).encode())
    return digest.hexdigest()


def download_buttons(
    table: pd.DataFrame, name: str, note: str, key: str, title: str = "", sample: bool = False
) -> None:
    """Two buttons side by side: xlsx and CSV of `table` (already in its download form); with
    `title` / `sample`, the files carry the title row and the 示例数据 mark (see the module's
    docstring)."""
    buttons(_files(content_digest(table), table, note, title, sample), name, key)


def buttons(made: Files, name: str, key: str) -> None:
    """The xlsx and CSV buttons of files already made (`files`)."""
    left, right = st.columns(2)
    left.download_button(
        "下载 Excel",
        made.xlsx,
        f"{name}.xlsx",
        key=f"{key}-xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "下载 CSV",
        made.csv,
        f"{name}.csv",
        key=f"{key}-csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


class ChartContext(NamedTuple):
    """What a downloaded chart must say about itself: its title, the region and years shown,
    the unit, the data version, and whether the numbers are 示例数据."""

    title: str
    region: str
    years: str  # "2018—2025年" or "2025年"
    unit: str
    version: str = ""
    sample: bool = False


CHART_WIDTH, CHART_SCALE = 1200, 2  # → 2400 px wide PNG
HEAD, FOOT = 110, 200  # px above and below the plot area: title block; axis title, legend, source
SAMPLE_MARK = "示例数据（系统生成，非真实统计数据）"


def chart_figure(figure: go.Figure, context: ChartContext) -> go.Figure:
    """The figure as a self-explaining picture: a title with region · years · unit under it, the
    source line (and data version) at the foot, and a red 示例数据 mark when sample."""
    from .meeting_pack import SOURCE_LINE  # the meeting pack's one source line (and its import cost)

    fig = go.Figure(figure)
    height = int(fig.layout.height or 450) + FOOT + HEAD
    fig.update_layout(
        title=dict(
            text=context.title,
            x=0,
            xanchor="left",
            y=1,
            yanchor="top",
            yref="container",
            pad=dict(t=16, l=16),
            font=dict(size=22),
            subtitle=dict(
                text=" · ".join(filter(None, [context.region, context.years, f"单位：{context.unit}"])),
                font=dict(size=15, color="#52606D"),
            ),
        ),
        height=height,
        width=CHART_WIDTH,
        # Room for the title block above and the legend and source line below; the source line
        # sits in the bottom margin (an annotation can only be placed relative to the plot area).
        margin=dict(t=HEAD, b=FOOT, l=20, r=20),
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    foot = SOURCE_LINE + (f"；数据版本 {context.version}" if context.version else "")
    fig.add_annotation(
        text=foot,
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        xanchor="left",
        yanchor="bottom",
        yshift=-FOOT + 12,
        showarrow=False,
        font=dict(size=13, color="#52606D"),
    )
    if context.sample:
        fig.add_annotation(
            text=SAMPLE_MARK,
            xref="paper",
            yref="paper",
            x=1,
            y=1,
            xanchor="right",
            yanchor="bottom",
            yshift=HEAD - 56,
            showarrow=False,
            font=dict(size=16, color="#C23B3B"),
            bordercolor="#C23B3B",
            borderwidth=1.5,
            borderpad=4,
        )
    return fig


def chart_image(figure: go.Figure, context: ChartContext, format: str = "png") -> bytes:
    """PNG or SVG bytes of `chart_figure`, rendered by kaleido through Debian's chromium with the
    offline topojson stub — the meeting pack's setup (dashboard/meeting_pack.py)."""
    from etl.settings import ENV_BROWSER_PATH, browser_path

    from .meeting_pack import STUB

    os.environ[ENV_BROWSER_PATH] = browser_path()  # what kaleido starts
    pio.defaults.topojson = STUB.as_uri() + "/"
    fig = chart_figure(figure, context)
    return pio.to_image(
        fig,
        format=format,
        width=CHART_WIDTH,
        height=fig.layout.height,
        scale=CHART_SCALE if format == "png" else 1,
    )


def chart_buttons(figure: go.Figure, context: ChartContext, name: str, key: str) -> None:
    """下载图片 (PNG) and 下载矢量图 (SVG) of one chart with its context, side by side; each image is
    made only when its button is clicked (a callable `data`, Streamlit's deferred download).
    Without a server (AppTest) a deferred download has no URL to serve, so there are no buttons."""
    if not runtime.exists():
        return
    left, right = st.columns(2)
    for column, format, label, mime in (
        (left, "png", "下载图片 PNG", "image/png"),
        (right, "svg", "下载矢量图 SVG", "image/svg+xml"),
    ):
        column.download_button(
            label,
            lambda format=format: chart_image(figure, context, format),
            f"{name}.{format}",
            key=f"{key}-{format}",
            mime=mime,
            icon=":material/image:",
            on_click="ignore",
        )
