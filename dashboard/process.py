"""Process-level tuning of a Streamlit server, shared by app.py and the benchmark's floor page
(so the floor a page is measured against runs with the same settings as the page)."""

import atexit
import gc

import streamlit as st


@st.cache_resource(show_spinner=False)
def freeze_startup_heap() -> bool:
    """Once per process: move the objects of the imports (pandas, plotly, duckdb …) out of the
    garbage collector's reach. Every full collection scanned them — Streamlit's own after each
    rerun (by default; .streamlit/config.toml turns it off) and Python's periodic ones — and
    that scan was most of a rerun's cost (docs/PERFORMANCE.md)."""
    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)  # let extension objects be released normally at shutdown
    return True
