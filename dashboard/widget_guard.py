"""Widget states from the browser, checked before Streamlit uses them.

How Streamlit 1.67 takes them: a rerun BackMsg carries `widget_states`, each a widget id and a
value in one of a dozen typed fields (`int_value`, `string_array_value`, `json_value`, …).
`SessionState.on_script_will_rerun` stores every one as sent (`WStates.set_widget_from_proto`)
and compares each with its previous value to run callbacks, which deserializes it with the
deserializer the widget registered on an earlier run (`WStates.__getitem__`). Nothing checks
either part against the widget, so a forged message hurts the session that sends it:

- an id that is no widget id (`slide`, `pick_ind`: every widget id starts with "$$ID-") joins the
  session's keys, and the next widget that lists session state (`filtered_state`, as
  st.selectbox and st.multiselect do) raises KeyError: 'st.session_state has no key "slide"';
- a value in a field its widget does not use (an int for a multiselect, a string array for a
  select box, an int for a range slider, malformed JSON) makes the deserializer raise
  (TypeError, JSONDecodeError) inside Streamlit before the script runs — and again on every
  rerun, since the value stays in the session; a field that deserializes but is not the
  widget's (a string trigger for a select box) re-types the widget and breaks its next
  serialization (TypeError in `CopyFrom`).

`install()` (app.py, at the top of every run) replaces those two `WStates` methods, once per
process. A state whose id is no widget id is dropped when it arrives. A state whose field does
not fit its widget — not the field the widget registered; int and double count as one, as a
number input sends either, and so do a custom component's JSON, Arrow and bytes — or whose
deserializer raises is treated as absent: the widget keeps its previous value, or takes its
default, as if the client had not sent it. Each is logged as a warning (the id cut short, the
field; never the value). Every run also drops the non-widget ids already stored for its
session: the first run of a process stores its states before `install` has run.

Why an internal: Streamlit reads the states before any script code runs and has no hook there.
tests/test_malformed_messages.py sends each kind of forged message to a real server.
"""

from __future__ import annotations

import logging
from typing import Any

from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.common import is_element_id
from streamlit.runtime.state.session_state import Serialized, WStates

log = logging.getLogger(__name__)

# wire fields that stand for one another (the frontend sends either for the same widget)
_ALIKE = {
    "int_value": "number",
    "double_value": "number",
    "json_value": "component",
    "arrow_value": "component",
    "bytes_value": "component",
}
# Streamlit's own methods (also when this module is imported again after `install`)
_streamlit_getitem = getattr(WStates.__getitem__, "__wrapped__", WStates.__getitem__)
_streamlit_set_from_proto = getattr(
    WStates.set_widget_from_proto, "__wrapped__", WStates.set_widget_from_proto
)


def fits(sent: str | None, registered: str | None) -> bool:
    """Whether a value sent in field `sent` can be a value of a widget that registered
    `registered` (no field: the widget's empty value, which every deserializer takes)."""
    return sent is None or sent == registered or _ALIKE.get(sent, sent) == _ALIKE.get(registered or "")


def _short(widget_id: str) -> str:
    return repr(widget_id[:60])


def _set_widget_from_proto(self: WStates, widget_state: Any) -> None:
    if not is_element_id(widget_state.id):
        log.warning("ignored a widget state from the browser: %s is no widget id", _short(widget_state.id))
        return
    _streamlit_set_from_proto(self, widget_state)


def _getitem(self: WStates, key: str) -> Any:
    state = self.states.get(key)
    metadata = self.widget_metadata.get(key)
    if not isinstance(state, Serialized) or metadata is None:
        return _streamlit_getitem(self, key)  # a value already checked, or no widget to check against
    sent = state.value.WhichOneof("value")
    if not fits(sent, metadata.value_type):
        _ignored(state, f"{sent} for {_short(key)}")
        raise KeyError(key)
    try:
        return _streamlit_getitem(self, key)
    except KeyError:
        raise
    except Exception as error:  # the widget's deserializer refused the value
        _ignored(state, f"{sent} for {_short(key)} ({type(error).__name__})")
        raise KeyError(key) from None


_last_ignored = [0]  # the state last logged: a refused state stays until the next rerun, read often


def _ignored(state: Serialized, what: str) -> None:
    if _last_ignored[0] != id(state):
        _last_ignored[0] = id(state)
        log.warning("ignored a widget state from the browser: %s", what)


_set_widget_from_proto.__wrapped__ = _streamlit_set_from_proto
_getitem.__wrapped__ = _streamlit_getitem


def install() -> None:
    """Check every widget state from now on (once per process), and drop the non-widget ids
    stored for this run's session."""
    if not hasattr(WStates.__getitem__, "__wrapped__"):
        WStates.set_widget_from_proto = _set_widget_from_proto
        WStates.__getitem__ = _getitem
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    with ctx.session_state._lock:  # SafeSessionState's: a new rerun request may store states
        states = ctx.session_state._state._new_widget_state.states
        for key in [key for key in states if not is_element_id(key)]:
            log.warning("ignored a widget state from the browser: %s is no widget id", _short(key))
            del states[key]
