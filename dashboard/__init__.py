"""Shared code of the Streamlit dashboard: warehouse access, formatting, filters, chart theme.

Pages in `pages/` stay thin: they pick data through `store`, format it with `format` and draw
it with the `theme`'s plotly template.

Importing this package inside a script run also fixes routing for a freshly started server:
because a `pages/` folder exists, Streamlit starts in its old multipage mode and, for a first
visitor who opens a deep link (say `/elderly_care?city=…` from a shared URL), runs that page
file on its own — without app.py, so without page config, first-run build or the sectioned
navigation — until somebody opens `/`. Every page imports this package first, so the first
script run of the process switches Streamlit to app.py's `st.navigation` and reruns.
"""


def _use_app_navigation() -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if PagesManager.uses_pages_directory and get_script_run_ctx(suppress_warning=True) is not None:
        import streamlit as st

        PagesManager.uses_pages_directory = False  # what st.navigation itself sets on its first call
        st.rerun()


_use_app_navigation()
