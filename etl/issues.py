"""Validation findings: errors block a load, warnings do not (the clerk confirms them), notes
only say how something was read (which import recipe read a sheet) and ask for nothing.

Every finding names where it was found (file, sheet, Excel row, column letter) and says in
Chinese what is wrong and how to fix it, because the list goes back to the county clerk.
`code` is a stable machine-readable class that tests and the JSON output rely on.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "note"]

# Error classes (stable identifiers; the UI and tests use them).
ERROR_CODES = {
    "file_unreadable": "文件无法读取",
    "not_spreadsheet": "不是表格文件",
    "encoding": "文件编码无法识别",
    "empty": "没有数据",
    "no_header": "找不到表头",
    "merged_cells": "合并单元格",
    "formula": "公式没有计算结果",
    "unknown_region": "地区无法识别",
    "unknown_indicator": "指标无法识别",
    "unknown_unit": "单位无法识别",
    "unit_conflict": "单位前后不一致",
    "region_mismatch": "地区名称与代码不符",
    "not_a_number": "不是数字",
    "negative": "不能为负数",
    "out_of_range": "数值超出合理范围",
    "year_missing": "缺少年份",
    "year_invalid": "年份无效",
    "duplicate": "重复数据且数值不同",
    "period": "不是年度数据",
    "too_large": "文件或表格过大",
    "macro": "含有宏",
    "encrypted": "文件有密码保护",
    "unsafe_text": "含有不安全的文字",
    "text_too_long": "单元格文字过长",
    "not_a_file": "不是文件",
    "write_failed": "无法写入数据",
    "busy": "另一项发布正在进行",
    "recipe_invalid": "导入配方有误",
}
WARNING_CODES = {
    "yoy_jump": "同比变化过大",
    "total_mismatch": "区县合计与上报总数不符",
    "missing_counties": "缺少区县",
    "subtotal_skipped": "小计行已跳过",
    "ratio_mismatch": "上报比率与分项计算不符",
    "indicator_skipped": "未收录的指标已跳过",
    "breakdown_skipped": "分项（#/其中）行已跳过",
    "total_skipped": "合计行已跳过",
}
NOTE_CODES = {
    "recipe_used": "按导入配方读取",
}
SEVERITY_WORDS = {"error": "错误", "warning": "警告", "note": "说明"}


@dataclass(frozen=True)
class Issue:
    severity: Severity
    code: str
    message: str
    file: str = ""
    sheet: str = ""
    row: int | None = None
    column: str = ""
    value: str = ""
    suggestion: str = ""

    def location(self) -> str:
        """'文件 a.xlsx，工作表 社会救助，第12行，C列' — the part of the message that says where."""
        return location_text(self.file, self.sheet, self.row, self.column)

    def as_text(self) -> str:
        label = SEVERITY_WORDS[self.severity]
        where = self.location()
        text = f"[{label}] {where}：{self.message}" if where else f"[{label}] {self.message}"
        if self.suggestion:
            text += f"（建议：{self.suggestion}）"
        return text


def error(code: str, message: str, **where) -> Issue:
    assert code in ERROR_CODES, code
    return Issue("error", code, message, **where)


def warning(code: str, message: str, **where) -> Issue:
    assert code in WARNING_CODES, code
    return Issue("warning", code, message, **where)


def note(code: str, message: str, **where) -> Issue:
    assert code in NOTE_CODES, code
    return Issue("note", code, message, **where)


@dataclass
class IssueList:
    items: list[Issue] = field(default_factory=list)

    def add(self, issue: Issue) -> None:
        self.items.append(issue)

    def extend(self, issues: Iterable[Issue]) -> None:
        self.items.extend(issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "warning"]

    @property
    def notes(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "note"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> str:
        return json.dumps(
            {
                "ok": self.ok,
                "errors": [asdict(i) for i in self.errors],
                "warnings": [asdict(i) for i in self.warnings],
                "notes": [asdict(i) for i in self.notes],
            },
            ensure_ascii=False,
            indent=2,
        )


def excel_column(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def location_text(file: str = "", sheet: str = "", row: int | None = None, column: str = "") -> str:
    """'文件 a.xlsx，工作表 社会救助，第12行，C列', leaving out what is blank: how every message says
    where."""
    parts = [
        f"文件 {file}" if file else "",
        f"工作表 {sheet}" if sheet else "",
        f"第{row}行" if row is not None else "",
        f"{column}列" if column else "",
    ]
    return "，".join(p for p in parts if p)


def fact_location(row) -> dict:
    """file/sheet/row/column keyword arguments from a fact row carrying lineage columns
    (`file_name`, `sheet`, `row`, `column`); blanks where a fact has no lineage (computed rows)."""

    def text(name: str) -> str:
        v = getattr(row, name, "")
        return v if isinstance(v, str) else ""

    number = getattr(row, "row", None)
    return {
        "file": text("file_name"),
        "sheet": text("sheet"),
        "column": text("column"),
        "row": int(number) if isinstance(number, numbers.Real) and number == number else None,
    }
