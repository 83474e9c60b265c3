"""Numbers the way Chinese reports write them: 1.2万人, 5.73亿元, 36.0张/千名老年人, 同比 +3.2%.

Large counts switch to 万/亿 so a KPI card stays readable on the meeting-room screen; money
stored in 万元 becomes 亿元 from 1 亿 up. Missing values are "—", never 0 or "nan".

Text from outside (the URL, an uploaded file's name, sheets and cells, the warehouse) goes into
Streamlit's markdown only through `escape_markdown`, so it reads exactly as written.
"""

from __future__ import annotations

import math
import re

MISSING = "—"
_MINUS = "-"  # ASCII: st.metric reads the sign of a delta string from a leading "-"


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _trim(number: float, decimals: int) -> str:
    return f"{number:,.{decimals}f}"


def fmt_number(value, decimals: int = 0) -> str:
    """Plain number with thousands separators: 12,345 / 36.0."""
    return MISSING if _is_missing(value) else _trim(float(value), decimals)


def fmt_value(value, unit: str = "", decimals: int = 0) -> str:
    """Value with unit, scaled to 万/亿 where that is how reports say it."""
    if _is_missing(value):
        return MISSING
    v = float(value)
    if unit == "万元":
        if abs(v) >= 10_000:
            return f"{_trim(v / 10_000, 2)}亿元"
        return f"{_trim(v, decimals if abs(v) < 1_000 else 0)}万元"
    if unit in ("人", "户", "张", "人次", "对", "家", "个") and abs(v) >= 10_000:
        if abs(v) >= 100_000_000:
            return f"{_trim(v / 100_000_000, 2)}亿{unit}"
        return f"{_trim(v / 10_000, 2 if abs(v) < 100_000 else 1)}万{unit}"
    return f"{_trim(v, decimals)}{unit}"


def pct_change(current, previous) -> float | None:
    """Relative change in percent; None when either value is missing or the base is 0."""
    if _is_missing(current) or _is_missing(previous) or float(previous) == 0:
        return None
    return (float(current) - float(previous)) / abs(float(previous)) * 100


def fmt_change(pct, decimals: int = 1) -> str:
    """同比 text: "+3.2%", "-1.5%", "0.0%"; missing → "—"."""
    if _is_missing(pct):
        return MISSING
    rounded = round(float(pct), decimals)
    if rounded == 0:
        return f"{0:.{decimals}f}%"
    sign = "+" if rounded > 0 else _MINUS
    return f"{sign}{abs(rounded):,.{decimals}f}%"


# The ASCII punctuation markdown gives a meaning to, backslash-escaped (CommonMark lets a backslash
# escape any of it): emphasis * _ ~, links and images [ ] ( ) !, autolinks and HTML < > & @, code `,
# headings #, lists and rules - + *, quotes >, tables |, setext underlines =, LaTeX $, Streamlit's
# directives and icons : { } / (:red[…], :material/icon:, :emoji:), and the backslash. The rest
# (. , ; ? ' " % ^) means nothing there and is left as it is, save a "." after a number that starts
# the text and is followed by a space, which would begin an ordered list ("1. …").
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_~\[\]()!<>&@#+\-|=$:{}/])")
_LIST_NUMBER = re.compile(r"^(\s*\d{1,9})\.(?=\s|$)")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f]+")
# GFM's literal autolinks (http://…, www.…, a@b.c) are found in the text after escapes are
# resolved (mdast-util-gfm-autolink-literal, in Streamlit's frontend), so a backslash does not
# stop them: an invisible WORD JOINER inside "://", after "www" and before "@" does.
_AUTOLINK_START = re.compile(r"(?i)(:(?=//)|www(?=\.)|(?=@))")
WORD_JOINER = "\u2060"


def escape_markdown(text: object) -> str:
    """`text` as Streamlit's markdown shows it literally, on one line: the punctuation markdown
    reads backslash-escaped (no link, emphasis, HTML, LaTeX, colour, icon or emoji), a word
    joiner (invisible) where GFM would start a bare link, line breaks and tabs as one space (no
    new paragraph, list or code block).

    For st.markdown / info / warning / error / success / caption / toast and the labels of
    widgets, metrics, expanders and tabs; not for elements that show plain text (st.text,
    st.code, st.dataframe, download files, the options of a select box), where the
    backslashes would show. Only Streamlit's typographic replacements still apply to
    the escaped text (a spaced -> shows as →, :streamlit: as its logo)."""
    text = _AUTOLINK_START.sub(lambda m: m.group(1) + WORD_JOINER, _LINE_BREAKS.sub(" ", str(text)))
    return _LIST_NUMBER.sub(r"\1\\.", _MARKDOWN_PUNCTUATION.sub(r"\\\1", text))
