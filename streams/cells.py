"""Cells of an exported table (CSV, XLSX) as the importers read them. Pure.

Header keys (full-width and case folded), cell text (Excel's 140403.0 -> "140403"), times
as exports write them -> ISO 8601, amounts as exports write them -> a plain number. Shared by
the complaint importer (``streams/importer.py``) and its case side (``streams/cases/importing.py``).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time as dtime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Iterable

__all__ = ["header_key", "header_index", "cell_text", "is_blank", "normalise_time", "normalise_amount"]


def header_key(text) -> str:
    """A header as compared: NFKC (full-width -> ASCII), no spaces, case folded, no '*' or ':'."""
    s = unicodedata.normalize("NFKC", cell_text(text))
    return re.sub(r"\s+", "", s).casefold().lstrip("*").rstrip(":")


def header_index(headers: list) -> dict[str, int]:
    """Header key -> column index; "金额(元)" also answers to "金额"."""
    index: dict[str, int] = {}
    for i, h in enumerate(headers):
        index.setdefault(header_key(h), i)
    for i, h in enumerate(headers):
        bare = re.sub(r"\([^()]*\)$", "", header_key(h))
        index.setdefault(bare, i)
    index.pop("", None)
    return index


def cell_text(value) -> str:
    """A cell as trimmed text; Excel numbers that are whole (140403.0) lose the '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, dtime)):
        return value.isoformat()
    return str(value).replace("\ufeff", "").strip()


def is_blank(cells: Iterable) -> bool:
    return all(cell_text(c) == "" for c in cells)


_DT = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
                 r"(?:[ T]+(\d{1,2})[:：时](\d{1,2})(?:分|[:：分](\d{1,2})(?:\.\d+)?秒?)?)?")
_DT_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:[ T]?(\d{2})(\d{2})(\d{2})?)?")


def normalise_time(value):
    """Dates as exports write them -> ISO 8601 local time; anything else passes unchanged.

    "2024/10/1 9:05", "2024年10月1日 9时5分", "202410010905" and Excel datetime cells all
    become "2024-10-01T09:05:00". A number in Excel's date range (a date cell that lost
    its format) is read as an Excel serial date, 20241001 as a compact date. What cannot be read is left for
    Rules to reject with its own message.
    """
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return datetime.combine(value, dtime()).isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:
            from openpyxl.utils.datetime import from_excel
            return (from_excel(value) + timedelta(milliseconds=500)).replace(microsecond=0).isoformat()  # to the second
        if float(value).is_integer() and len(str(int(value))) in (8, 12, 14):
            value = str(int(value))               # 20241001 typed as a number
        else:
            return value                          # epoch seconds / ms: Rules reads those
    if not isinstance(value, str):
        return value
    s = value.strip()
    m = _DT.fullmatch(s) or _DT_COMPACT.fullmatch(s)
    if not m:
        return s
    try:
        return datetime(*(int(g) if g else 0 for g in m.groups())).isoformat()
    except ValueError:
        return s


def normalise_amount(value):
    """"¥1,299.00元", 1299 and "1299" all become "1299" (so ids agree across formats)."""
    text = cell_text(value)
    bare = re.sub(r"[¥￥,，\s]|元$|RMB|rmb", "", text)
    try:
        d = Decimal(bare)
    except InvalidOperation:
        return text
    return format(d.normalize(), "f") if d.is_finite() else text
