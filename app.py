"""民政数据看板 — entry point: page setup, first-run warehouse build, navigation.

Run with `make run` (or `streamlit run app.py`). Pages live in pages/ and share dashboard/;
the sidebar filters (dashboard/filters.py) are drawn by each page and kept in the URL.
"""
import streamlit as st

from dashboard import store
from dashboard.process import freeze_startup_heap

st.set_page_config(page_title="民政数据看板", page_icon="📊", layout="wide")
store.ensure_warehouse()

page = st.navigation({
    "总览": [st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", default=True)],
    "专题": [
        st.Page("pages/social_relief.py", title="社会救助", icon=":material/volunteer_activism:"),
        st.Page("pages/elderly_care.py", title="养老服务", icon=":material/elderly:"),
        st.Page("pages/charity.py", title="慈善事业", icon=":material/favorite:"),
        st.Page("pages/social_work.py", title="社会工作", icon=":material/groups:"),
    ],
    "分析": [
        st.Page("pages/compare.py", title="区县对比", icon=":material/compare_arrows:"),
        st.Page("pages/query.py", title="数据查询", icon=":material/table_view:"),
        st.Page("pages/catalog.py", title="指标说明", icon=":material/menu_book:"),
        st.Page("pages/reconcile.py", title="公开数据核对", icon=":material/fact_check:"),
    ],
    "汇报": [st.Page("pages/present.py", title="演示", icon=":material/slideshow:")],
    "管理": [st.Page("pages/admin.py", title="数据管理", icon=":material/admin_panel_settings:")],
})
page.run()
freeze_startup_heap()
