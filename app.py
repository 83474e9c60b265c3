"""民政数据看板 — entry point: page setup, first-run warehouse build, navigation.

Run with `make run` (or `streamlit run app.py`). Pages live in pages/ and share dashboard/;
the sidebar filters (dashboard/filters.py) are drawn by each page and kept in the URL.
"""

import streamlit as st

from dashboard import navigation, store
from dashboard.process import freeze_startup_heap

st.set_page_config(**navigation.PAGE_CONFIG)
store.ensure_warehouse()

page = navigation.navigation()
page.run()
freeze_startup_heap()
