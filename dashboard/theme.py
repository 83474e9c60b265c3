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
        legend=dict(orientation="h", y=-0.15),
    )
)
# The default for every figure: set once here rather than per figure, which made plotly
# validate the whole template again for each chart of each rerun.
pio.templates.default = TEMPLATE


def plotly_config() -> dict:
    """st.plotly_chart config: no logo, topojson from our own static folder (offline)."""
    return {
        "displaylogo": False,
        "topojsonURL": "app/static/topojson/",
        "toImageButtonOptions": {"format": "png", "scale": 2},
    }
