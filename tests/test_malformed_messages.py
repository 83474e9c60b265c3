"""Malformed client messages against a real server (`streamlit run app.py`, raw websocket, no
browser): forged widget ids, values of the wrong type for real widgets, huge or garbage query
strings, unknown pages. No exception, traceback, error type or error message reaches the client,
and the session still renders its page on the next normal rerun (dashboard/widget_guard.py,
client.showErrorDetails = "none" in .streamlit/config.toml, app.py's Chinese error message)."""

import shutil

import duckdb
import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.server_bench import Session
from dashboard import widget_guard
from etl import warehouse
from tests.browser import serve_app
from tests.util import run_async

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("malformed")]  # two servers, one worker: ~20 s
QUERY = "city=610300&county=610302&county=610326"
# what must never reach a client: Python's words for an error, Streamlit's generic error text,
# our own error message (a forged message is no error of the app)
LEAKS = (
    b"Traceback",
    b'.py", line',
    b"KeyError",
    b"TypeError",
    b"ValueError",
    b"JSONDecodeError",
    b"has no key",
    b"This app has encountered an error",
    "页面出错".encode(),
)
FAKE = "$$ID-" + "0" * 32
SLIDE = "数据截至"  # the footer of every slide
KEYS = "mz_present_keys"  # 演示's key handler (a st.components.v2 component)


@pytest.fixture(scope="module")
def port(sample):
    with serve_app(sample, sample.parent / "server.log") as server:
        yield server.port


def rerun(page: str = "", query: str = "", states=(), page_hash: str = "", fragment: str = "") -> BackMsg:
    """A rerun BackMsg as the browser sends it, with `states`: (widget id, value field, value)."""
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    msg.rerun_script.page_script_hash = page_hash
    msg.rerun_script.fragment_id = fragment
    for widget_id, field, value in states:
        state = msg.rerun_script.widget_states.widgets.add()
        state.id = widget_id
        slot = getattr(state, field)
        if field.endswith("array_value") or field == "string_trigger_value":
            if isinstance(value, list):
                slot.data.extend(value)
            else:
                slot.data = value
        else:
            setattr(state, field, value)
    return msg


def elements(msgs: list[ForwardMsg]):
    for fm in msgs:
        if fm.WhichOneof("type") == "delta" and fm.delta.WhichOneof("type") == "new_element":
            yield fm.delta.new_element


def widgets(msgs: list[ForwardMsg]) -> dict[str, str]:
    """Label (a component's name) → widget id of the widgets a run drew."""
    found = {}
    for element in elements(msgs):
        proto = getattr(element, element.WhichOneof("type"))
        if getattr(proto, "id", "").startswith("$$ID-") and hasattr(proto, "label"):
            found[proto.label] = proto.id
        elif element.WhichOneof("type") == "bidi_component":
            found[proto.component_name] = proto.id
    return found


def leaks(msgs: list[ForwardMsg]) -> list[str]:
    """Exception elements and error words in anything the client was sent."""
    found = [f"exception {e.exception.type}" for e in elements(msgs) if e.WhichOneof("type") == "exception"]
    for fm in msgs:
        data = fm.SerializeToString()
        found += [leak.decode() for leak in LEAKS if leak in data]
    return found


def finished(msgs: list[ForwardMsg]) -> bool:
    return any(
        fm.WhichOneof("type") == "script_finished" and fm.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY
        for fm in msgs
    )


def renders(msgs: list[ForwardMsg], mark: str) -> bool:
    """A normal run of a page: finished, `mark` in a heading, markdown or HTML (a topic page's
    title, the slide's footer), and charts on a topic page."""
    drawn = list(elements(msgs))
    marked = any(mark in (e.heading.body or e.markdown.body or e.html.body) for e in drawn)
    charts = any(e.WhichOneof("type") == "plotly_chart" for e in drawn)
    return finished(msgs) and marked and (charts or mark == SLIDE)


# A forged rerun: widget states (a widget's label stands for its id), or other rerun fields.
TOPIC = {
    "a session key as widget id": dict(
        states=[
            ("slide", "int_value", 1),
            ("pick_ind", "string_value", "x"),
            ("deck_ids", "string_array_value", []),
        ]
    ),
    "an id no widget has": dict(
        states=[(f"{FAKE}-None", "string_array_value", ["x"]), (f"{FAKE}-pick_ind", "string_value", "x")]
    ),
    "an int for the county multiselect": dict(states=[("区县", "int_value", 5)]),
    "a string for the county multiselect": dict(states=[("区县", "string_value", "610302")]),
    "counties that do not exist": dict(states=[("区县", "string_array_value", ["000000", "<b>"])]),
    "an int for the year slider": dict(states=[("年份范围", "int_value", 3)]),
    "numbers for the year slider": dict(states=[("年份范围", "double_array_value", [1e300, -1])]),
    "an int array for the region select box": dict(states=[("地区", "int_array_value", [1, 2])]),
    "a bool for the region select box": dict(states=[("地区", "bool_value", True)]),
    "a string trigger for the indicator select box": dict(states=[("指标", "string_trigger_value", "x")]),
    "a float for the indicator select box": dict(states=[("指标", "double_value", 1.5)]),
    "malformed JSON for the toggle": dict(states=[("相对起始年", "json_value", "{bad")]),
    "a string array for a download button": dict(states=[("下载 CSV", "string_array_value", ["x"])]),
    "a huge query string": dict(query="city=" + "9" * 200_000 + "&county=" + "1" * 100_000),
    "many query parameters": dict(query="&".join(f"county={n}" for n in range(20_000))),
    "a garbage query string": dict(
        query="%ff%fe&&==&city=%00%01&county=%E0%A4&from=abc&to=-1&ind=../../x&view=<script>&s=9" + "9" * 40
    ),
    "a page script hash that does not exist": dict(page="", page_hash="0" * 32),
    "a page script hash and name that do not exist": dict(page="no_such_page", page_hash="x" * 300),
}
PRESENT = {
    "an int for the slide picker": dict(states=[("页面与顺序（按选择的先后排列）", "int_value", 7)]),
    "an int array for the jump box": dict(states=[("跳转", "int_array_value", [99])]),
    "a string array for the theme toggle": dict(states=[("深色大屏", "string_array_value", ["x"])]),
    "a session key as widget id": dict(
        states=[("slide", "int_value", 10**6), ("full_run", "bool_value", True)]
    ),
    "a garbage deck in the URL": dict(query="slides=,,%00,../x&s=-5&auto=abc&theme=<x>&screen=0"),
    "malformed JSON from the key handler": dict(states=[(KEYS, "json_value", "{bad")]),
    "a slide far past the end from the key handler": dict(
        states=[(KEYS, "json_value", '{"go": {"action": "to", "n": 1000000000, "seq": 1}}')]
    ),
    "a text slide number from the key handler": dict(
        states=[(KEYS, "json_value", '{"go": {"action": "to", "n": "x", "seq": 2}}')]
    ),
    "a list for the key handler's move": dict(states=[(KEYS, "json_value", '{"go": [1, 2]}')]),
}
# widget states that name session keys, not widgets: sent with the key itself as the id
SESSION_KEYS = {"slide", "pick_ind", "deck_ids", "full_run"}
CASES = [("elderly_care", "养老服务", case) for case in TOPIC] + [
    ("present", SLIDE, case) for case in PRESENT
]


def page_hash(msgs: list[ForwardMsg]) -> str:
    """The script hash of the page the last run showed (the browser sends it back)."""
    return [fm.navigation.page_script_hash for fm in msgs if fm.WhichOneof("type") == "navigation"][-1]


async def forged(port: int, page: str, mark: str, case: str) -> tuple[list, list, list]:
    """A session opens the page, sends the forged rerun, then a normal one."""
    session = await Session.open(port)
    try:
        first = await session.exchange(rerun(page, QUERY))
        assert renders(first, mark) and not leaks(first)
        forgery = dict((TOPIC if page != "present" else PRESENT)[case])
        ids = widgets(first)
        named = {w for w, _, _ in forgery.get("states", ()) if not w.startswith("$$ID-")}
        assert named - SESSION_KEYS <= ids.keys(), "a forged widget is not on the page"
        forgery["states"] = [(ids.get(w, w), field, value) for w, field, value in forgery.get("states", ())]
        sent = await session.exchange(
            rerun(**{"page": page, "query": QUERY, "page_hash": page_hash(first), **forgery})
        )
        after = await session.exchange(rerun(page, QUERY, page_hash=page_hash(first)))
        return first, sent, after
    finally:
        await session.close()


@pytest.mark.parametrize(("path", "mark", "case"), CASES, ids=[f"{p}: {c}" for p, _, c in CASES])
def test_a_malformed_rerun_shows_no_error_and_the_session_goes_on(port, path, mark, case):
    first, sent, after = run_async(forged(port, path, mark, case))
    assert finished(sent) and leaks(sent) == []
    assert leaks(after) == [] and renders(after, mark)


def test_an_unknown_fragment_is_ignored(port):
    async def run():
        session = await Session.open(port)
        try:
            first = await session.exchange(rerun("elderly_care", QUERY))
            opened = page_hash(first)
            sent = await session.exchange(rerun("elderly_care", QUERY, page_hash=opened, fragment="nope"), 3)
            return sent, await session.exchange(rerun("elderly_care", QUERY, page_hash=opened))
        finally:
            await session.close()

    sent, after = run_async(run())
    assert leaks(sent) == [] and leaks(after) == [] and renders(after, "养老服务")


def test_what_fits_a_widget():
    assert widget_guard.fits("string_array_value", "string_array_value")
    assert widget_guard.fits("int_value", "double_value") and widget_guard.fits("double_value", "int_value")
    assert widget_guard.fits(None, "string_value")  # no value: the widget's empty value
    assert not widget_guard.fits("int_value", "string_array_value")
    assert not widget_guard.fits("string_trigger_value", "string_value")
    assert not widget_guard.fits("json_value", "bool_value")
    assert widget_guard.fits("arrow_value", "json_value")  # a custom component sends either


def test_an_error_of_the_app_is_shown_in_chinese_without_its_details(sample, tmp_path):
    # a warehouse whose catalog lost a column the topic pages read: a KeyError in the page's code
    broken = tmp_path / "data"
    shutil.copytree(sample, broken)
    with duckdb.connect(str(warehouse.current_db(broken))) as con:
        con.execute("ALTER TABLE indicators DROP COLUMN decimals")
    log = tmp_path / "server.log"

    async def run(port: int) -> list[ForwardMsg]:
        session = await Session.open(port)
        try:
            return await session.exchange(rerun("elderly_care", QUERY))
        finally:
            await session.close()

    with serve_app(broken, log) as server:
        msgs = run_async(run(server.port))
    said = [e.alert.body for e in elements(msgs) if e.WhichOneof("type") == "alert"]
    assert finished(msgs) and any("页面出错了" in text and "服务器日志" in text for text in said)
    assert [leak for leak in leaks(msgs) if leak != "页面出错"] == [] and b"decimals" not in b"".join(
        fm.SerializeToString() for fm in msgs
    )
    assert (
        "page elderly_care failed" in log.read_text() and "KeyError" in log.read_text()
    )  # in full, in the log
