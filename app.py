"""民政数据看板 — entry point: page setup, first-run warehouse build, navigation.

Run with `make run` (or `streamlit run app.py`). Pages live in pages/ and share dashboard/;
the sidebar filters (dashboard/filters.py) are drawn by each page and kept in the URL.
"""

import logging

import streamlit as st
from streamlit import runtime

from dashboard import filters, navigation, store, upload_guard, widget_guard
from dashboard.process import freeze_startup_heap, send_without_delay

# Widget states a client forged (unknown ids, values of the wrong type) are ignored, not shown
# to it as a KeyError or TypeError (dashboard/widget_guard.py).
widget_guard.install()
st.set_page_config(**navigation.PAGE_CONFIG)
# Uploads are kept only for administrator sessions: the first run wraps the server's uploaded-file
# manager, every run drops non-administrators' files (dashboard/upload_guard.py).
upload_guard.install()
store.ensure_warehouse()

page = navigation.navigation(titles={"pages/compare.py": filters.compare_title(filters.current_region())})
# Style injection: the phone layout and Chinese for Streamlit's own English (static/app.css, zh_ui.js).
navigation.style()
try:
    page.run()
except Exception as error:  # st.stop, st.rerun, st.switch_page: BaseExceptions, they pass
    logging.getLogger("dashboard").exception("page %s failed", page.url_path)
    st.error("页面出错了，请刷新后重试；如果问题持续，请联系管理员（详细信息已记录在服务器日志中）。")
    if not runtime.exists():  # in-process tests (AppTest, no server): the error itself, in full
        st.exception(error)
send_without_delay()
freeze_startup_heap()
