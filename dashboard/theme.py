"""One look for every chart: CJK font, sober government colours, no plotly logo, offline maps.

`FONT` names the Noto CJK family that `make test` installs (fonts-noto-cjk) so charts render
the same in the browser, in kaleido exports and on the meeting-room screen.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

FONT = "NotoSansSC, Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
COLORS = ["#1F5AA6", "#E07B39", "#3A9D5D", "#C23B3B", "#7A5BA6", "#2A9DB5", "#B58B2A", "#6B7B8C"]
TEMPLATE = "minzheng"

pio.templates[TEMPLATE] = go.layout.Template(
    layout=go.Layout(
        font=dict(family=FONT, size=14, color="#1F2933"),
        colorway=COLORS,
        paper_bgcolor="white",
        plot_bgcolor="white",
        # Full numbers with thousands separators: "20k" / "1M" are not how Chinese reports read.
        xaxis=dict(
            showgrid=False, linecolor="#9AA5B1", ticks="outside", exponentformat="none"
        ),  # years: no "2,016"
        yaxis=dict(
            gridcolor="#E4E7EB",
            zerolinecolor="#9AA5B1",
            rangemode="tozero",
            exponentformat="none",
            separatethousands=True,
        ),
        margin=dict(l=10, r=10, t=40, b=10),
        hoverlabel=dict(font_family=FONT),
        # Below the plot, horizontal and compact: on a phone a legend of twelve counties in 14 px
        # type was taller than the plot itself.
        legend=dict(orientation="h", y=-0.18, yanchor="top", font=dict(size=12), itemwidth=30),
    )
)
# The default for every figure: set once here rather than per figure, which made plotly
# validate the whole template again for each chart of each rerun.
pio.templates.default = TEMPLATE


# The plotly.js modebar speaks English unless the figure's config names a locale and brings its
# dictionary (Streamlit's bundle registers no locale; `config.locales` is plotly's own way to hand
# one over). Only the buttons kept below, and the messages a user can meet, need words.
ZH_CN = {
    "dictionary": {
        "Zoom in": "放大",
        "Zoom out": "缩小",
        "Reset axes": "重置坐标轴",
        "Reset view": "重置视图",
        "Reset": "重置",
        "Autoscale": "自动缩放",
        "Zoom": "缩放",
        "Pan": "平移",
        "Download plot as a PNG": "下载图片",
        "Download plot": "下载图片",
        "Double-click to zoom back out": "双击恢复原始大小",
        "Double-click on legend to isolate one trace": "双击图例只显示这一条线",
        "Click to enter Plot title": "点击输入图表标题",
        "Click to enter X axis title": "点击输入横轴标题",
        "Click to enter Y axis title": "点击输入纵轴标题",
        "Click to enter Colorscale title": "点击输入色标标题",
        "Taking snapshot - this may take a few seconds": "正在生成图片，请稍候",
        "Snapshot succeeded": "图片已生成",
        "Sorry, there was a problem downloading your snapshot!": "抱歉，图片下载失败",
        "Trace": "数据系列",
        "trace": "数据系列",
        "Produced with Plotly.js": "由 Plotly.js 绘制",
    },
    "format": {
        "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
        "months": [f"{m}月" for m in range(1, 13)],
        "shortMonths": [f"{m}月" for m in range(1, 13)],
        "date": "%Y-%m-%d",
    },
}
# Modebar buttons whose job a chart of this dashboard has no use for (box and lasso selection,
# spike lines, hover modes) and the camera: it saved the bare chart without region, years or
# source; every chart has 下载图片 buttons beside it instead (export.chart_buttons). What stays:
# zoom in/out and reset, with Chinese tooltips from ZH_CN. On a narrow screen the modebar is
# hidden altogether by the app's style sheet (static/app.css), so it never covers a title.
MODEBAR_REMOVED = [
    "toImage",
    "select2d",
    "lasso2d",
    "zoom2d",
    "pan2d",
    "autoScale2d",
    "toggleSpikelines",
    "hoverClosestCartesian",
    "hoverCompareCartesian",
    "hoverClosestGeo",
    "pan",
    "select",
    "lasso",
    "zoom",
    "sendDataToCloud",
]


def plotly_config() -> dict:
    """st.plotly_chart config: Chinese tooltips, a trimmed modebar without the camera, no logo,
    topojson from our own static folder (offline)."""
    return {
        "displaylogo": False,
        "topojsonURL": "app/static/topojson/",
        "locale": "zh-CN",
        "locales": {"zh-CN": ZH_CN},
        "modeBarButtonsToRemove": MODEBAR_REMOVED,
        "toImageButtonOptions": {"format": "png", "scale": 2},
    }
