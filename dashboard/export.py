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

A chart is downloaded as a picture that carries its own context, as OWID's grapher does: the
title, region and years, unit, the source line and the 示例数据 mark (`chart_image`, PNG or SVG
rendered by kaleido through the meeting pack's chromium). Rendering takes a second or two, so
`chart_buttons` hands Streamlit a callable: the image is made only when the button is
clicked, never on a rerun."""

from __future__ import annotations

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


# What a spreadsheet opening a CSV reads as the start of a formula (OWASP's list, and "{=", an
# array formula as Excel writes it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "{=")


def neutralise(table: pd.DataFrame) -> pd.DataFrame:
    """Text cells (and headers) that a spreadsheet would evaluate, made inert with a leading '
    (for CSV; an xlsx keeps the text as it is, in string cells)."""

    def inert(value):
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value

    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    out = table.copy()
    for column in text:
        out[column] = out[column].map(inert)
    return out.rename(columns=inert)


def csv_bytes(table: pd.DataFrame) -> bytes:
    # 15 significant digits: exact for every stored figure, without binary noise (1222.6000000000001).
    # CRLF rows (RFC 4180): the csv module quotes a field holding any character of the line end,
    # so a carriage return inside a text stays in its quoted cell — with "\n" rows it went out
    # bare, and a spreadsheet started a new row there, with the text after it unprefixed.
    return (
        neutralise(table).to_csv(index=False, float_format="%.15g", lineterminator="\r\n").encode("utf-8-sig")
    )


def xlsx_bytes(table: pd.DataFrame, note: str) -> bytes:
    """The one writer of frames to xlsx: `table` on a 数据 sheet and `note` on a 说明 sheet, text
    cells (headers too) as string cells holding the text unchanged, numbers as numbers."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter", engine_kwargs={"options": XLSX_OPTIONS}) as writer:
        table.to_excel(writer, sheet_name="数据", index=False)
        pd.DataFrame({"说明": [note]}).to_excel(writer, sheet_name="说明", index=False)
        writer.sheets["数据"].set_column(0, max(len(table.columns) - 1, 0), 14)
        writer.sheets["说明"].set_column(0, 0, 100)
    return buffer.getvalue()


class Files(NamedTuple):
    """A table's download files."""

    xlsx: bytes
    csv: bytes


def files(table: pd.DataFrame, note: str) -> Files:
    return Files(xlsx_bytes(table, note), csv_bytes(table))


@st.cache_data(max_entries=64, show_spinner=False)
def _files(digest: str, _table: pd.DataFrame, note: str) -> Files:
    """xlsx and CSV of a table, cached under the table's content digest: Streamlit would hash
    the whole frame once per cached function and rerun otherwise."""
    return files(_table, note)


def content_digest(table: pd.DataFrame) -> str:
    """A digest of a table's values, index, column names and types."""
    digest = hashlib.blake2b(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    digest.update(repr([(str(c), str(t)) for c, t in table.dtypes.items()]).encode())
    return digest.hexdigest()


def download_buttons(table: pd.DataFrame, name: str, note: str, key: str) -> None:
    """Two buttons side by side: xlsx and CSV of `table` (already in its download form)."""
    buttons(_files(content_digest(table), table, note), name, key)


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
