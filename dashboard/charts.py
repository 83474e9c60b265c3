"""Chart builders: tidy frames in, plotly figures out — no Streamlit, so they are unit-tested.

Every figure uses the project template (dashboard/theme.py), puts the unit in the axis title
and Chinese hover text with the catalog's decimals. The city line is the warehouse's own
aggregated/derived row, drawn bold over thin county lines; it is never recomputed here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from . import theme
from .geo import mercator_y

if TYPE_CHECKING:
    from etl.catalog import Target

CITY_COLOR = "#1F2933"
TARGET_COLOR = "#C23B3B"
NO_DATA_COLOR = "#D5D9DE"
NO_DATA = "暂无数据"
# One colour per county line, never repeated up to 16 series (a city has at most 13 counties
# here; 兵团 12): distinct hues rather than an OWID-style grey-out, because every line on the
# trend is a county the user chose in the sidebar, so none is background. Each is at least 3:1
# against white and against the 演示 page's navy (#0F172A), and any two differ by CIELAB
# ΔE ≥ 25 (tests/test_charts.py checks both). Slate grey comes last: grey reads as "other".
SERIES_COLORS = (
    "#2F6DC0",  # blue
    "#D9702C",  # orange
    "#3A9D5D",  # green
    "#D14545",  # red
    "#8A63C4",  # violet
    "#1F9BB5",  # teal
    "#D6559E",  # pink
    "#A0931C",  # olive gold
    "#845E39",  # brown
    "#1CA01C",  # leaf green
    "#6749DF",  # indigo
    "#C87E8D",  # rose
    "#1D7261",  # pine
    "#D425D4",  # magenta
    "#5C6F2F",  # moss
    "#6B7B8C",  # slate
)
# Counties are named on their fills, so each map scale keeps one text colour at WCAG AA (4.5:1)
# on every fill and on the page around it: the light half of plotly's "Blues" (0–0.6) under dark
# text on light pages, its dark end (0.75–1) under light text on the dark 演示 screen (deck.Look).
# Between them neither dark nor white text reaches 4.5:1 (tests/test_charts.py checks both).
MAP_SCALE = plotly.colors.make_colorscale(
    plotly.colors.sample_colorscale("Blues", [i / 20 * 0.6 for i in range(21)])
)
MAP_SCALE_DARK = plotly.colors.make_colorscale(
    plotly.colors.sample_colorscale("Blues", [0.75 + i / 20 * 0.25 for i in range(21)])
)
NO_DATA_COLOR_DARK = "#334155"
OUTLINE_FILL = "#EEF1F4"
OUTLINE_LINE = "#AEB8C2"
OUTLINE_LINE_DARK = "#52606D"  # the national maps' 九段线 and 未定国界, dashed
INK = "#1F2933"


def series_colors(codes) -> dict[str, str]:
    """County code → line colour, by code order, so a county keeps its colour across charts of
    the same selection. Past 16 series the hues repeat (the 17th line is also dotted: `trend`)."""
    return {code: SERIES_COLORS[i % len(SERIES_COLORS)] for i, code in enumerate(sorted(set(codes)))}


def unit_of(meta: pd.Series) -> str:
    return meta["display_unit"] or meta["unit"]


def card_unit(meta: pd.Series) -> str:
    """Unit for a KPI card, where space is short: "40.9张" under the label 每千名老年人养老床位数
    (the label already says "per thousand elderly"); other units stay as they are."""
    return meta["unit"] if "/" in (meta["display_unit"] or "") else unit_of(meta)


def _value_format(meta: pd.Series) -> str:
    return f",.{int(meta['decimals'])}f"


def _layout(
    fig: go.Figure, title: str, height: int = 420, lines: list[tuple[dict, dict]] = (), **kwargs
) -> go.Figure:
    """Title, height and the (shape, label) pairs of `reference_line`, in one layout update."""
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        height=height,
        shapes=[shape for shape, _ in lines if shape is not None],
        annotations=[note for _, note in lines],
        **kwargs,
    )
    return fig


def relative_to_first_year(data: pd.DataFrame) -> pd.DataFrame:
    """Change since each region's first year in the frame, in percent (相对起始年)."""
    data = data.sort_values(["region_code", "year"])
    first = data.groupby("region_code")["value"].transform("first")
    return data.assign(value=(data["value"] / first.where(first != 0) - 1) * 100)


def reference_line(
    axis: str, value: float, label: str, color: str, dash: str = "solid", at: str = "end"
) -> tuple[dict, dict]:
    """A full-width (axis "y") or full-height (axis "x") line at `value` with its label, as a
    layout shape and annotation. Same drawing as `add_hline`/`add_vline`, whose generic shape
    machinery cost a sixth of a topic page's rerun (py-spy, docs/PERFORMANCE.md)."""
    shape = dict(type="line", line=dict(color=color, dash=dash, width=2), layer="above")
    if axis == "y":  # horizontal, label above its left end
        shape.update(xref="paper", x0=0, x1=1, yref="y", y0=value, y1=value)
        note = dict(xref="paper", x=0, xanchor="left", yref="y", y=value, yanchor="bottom")
    else:  # vertical, label above the plot (at="end") or below it (at="start")
        shape.update(xref="x", x0=value, x1=value, yref="paper", y0=0, y1=1)
        note = dict(
            xref="x",
            x=value,
            xanchor="center",
            yref="paper",
            y=1 if at == "end" else 0,
            yanchor="bottom" if at == "end" else "top",
        )
    return shape, dict(text=label, showarrow=False, **note)


PUBLISHED_COLOR = "#B8860B"


def trend(
    data: pd.DataFrame,
    meta: pd.Series,
    city: str,
    relative: bool = False,
    target: Target | None = None,
    published: pd.DataFrame | None = None,
    national: pd.DataFrame | None = None,
    whole: str = "全市",
    word: str = "区县",
) -> go.Figure:
    """County lines plus the bold city line over years. `data`: region_code, region_name, year, value.
    `city` is the region looked from (a city, a province, the nation) and the lines its children:
    `whole` names its own total ("全市", "全省", "全国") and `word` its children ("区县", "市", "省份").

    A count (agg sum) puts the city total on a panel of its own above the counties (`yaxis2`,
    "全市合计"): the total is many times any county and would flatten their lines on one axis. A
    ratio keeps one axis (city and counties are comparable), as does 相对起始年 (all in %).
    Counties take `series_colors`, one hue each.

    `published`: figures already published for these regions (region_name, year, value,
    value_written, unit_written, document, quote; region_code where known), drawn as 公报值
    diamonds in the colour of the region's line, its name written beside each, the sentence in
    the hover (not in the 相对起始年 view, whose axis is a change, not a value). `national`: a
    published national series of the same ratio (year, value, document), a dashed reference line
    labelled with its source."""
    unit = unit_of(meta)
    if relative:
        data = relative_to_first_year(data)
        first = int(data["year"].min()) if len(data) else ""
        axis, fmt, suffix = f"相对{first}年变化（%）", "+,.1f", "%"
    else:
        axis, fmt, suffix = f"{meta['name_zh']}（{unit}）", _value_format(meta), unit
    fig = go.Figure()
    # The city last (drawn on top); counties in reverse code order, so the reversed legend
    # reads: city, then the counties in code order.
    counties = sorted((c for c in data["region_code"].unique() if c != city), reverse=True)
    has_city = city in set(data["region_code"])
    split = not relative and meta.get("agg") == "sum" and has_city and bool(counties)
    colors = {**series_colors(counties), city: CITY_COLOR}
    ranks = {code: i for i, code in enumerate(sorted(counties))}
    for code in counties + ([city] if has_city else []):
        rows = data[data["region_code"] == code]
        is_city = code == city
        fig.add_trace(
            go.Scatter(
                x=rows["year"],
                y=rows["value"],
                name=_whole_name(rows["region_name"].iloc[0], whole)
                if is_city
                else rows["region_name"].iloc[0],
                mode="lines+markers",
                line=dict(
                    width=4 if is_city else 2,
                    color=colors[code],
                    dash="dot" if not is_city and ranks[code] >= len(SERIES_COLORS) else None,
                ),
                marker=dict(size=7 if is_city else 5),
                yaxis="y2" if split and is_city else "y",
                hovertemplate=f"%{{fullData.name}}<br>%{{x}}年：%{{y:{fmt}}}{suffix}<extra></extra>",
            )
        )
    lines = (
        [reference_line("y", target.value, target.label(unit), TARGET_COLOR, "dash")]
        if target is not None and not relative
        else []
    )
    if national is not None and len(national) and not relative:
        national = national.sort_values("year")
        fig.add_trace(
            go.Scatter(
                x=national["year"],
                y=national["value"],
                name="全国（公报）",
                mode="lines+markers",
                line=dict(color=PUBLISHED_COLOR, dash="dash", width=2),
                marker=dict(size=6),
                yaxis="y2" if split else "y",
                customdata=national[["document"]].to_numpy(),
                hovertemplate=(
                    f"全国 %{{x}}年：%{{y:{fmt}}}{suffix}<br>来源：%{{customdata[0]}}<extra></extra>"
                ),
            )
        )
    if published is not None and len(published) and not relative:
        codes = _published_codes(published, data)
        everyone = pd.Series(True, index=codes.index)
        panels = [(codes == city, "y2"), (codes != city, "y")] if split else [(everyone, "y")]
        for shown, (which, yaxis) in enumerate((w, y) for w, y in panels if w.any()):
            marks = published[which.to_numpy()]
            fig.add_trace(
                go.Scatter(
                    x=marks["year"],
                    y=marks["value"],
                    name="公报值",
                    legendgroup="公报值",
                    showlegend=shown == 0,
                    mode="markers+text",
                    yaxis=yaxis,
                    marker=dict(
                        symbol="diamond",
                        size=14,
                        color=[colors.get(c, PUBLISHED_COLOR) for c in codes[which]],
                        line=dict(color=PUBLISHED_COLOR, width=2.5),
                    ),
                    customdata=marks[["region_name", "value_written", "unit_written", "document"]].to_numpy(),
                    text=[_wrap(q) for q in marks["quote"]],
                    texttemplate="%{customdata[0]}公报",
                    textposition="middle right",
                    textfont=dict(color=[colors.get(c, PUBLISHED_COLOR) for c in codes[which]], size=12),
                    hovertemplate=(
                        "%{customdata[0]} %{x}年 公报值：%{customdata[1]}%{customdata[2]}<br>"
                        "《%{customdata[3]}》<br>%{text}<extra></extra>"
                    ),
                )
            )
    layout = dict(yaxis_title=axis, xaxis=dict(dtick=1, title="年份"))
    if split:
        # counties below on `yaxis` (the target line's axis), the city total above on `yaxis2`
        layout.update(
            yaxis=dict(domain=[0, 0.64], title=f"各{word}（{unit}）"),
            yaxis2=dict(domain=[0.74, 1], anchor="x", title=f"{whole}合计（{unit}）", rangemode="tozero"),
            height=500,
        )
        del layout["yaxis_title"]
    return _layout(
        fig,
        f"{meta['name_zh']}走势",
        legend=dict(traceorder="reversed"),
        lines=lines,
        **layout,
    )


def _whole_name(name: str, whole: str) -> str:
    """ "宝鸡市（全市）", "陕西省（全省）"; the nation's line is just "全国"."""
    return name if name == whole else f"{name}（{whole}）"


def _published_codes(published: pd.DataFrame, data: pd.DataFrame) -> pd.Series:
    """The region code of each published figure: its own column where given, else its name
    looked up among the drawn regions ("" for a region not drawn)."""
    if "region_code" in published:
        return published["region_code"].fillna("").astype(str).reset_index(drop=True)
    names = dict(zip(data["region_name"], data["region_code"], strict=False))
    return published["region_name"].map(names).fillna("").astype(str).reset_index(drop=True)


def _wrap(text: str, width: int = 36) -> str:
    """A long quote broken into hover lines."""
    return "<br>".join(text[i : i + width] for i in range(0, len(text), width))


def county_ranking(
    data: pd.DataFrame,
    meta: pd.Series,
    year: int,
    city: str,
    target: Target | None = None,
    whole: str = "全市",
    word: str = "区县",
) -> go.Figure | None:
    """The counties among `data` (one indicator, the city and its counties) ranked in `year`, the
    city's own value and the target as lines; None when no county has a value that year. The
    ranking of the topic pages, 区县对比 and the meeting deck."""
    rows = data[data["year"] == year]
    counties = rows[rows["region_code"] != city]
    if counties.empty:
        return None
    city_now = rows.loc[rows["region_code"] == city, "value"]
    return ranking(
        counties, meta, year, float(city_now.iloc[0]) if len(city_now) else None, target, whole, word
    )


def lower_is_better(meta: pd.Series) -> bool:
    """True only where the catalog says higher_is_better: false. The warehouse hands numpy's bool
    (or NA for "neither"), which `is False` never matches, so every ranking asks here."""
    better = meta["higher_is_better"]
    return pd.notna(better) and not bool(better)


def ranking(
    data: pd.DataFrame,
    meta: pd.Series,
    year: int,
    city_value: float | None = None,
    target: Target | None = None,
    whole: str = "全市",
    word: str = "区县",
) -> go.Figure:
    """Counties of one year as horizontal bars, best on top, in the second colour where they miss
    the target (`Target.meets`: below a floor, above a ceiling).

    The x-axis is fitted to the bars (and their value labels, always outside the bar end). The
    city's value is a line where it lies among the bars — a ratio — and otherwise a note: a
    count's city total is the sum of the bars and always far beyond them. The target is a line
    when it lies within half the axis again, else a note. Lines run under the bars and their
    labels, and every line label and note sits in a band of its own above the first bar, so
    none covers a value label."""
    unit = unit_of(meta)
    fmt = _value_format(meta)
    rows = data.dropna(subset=["value"]).sort_values("value", ascending=lower_is_better(meta))
    labels = [f"{v:{fmt}}" for v in rows["value"]]
    fig = go.Figure(
        go.Bar(
            x=rows["value"],
            y=rows["region_name"],
            orientation="h",
            name=meta["name_zh"],
            marker_color=[
                theme.COLORS[0] if target is None or target.meets(v) is not False else theme.COLORS[1]
                for v in rows["value"]
            ],
            text=labels,
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{y}}：%{{x:{fmt}}}{unit}<extra></extra>",
            customdata=rows["region_code"] if "region_code" in rows else None,  # a click drills down
        )
    )
    low, high = _bar_range(rows["value"], labels)
    marks: list[tuple[float | None, str, str, str]] = []  # (x or None for a note, label, colour, dash)
    if target is not None:
        if low <= target.value <= high + (high - low) / 2:
            high = max(high, target.value + (high - low) * 0.04)
            marks.append((target.value, target.label(), TARGET_COLOR, "dash"))
        else:
            marks.append((None, target.label(), TARGET_COLOR, "dash"))
    if city_value is not None:
        text = f"{whole}{'合计' if meta.get('agg') == 'sum' else ''} {city_value:{fmt}}"
        inside = meta.get("agg") != "sum" and low <= city_value <= high
        marks.append(
            (city_value if inside else None, text if inside else f"{text}{unit}", CITY_COLOR, "solid")
        )
    n = len(rows)
    band, lines = _label_band(marks, low, high, n)
    return _layout(
        fig,
        f"{year}年各{word}{meta['name_zh']}排名",
        height=max(320, 28 * (n + band) + 120),
        xaxis=dict(title=f"{meta['name_zh']}（{unit}）", separatethousands=True, range=[low, high]),
        # the first bar on top; `band` empty rows above it hold the line labels and notes
        yaxis=dict(range=[n - 0.5, -0.5 - band], title=None),
        showlegend=False,
        lines=lines,
    )


# Width of a bar's value label and of a line label, as a share of a ranking's plot width: a
# digit ≈ 0.6 em and a CJK character 1 em of the 14 px font, over a plot ≈ 600 px wide (the
# narrowest place a ranking is shown: a topic page column).
_PLOT_PX, _FONT_PX = 600, 14


def _text_share(text: str) -> float:
    ems = sum(1.0 if ord(ch) > 0x2E80 else 0.6 for ch in text)
    return ems * _FONT_PX / _PLOT_PX


def _bar_range(values: pd.Series, labels: list[str]) -> tuple[float, float]:
    """An x range holding every bar and its outside value label, from zero."""
    low, high = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
    span = (high - low) or 1.0
    pad = max(_text_share(t) for t in labels) + 0.03 if labels else 0.1
    # label width is a share of the whole axis, the pad included: solve for it
    pad_span = span * pad / max(1 - pad, 0.2)
    return (low - pad_span if low < 0 else low), high + pad_span


def label_boxes(fig: go.Figure) -> list[tuple[float, float, float, float]]:
    """Data-coordinate boxes (x0, x1, y0, y1; y in rows, 0 = first bar) of a ranking's bar value
    labels and of its line labels and notes; `tests/test_charts.py` checks none overlap."""
    bar = fig.data[0]
    (low, high) = fig.layout.xaxis.range
    span = high - low
    boxes = [
        (x, x + _text_share(t) * span, i - 0.5, i + 0.5)
        if x >= 0
        else (x - _text_share(t) * span, x, i - 0.5, i + 0.5)
        for i, (x, t) in enumerate(zip(bar.x, bar.text, strict=True))
    ]
    for note in fig.layout.annotations:
        width = _text_share(note.text) * span
        x = note.x if note.xref == "x" else low + note.x * span
        x0 = {"left": x, "right": x - width}.get(note.xanchor, x - width / 2)
        boxes.append((x0, x0 + width, note.y - 0.4, note.y + 0.4))
    return boxes


def _label_band(
    marks: list[tuple[float | None, str, str, str]], low: float, high: float, bars: int
) -> tuple[int, list[tuple[dict, dict]]]:
    """Lines (over the `bars` rows) and notes of a ranking, their labels in rows above the first
    bar (row -1, -2, …): each label takes the first row where it overlaps no other. Returns
    (rows used, lines)."""
    span = high - low
    taken: dict[int, list[tuple[float, float]]] = {}
    out = []
    for x, text, color, dash in marks:
        width = _text_share(text) * span
        if x is None:  # a note: right-aligned at the plot's right edge
            x0, anchor, at = high - width, "right", high
        elif x - width / 2 < low:  # centred on its line, kept within the plot
            x0, anchor, at = low, "left", low
        elif x + width / 2 > high:
            x0, anchor, at = high - width, "right", high
        else:
            x0, anchor, at = x - width / 2, "center", x
        row = 1
        while any(x0 < b and a < x0 + width for a, b in taken.get(row, [])):
            row += 1
        taken.setdefault(row, []).append((x0, x0 + width))
        note = dict(
            text=text,
            showarrow=False,
            xref="x",
            x=at,
            xanchor=anchor,
            yref="y",
            y=-row,
            yanchor="middle",
            font=dict(color=color) if color != CITY_COLOR else {},
        )
        shape = (
            dict(
                type="line",
                layer="below",
                line=dict(color=color, dash=dash, width=2),
                xref="x",
                x0=x,
                x1=x,
                yref="y",
                y0=bars - 0.5,
                y1=-0.5,
            )
            if x is not None
            else None
        )
        out.append((shape, note))
    return len(taken), out


def heatmap(data: pd.DataFrame, meta: pd.Series, word: str = "区县") -> go.Figure:
    """Counties × years, coloured by value; missing cells stay blank."""
    table = data.pivot_table(index="region_name", columns="year", values="value", aggfunc="first", sort=False)
    unit = unit_of(meta)
    fig = go.Figure(
        go.Heatmap(
            z=table.values,
            x=[str(y) for y in table.columns],
            y=table.index,
            colorscale="Blues",
            colorbar=dict(title=unit),
            hoverongaps=False,
            hovertemplate=f"%{{y}} %{{x}}年：%{{z:{_value_format(meta)}}}{unit}<extra></extra>",
        )
    )
    return _layout(
        fig,
        f"{meta['name_zh']}：{word} × 年份",
        height=max(320, 26 * len(table) + 120),
        yaxis=dict(autorange="reversed"),
    )


def scatter(data: pd.DataFrame, meta_x: pd.Series, meta_y: pd.Series, year: int) -> go.Figure:
    """Two indicators per county, bubble size = population. `data`: region_name, x, y, population."""
    rows = data.dropna(subset=["x", "y"])
    size = rows["population"].fillna(rows["population"].median() if rows["population"].notna().any() else 1)
    ux, uy = unit_of(meta_x), unit_of(meta_y)
    fig = go.Figure(
        go.Scatter(
            x=rows["x"],
            y=rows["y"],
            mode="markers+text",
            text=rows["region_name"],
            textposition="top center",
            marker=dict(
                size=size,
                sizemode="area",
                sizeref=2 * max(size.max(), 1) / 60**2,
                sizemin=6,
                color=theme.COLORS[0],
                opacity=0.7,
                line=dict(color="white", width=1),
            ),
            customdata=rows[["population"]].fillna(0).to_numpy(),
            hovertemplate=(
                f"%{{text}}<br>{meta_x['name_zh']}：%{{x:{_value_format(meta_x)}}}{ux}"
                f"<br>{meta_y['name_zh']}：%{{y:{_value_format(meta_y)}}}{uy}"
                f"<br>常住人口：%{{customdata[0]:,.0f}}人<extra></extra>"
            ),
        )
    )
    return _layout(
        fig,
        f"{year}年 {meta_x['name_zh']} 与 {meta_y['name_zh']}（气泡大小：常住人口）",
        height=480,
        xaxis=dict(title=f"{meta_x['name_zh']}（{ux}）", separatethousands=True),
        yaxis_title=f"{meta_y['name_zh']}（{uy}）",
    )


def county_map(
    values: pd.DataFrame, meta: pd.Series, geojson: dict, year: int, word: str = "区县", labels: bool = True
) -> go.Figure:
    """Choropleth of one year, each county named on the map; counties without a value are grey
    and say 暂无数据.

    `values`: region_code, region_name, value. Uses only the given GeoJSON (no basemap), so
    with the topojson stub it draws offline. Names sit at each county's label point (`geo`):
    "眉县<br>38.0" where name and value fit inside the polygon, else the name alone, else a dot
    at the point and the label beside it where it covers no other label. Text is dark on light
    fills and white on dark ones, with a halo of the opposite colour. A GeoJSON carrying an
    `outline` (兵团: 新疆) draws it first as a light base layer and the view fits it; one carrying
    `lines` (the national maps: 九段线 and 未定国界) draws them dashed over the fills. Works for any
    level's children (`word`: 区县, 市, 省份); each fill's customdata is its code (a click drills down).
    `labels=False` names no region on the map (every county of a province or of the country: too
    many to read; the pointer names them)."""
    unit = unit_of(meta)
    fmt = _value_format(meta)
    features = {f["id"]: f for f in geojson["features"]}
    edge = 1 if labels else 0.3  # thousands of small counties: a 1 px border would wash them out
    have = values.dropna(subset=["value"])
    have = have[have["region_code"].isin(features)]
    with_value = set(have["region_code"])
    missing = [code for code in features if code not in with_value]
    fig = go.Figure()
    outline = geojson.get("outline")
    if outline:
        fig.add_trace(
            go.Choropleth(
                geojson=outline,
                locations=[f["id"] for f in outline["features"]],
                z=[0] * len(outline["features"]),
                featureidkey="id",
                showscale=False,
                colorscale=[[0, OUTLINE_FILL], [1, OUTLINE_FILL]],
                name=outline["features"][0]["properties"].get("name", "outline"),
                marker_line=dict(color=OUTLINE_LINE, width=1),
                hoverinfo="skip",
            )
        )
    if missing:
        fig.add_trace(
            go.Choropleth(
                geojson=_only(geojson, missing),
                locations=missing,
                z=[0] * len(missing),
                featureidkey="id",
                showscale=False,
                colorscale=[[0, NO_DATA_COLOR], [1, NO_DATA_COLOR]],
                name=NO_DATA,
                text=[_name(features[c]) for c in missing],
                customdata=missing,
                marker_line=dict(color="white", width=edge),
                hovertemplate=f"%{{text}}：{NO_DATA}<extra></extra>",
            )
        )
    fills: dict[str, str] = {}
    if len(have):
        low, high = float(have["value"].min()), float(have["value"].max())
        fig.add_trace(
            go.Choropleth(
                geojson=_only(geojson, have["region_code"]),
                locations=have["region_code"],
                z=have["value"],
                zmin=low,
                zmax=high,
                featureidkey="id",
                colorscale=MAP_SCALE,
                colorbar=_MAP_COLORBAR | dict(title=dict(text=unit, side="top")),
                name=meta["name_zh"],
                text=have["region_name"],
                customdata=have["region_code"],
                marker_line=dict(color="white", width=edge),
                hovertemplate=f"%{{text}}：%{{z:{fmt}}}{unit}<extra></extra>",
            )
        )
        shares = [(v - low) / (high - low) if high > low else 0.5 for v in have["value"]]
        fills = dict(
            zip(have["region_code"], plotly.colors.sample_colorscale(MAP_SCALE, shares), strict=True)
        )
    named = {c: (n, f"{v:{fmt}}") for c, n, v in zip(have["region_code"], have["region_name"], have["value"])}
    named.update({c: (_name(features[c]), None) for c in missing})
    if all(code.endswith("0000") for code in features):  # provinces: 31 names in the east's little room
        named = {c: (short_name(n), v) for c, (n, v) in named.items()}
    placed = _place_labels(features, named, outline) if labels else {}
    for name, codes in ((meta["name_zh"], list(have["region_code"])), (NO_DATA, missing)):
        if not codes or not labels:
            continue
        spots = [placed[c] for c in codes]
        dots = [fills.get(c, NO_DATA_COLOR) for c in codes]
        fig.add_trace(
            go.Scattergeo(
                lon=[s.lon for s in spots],
                lat=[s.lat for s in spots],
                text=[s.text for s in spots],
                mode="markers+text",
                textposition=[s.position for s in spots],
                marker=dict(
                    size=[0 if s.inside else 7 for s in spots],
                    color=dots,
                    line=dict(color=INK, width=1),
                ),
                textfont=dict(
                    color=[
                        _ink_on(fills[c]) if s.inside and c in fills else (INK if c in fills else "#52606D")
                        for c, s in zip(codes, spots, strict=True)
                    ],
                    shadow="auto",
                ),
                name=f"{name}（标注）",
                showlegend=False,
                hoverinfo="skip",
            )
        )
    for line in (geojson.get("lines") or {}).get("features", []):
        lon, lat = [], []
        for part in line["geometry"]["coordinates"]:
            lon += [p[0] for p in part] + [None]
            lat += [p[1] for p in part] + [None]
        fig.add_trace(
            go.Scattergeo(
                lon=lon,
                lat=lat,
                mode="lines",
                line=dict(color=OUTLINE_LINE_DARK, width=1.5, dash="dash"),
                name=line["properties"].get("name", "line"),
                showlegend=False,
                hoverinfo="skip",
            )
        )
    fig.update_geos(
        fitbounds="locations",
        visible=False,
        projection_type="mercator",
        bgcolor="rgba(0,0,0,0)",
    )
    return _layout(
        fig,
        f"{year}年各{word}{meta['name_zh']}",
        height=MAP_HEIGHT,
        margin=dict(l=0, r=0, t=_MAP_TITLE, b=_MAP_COLORBAR_ROOM),
    )


# The colour bar lies under the map, 320 px long (a phone's width less its margins; a share of the
# figure would run across a wide screen), its unit above it. Beside the map it took a third of a
# phone's width from it (a map is as wide as the phone, and its height is fixed); under it, it
# takes the same room on every screen.
_MAP_TITLE, _MAP_COLORBAR_ROOM = 40, 80  # px above and below the map
_MAP_COLORBAR = dict(
    orientation="h", x=0.5, xanchor="center", y=-0.02, yanchor="top", len=320, lenmode="pixels", thickness=12
)
MAP_HEIGHT = 480 + _MAP_TITLE + _MAP_COLORBAR_ROOM  # the map itself 480 px high


# A province's name on a national map, as Chinese maps write it: 广西壮族自治区 → 广西, 黑龙江省 → 黑龙江.
_PROVINCE_SUFFIX = re.compile(r"(维吾尔自治区|壮族自治区|回族自治区|自治区|特别行政区|省|市)$")


def short_name(name: str) -> str:
    """A province's short name (the pointer still names it in full)."""
    return _PROVINCE_SUFFIX.sub("", name) or name


def _name(feature: dict) -> str:
    return feature["properties"].get("name", feature["id"])


def _ink_on(fill: str) -> str:
    """INK or white, whichever contrasts more with the fill (WCAG 2 contrast ratio)."""
    return max((INK, "white"), key=lambda ink: contrast(ink, fill))


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours ("#RRGGBB", "rgb(r, g, b)" or a CSS name)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def luminance(colour: str) -> float:
    """WCAG relative luminance of "#RRGGBB", "#RGB", "rgb(r, g, b)", white or black."""
    colour = {"white": "#FFFFFF", "black": "#000000"}.get(colour, colour)
    if colour.startswith("#") and len(colour) == 4:
        colour = "#" + "".join(c * 2 for c in colour[1:])
    rgb = plotly.colors.hex_to_rgb(colour) if colour.startswith("#") else plotly.colors.unlabel_rgb(colour)
    r, g, b = (_linear(c / 255) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


class _Spot:
    __slots__ = ("inside", "lat", "lon", "position", "text")

    def __init__(self, lon: float, lat: float, text: str, position: str, inside: bool):
        self.lon, self.lat, self.text, self.position, self.inside = lon, lat, text, position, inside


# Offsets tried, in order, for a label that does not fit inside its county: (textposition, dx, dy)
# with the box's centre that far from the dot in units of the box's half width / half height.
_AROUND = (
    ("top center", 0, -1),
    ("bottom center", 0, 1),
    ("middle right", 1, 0),
    ("middle left", -1, 0),
    ("top right", 1, -1),
    ("top left", -1, -1),
    ("bottom right", 1, 1),
    ("bottom left", -1, 1),
)
# What the layout assumes of the drawn map: the plot area in px (the figure's height less the
# title and the colour bar; the width of a page column or a 16:9 slide is at least 1.5× that),
# the share of it plotly's fitbounds fills (0.7: measured on the three cities' maps drawn by
# kaleido, 0.7–0.9) and the label font. On a phone the labels are not drawn (static/app.css).
_MAP_AREA = MAP_HEIGHT - _MAP_TITLE - _MAP_COLORBAR_ROOM
_MAP_PX, _MAP_FILL, _LABEL_PX = (1.5 * _MAP_AREA, _MAP_AREA), 0.7, 14


def _place_labels(features: dict, named: dict[str, tuple[str, str | None]], outline: dict | None) -> dict:
    """Where each county's label goes (code → `_Spot`), greedily, roomiest county first: inside
    at the label point with name and value, else the name alone, else beside a dot at the point,
    the first of `_AROUND` overlapping no label placed so far (the least overlapping if all do).
    Sizes are estimated from the map's extent at `_MAP_PX` (fitbounds keeps the aspect)."""
    shapes = [features[c] for c in named] + (outline["features"] if outline else [])
    xs, ys = [], []
    for f in shapes:
        polygons = f["geometry"]["coordinates"]
        for polygon in polygons if f["geometry"]["type"] == "MultiPolygon" else [polygons]:
            xs += [p[0] for p in polygon[0]]
            ys += [p[1] for p in polygon[0]]
    top = float(mercator_y(max(ys)))
    px = _MAP_FILL * min(
        _MAP_PX[0] / (max(xs) - min(xs) or 1), _MAP_PX[1] / (top - float(mercator_y(min(ys))) or 1)
    )
    placed: dict[str, _Spot] = {}
    boxes: list[tuple[float, float, float, float]] = []

    def size(text: str) -> tuple[float, float]:
        lines = text.split("<br>")
        width = max(sum(1.0 if ord(ch) > 0x2E80 else 0.6 for ch in line) for line in lines) * _LABEL_PX
        return width, len(lines) * _LABEL_PX * 1.25

    def overlap(box, pad: float = 3) -> float:
        return sum(
            max(0.0, min(box[2], b[2]) - max(box[0], b[0]) + pad)
            * max(0.0, min(box[3], b[3]) - max(box[1], b[1]) + pad)
            for b in boxes
        )

    order = sorted(named, key=lambda c: -features[c]["properties"].get("label_room", 0))
    for code in order:  # the dots of counties too small for any label inside: labels avoid them
        lon, lat = features[code]["properties"].get("label") or _first_point(features[code])
        if features[code]["properties"].get("label_room", 0) * px < _LABEL_PX:
            x, y = (lon - min(xs)) * px, (top - float(mercator_y(lat))) * px
            boxes.append((x - 1, y - 1, x + 1, y + 1))
    for code in order:
        props = features[code]["properties"]
        lon, lat = props.get("label") or _first_point(features[code])
        x, y = (lon - min(xs)) * px, (top - float(mercator_y(lat))) * px
        room = props.get("label_room", 0) * px
        name, value = named[code]
        texts = ([f"{name}<br>{value}"] if value is not None else []) + [name]
        spot = None
        for text in texts:
            w, h = size(text)
            # inside when the box's half-diagonal is within the room around the point (+10 %:
            # a label may touch the border), and it covers no label placed before it
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if (w * w + h * h) ** 0.5 / 2 <= room * 1.1 and overlap(box) == 0:
                spot = _Spot(lon, lat, text, "middle center", True)
                break
        if spot is None:
            # beside the dot: name and value where that covers nothing, else the name alone
            choices = []
            for text in texts:
                w, h = size(text)
                for position, dx, dy in _AROUND:
                    cx, cy = x + dx * (w / 2 + 5), y + dy * (h / 2 + 5)
                    box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                    choices.append((overlap(box), len(choices), text, position, box))
            _, _, text, position, box = min(choices)
            spot = _Spot(lon, lat, text, position, False)
        boxes.append(box)
        placed[code] = spot
    return placed


def _first_point(feature: dict) -> tuple[float, float]:
    coords = feature["geometry"]["coordinates"]
    ring = coords[0][0] if feature["geometry"]["type"] == "MultiPolygon" else coords[0]
    return ring[0][0], ring[0][1]


def _only(geojson: dict, codes) -> dict:
    """The features of these counties: plotly deep-copies a trace's GeoJSON (twice per rerun),
    so each trace carries only its own polygons instead of the whole city (nor its outline),
    and of each only its id and shape: names reach the trace as its text, and label points
    are the label trace's (a sixth of the national county map's bytes)."""
    wanted = set(codes)
    return {
        "type": geojson.get("type", "FeatureCollection"),
        "features": [
            {"type": "Feature", "id": f["id"], "geometry": f["geometry"]}
            for f in geojson["features"]
            if f["id"] in wanted
        ],
    }


def before_after(old: pd.DataFrame, new: pd.DataFrame, meta: pd.Series, region_name: str) -> go.Figure:
    """One region's series in the version being served and after a publish (数据管理 preview).
    `old`, `new`: year, value."""
    unit, fmt = unit_of(meta), _value_format(meta)
    fig = go.Figure()
    for rows, name, style in (
        (old, "当前版本", dict(color=NO_DATA_COLOR, width=5)),
        (new, "发布后", dict(color=theme.COLORS[0], width=2)),
    ):
        rows = rows.sort_values("year")
        fig.add_trace(
            go.Scatter(
                x=rows["year"],
                y=rows["value"],
                name=name,
                mode="lines+markers",
                line=style,
                hovertemplate=f"{name} %{{x}}年：%{{y:{fmt}}}{unit}<extra></extra>",
            )
        )
    return _layout(
        fig,
        f"{region_name} · {meta['name_zh']}",
        height=320,
        yaxis_title=f"{meta['name_zh']}（{unit}）",
        xaxis=dict(tickformat="d", title="年份"),
    )
