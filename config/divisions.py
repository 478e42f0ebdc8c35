"""The administrative division table (GB/T 2260, 2024-12-31): one loader for every part.

The project carries the whole official list (3,213 codes) in
``config/divisions_gbt2260_2024.csv``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from config import DIVISIONS_FILE

LEVELS = ("province", "city", "county")


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: str            # province | city | county
    parent_code: str      # "" for a province
    province_code: str
    province_name: str
    city_code: str        # "" for a province, or a county directly under a province
    city_name: str

    @property
    def full_name(self) -> str:
        parts = [self.province_name]
        if self.city_name and self.city_name != self.province_name:
            parts.append(self.city_name)
        if self.level == "county":
            parts.append(self.name)
        return "".join(dict.fromkeys(parts))

    def code_at(self, level: str) -> str:
        """This division's ancestor (or itself) at ``level``; "" when it has none there."""
        if level == "province":
            return self.province_code
        if level == "city":
            return self.city_code
        return self.code if self.level == "county" else ""


class DivisionTable:
    def __init__(self, rows: list[Division]):
        self.by_code: dict[str, Division] = {d.code: d for d in rows}
        self._children: dict[str, list[Division]] = {}
        for d in rows:
            if d.parent_code:
                self._children.setdefault(d.parent_code, []).append(d)
        self._by_name: dict[str, list[Division]] = {}
        for d in rows:
            for key in {d.name, d.full_name, (d.city_name + d.name) if d.level == "county" else d.name}:
                self._by_name.setdefault(key, []).append(d)

    def __len__(self) -> int:
        return len(self.by_code)

    def __contains__(self, code: str) -> bool:
        return code in self.by_code

    def get(self, code: str) -> Division | None:
        return self.by_code.get(code)

    def children(self, code: str) -> list[Division]:
        return list(self._children.get(code, ()))

    def counties_of(self, code: str) -> list[Division]:
        """County-level units under a province or city (a county returns itself)."""
        d = self.by_code[code]
        if d.level == "county":
            return [d]
        return [x for x in self.by_code.values() if x.level == "county" and code in (x.province_code, x.city_code)]

    def level_of(self, code: str) -> str | None:
        d = self.by_code.get(code)
        return d.level if d else None

    def resolve_name(self, text: str) -> Division | None:
        """A division from a name as exports write it: 长治市, 潞州区, 山西省长治市潞州区, 长治市潞州区.

        Returns None when the name is unknown or ambiguous (e.g. 城区 exists in several cities).
        """
        text = (text or "").strip().replace(" ", "")
        if not text:
            return None
        hits = self._by_name.get(text, [])
        if len(hits) == 1:
            return hits[0]
        # Longest known suffix that is unambiguous within the named prefix.
        for d in sorted(self.by_code.values(), key=lambda x: -len(x.full_name)):
            if text.endswith(d.name) and all(part in text for part in (d.province_name, d.city_name) if part) \
                    and d.level != "province" and text.startswith(d.province_name[:2]):
                return d
        return None


@lru_cache(maxsize=1)
def divisions(path: str | None = None) -> DivisionTable:
    p = Path(path) if path else DIVISIONS_FILE
    with p.open(encoding="utf-8", newline="") as f:
        rows = [Division(r["code"], r["name"], r["level"], r["parent_code"], r["province_code"],
                         r["province_name"], r["city_code"], r["city_name"]) for r in csv.DictReader(f)]
    return DivisionTable(rows)
