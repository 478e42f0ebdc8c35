"""Reading complaint texts from an analyst's file: one per line, JSON lines, CSV or XLSX."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

TEXT_COLUMNS = ("诉求内容", "投诉内容", "内容", "问题描述", "text")


class InputError(ValueError):
    """The file cannot be read as complaints; the message says why."""


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError("the file is neither UTF-8 nor GB18030 text")


def _pick(headers: list[str], column: str | None) -> int:
    norm = [h.strip() for h in headers]
    wanted = [column] if column else list(TEXT_COLUMNS)
    for w in wanted:
        if w in norm:
            return norm.index(w)
    raise InputError(f"no column named {' / '.join(wanted)}; the file's headers are: {', '.join(norm)}"
                     + ("" if column else " (choose one with --column)"))


def read_texts(path: str | Path, column: str | None = None) -> list[str]:
    """Complaint texts from FILE (.txt one per line, .jsonl with "text", .csv/.xlsx column)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(p, read_only=True, data_only=True)
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        if not rows:
            return []
        i = _pick([str(h or "") for h in rows[0]], column)
        return [str(r[i]).strip() for r in rows[1:] if i < len(r) and r[i] not in (None, "")]
    text = _decode(p.read_bytes())
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        if not rows:
            return []
        i = _pick(rows[0], column)
        return [r[i].strip() for r in rows[1:] if i < len(r) and r[i].strip()]
    if suffix in (".jsonl", ".ndjson"):
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    out.append(str(json.loads(line)[column or "text"]))
                except (ValueError, KeyError, TypeError):
                    raise InputError(f"line {n} is not a JSON object with a {column or 'text'!r} field") from None
        return out
    return [line.strip() for line in text.splitlines() if line.strip()]
