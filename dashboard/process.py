"""Process-level tuning of a Streamlit server, shared by app.py and the benchmark's floor page
(so the floor a page is measured against runs with the same settings as the page)."""

import atexit
import contextlib
import gc
import socket

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


@st.cache_resource(show_spinner=False)
def send_without_delay() -> bool:
    """Once per process: Nagle's algorithm off (TCP_NODELAY) on the server's TCP sockets.

    Streamlit binds its listening socket itself with protocol number 0, and asyncio switches the
    algorithm off only on sockets whose protocol is IPPROTO_TCP, so every browser connection kept
    it: a rerun's last small messages waited for the browser's delayed acknowledgement. Measured
    over the websocket: the script done at 12 ms, its messages arriving at 44 ms, on most reruns
    of every page (12 ms with this). Connections accepted later inherit the option from the
    listening socket (Linux); those already open get it here too."""
    for found in gc.get_objects():
        if (
            isinstance(found, socket.socket)
            and found.family in (socket.AF_INET, socket.AF_INET6)
            and found.type == socket.SOCK_STREAM
        ):
            with contextlib.suppress(OSError):  # closed meanwhile
                found.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return True
