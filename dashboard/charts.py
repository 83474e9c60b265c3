"""Chart builders: tidy frames in, plotly figures out — no Streamlit, so they are unit-tested.

Every figure uses the project template (dashboard/theme.py), puts the unit in the axis title
and Chinese hover text with the catalog's decimals. The city line is the warehouse's own
aggregated/derived row, drawn bold over thin county lines; it is never recomputed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from . import theme

if TYPE_CHECKING:
    from etl.catalog import Target

CITY_COLOR = "#1F2933"
TARGET_COLOR = "#C23B3B"
NO_DATA_COLOR = "#D5D9DE"
NO_DATA = "暂无数据"


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
        shapes=[shape for shape, _ in lines],
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
) -> go.Figure:
    """County lines plus the bold city line over years. `data`: region_code, region_name, year, value.

    `published`: figures already published for these regions (region_name, year, value,
    value_written, unit_written, document, quote), drawn as 公报值 markers with the sentence
    in the hover (not in the 相对起始年 view, whose axis is a change, not a value). `national`:
    a published national series of the same ratio (year, value, document), a dashed reference
    line labelled with its source."""
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
    order = counties + ([city] if city in set(data["region_code"]) else [])
    for code in order:
        rows = data[data["region_code"] == code]
        is_city = code == city
        fig.add_trace(
            go.Scatter(
                x=rows["year"],
                y=rows["value"],
                name=rows["region_name"].iloc[0] + ("（全市）" if is_city else ""),
                mode="lines+markers",
                line=dict(width=4 if is_city else 1.5, color=CITY_COLOR if is_city else None),
                marker=dict(size=7 if is_city else 4),
                opacity=1 if is_city else 0.75,
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
                customdata=national[["document"]].to_numpy(),
                hovertemplate=(
                    f"全国 %{{x}}年：%{{y:{fmt}}}{suffix}<br>来源：%{{customdata[0]}}<extra></extra>"
                ),
            )
        )
    if published is not None and len(published) and not relative:
        fig.add_trace(
            go.Scatter(
                x=published["year"],
                y=published["value"],
                name="公报值",
                mode="markers",
                marker=dict(
                    symbol="diamond", size=13, color=PUBLISHED_COLOR, line=dict(color="white", width=1.5)
                ),
                customdata=published[["region_name", "value_written", "unit_written", "document"]].to_numpy(),
                text=[_wrap(q) for q in published["quote"]],
                hovertemplate=(
                    "%{customdata[0]} %{x}年 公报值：%{customdata[1]}%{customdata[2]}<br>"
                    "《%{customdata[3]}》<br>%{text}<extra></extra>"
                ),
            )
        )
    return _layout(
        fig,
        f"{meta['name_zh']}走势",
        yaxis_title=axis,
        xaxis=dict(dtick=1, title="年份"),
        legend=dict(traceorder="reversed"),
        lines=lines,
    )


def _wrap(text: str, width: int = 36) -> str:
    """A long quote broken into hover lines."""
    return "<br>".join(text[i : i + width] for i in range(0, len(text), width))


def county_ranking(
    data: pd.DataFrame, meta: pd.Series, year: int, city: str, target: Target | None = None
) -> go.Figure | None:
    """The counties among `data` (one indicator, the city and its counties) ranked in `year`, the
    city's own value and the target as lines; None when no county has a value that year. The
    ranking of the topic pages, 区县对比 and the meeting deck."""
    rows = data[data["year"] == year]
    counties = rows[rows["region_code"] != city]
    if counties.empty:
        return None
    city_now = rows.loc[rows["region_code"] == city, "value"]
    return ranking(counties, meta, year, float(city_now.iloc[0]) if len(city_now) else None, target)


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
) -> go.Figure:
    """Counties of one year as horizontal bars, best on top, in the second colour where they miss
    the target (`Target.meets`: below a floor, above a ceiling); lines for the city value and
    the target."""
    unit = unit_of(meta)
    rows = data.dropna(subset=["value"]).sort_values("value", ascending=lower_is_better(meta))
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
            text=[f"{v:{_value_format(meta)}}" for v in rows["value"]],
            textposition="outside",
            hovertemplate=f"%{{y}}：%{{x:{_value_format(meta)}}}{unit}<extra></extra>",
        )
    )
    lines = []
    if city_value is not None:
        lines.append(reference_line("x", city_value, f"全市 {city_value:{_value_format(meta)}}", CITY_COLOR))
    if target is not None:
        lines.append(reference_line("x", target.value, target.label(), TARGET_COLOR, "dash", at="start"))
    return _layout(
        fig,
        f"{year}年各区县{meta['name_zh']}排名",
        height=max(320, 28 * len(rows) + 120),
        xaxis=dict(title=f"{meta['name_zh']}（{unit}）", separatethousands=True),
        yaxis=dict(autorange="reversed", title=None),
        showlegend=False,
        lines=lines,
    )


def heatmap(data: pd.DataFrame, meta: pd.Series) -> go.Figure:
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
        f"{meta['name_zh']}：区县 × 年份",
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


def county_map(values: pd.DataFrame, meta: pd.Series, geojson: dict, year: int) -> go.Figure:
    """Choropleth of one year; counties without a value are grey and say 暂无数据.

    `values`: region_code, region_name, value. Uses only the given GeoJSON (no basemap), so
    with the topojson stub it draws offline."""
    unit = unit_of(meta)
    features = {f["id"]: f["properties"].get("name", f["id"]) for f in geojson["features"]}
    have = values.dropna(subset=["value"])
    have = have[have["region_code"].isin(features)]
    missing = [code for code in features if code not in set(have["region_code"])]
    fig = go.Figure()
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
                text=[features[c] for c in missing],
                marker_line=dict(color="white", width=1),
                hovertemplate=f"%{{text}}：{NO_DATA}<extra></extra>",
            )
        )
    if len(have):
        fig.add_trace(
            go.Choropleth(
                geojson=_only(geojson, have["region_code"]),
                locations=have["region_code"],
                z=have["value"],
                featureidkey="id",
                colorscale="Blues",
                colorbar=dict(title=unit),
                name=meta["name_zh"],
                text=have["region_name"],
                marker_line=dict(color="white", width=1),
                hovertemplate=f"%{{text}}：%{{z:{_value_format(meta)}}}{unit}<extra></extra>",
            )
        )
    fig.update_geos(fitbounds="locations", visible=False)
    return _layout(fig, f"{year}年各区县{meta['name_zh']}", height=520, margin=dict(l=0, r=0, t=40, b=0))


def _only(geojson: dict, codes) -> dict:
    """The features of these counties: plotly deep-copies a trace's GeoJSON (twice per rerun),
    so each trace carries only its own polygons instead of the whole city."""
    wanted = set(codes)
    return {**geojson, "features": [f for f in geojson["features"] if f["id"] in wanted]}


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
