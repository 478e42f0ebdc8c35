"""Case events from the status columns of platform exports (处理状态, 办结时间, 办结方式, 挽回经济损失,
满意度 …). Pure: the importer (streams/importer.py) calls these per row.

The columns and the 处理状态 values are data in ``config/import_columns.yaml``
(``case_columns``, ``case_values``). From one row, with its complaint already validated:

* 受理 (accept) at 受理时间 when the status or a 办结时间 says the item was taken on; with
  no 受理时间 a closed item's accept is put at its 办结时间 (the latest it can have been: the
  first check is then never counted on time by mistake);
* 不予受理/不予立案 (reject), 转办 (transfer, reason "导入：…"), 立案 (open_case) at 受理时间 or
  办结时间;
* 办结 (close) at 办结时间 with the outcome of 办结方式 and 挽回经济损失;
* 回访 (visit) with 满意度, at 回访时间 (or 办结时间).

Event ids are ``{complaint id}:imp:{event}``, so importing the same export twice, or an
export that repeats an item with a later status, applies each event once.
"""
from __future__ import annotations

from streams.cases.events import OUTCOME_ALIASES

__all__ = ["CASE_FIELDS", "case_mapping", "match_case_columns", "row_events"]

CASE_FIELDS = ("status", "accepted_at", "closed_at", "close_type", "recovered_yuan", "satisfaction", "visited_at",
               "unit")
STATUSES = ("pending", "accepted", "closed", "rejected", "transferred", "open_case")


def case_mapping(doc: dict, where: str, fail) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """(field -> header names, status cell -> status) from the mapping file's case sections."""
    cols = {}
    for name, aliases in (doc.get("case_columns") or {}).items():
        if name not in CASE_FIELDS:
            raise fail(f"{where}: unknown field {name!r} under case_columns (known: {', '.join(CASE_FIELDS)})")
        if isinstance(aliases, str):
            aliases = [aliases]
        cols[name] = tuple(str(a) for a in aliases)
    statuses = {}
    for cell, status in ((doc.get("case_values") or {}).get("status") or {}).items():
        if status not in STATUSES:
            raise fail(f"{where}: case_values.status.{cell}: {status!r} must be one of {', '.join(STATUSES)}")
        statuses[str(cell).strip()] = status
    return cols, statuses


def match_case_columns(index: dict[str, int], columns: dict[str, tuple[str, ...]], used: set[int], key) -> dict[str, int]:
    """Case field -> column index, skipping columns a complaint field took."""
    out = {}
    taken = set(used)
    for name in CASE_FIELDS:
        for alias in columns.get(name, ()):
            i = index.get(key(alias))
            if i is not None and i not in taken:
                out[name] = i
                taken.add(i)
                break
    return out


def row_events(cid: str, kind: str, cells: dict[str, object], statuses: dict[str, str]) -> list[dict]:
    """The raw case events (for streams.cases.events.validate_event) one row says happened.

    ``cells``: case field -> the row's normalised cell (times ISO 8601, amount as text).
    """
    def get(name):
        v = cells.get(name)
        return None if v in (None, "") else v

    status_text = str(get("status") or "").strip()
    status = statuses.get(status_text)
    acc, closed, visited = get("accepted_at"), get("closed_at"), get("visited_at")
    unit = get("unit")
    out = []

    def add(event, at, **kw):
        if at is None:
            return
        e = {"id": f"{cid}:imp:{event}", "complaint_id": cid, "event": event, "at": at}
        if unit:
            e["unit"] = unit
        e.update({k: v for k, v in kw.items() if v not in (None, "")})
        out.append(e)

    if status == "rejected":
        add("reject", acc or closed)
        return out
    if status == "transferred":
        add("transfer", acc or closed, reason=f"导入：处理状态 {status_text}")
        return out
    if status == "open_case":
        add("open_case", acc or closed)
    close_type = str(get("close_type") or "").strip()
    is_closed = status == "closed" or (closed is not None and status != "pending") or bool(close_type and closed)
    if kind == "投诉" and (status in ("accepted", "closed") or acc is not None or is_closed):
        add("accept", acc or (closed if is_closed else None))
    if is_closed and closed is not None:
        outcome = OUTCOME_ALIASES.get(close_type) or OUTCOME_ALIASES.get(close_type.lower()) or close_type or None
        add("close", closed, outcome=outcome, recovered_yuan=get("recovered_yuan"))
    sat = get("satisfaction")
    if sat is not None:
        add("visit", visited or closed, satisfaction=str(sat).strip())
    return out


class CaseRows:
    """The importer's case side for one file: remembers each row's cells while the complaint is
    checked, then turns a good row into validated case events (bad ones for the dead-letter topic)."""

    def __init__(self, mapping_path, headers: list, used_columns, tz, fail):
        from config import read_yaml
        from streams.cells import header_index, header_key

        doc = read_yaml(mapping_path, "mapping file", fail)
        cols, self.statuses = case_mapping(doc, f"mapping file {mapping_path}", fail)
        self.columns = match_case_columns(header_index(headers), cols, set(used_columns), header_key)
        self.tz = tz
        self._cells: dict[int, list] = {}
        self.count = 0

    def remember(self, rows):
        for n, cells in rows:
            if self.columns:
                self._cells[n] = cells
            yield n, cells

    def events(self, row: int, record: dict | None, now: float, ref: str) -> tuple[list[dict], list[tuple]]:
        """(valid events, [(raw, errors, ref)]) of a row; the row's cells are forgotten."""
        from streams.cases.events import validate_event
        from streams.cells import cell_text, normalise_amount, normalise_time

        cells = self._cells.pop(row, None)
        if record is None or cells is None:
            return [], []
        got = {}
        for name, i in self.columns.items():
            v = cells[i] if i < len(cells) else None
            if name in ("accepted_at", "closed_at", "visited_at"):
                v = normalise_time(v) if cell_text(v) else None
            elif name == "recovered_yuan":
                v = normalise_amount(v) if cell_text(v) else None
            else:
                v = cell_text(v)
            got[name] = v
        good, bad = [], []
        for j, raw in enumerate(row_events(record["id"], record["kind"], got, self.statuses)):
            ev, errs = validate_event(raw, now, self.tz)
            if errs:
                bad.append((raw, errs, f"{ref}:{raw['event']}"))
            else:
                good.append(ev)
        self.count += len(good)
        return good, bad
