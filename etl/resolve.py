"""Raw observations → facts in catalog terms: region code, indicator id, year, value in catalog unit.

Every reader hands over text as written; this one module decides what it means, so the
rules (and their Chinese error messages) are the same for every input shape. Work is done
once per distinct label, not per cell, which keeps national-scale files fast.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from .catalog import Catalog
from .issues import Issue, error, fact_location, warning
from .readers import as_objects
from .regions import Registry
from .text import is_no_data
from .units import conversion_factor, convert_coded

FACT_KEY = ["region_code", "year", "indicator_id"]
LINEAGE_COLUMNS = ["file_name", "file_sha256", "sheet", "row", "column"]
FACT_COLUMNS = FACT_KEY + ["value"] + LINEAGE_COLUMNS

_YEAR = re.compile(r"^\s*((?:19|20)\d\d)(?:\.0+)?\s*年?\s*$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def resolve(
    raw: pd.DataFrame,
    catalog: Catalog,
    registry: Registry,
    default_scope: tuple[str, ...] = (),
    region: str | None = None,
) -> tuple[pd.DataFrame, list[Issue]]:
    """Resolve one file's raw observations. Returns (facts with lineage, issues).

    `region` is the code of the place the user said the file is about: rows that name no region
    take it, and it decides same-name places the file's own rows leave open. `default_scope` (the
    app's cities) only orders suggestions for names that cannot be read.

    Every column is worked on as integer codes (`Distinct`): each rule runs once per distinct
    value and its result reaches the rows by a numpy `take`, so no step is Python work per row."""
    issues: list[Issue] = []
    if raw.empty:
        return pd.DataFrame(columns=FACT_COLUMNS), issues
    df = raw.reset_index(drop=True)
    if region is not None:
        codes = df["region_code"]
        if isinstance(codes.dtype, pd.CategoricalDtype) and region not in codes.cat.categories:
            codes = codes.cat.add_categories([region])  # where() puts no new text into a Categorical
        df["region_code"] = codes.where(df["region"].notna() | codes.notna(), region)

    region_of, region_codes, skip, region_issues = _resolve_regions(df, registry, default_scope, region)
    issues += region_issues
    indicator_of, indicator_ids = _resolve_indicators(df, catalog, issues)
    years = _resolve_years(df, issues)
    values, has_value = _parse_values(df, issues)
    factor_of, factors = _unit_factors(df, indicator_of, indicator_ids, catalog, issues)

    good = np.flatnonzero(
        (region_of >= 0) & ~skip & (indicator_of >= 0) & (years >= 0) & has_value & (factor_of >= 0)
    )
    region_of, indicator_of = region_of[good], indicator_of[good]
    facts = pd.DataFrame(
        {
            "region_code": _labels(region_codes, region_of),
            "year": years[good].astype("int32"),
            "indicator_id": _labels(indicator_ids, indicator_of),
            "value": convert_coded(values[good], factor_of[good], factors),
            "file_name": _text(df["file"], good),
            "file_sha256": _text(df["file_sha256"], good),
            "sheet": _text(df["sheet"], good),
            "row": df["row"].to_numpy()[good].astype("int64"),
            "column": _text(df["column"], good),
        }
    )
    ceilings = np.array([catalog.get(i).max_value for i in indicator_ids] + [None], dtype="float64")
    issues += _check_ranges(facts, ceilings[indicator_of], catalog, registry)
    key = (region_of.astype(np.int64) * 10_000 + facts["year"].to_numpy()) * (
        len(indicator_ids) + 1
    ) + indicator_of
    facts, dup_issues = _drop_duplicates(facts, key, catalog, registry)
    issues += dup_issues
    return facts, issues


def _labels(texts: list[str], which: np.ndarray) -> pd.Categorical:
    """texts[which[i]] for every row, as a Categorical of the distinct texts: a fact's region,
    indicator, file, sheet and column are each one of a few thousand texts at most, so a code
    per fact carries them. The ~900,000 served facts of a national load are combined, filtered
    (later file wins), laid out and cached through these columns; as Arrow texts every step
    copied them (half a second of a one-county load, the 64-byte checksums most of it)."""
    codes, categories = pd.factorize(pd.Series(texts, dtype="str"))  # equal texts: one category
    return pd.Categorical.from_codes(codes[which], dtype=pd.CategoricalDtype(categories))


def _text(column: pd.Series, rows: np.ndarray) -> pd.Categorical:
    """A lineage column's text for the given rows ("" where blank), per distinct value."""
    if _text_categorical(column):  # its texts by code, "" where blank (code -1)
        codes = column.cat.codes.to_numpy()[rows].astype(np.int64)
        texts = list(column.cat.categories) + [""]
        return _labels(texts, np.where(codes < 0, len(texts) - 1, codes))
    distinct = Distinct(column)
    texts = ["" if pd.isna(v) else str(v) for (v,) in distinct.keys]
    return _labels(texts, distinct.inverse[rows])


def concat_facts(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Resolved facts of several files as one frame (`pd.concat`), each text column one
    Categorical over all the files' texts (`pd.concat` would spell out every row's text when the
    files' categories differ). Files without facts are left out."""
    columns = list(frames[0].columns)
    frames = [f for f in frames if len(f)] or frames[:1]
    texts = [c for c in columns if all(isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames)]
    combined = pd.concat([f.drop(columns=texts) for f in frames], ignore_index=True)
    for name in texts:
        combined[name] = union_categoricals([f[name] for f in frames], ignore_order=True)
    return combined[columns]


def _loc(df: pd.DataFrame, i: int) -> dict:
    r = df.iloc[i]
    return {
        "file": r["file"],
        "sheet": r["sheet"] or "",
        "row": int(r["row"]) if r["row"] is not None else None,
        "column": r["column"] or "",
    }


# infer_dtype kinds that cannot hold a boolean (True == 1 would merge them when hashed)
_NO_BOOLEANS = {"string", "integer", "floating", "mixed-integer-float", "empty"}


class Distinct:
    """The distinct combinations of some columns, in order of first appearance.

    Label work (registry and catalog look-ups, year and unit parsing) runs once per
    combination and is broadcast back to the rows with `take`: a national file has ~10⁶ rows
    but a few thousand labels. `first` is each combination's first row (for messages),
    `inverse` each row's combination number, `keys` the combinations' values (from the first
    row). A column is a Series (factorised once; columns that may hold booleans are compared
    by type and text, since hashing would merge True with 1) or a numpy array of integer codes
    made by an earlier step (a row's indicator, a text's number), taken as they are. A
    Categorical of texts (a raw column read from a CSV column-wise) is not factorised again: its
    codes are used, and its blanks are None in `keys`, as in an object column."""

    def __init__(self, *columns):
        combined = None
        for col in columns:
            codes = _codes(col)
            combined = codes if combined is None else combined * (codes.max(initial=0) + 1) + codes
            combined, _ = pd.factorize(combined)  # order of first appearance, renumbered: no overflow
        # factorize numbers in order of first appearance: a row starts a new combination exactly
        # where the running maximum of the numbers goes up (no sort needed).
        top = np.maximum.accumulate(combined) if len(combined) else combined
        self.first = np.flatnonzero(np.diff(top, prepend=-1)) if len(top) else top
        self.inverse = combined
        self.keys = list(zip(*(_values_at(col, self.first) for col in columns)))

    def counts(self) -> np.ndarray:
        """Rows per combination."""
        return np.bincount(self.inverse, minlength=len(self.first))


def _codes(col) -> np.ndarray:
    """One int64 per row, equal exactly where the values count as the same."""
    if isinstance(col, np.ndarray):  # codes of an earlier step, -1 for none: shifted to start at 0
        return col.astype(np.int64) - min(int(col.min(initial=0)), 0)
    if _text_categorical(col):  # distinct categories: the codes are the answer, blanks (-1) last
        codes = col.cat.codes.to_numpy().astype(np.int64)
        return np.where(codes < 0, len(col.cat.categories), codes)
    col = as_objects(col)  # any other Categorical: compared as its values
    if col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) not in _NO_BOOLEANS:
        col = col.map(lambda v: None if v is None else f"{type(v).__name__}:{v}")
    codes, uniques = pd.factorize(col)  # blanks: -1, then one more code (cheaper than use_na_sentinel=False)
    codes = codes.astype(np.int64, copy=False)
    return np.where(codes < 0, len(uniques), codes)


def _text_categorical(col) -> bool:
    """A Categorical whose categories are texts only (no boolean that hashing would merge with 1)."""
    return (
        isinstance(col.dtype, pd.CategoricalDtype)
        and pd.api.types.infer_dtype(col.cat.categories, skipna=True) == "string"
    )


def _values_at(col, rows: np.ndarray) -> list:
    """The values of some rows as Python objects (object columns: the very objects)."""
    if isinstance(col, np.ndarray):
        return col[rows].tolist()
    if isinstance(col.dtype, pd.CategoricalDtype):  # texts as written, None for blanks (code -1)
        texts = np.append(np.asarray(col.cat.categories, dtype=object), None)
        return texts[col.cat.codes.to_numpy()[rows]].tolist()
    if col.dtype == object:
        return col.to_numpy()[rows].tolist()
    return [col.iloc[i] for i in rows]


def _numbering(texts: list) -> tuple[np.ndarray, list]:
    """Distinct texts (None left out) in order: (each input's number, -1 for None; the texts)."""
    number: dict = {}
    ids = [-1 if t is None else number.setdefault(t, len(number)) for t in texts]
    return np.array(ids + [-1], dtype=np.int64), list(number)  # [-1] at the end: a take with -1


def _first_of(ids: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    """For each number 0..count-1 the first of `rows` whose id it is (-1: none)."""
    first = np.full(count, -1, dtype=np.int64)
    if len(ids):
        distinct = Distinct(ids)  # ids in order of appearance, each with its first position
        first[ids[distinct.first]] = rows[distinct.first]
    return first


def _resolve_regions(
    df, registry: Registry, default_scope, chosen: str | None
) -> tuple[np.ndarray, list[str], np.ndarray, list[Issue]]:
    """Each row's region (a number into the returned codes, -1 for none), the rows to skip
    (subtotals, totals nothing fits) and the issues.

    A code decides where one is written, but a name beside it must name the same place. Names
    are resolved together (same-name places by the file's other rows, `Registry.resolve_names`);
    a total row stands for the common parent of the other regions on its own sheet. Messages are
    in text order, each at the first row that carries the text."""
    issues: list[Issue] = []
    all_rows = np.arange(len(df))
    code_keys, name_keys = Distinct(df["region_code"]), Distinct(df["region"])
    code_id, code_texts = _numbering([None if v is None else _code_text(v) for (v,) in code_keys.keys])
    name_id, name_texts = _numbering(
        [None if v is None else str(v).strip() or None for (v,) in name_keys.keys]
    )
    code_row = code_id[code_keys.inverse]  # each row's code text (number), -1 when blank
    name_row = name_id[name_keys.inverse]
    by_code = code_row >= 0

    out: dict[str, int] = {}  # region code → its number in the output

    def number(code: str | None) -> int:
        return -1 if code is None else out.setdefault(code, len(out))

    code_of: dict[str, str] = {}
    code_out = np.full(len(code_texts) + 1, -1, dtype=np.int64)
    code_skip = np.zeros(len(code_texts) + 1, dtype=bool)
    first = _first_of(code_row[by_code], all_rows[by_code], len(code_texts))
    for t in sorted(range(len(code_texts)), key=code_texts.__getitem__):
        text, i = code_texts[t], int(first[t])
        res = registry.resolve_code(text)
        if res.status in ("ok", "alias"):
            code_of[text] = res.code
            code_out[t] = number(res.code)
        elif res.status == "subtotal":
            code_skip[t] = True
            issues.append(
                warning(
                    "subtotal_skipped",
                    f"“{text}”是市辖区小计行，不作为区县数据导入。",
                    value=str(text),
                    **_loc(df, i),
                )
            )
        else:
            issues.append(
                error(
                    "unknown_region",
                    f"区划代码“{text}”不在全国区划代码表中。",
                    value=str(text),
                    suggestion="请核对6位统计用区划代码（例如 眉县 610326）。",
                    **_loc(df, i),
                )
            )

    context = tuple(sorted(set(code_of.values()) | ({chosen} if chosen else set())))
    resolutions = registry.resolve_names(name_texts, context=context) if name_texts else {}
    by_name = ~by_code & (name_row >= 0)
    name_out = np.full(len(name_texts) + 1, -1, dtype=np.int64)
    name_skip = np.zeros(len(name_texts) + 1, dtype=bool)
    name_total = np.zeros(len(name_texts) + 1, dtype=bool)
    first = _first_of(name_row[by_name], all_rows[by_name], len(name_texts))
    for t in sorted((t for t in range(len(name_texts)) if first[t] >= 0), key=name_texts.__getitem__):
        text, i = name_texts[t], int(first[t])
        res = resolutions[text]
        if res.status == "total":
            name_total[t] = True
        elif res.status in ("ok", "alias") and res.code:
            name_out[t] = number(res.code)
        elif res.status == "subtotal":
            name_skip[t] = True
            issues.append(
                warning(
                    "subtotal_skipped",
                    f"“{text}”是市辖区小计行，不作为区县数据导入。",
                    value=text,
                    **_loc(df, i),
                )
            )
        elif res.status == "ambiguous":
            places = "、".join(f"{registry.full_name(c)}（{c}）" for c in res.candidates[:6])
            issues.append(
                error(
                    "unknown_region",
                    f"地区“{text}”有重名，表中其他地区也无法确定是哪一个：{places}。",
                    value=text,
                    suggestion="请在“区划代码”列填写6位代码，或写出所属城市（如“福州市鼓楼区”）。",
                    **_loc(df, i),
                )
            )
        else:
            hint = registry.suggest(text, scope=default_scope)
            issues.append(
                error(
                    "unknown_region",
                    f"地区“{text}”无法识别。",
                    value=text,
                    suggestion=f"是否为：{'、'.join(hint)}？"
                    if hint
                    else "请填写规范的县（市、区）名称或6位区划代码。",
                    **_loc(df, i),
                )
            )
    missing = np.flatnonzero(~by_code & (name_row < 0))
    if len(missing):
        issues.append(
            error(
                "unknown_region",
                f"有{len(missing)}个数据没有填写地区。",
                suggestion="请为每一行填写地区名称或区划代码，或在导入时选择表格所属地区。",
                **_loc(df, int(missing[0])),
            )
        )
    region_of = np.where(by_code, code_out[code_row], name_out[name_row])
    skip = np.where(by_code, code_skip[code_row], by_name & name_skip[name_row])
    issues += _check_name_matches_code(
        df, name_row, name_texts, code_row, code_texts, code_of, resolutions, registry
    )
    is_total = by_name & name_total[name_row]
    if is_total.any():
        issues += _place_totals(df, name_row, name_texts, region_of, skip, is_total, out, registry)
    return region_of, list(out), skip, issues


def _check_name_matches_code(
    df,
    name_row: np.ndarray,
    name_texts: list[str],
    code_row: np.ndarray,
    code_texts: list[str],
    code_of: dict[str, str],
    resolutions: dict,
    registry: Registry,
) -> list[Issue]:
    """A row naming a place and giving a code for another one is an error: which one is right
    is for the clerk to say (the code winning silently put 眉县's figures on 福州's 鼓楼区)."""
    both = np.flatnonzero((name_row >= 0) & (code_row >= 0))
    if not len(both):
        return []
    issues = []
    pairs = Distinct(name_row[both], code_row[both])
    for (name, code), i in zip(pairs.keys, pairs.first):
        name, code = name_texts[name], code_texts[code]
        res, by_code = resolutions[name], code_of.get(code)
        if by_code is None or res.status not in ("ok", "alias", "ambiguous"):
            continue  # a code that is itself wrong is reported above; totals and subtotals follow the code
        if by_code == res.code or (res.status == "ambiguous" and by_code in res.candidates):
            continue
        named = (
            f"{registry.full_name(res.code)}，{res.code}"
            if res.code
            else "、".join(registry.full_name(c) for c in res.candidates[:4])
        )
        issues.append(
            error(
                "region_mismatch",
                f"地区名称“{name}”（{named}）与区划代码“{code}”（{registry.full_name(by_code)}）不是同一个地方。",
                value=f"{name} / {code}",
                suggestion="请核对地区名称和6位区划代码，改正其中错误的一项。",
                **_loc(df, int(both[i])),
            )
        )
    return issues


def _place_totals(
    df,
    name_row: np.ndarray,
    name_texts: list[str],
    region_of: np.ndarray,
    skip: np.ndarray,
    is_total: np.ndarray,
    out: dict[str, int],
    registry: Registry,
) -> list[Issue]:
    """Total rows ("全  省", "合计") take the common parent of the other regions on their sheet: in
    a table of 福建's cities 全省 is 350000. Where no single parent fits, the row is skipped with
    a warning (its figure is checked against nothing, but nothing wrong is stored).
    Fills `region_of` and `skip` for the total rows in place; `out` numbers the region codes."""
    sheet_keys = Distinct(df["sheet"])
    sheet_id, _ = _numbering(["" if pd.isna(v) else v for (v,) in sheet_keys.keys])
    sheet_row = sheet_id[sheet_keys.inverse]
    codes = list(out)
    known = (region_of >= 0) & ~is_total
    on_sheet: dict[int, list[str]] = {}
    for sheet, region in Distinct(sheet_row[known], region_of[known]).keys:  # in order of appearance
        on_sheet.setdefault(sheet, []).append(codes[region])
    issues = []
    rows = np.flatnonzero(is_total)
    pairs = Distinct(sheet_row[rows], name_row[rows])
    counts = pairs.counts()
    placed = []
    for k, ((sheet, name), first) in enumerate(zip(pairs.keys, pairs.first)):
        text = name_texts[name]
        res = registry.total_of(text, on_sheet.get(sheet, []))
        placed.append(-1 if res.code is None else out.setdefault(res.code, len(out)))
        if res.code is None:
            issues.append(
                warning(
                    "total_skipped",
                    f"合计行“{text}”已跳过{int(counts[k])}个数据：{res.note}。",
                    value=text,
                    suggestion="如需导入该合计数，请把“合计”改为地区名称（如“福建省”）或填写区划代码。",
                    **_loc(df, int(rows[first])),
                )
            )
    region_of[rows] = np.array(placed, dtype=np.int64)[pairs.inverse]
    skip[rows] = region_of[rows] < 0
    return issues


def _code_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# Shapes printed for other purposes (季报 with dozens of items, yearbook tables with extra
# columns): an item the catalog does not track is skipped with a warning, not an error.
# In our template and in long tables every row claims to be a dashboard indicator.
TOLERANT_SHAPES = {"quarterly", "yearbook", "series"}
# "#女性", "其中：农村" under an item: a breakdown of the row above, not the item itself.
_BREAKDOWN = re.compile(r"^\s*(?:[#＃]|其中[:：]?)")


def _resolve_indicators(df, catalog: Catalog, issues: list[Issue]) -> tuple[np.ndarray, list[str]]:
    """Each row's indicator (a number into the returned ids, -1 for none)."""
    shapes = df["shape"] if "shape" in df else pd.Series(None, index=df.index, dtype=object)
    distinct = Distinct(df["indicator"], df["context"], shapes)
    counts = distinct.counts()
    number: dict[str, int] = {}
    found = []
    for k, ((label, context, shape), i) in enumerate(zip(distinct.keys, distinct.first)):
        label, context, shape = ("" if v is None else str(v) for v in (label, context, shape))
        ind = catalog.resolve(label, context) if label.strip() else None
        found.append(-1 if ind is None else number.setdefault(ind.id, len(number)))
        if ind is not None:
            continue
        if not label.strip():
            issues.append(
                error("unknown_indicator", "指标名称为空。", suggestion="请填写指标名称。", **_loc(df, i))
            )
            continue
        if shape in TOLERANT_SHAPES:
            skipped = int(counts[k])
            if _BREAKDOWN.match(label) and context.strip():
                issues.append(
                    warning(
                        "breakdown_skipped",
                        f"“{label.strip()}”是“{context.strip()}”的分项，看板没有收录该分项，已跳过{skipped}个数据。",
                        value=label.strip(),
                        suggestion="分项不是该指标本身，不会代替它导入。",
                        **_loc(df, i),
                    )
                )
            else:
                issues.append(
                    warning(
                        "indicator_skipped",
                        f"“{label.strip()}”不是看板收录的指标，已跳过{skipped}个数据。",
                        value=label.strip(),
                        suggestion="如需收录，请在指标目录中增加该指标或别名。",
                        **_loc(df, i),
                    )
                )
            continue
        hint = catalog.suggest(label)
        issues.append(
            error(
                "unknown_indicator",
                f"指标“{label}”不在指标目录中。",
                value=label,
                suggestion=f"是否为：{'、'.join(hint)}？" if hint else "请使用指标说明页中的指标名称或别名。",
                **_loc(df, i),
            )
        )
    return np.array(found, dtype=np.int64)[distinct.inverse], list(number)


def _resolve_years(df, issues: list[Issue]) -> np.ndarray:
    """Each row's year, -1 where it is missing or invalid."""
    latest = dt.date.today().year + 1
    distinct = Distinct(df["year"])
    counts = distinct.counts()
    years = []
    for k, ((value,), i) in enumerate(zip(distinct.keys, distinct.first)):
        t = None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        m = _YEAR.match(t) if t is not None else None
        year = int(m.group(1)) if m else None
        years.append(year if year is not None and 1949 <= year <= latest else -1)
        if t is None:
            issues.append(
                error(
                    "year_missing",
                    f"有{int(counts[k])}个数据缺少年份。",
                    suggestion="请在“年份”列或表头填写4位年份，例如 2023。",
                    **_loc(df, i),
                )
            )
        elif years[-1] < 0:
            issues.append(
                error(
                    "year_invalid",
                    f"年份“{t}”无效。",
                    value=t,
                    suggestion=f"请填写1949—{latest}之间的4位年份，例如 2023。",
                    **_loc(df, i),
                )
            )
    return np.array(years, dtype=np.int64)[distinct.inverse]


# What a value cell turned out to be (`_read_value`).
_NUMBER_OK, _NO_DATA, _NOT_A_NUMBER, _NOT_FINITE = 0, 1, 2, 3


def _read_value(cell, numeric: float) -> tuple[float, int]:
    """(value, kind) of one cell; `numeric` is what pandas' to_numeric made of it (NaN: nothing).

    Numbers pass; blanks and no-data tokens ('-', '—') mean no data; '1,300' and '1，300' are
    numbers; a boolean is never the number 1; text and non-finite numbers are errors."""
    if not np.isnan(numeric) and not isinstance(cell, bool):
        value = float(numeric)
    elif pd.isna(cell):
        return np.nan, _NO_DATA
    else:
        text = str(cell).strip()
        if is_no_data(text):
            return np.nan, _NO_DATA
        cleaned = text.replace(",", "").replace("，", "").replace(" ", "")
        if not (_NUMBER.match(cleaned) and not isinstance(cell, bool)):
            return np.nan, _NOT_A_NUMBER
        value = float(cleaned)
    return value, (_NUMBER_OK if np.isfinite(value) else _NOT_FINITE)


def _parse_values(df, issues: list[Issue]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's number and whether it has one; each distinct cell is read once
    (`_read_value`), and every bad cell is an error at its own row."""
    raw = df["value"]
    distinct = Distinct(raw)
    cells = np.empty(len(distinct.keys), dtype=object)
    cells[:] = [key for (key,) in distinct.keys]
    numeric = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce").astype("float64").to_numpy()
    # Finite numbers that are not booleans are `_read_value`'s first case: taken as they are.
    plain = np.isfinite(numeric) & ~np.fromiter((isinstance(c, bool) for c in cells), bool, len(cells))
    values, kinds = numeric.copy(), np.full(len(cells), _NUMBER_OK, dtype=np.int8)
    for k in np.flatnonzero(~plain):
        values[k], kinds[k] = _read_value(cells[k], numeric[k])
    values, kinds = values[distinct.inverse], kinds[distinct.inverse]
    # A boolean and numpy's bool_ are one combination (same type name and text) but only the
    # former is refused as a number: those few cells are read one by one.
    boolish = [k for k, cell in enumerate(cells.tolist()) if isinstance(cell, (bool, np.bool_))]
    if boolish:
        rows = np.flatnonzero(np.isin(distinct.inverse, boolish))
        for i, cell in zip(rows, _values_at(raw, rows)):
            values[i], kinds[i] = _read_value(cell, numeric[distinct.inverse[i]])
    for i in np.flatnonzero(kinds == _NOT_A_NUMBER):
        text = str(_values_at(raw, [i])[0]).strip()
        issues.append(
            error(
                "not_a_number",
                f"数值“{text}”不是数字。",
                value=text,
                suggestion="请只填写阿拉伯数字（如 300），不要带“约”“余”等文字或单位；没有数据请留空。",
                **_loc(df, i),
            )
        )
    for i in np.flatnonzero(kinds == _NOT_FINITE):
        cell = _values_at(raw, [i])[0]
        issues.append(
            error(
                "not_a_number",
                f"数值“{cell}”不是有限的数字。",
                value=str(cell),
                suggestion="请填写正常的数值。",
                **_loc(df, i),
            )
        )
    return values, kinds == _NUMBER_OK


def _unit_factors(
    df, indicator_of: np.ndarray, indicator_ids: list[str], catalog: Catalog, issues: list[Issue]
) -> tuple[np.ndarray, list]:
    """Each row's factor from its unit to the catalog unit (a number into the returned factors,
    -1 for none), once per distinct (indicator, unit, header unit).

    A value's unit may be written on its row (a unit column, an item label) and for the whole
    column or table (a header "数值（万人）", a title "单位：万人"): a blank unit cell never erases the
    header's unit, and two units that convert differently are an error naming both."""
    header_units = df["header_unit"] if "header_unit" in df else pd.Series(None, index=df.index, dtype=object)
    distinct = Distinct(indicator_of, df["unit"], header_units)
    factors, which = [], []
    for (ind_number, unit, header_unit), i in zip(distinct.keys, distinct.first):
        which.append(-1)
        if ind_number < 0:
            continue
        ind = catalog.get(indicator_ids[ind_number])
        written = [str(u).strip() for u in (unit, header_unit) if u is not None and str(u).strip()]
        found = [
            conversion_factor(u, ind.unit, ind.display_unit, ind.scale if ind.is_ratio else None)
            for u in written
        ] or [conversion_factor("", ind.unit)]
        bad = next((u for u, f in zip(written, found) if f is None), None)
        if bad is not None:
            issues.append(
                error(
                    "unknown_unit",
                    f"“{ind.name_zh}”的单位“{bad}”无法换算为“{ind.unit}”。",
                    value=bad,
                    suggestion=(
                        f"请使用单位“{ind.display_unit or ind.unit}”或可换算的单位（如 万{ind.unit}）。"
                    ),
                    **_loc(df, i),
                )
            )
        elif len(set(found)) > 1:
            issues.append(
                error(
                    "unit_conflict",
                    f"“{ind.name_zh}”的单位前后不一致：本行（单位列或项目名称）写“{written[0]}”，"
                    f"表头或标题写“{written[1]}”。",
                    value=written[0],
                    suggestion="请核对数值是按哪个单位填写的，只保留一处单位或改为一致。",
                    **_loc(df, i),
                )
            )
        else:
            which[-1] = len(factors)
            factors.append(found[0])
    return np.array(which, dtype=np.int64)[distinct.inverse], factors


def _check_ranges(
    facts: pd.DataFrame, ceilings: np.ndarray, catalog: Catalog, registry: Registry
) -> list[Issue]:
    """Negative counts and values beyond the catalog's plausibility ceiling (`ceilings`, one per
    fact, NaN for none) are errors."""
    issues: list[Issue] = []
    values = facts["value"].to_numpy()
    negative = facts[values < 0]
    for row in negative.head(200).itertuples():
        ind = catalog.get(row.indicator_id)
        issues.append(
            error(
                "negative",
                f"{registry.name(row.region_code)}{row.year}年“{ind.name_zh}”为负数（{row.value:g}）。",
                value=f"{row.value:g}",
                suggestion="请核对数值，统计数不能为负。",
                **fact_location(row),
            )
        )
    too_big = facts[~np.isnan(ceilings) & (values > np.where(np.isnan(ceilings), np.inf, ceilings))]
    for row in too_big.head(200).itertuples():
        ind = catalog.get(row.indicator_id)
        issues.append(
            error(
                "out_of_range",
                f"{registry.name(row.region_code)}{row.year}年“{ind.name_zh}”为{row.value:,.0f}{ind.unit}，"
                f"超出合理范围（上限 {ind.max_value:,.0f}{ind.unit}）。",
                value=f"{row.value:g}",
                suggestion="请检查是否多填了位数或单位填错（例如把“人”写成了“万人”）。",
                **fact_location(row),
            )
        )
    return issues


def _drop_duplicates(
    facts: pd.DataFrame, key: np.ndarray, catalog: Catalog, registry: Registry
) -> tuple[pd.DataFrame, list[Issue]]:
    """Within one file a fact may appear once; the same value twice is harmless, two values are an error.

    `key` numbers each fact's (region, year, indicator): duplicates are found on integers."""
    number, unique = pd.factorize(key)
    if len(unique) == len(key):
        return facts, []
    dup = np.bincount(number)[number] > 1
    issues: list[Issue] = []
    for key_values, group in facts[dup].groupby(FACT_KEY, sort=False):
        if group["value"].nunique() > 1:
            first, second = group.iloc[0], group.iloc[1]
            ind = catalog.get(key_values[2])
            issues.append(
                error(
                    "duplicate",
                    f"{registry.name(key_values[0])}{key_values[1]}年“{ind.name_zh}”出现多次且数值不同："
                    f"{first['value']:g}（第{first['row']}行）与 "
                    f"{second['value']:g}（第{second['row']}行）。",
                    value=f"{second['value']:g}",
                    suggestion="请删除重复行，只保留正确的数值。",
                    file=second["file_name"],
                    sheet=second["sheet"],
                    row=int(second["row"]),
                    column=second["column"],
                )
            )
    top = np.maximum.accumulate(number)  # numbered in order of appearance: a first row raises the maximum
    return facts[np.diff(top, prepend=-1) > 0].reset_index(drop=True), issues
