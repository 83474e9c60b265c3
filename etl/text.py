"""Text normalisation shared by every reader and resolver.

Real forms spell the same thing many ways: full-width characters, inner spaces ("全 省"),
units in parentheses, an English second header line. One normalisation keeps the alias
tables small and the matching predictable.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# A trailing "(unit)" / "（unit）" in a header, e.g. "城市低保人数（万人）".
_TRAILING_UNIT = re.compile(r"^(?P<label>.*?)[(（](?P<unit>[^()（）]*)[)）]\s*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")

# How forms and printed tables say "no data" in a cell: such a cell is not an observation, in
# every reader and in every value column. (Statistics bureaus print "—"/"…"; clerks type "无".)
NO_DATA = frozenset({"", "-", "—", "–", "--", "——", "－", "…", "……", "...", "/", "无", "空", "x", "X", "×"})


def normalize(text: object) -> str:
    """NFKC, no whitespace at all, no leading '#'/'其中：' markers: the key used for matching."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = _SPACES.sub("", s)
    s = s.lstrip("#＃")
    for prefix in ("其中:", "其中"):
        if s.startswith(prefix) and len(s) > len(prefix):
            s = s[len(prefix) :]
    return s


def is_no_data(cell: object) -> bool:
    """A blank cell or one of the NO_DATA tokens (surrounding spaces ignored)."""
    return cell is None or (isinstance(cell, str) and cell.strip() in NO_DATA)


def has_cjk(text: object) -> bool:
    return bool(text) and bool(_CJK.search(str(text)))


def chinese_line(text: object) -> str:
    """The Chinese line of a bilingual header cell ("城市低保人数(人)\\nUrban ...") or the text itself."""
    if text is None:
        return ""
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    for ln in lines:
        if has_cjk(ln):
            return ln.strip()
    return lines[0].strip() if lines else ""


# "单位：万人", "计量单位:张", "（单位：万人）" in a title or a line above the table.
_UNIT_NOTE = re.compile(r"(?:计量)?单位[:：]\s*([^\s()（）,，;；]+)")


def stated_unit(texts) -> str | None:
    """The unit a "单位：万人" note among `texts` states for the whole table (the first one)."""
    for text in texts:
        if isinstance(text, str):
            m = _UNIT_NOTE.search(unicodedata.normalize("NFKC", text))
            if m:
                return m.group(1)
    return None


def split_unit(header: object) -> tuple[str, str | None]:
    """Split "城市低保人数（万人）" into ("城市低保人数", "万人"); no parentheses → (text, None).

    The label is normalised; the unit is NFKC-normalised with spaces removed.
    """
    s = unicodedata.normalize("NFKC", chinese_line(header))
    m = _TRAILING_UNIT.match(s)
    if not m:
        return normalize(s), None
    unit = _SPACES.sub("", m.group("unit"))
    return normalize(m.group("label")), (unit or None)
