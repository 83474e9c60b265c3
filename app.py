"""民政数据看板 — entry point: page setup, first-run warehouse build, navigation.

Run with `make run` (or `streamlit run app.py`). Pages live in pages/ and share dashboard/.
"""
import streamlit as st

from dashboard import store

st.set_page_config(page_title="民政数据看板", page_icon=":material/analytics:", layout="wide")
store.ensure_warehouse()

page = st.navigation({
    "总览": [st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", default=True)],
})
page.run()
