"""The floor for page benchmarks: a bare Streamlit page with one multiselect and `?charts=N`
plotly charts drawn from constant data — what any page with N charts costs at least. It runs
with app.py's process settings (.streamlit/config.toml, Nagle off, the startup heap frozen), unless
MZ_BARE_DEFAULTS=1 asks for Streamlit's defaults (the benchmark also turns `runner.postScriptGC`
back on), under which every rerun ends with a full scan of the import heap."""

import os

import plotly.graph_objects as go
import streamlit as st

from dashboard.process import freeze_startup_heap, send_without_delay

n = int(st.query_params.get("charts", "1"))
chosen = st.sidebar.multiselect("区县", ["A", "B", "C", "D"], default=["A", "B"])
for i in range(n):
    fig = go.Figure(
        [
            go.Scatter(x=list(range(2016, 2026)), y=[j * (k + 1) for j in range(10)], name=f"{c}")
            for k, c in enumerate(chosen)
        ]
    )
    st.plotly_chart(fig, key=f"chart-{i}")
if os.environ.get("MZ_BARE_DEFAULTS") != "1":
    send_without_delay()
    freeze_startup_heap()
