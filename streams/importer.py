"""Import 12315 / 12345 exports (CSV, XLSX) into the complaint stream.

    python -m streams.importer 导出.xlsx [--dry-run] [--default-channel 12345] ...

Each row is mapped to a complaint through ``config/import_columns.yaml`` (header names
differ from system to system and bureau to bureau, so the mapping is data, not code),
checked with the same :class:`streams.schema.Rules` as the API, and published through
:class:`streams.intake.Intake`. Rejected rows go to the dead-letter topic with a ref made
of the file's hash and the row number, so importing an export twice counts nothing twice.

The row -> complaint mapping is plain functions (``load_mapping``, ``match_columns``,
``row_to_raw``, ``check_rows``); Kafka is touched only in :func:`import_file`.
"""
from __future__ import annotations

import argparse
import asyncio
import codecs
import csv
import hashlib
import logging
import re
import sys
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

import orjson

from config import IMPORT_COLUMNS_FILE, Settings, SettingsError, read_yaml
from config.divisions import DivisionTable
from nlp.pii import mask_text
from streams import deadletter
from streams.cells import cell_text, header_index, header_key, is_blank, normalise_amount, normalise_time  # noqa: F401
from streams.schema import Rules, error

SOURCE = "import"
FIELDS = ("id", "received_at", "channel", "kind", "district", "industry", "merchant", "amount", "text",
          "contact.name", "contact.phone", "contact.id_number")
REQUIRED = ("received_at", "channel", "kind", "district", "text")
DEFAULTABLE = ("channel", "kind")
HEADER_SCAN_ROWS = 10          # title rows above the header are common in exports
EXIT_OK, EXIT_FATAL = 0, 2


class ImportFailure(Exception):
    """A problem that stops the import; its message is the one line the user sees."""


# --------------------------------------------------------------------------- mapping

@dataclass(frozen=True)
class Mapping:
    """Accepted header names per field, defaults for absent columns, value aliases."""

    columns: dict[str, tuple[str, ...]]
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = str(IMPORT_COLUMNS_FILE)

    def with_defaults(self, **defaults: str | None) -> "Mapping":
        """A copy with CLI defaults laid over the file's (None leaves a default as it is)."""
        merged = dict(self.defaults)
        merged.update({k: v for k, v in defaults.items() if v not in (None, "")})
        return replace(self, defaults=merged)


def load_mapping(path: str | Path | None = None) -> Mapping:
    """Read a column-mapping YAML file; a mistake in it is an :class:`ImportFailure`."""
    p = Path(path) if path else IMPORT_COLUMNS_FILE
    where = f"mapping file {p}"
    doc = read_yaml(p, "mapping file", ImportFailure)
    if not isinstance(doc.get("columns"), dict):
        raise ImportFailure(f"{where} must have a 'columns:' mapping of field -> list of header names")
    columns: dict[str, tuple[str, ...]] = {}
    for name, aliases in doc["columns"].items():
        if name not in FIELDS:
            raise ImportFailure(f"{where}: unknown field {name!r} under columns (known: {', '.join(FIELDS)})")
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, list) or not all(isinstance(a, (str, int)) for a in aliases):
            raise ImportFailure(f"{where}: columns.{name} must be a list of header names")
        columns[name] = tuple(str(a) for a in aliases)
    defaults = {}
    for name, value in (doc.get("defaults") or {}).items():
        if name not in FIELDS or name.startswith("contact."):
            raise ImportFailure(f"{where}: unknown field {name!r} under defaults")
        if value not in (None, ""):
            defaults[name] = str(value)
    values: dict[str, dict[str, str]] = {}
    for name, table in (doc.get("values") or {}).items():
        if name not in FIELDS or not isinstance(table, dict):
            raise ImportFailure(f"{where}: values.{name} must be a field name holding a mapping of cell value -> value")
        values[name] = {str(k).strip(): str(v) for k, v in table.items()}
    return Mapping(columns, defaults, values, str(p))


def match_columns(headers: list, mapping: Mapping, file_label: str = "the file") -> dict[str, int]:
    """Field -> column index. A required field without a column is an :class:`ImportFailure`."""
    index = header_index(headers)
    used: set[int] = set()
    columns: dict[str, int] = {}
    for name in FIELDS:
        for alias in mapping.columns.get(name, ()):
            i = index.get(header_key(alias))
            if i is not None and i not in used:
                columns[name] = i
                used.add(i)
                break
    missing = [f for f in REQUIRED if f not in columns and not (f in DEFAULTABLE and f in mapping.defaults)]
    if missing:
        parts = []
        for f in missing:
            expected = ", ".join(mapping.columns.get(f, ())) or "(none listed)"
            hint = f" — or give --default-{f}" if f in DEFAULTABLE else ""
            parts.append(f"{f} (expected a header named one of: {expected}{hint})")
        shown = ", ".join(cell_text(h) for h in headers if cell_text(h)) or "(none)"
        raise ImportFailure(f"{file_label}: no column for {'; '.join(parts)}. The file's headers are: {shown}. "
                            f"Add the right header name to {mapping.source} or pass --mapping FILE")
    return columns


def locate_header(rows: Iterator[tuple[int, list]], mapping: Mapping,
                  file_label: str = "the file") -> tuple[int, list, Iterator[tuple[int, list]]]:
    """Find the header among the first rows (exports often put a title above it).

    Returns (header row number, header cells, the data rows after it).
    """
    peeked = list(islice(rows, HEADER_SCAN_ROWS))
    candidates = [(n, cells) for n, cells in peeked if not is_blank(cells)]
    if not candidates:
        raise ImportFailure(f"{file_label} has no rows (not even a header)")
    keys = {header_key(a) for aliases in mapping.columns.values() for a in aliases}

    def score(cells: list) -> int:
        return len(keys & set(header_index(cells)))

    best_n, best = max(candidates, key=lambda c: (score(c[1]), -c[0]))
    if score(best) == 0:
        best_n, best = candidates[0]
    rest = [(n, cells) for n, cells in peeked if n > best_n]
    return best_n, best, chain(rest, rows)


# cells: streams/cells.py


def _alias(mapping: Mapping, name: str, text: str) -> str:
    table = mapping.values.get(name)
    if not table:
        return text
    return table.get(text) or table.get(text.casefold(), text)


@lru_cache(maxsize=8192)
def resolve_district(table: DivisionTable, name: str) -> str | None:
    """A division name -> code, memoised: an export repeats the same few names thousands of times."""
    found = table.resolve_name(name)
    return found.code if found else None


def content_id(raw: dict) -> str:
    """A deterministic id from a row's normalised content, for exports without one.

    Identical rows get identical ids on every import, in CSV or XLSX alike, which is what
    lets the tally count a re-imported export once.
    """
    body = {k: v for k, v in raw.items() if k != "id"}
    return "imp-" + hashlib.sha1(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def row_to_raw(cells: list, columns: dict[str, int], mapping: Mapping, table: DivisionTable) -> tuple[dict, list[dict]]:
    """One row -> (raw complaint for Rules, errors only the importer can see).

    The importer's own errors are district names that do not resolve; everything else is
    left to Rules so that a complaint means the same whichever way it came in.
    """
    raw: dict = {}
    errors: list[dict] = []
    for name, i in columns.items():
        value = cells[i] if i < len(cells) else None
        if name == "received_at":
            value = normalise_time(value) if cell_text(value) else ""
        elif name == "amount":
            value = normalise_amount(value)
        elif name == "text":
            value = cell_text(value).replace("\r\n", "\n").replace("\r", "\n")
        else:
            value = _alias(mapping, name, cell_text(value))
        if value in ("", None):
            continue
        if name.startswith("contact."):
            raw.setdefault("contact", {})[name.split(".", 1)[1]] = value
        else:
            raw[name] = value

    district = raw.get("district")
    if isinstance(district, str):
        district = re.sub(r"\s+", "", district)
        if re.fullmatch(r"\d{6}\.0+", district):      # a code that went through a float
            district = district.split(".")[0]
        if not district.isdigit():
            code = resolve_district(table, district)
            if code is None:
                errors.append(error("district", "unknown_name",
                                    f"district name {district[:40]!r} is not a known division or is ambiguous; "
                                    "write it with its city (e.g. 长治市潞州区) or give the 6-digit code"))
            else:
                district = code
        raw["district"] = district

    if not raw.get("id"):
        raw["id"] = content_id(raw)       # before defaults: the id depends on the file alone
    for name, value in mapping.defaults.items():
        raw.setdefault(name, value)
    return raw, errors


# --------------------------------------------------------------------------- checking

@dataclass
class RowResult:
    row: int                   # as a spreadsheet shows it; the header row counts
    raw: dict
    record: dict | None
    errors: list[dict]
    ref: str

    def message(self) -> str:
        return f"第 {self.row} 行 / row {self.row}: " + "; ".join(e["message"] for e in self.errors)


def check_rows(rows: Iterable[tuple[int, list]], columns: dict[str, int], mapping: Mapping, rules: Rules,
               ref_prefix: str, now: float | None = None) -> Iterator[RowResult]:
    """Map and validate data rows; blank rows are skipped, an id seen before is a duplicate."""
    first_row: dict[str, int] = {}
    for n, cells in rows:
        if is_blank(cells):
            continue
        raw, errors = row_to_raw(cells, columns, mapping, rules.table)
        record, rule_errors = rules.validate(raw, now)
        own = {e["field"] for e in errors}
        errors += [e for e in rule_errors if e["field"] not in own]
        if not errors:
            first = first_row.setdefault(record["id"], n)
            if first != n:
                errors = [error("", deadletter.DUPLICATE_ID,
                                f"id {record['id']!r} already appeared in row {first}; it is counted once")]
        yield RowResult(n, raw, None if errors else record, errors, f"{ref_prefix}:{n}")


def dead_letter_raw(res: RowResult, file_name: str) -> dict:
    """What the dead-letter record shows of a row: the mapped fields only (unmapped columns
    may hold addresses and other PII), with the complainant's name masked in the text too."""
    raw = dict(res.raw)
    name = (raw.get("contact") or {}).get("name")
    if name and isinstance(raw.get("text"), str):
        raw["text"] = mask_text(raw["text"], (name,))
    raw["_file"], raw["_row"] = file_name, res.row
    return raw


# --------------------------------------------------------------------------- reading files

@dataclass
class Table:
    """The rows of one export, however it was stored."""

    rows: Iterator[tuple[int, list]]
    total: int | None           # rows in the file, if known cheaply (for the progress bar)
    sha1: str
    detail: str                 # "CSV, gb18030" / "sheet '数据'"
    close: Callable[[], None] = lambda: None


def _scan(path: Path) -> tuple[str, int, bytes]:
    """sha1, line count and the first 64 KiB of a file, in one pass."""
    h, lines, head, last = hashlib.sha1(), 0, b"", b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            if len(head) < 65536:
                head += chunk[:65536 - len(head)]
    return h.hexdigest(), lines + (last != b"\n"), head


def _decodes(path: Path, encoding: str) -> bool:
    dec = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                dec.decode(chunk)
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path, head: bytes) -> str:
    """utf-8-sig / utf-16 by BOM, else utf-8 if the whole file decodes, else gb18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"          # Excel's "Unicode text" export
    for enc in ("utf-8", "gb18030"):
        if _decodes(path, enc):
            return enc
    raise ImportFailure(f"{path.name} is neither UTF-8 nor GB18030 text: give its encoding with --encoding (e.g. big5)")


def _delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:5] if ln.strip()]
    counts = {d: sum(ln.count(d) for ln in lines) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def open_csv(path: Path, encoding: str | None = None) -> Table:
    sha1, lines, head = _scan(path)
    if head.startswith(b"PK\x03\x04"):
        raise ImportFailure(f"{path.name} is an Excel workbook, not CSV text: rename it to .xlsx")
    if encoding:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise ImportFailure(f"--encoding {encoding!r} is not an encoding Python knows (try utf-8, gb18030)") from None
    else:
        encoding = detect_encoding(path, head)
    f = path.open(encoding=encoding, newline="", errors="strict")
    try:
        sample = f.read(65536)
        f.seek(0)
    except UnicodeDecodeError as e:
        f.close()
        raise ImportFailure(f"{path.name} is not {encoding} text ({e.reason} at byte {e.start}); "
                            "leave out --encoding to detect it") from None
    rows = ((n, cells) for n, cells in enumerate(csv.reader(f, delimiter=_delimiter(sample)), 1))
    return Table(rows, lines, sha1, f"CSV, {encoding}", f.close)


def open_xlsx(path: Path, sheet: str | None = None) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    sha1, _, _ = _scan(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise ImportFailure(f"{path.name} is not a readable .xlsx workbook ({e.__class__.__name__}: "
                            f"{' '.join(str(e).split())[:120]})") from None
    if sheet is None:
        ws = wb.worksheets[0]
    elif sheet in wb.sheetnames:
        ws = wb[sheet]
    else:
        wb.close()
        raise ImportFailure(f"{path.name} has no sheet {sheet!r}; its sheets are: {', '.join(wb.sheetnames)}")
    total = ws.max_row
    ws.reset_dimensions()      # some exporters write a wrong <dimension>; read every cell anyway
    rows = ((n, list(cells)) for n, cells in enumerate(ws.iter_rows(values_only=True), 1))
    return Table(rows, total, sha1, f"sheet {ws.title!r}", wb.close)


def open_table(path: str | Path, encoding: str | None = None, sheet: str | None = None) -> Table:
    """Open a CSV or XLSX export; any reason it cannot be read is an :class:`ImportFailure`."""
    p = Path(path)
    if not p.exists():
        raise ImportFailure(f"file not found: {p}")
    if not p.is_file():
        raise ImportFailure(f"not a file: {p}")
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            return open_csv(p, encoding)
        if suffix in (".xlsx", ".xlsm"):
            return open_xlsx(p, sheet)
    except PermissionError:
        raise ImportFailure(f"no permission to read {p}") from None
    hint = " (save it as .xlsx in Excel/WPS)" if suffix in (".xls", ".et") else ""
    raise ImportFailure(f"unknown format {suffix or '(no extension)'!r} of {p.name}: "
                        f"the importer reads .csv and .xlsx files{hint}")


# --------------------------------------------------------------------------- the import

@dataclass
class Report:
    file: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    published: int = 0
    dry_run: bool = False
    reasons: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)   # field -> header used
    ignored: list[str] = field(default_factory=list)        # headers not mapped
    case_events: int = 0                                    # case events read from status columns
    rejected_events: int = 0

    def summary(self, topic: str = "") -> str:
        line = f"导入 / import {self.file}: rows read {self.rows}, accepted {self.accepted}, rejected {self.rejected}"
        if self.reasons:
            line += " (" + ", ".join(f"{code} {n}" for code, n in self.reasons.most_common()) + ")"
        if self.case_events or self.rejected_events:
            line += f"; case events {self.case_events}" + (f", rejected {self.rejected_events}" if self.rejected_events else "")
        if self.dry_run:
            return line + "; dry run, nothing published"
        return line + f"; published {self.published}" + (f" to {topic}" if topic else "")


class _Sink:
    """Kafka side of the import; every wait is bounded so a dead broker is an error, not a hang."""

    def __init__(self, settings: Settings, timeout: float):
        from streams.intake import Intake
        self.settings, self.timeout = settings, timeout
        self.intake = Intake(settings, source=SOURCE)

    async def _bounded(self, what: str, aw):
        from aiokafka.errors import KafkaConnectionError, KafkaError
        try:
            return await asyncio.wait_for(aw, self.timeout)
        except (asyncio.TimeoutError, KafkaError, OSError) as e:
            if isinstance(e, asyncio.TimeoutError):
                why = f"no answer within {self.timeout:g} s"
            else:
                text = " ".join(str(e).split())[:160]
                why = text if text.startswith(e.__class__.__name__) else f"{e.__class__.__name__}: {text}"
            unreachable = isinstance(e, (asyncio.TimeoutError, KafkaConnectionError, OSError))
            raise ImportFailure(f"broker {self.settings.broker} {'unreachable' if unreachable else 'failed'} "
                                f"while {what} ({why}); check KAFKA_BROKER and the broker, then re-run "
                                "(a re-import counts nothing twice)") from None

    async def start(self) -> None:
        await self._bounded("connecting", self.intake.start())

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.intake.stop(), self.timeout)
        except Exception:  # noqa: BLE001 - already failing or done; closing is best effort
            pass

    async def publish(self, records: list[dict]) -> None:
        await self._bounded("publishing", self.intake.publish(records))

    async def publish_events(self, events: list[dict]) -> None:
        from streams.cases.api import publish_events
        await self._bounded("publishing case events", publish_events(self.intake, events))

    async def dead_letter(self, items: list[tuple[dict, list[dict], str]]) -> None:
        many = getattr(self.intake, "dead_letter_many", None)
        aw = many(items) if many else asyncio.gather(*(self.intake.dead_letter(r, e, ref=f) for r, e, f in items))
        await self._bounded("sending rejected rows to the dead-letter topic", aw)


async def import_file(path: str | Path, settings: Settings, mapping: Mapping | None = None, *,
                      encoding: str | None = None, sheet: str | None = None, dry_run: bool = False,
                      timeout: float = 10.0, batch_size: int | None = None, max_errors: int = 20,
                      progress: bool = True, rules: Rules | None = None,
                      on_start: Callable[[Report, Table, int], None] | None = None) -> Report:
    """Read, check and (unless ``dry_run``) publish one export; returns what happened.

    The file and its header are checked before the broker is contacted, so a wrong file
    never half-imports. Raises :class:`ImportFailure` for anything that stops the import.
    """
    from tqdm import tqdm

    mapping = mapping or load_mapping()
    rules = rules or Rules(settings)
    batch_size = batch_size or settings.kafka.batch_size
    p = Path(path)
    table = open_table(p, encoding, sheet)
    report = Report(p.name, dry_run=dry_run)
    sink: _Sink | None = None
    try:
        try:
            header_row, headers, rows = locate_header(table.rows, mapping, p.name)
            columns = match_columns(headers, mapping, p.name)
        except UnicodeDecodeError as e:
            raise ImportFailure(f"{p.name} is not {table.detail.split(', ')[-1]} text ({e.reason}); "
                                "give the right --encoding") from None
        report.columns = {f: cell_text(headers[i]) for f, i in columns.items()}
        from streams.cases.importing import CaseRows          # status columns -> case events
        case_rows = CaseRows(mapping.source, headers, columns.values(), settings.tz, ImportFailure)
        report.columns.update({f"case.{f}": cell_text(headers[i]) for f, i in case_rows.columns.items()})
        rows = case_rows.remember(rows)
        report.ignored = [cell_text(h) for i, h in enumerate(headers) if cell_text(h) and i not in columns.values()]
        if on_start:
            on_start(report, table, header_row)
        if not dry_run:
            sink = _Sink(settings, timeout)
            await sink.start()

        good: list[dict] = []
        bad: list[tuple[dict, list[dict], str]] = []
        events: list[dict] = []

        async def flush() -> None:
            if sink and good:
                await sink.publish(good)
                report.published += len(good)
            if sink and events:
                await sink.publish_events(events)
            events.clear()
            if sink and bad:
                await sink.dead_letter(bad)
            good.clear()
            bad.clear()

        total = (table.total - header_row) if table.total else None
        bar = tqdm(total=total, unit="row", file=sys.stderr, dynamic_ncols=True, leave=False,
                   disable=True if not progress or (total is not None and total < 1000) else None)
        try:
            for res in check_rows(rows, columns, mapping, rules, f"{SOURCE}:{table.sha1[:12]}"):
                report.rows += 1
                bar.update(1)
                evs, bad_evs = case_rows.events(res.row, res.record, time.time(), res.ref)
                events.extend(evs)
                bad.extend(bad_evs)
                report.case_events += len(evs)
                report.rejected_events += len(bad_evs)
                if res.record is not None:
                    report.accepted += 1
                    good.append(res.record)
                else:
                    report.rejected += 1
                    report.reasons[deadletter.reason_code(res.errors)] += 1
                    if len(report.problems) < max_errors:
                        report.problems.append(res.message())
                    bad.append((dead_letter_raw(res, p.name), res.errors, res.ref))
                if len(good) >= batch_size or len(bad) >= batch_size:
                    bar.set_postfix(rejected=report.rejected, refresh=False)
                    await flush()
            await flush()
        except UnicodeDecodeError as e:
            raise ImportFailure(f"{p.name}: row {report.rows + header_row + 1} is not {table.detail.split(', ')[-1]} "
                                f"text ({e.reason}); give the right --encoding. {report.published} rows were published "
                                "before; a re-import counts nothing twice") from None
        except csv.Error as e:
            raise ImportFailure(f"{p.name}: the CSV is malformed near row {report.rows + header_row + 1} ({e})") from None
        finally:
            bar.close()
    finally:
        table.close()
        if sink:
            await sink.stop()
    return report


# --------------------------------------------------------------------------- CLI

def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m streams.importer",
        description="Import a CSV or XLSX export of the 12315 platform or the 12345 hotline into the complaint "
                    "stream. Columns are found by their header names (config/import_columns.yaml); each row is "
                    "checked like an API submission; good rows are published, bad rows go to the dead-letter "
                    "topic and are listed by row number (as a spreadsheet shows it: the header is row 1). "
                    "Importing the same file again counts nothing twice.",
        epilog="Exit status: 0 the import completed (rejected rows are reported, not fatal); 2 it could not run "
               "(file missing or unreadable, unknown format, a required column not found, broker unreachable, "
               "bad option). Broker and topics come from the settings (KAFKA_BROKER, COMPLAINTS_TOPIC, "
               "DEAD_LETTER_TOPIC, SETTINGS_FILE).")
    ap.add_argument("file", metavar="FILE", help="the export: .csv (UTF-8, UTF-8 with BOM or GB18030) or .xlsx")
    ap.add_argument("--mapping", metavar="YAML", help=f"column mapping to use instead of {IMPORT_COLUMNS_FILE.name} "
                                                      "(field -> accepted header names, defaults, value aliases)")
    ap.add_argument("--encoding", metavar="ENC", help="CSV text encoding, e.g. gb18030; default: detect "
                                                      "(BOM, else UTF-8 if the whole file decodes, else GB18030)")
    ap.add_argument("--sheet", metavar="NAME", help="XLSX sheet to read; default: the first sheet")
    ap.add_argument("--default-channel", metavar="CH", help="channel for rows without one (no column or blank "
                                                            "cell): 12315, 12345, 110, mini-program, letter, visit, "
                                                            "other, or a Chinese name such as 12345热线")
    ap.add_argument("--default-kind", metavar="KIND", help="kind for rows without one: 投诉, 举报 or 咨询")
    ap.add_argument("--dry-run", action="store_true", help="check and report every row without connecting to Kafka")
    ap.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                    help="longest wait for the broker to connect or acknowledge a batch (default: %(default)s)")
    ap.add_argument("--batch-size", type=int, metavar="N",
                    help="rows published per batch (default: kafka.batch_size from the settings, 500)")
    ap.add_argument("--max-errors", type=int, default=20, metavar="N",
                    help="rejected rows listed one by one before '… and N more' (default: %(default)s)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar (it is shown on a terminal, "
                                                               "for files of 1000 rows or more)")
    return ap


def _check_default(rules: Rules, mapping: Mapping, name: str, from_cli: bool) -> None:
    value = mapping.defaults.get(name)
    if value is None:
        return
    known = rules.channels if name == "channel" else rules.kinds
    v = _alias(mapping, name, value.strip())
    if known.get(v) is None and known.get(v.lower()) is None:
        where = f"--default-{name}" if from_cli else f"defaults.{name} in {mapping.source}"
        raise ImportFailure(f"{where} {value!r} is not a {name} the system knows "
                            f"({', '.join(sorted(set(known.values())))})")


def _print_start(report: Report, table: Table, header_row: int, mapping: Mapping) -> None:
    cols = ", ".join(f"{f}←{h}" for f, h in report.columns.items())
    defaults = "".join(f", {k}={v} (default)" for k, v in mapping.defaults.items() if k not in report.columns)
    print(f"{report.file} ({table.detail}, header in row {header_row}): {cols}{defaults}", flush=True)
    if report.ignored:
        print(f"  columns not imported: {', '.join(report.ignored)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("aiokafka", "kafka"):           # our own one-line errors say what went wrong
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False
    try:
        if args.timeout <= 0 or (args.batch_size is not None and args.batch_size <= 0) or args.max_errors < 0:
            raise ImportFailure("--timeout and --batch-size must be positive, --max-errors not negative")
        from config import settings as configured
        settings = configured()
        rules = Rules(settings)
        mapping = load_mapping(args.mapping).with_defaults(channel=args.default_channel, kind=args.default_kind)
        _check_default(rules, mapping, "channel", bool(args.default_channel))
        _check_default(rules, mapping, "kind", bool(args.default_kind))
        report = asyncio.run(import_file(
            args.file, settings, mapping, encoding=args.encoding, sheet=args.sheet, dry_run=args.dry_run,
            timeout=args.timeout, batch_size=args.batch_size, max_errors=args.max_errors,
            progress=not args.no_progress, rules=rules,
            on_start=lambda r, t, h: _print_start(r, t, h, mapping)))
    except ImportFailure as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FATAL
    except SettingsError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("interrupted: the import stopped part way; re-run it (a re-import counts nothing twice)", file=sys.stderr)
        return 130
    for line in report.problems:
        print(line)
    if report.rejected > len(report.problems):
        where = "" if report.dry_run else f" (all are on {settings.dead_letter_topic})"
        print(f"… and {report.rejected - len(report.problems)} more{where}")
    print(report.summary("" if report.dry_run else settings.complaints_topic))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
