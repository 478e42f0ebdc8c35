"""What the review screen shows and exports: one period of one district and industry, compared
with the period before and the same period a year earlier; its industries, districts, hot
phrases, most complained-about merchants and alerts with their SLA compliance.

``review_data`` gathers it as plain data; ``tables_xlsx`` writes the tables as one workbook,
``tables_csv`` as one CSV file, ``report_docx`` the monthly analysis (月分析) or quarterly report (季报告) as one Word document
with the keyword cloud in it. A period still running is compared like for like: the same
elapsed time of the period before and of last year.

Every text that goes into an export passes :func:`export_text` first (merchant names and
teams come from outside): control characters and invisible format characters are removed, so
a hostile merchant cannot break a document or smuggle a terminal escape; a cell that would
start with ``= + - @`` (or a tab / CR) is written as text, never as a formula
(:func:`formula_like`; XLSX: a string cell with Excel's quote prefix, CSV: a leading ``'``).
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

from dashboard import alertview
from streams.counts import KINDS, TOTAL, Period, by, change, child_codes, last_year_period, previous_period, select
from streams.numbers import significant, usual_text
from streams.tally import bucket_range, floor_to

CLOSED_STATES = ("closed", "false_alarm")
CLOCKS = (("dispatch", "派单"), ("respond", "响应"), ("on_site", "到场"), ("feedback", "反馈"))


# C0 and C1 controls (openpyxl and python-docx refuse most of them; a terminal obeys them) and
# the invisible format characters: zero-width ones, bidi embeddings/overrides/isolates, BOM.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
# What a spreadsheet takes for the start of a formula (or DDE), OWASP's list.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def formula_like(text: str) -> bool:
    """Would a spreadsheet read this cell as a formula? (leading blanks are trimmed by some)"""
    return isinstance(text, str) and (text.startswith(FORMULA_START) or text.lstrip().startswith(FORMULA_START))


def export_text(value):
    """A value fit for an export cell: strings without control or invisible format characters
    (tabs and line breaks become spaces); numbers and None as they are."""
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value).replace("\t", " ").replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return _UNSAFE.sub("", text)


def csv_cell(value):
    """One CSV cell: cleaned, and a leading ``'`` before anything a spreadsheet would run."""
    v = export_text(value)
    if v is None:
        return ""
    if isinstance(v, str) and formula_like(v):
        return "'" + v
    return v


def _dt(d, tz) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz)


def spans(period: Period, now: datetime) -> dict[str, tuple[datetime, datetime]]:
    """[start, end) of the period, the one before and last year's, cut to the same elapsed time
    when the period is still running."""
    tz = now.tzinfo
    start, end = _dt(period.start, tz), _dt(period.end, tz)
    cut = min(end, now) - start
    prev, ly = previous_period(period), last_year_period(period)
    return {"current": (start, start + cut),
            "previous": (_dt(prev.start, tz), min(_dt(prev.end, tz), _dt(prev.start, tz) + cut)),
            "last_year": (_dt(ly.start, tz), min(_dt(ly.end, tz), _dt(ly.start, tz) + cut))}


SPAN_NAMES = {"current": "本期", "previous": "上期", "last_year": "去年同期"}
NO_DATA = "无数据"


def coverage_note(which: str, covered: int, total: int) -> str | None:
    """What to say when a span is not fully covered by the stored history (None when it is):
    "上期无数据", "上期仅有 1/7 天数据，不作比较"."""
    name = SPAN_NAMES[which]
    if total <= 0 or covered >= total:
        return None
    if covered <= 0:
        return f"{name}{NO_DATA}"
    return f"{name}仅有 {covered}/{total} 天数据，不作比较"


def comparability(coverage: dict[str, tuple[int, int]]) -> dict[str, dict]:
    """Whether this period can be compared with the one before (``mom``) and last year's
    (``yoy``), decided from the coverage of each span ((days with any tally, days)), never from
    a count of 0: {"ok", "note", "has_data"} each, and "current" {"has_data", "note"}."""
    cur_cov = coverage["current"]
    cur_note = coverage_note("current", *cur_cov)
    out = {"current": {"has_data": cur_cov[0] > 0 or cur_cov[1] == 0, "note": cur_note}}
    for key, which in (("mom", "previous"), ("yoy", "last_year")):
        note = coverage_note(which, *coverage[which]) or cur_note
        out[key] = {"ok": note is None, "note": note, "has_data": coverage[which][0] > 0}
    return out


FULL = {"current": {"has_data": True, "note": None}, "mom": {"ok": True, "note": None, "has_data": True},
        "yoy": {"ok": True, "note": None, "has_data": True}}


def compare_row(name: str, a: float, b: float, d: float, cmp: dict | None = None) -> dict:
    """One row: this period, previous, 环比 %, last year, 同比 %. A span without any stored data
    gives None (shown as 无数据), a comparison not to be made gives None (no percentage)."""
    cmp = cmp or FULL
    return {"name": name,
            "current": round(a) if cmp["current"]["has_data"] else None,
            "previous": round(b) if cmp["mom"]["has_data"] else None,
            "mom": change(a, b) if cmp["mom"]["ok"] else None,
            "last_year": round(d) if cmp["yoy"]["has_data"] else None,
            "yoy": change(a, d) if cmp["yoy"]["ok"] else None}


def compare_rows(cur, prev, ly, names: list[str], part: str, cmp: dict | None = None) -> list[dict]:
    """Rows of name, this period, previous, 环比 %, last year, 同比 % for one part of the key."""
    c, p, y = by(cur, part), by(prev, part), by(ly, part)
    rows = []
    for name in names:
        if name == TOTAL:
            a, b, d = sum(c.values()), sum(p.values()), sum(y.values())
        else:
            a, b, d = c.get(name, 0), p.get(name, 0), y.get(name, 0)
        rows.append(compare_row(name, a, b, d, cmp))
    return rows


def district_rows(ctx, level: str, code: str, cur, prev, ly, cmp: dict | None = None) -> list[dict]:
    kid_level, kids = child_codes(ctx.table, level, code)
    if level == "county":
        kids = [code]
    rows = []
    for k in kids:
        under = ctx.lookup.districts_under(kid_level, k)
        a, b, d = (sum(select(x, under).values()) for x in (cur, prev, ly))
        rows.append({**compare_row(ctx.table.get(k).name, a, b, d, cmp), "code": k})
    rows.sort(key=lambda r: -(r["current"] or 0))
    return rows


def alert_rows(ctx, start: datetime, end: datetime, under, industry: str | None, now: datetime) -> tuple[list[dict], list[dict]]:
    """Alerts opened in [start, end) of the selection, with each SLA clock's outcome, and the
    compliance per clock: met / (met + missed), running ones counted apart."""
    store = ctx.alerts()
    if store is None:
        return [], []
    rows = []
    for a in store.list(None, since=start.isoformat(), limit=5000):
        opened = datetime.fromisoformat(a["opened_at"])
        if opened >= end or (under is not None and a.get("district") not in under) \
                or (industry and a.get("industry") != industry):
            continue
        clocks = {c["name"]: c for c in alertview.sla(a, now)}
        rows.append({"id": a["id"], "opened": a["opened_at"][5:16].replace("T", " "), "opened_at": opened,
                     "severity": a.get("severity") or "", "closed": a.get("state") in CLOSED_STATES,
                     "place": alertview.place(a),
                     "industry": a.get("industry", ""), "observed": a.get("observed"), "expected": a.get("expected"),
                     "state": alertview.state_label(a.get("state")), "team": a.get("team") or "",
                     "marks": {n: clocks.get(n, {}).get("mark", "") for n, _ in CLOCKS}})
    rows.sort(key=lambda r: r["opened"], reverse=True)
    summary = []
    for name, label in CLOCKS:
        marks = [r["marks"][name] for r in rows if r["marks"][name]]
        met, missed = marks.count("met"), marks.count("missed")
        running = sum(1 for m in marks if m not in ("met", "missed"))
        overdue = marks.count("overdue")
        summary.append({"clock": label, "met": met, "missed": missed, "running": running, "overdue": overdue,
                        "rate": round(met / (met + missed) * 100, 1) if met + missed else None})
    return rows, summary


def review_data(ctx, period: Period, code: str, industry: str | None, now: datetime) -> dict:
    """Everything the review shows for one period, district and industry (topics excepted: they
    come from the background process, see ``dashboard.jobs``)."""
    d = ctx.table.get(code)
    level = d.level
    under = None if level == "province" else ctx.lookup.districts_under(level, code)
    sp = spans(period, now)
    counts = {k: select(ctx.tallies.period(a, b, now.timestamp()), under, industry) for k, (a, b) in sp.items()}
    coverage = {k: ctx.tallies.days_with_data(a, b) for k, (a, b) in sp.items()}
    cmp = comparability(coverage)
    cur, prev, ly = counts["current"], counts["previous"], counts["last_year"]
    industries = list(ctx.settings.complaints.industries_and_unclassified)

    def ranked(rows):
        rows = [r for r in rows if r["current"] or r["previous"] or r["last_year"]]
        rows.sort(key=lambda r: -(r["current"] or 0))
        return rows

    ind_rows = ranked(compare_rows(cur, prev, ly, industries, "industry", cmp))
    # 投诉举报量: complaints and reports, enquiries (咨询) left out
    cr = [select(x, None, None, "投诉") + select(x, None, None, "举报") for x in (cur, prev, ly)]
    ind_cr = ranked(compare_rows(*cr, industries, "industry", cmp))
    start, end = sp["current"]
    merchants = ctx.docs.merchants(start, end, under, industry).most_common(15)
    alerts, sla = alert_rows(ctx, start, end, under, industry, now)
    place = d.full_name
    return {
        "place": place, "level": level, "code": code, "under": under, "industry": industry or "全部行业",
        "period": period, "now": now,
        "label": period.label(), "start": start, "end": end, "running": end < _dt(period.end, now.tzinfo),
        "spans": sp, "coverage": coverage, "compare": cmp,
        "kinds": compare_rows(cur, prev, ly, [*KINDS, TOTAL], "kind", cmp),
        "industries": ind_rows, "industries_cr": ind_cr,
        "districts": district_rows(ctx, level, code, cur, prev, ly, cmp),
        "merchants": [{"name": m, "count": n} for m, n in merchants],
        "docs_from": now - timedelta(days=float(ctx.settings.tally.keep_docs_days)),
        "alerts": alerts, "sla": sla,
    }


def compare_notes(data: dict) -> list[str]:
    """The sentences saying which comparison is not made and why, each once."""
    out = []
    for key, what in (("mom", "环比"), ("yoy", "同比")):
        note = data["compare"][key]["note"]
        if note:
            out.append(f"{note.replace('，不作比较', '')}，不作{what}。")
    return out


def trend(ctx, data: dict) -> dict:
    """The period day by day (a day period: hour by hour) with the period before and the same
    period last year, whole, for the report's chart: counts of the selection, None where no
    tally at all is stored for that day or hour (a gap, not a zero)."""
    period, now = data["period"], data["now"]
    tz = now.tzinfo
    win = "h" if period.kind == "day" else "d"
    # whole days (hours) only: the day still running would read as a fall
    done = floor_to(now, win)
    spans_ = {"current": (_dt(period.start, tz), min(_dt(period.end, tz), done)),
              "previous": (lambda p: (_dt(p.start, tz), _dt(p.end, tz)))(previous_period(period)),
              "last_year": (lambda p: (_dt(p.start, tz), _dt(p.end, tz)))(last_year_period(period))}
    out: dict = {}
    industry = None if data["industry"] == "全部行业" else data["industry"]
    for key, (a, b) in spans_.items():
        starts = [s for s, _ in bucket_range(win, a, b, tz)]
        counts = ctx.tallies.buckets(win, starts, now.timestamp()) if starts else []
        out[key] = [sum(select(c, data["under"], industry).values()) if c else None for c in counts]
    n = max(len(v) for v in out.values())
    if win == "h":
        out["labels"] = [f"{h:02d}时" for h in range(n)]
    else:
        out["labels"] = [f"第{i + 1}天" if period.kind in ("custom",) else
                         ("周" + "一二三四五六日"[i % 7] if period.kind == "week" else f"{i + 1}") for i in range(n)]
    return out


def title(data: dict) -> str:
    cut = f"（截至{data['end']:%m月%d日%H:%M}）" if data["running"] else ""
    return f"{data['place']} · {data['label']}{cut} · {data['industry']}"


def pct(v) -> str:
    return "—" if v is None else f"{v:+.1f}%"


def count(v) -> str:
    """A count for a table cell: 无数据 when the span has no stored data."""
    return NO_DATA if v is None else f"{v:,}"


def trend_windows(topics: dict) -> list[tuple[datetime, datetime]]:
    """The periods of a phrase's trend (the four before, oldest first, then this one), as
    ``streams.readmodel.ReadModel.topics`` counts them: each as long as this one."""
    start, end = datetime.fromisoformat(topics["start"]), datetime.fromisoformat(topics["end"])
    span = end - start
    return [(end - (k + 1) * span, end - k * span) for k in (4, 3, 2, 1)] + [(start, end)]


def trend_known(ctx, topics: dict | None, docs_from: datetime) -> list[bool] | None:
    """For each point of the phrases' trend: is it a count (True), or a period without stored
    tallies or older than the complaint texts kept (False: shown as a gap, not as 0)?"""
    if not topics or "start" not in topics:
        return None
    out = []
    for a, b in trend_windows(topics):
        covered, total = ctx.tallies.days_with_data(a, b)
        out.append(covered >= total and a >= docs_from)
    return out


def phrase_rows(topics: dict | None, n: int = 15) -> list[dict]:
    """The top phrases; a trend point whose period holds no data (``topics["trend_known"]``,
    see :func:`trend_known`) is None."""
    if not topics:
        return []
    known = topics.get("trend_known")
    rows = []
    for x in topics["phrases"]["by_count"][:n]:
        trend = list(x["trend"])
        if known and len(known) == len(trend):
            trend = [v if k else None for v, k in zip(trend, known)]
        rows.append({"phrase": x["topic"], "count": x["count"],
                     "expected": None if x["expected"] is None else significant(x["expected"], 2, 1),
                     "rising": x["rising"], "trend": trend})
    return rows


def trend_text(trend: list, sep: str = " ") -> str:
    return sep.join("—" if v is None else str(v) for v in trend)


# -- exports ---------------------------------------------------------------------------------


# Column kinds of the exported tables: how a value is written (XLSX number format, CSV text).
# USUAL is an expected (usual) count: one decimal from 1 up, small ones to two significant digits
# (常态 0.0012, never 0.0; streams.numbers).
INT, PCT, RATE, USUAL, WHEN, TEXT = "int", "pct", "rate", "usual", "when", "text"
XLSX_FORMATS = {INT: "#,##0", PCT: "+0.0%;-0.0%;0.0%", RATE: "0.0%", USUAL: "0.0###", WHEN: "yyyy-mm-dd hh:mm"}
CMP_FORMATS = [TEXT, INT, INT, PCT, INT, PCT]


def cmp_head(first: str) -> list[str]:
    return [first, "本期", "上期", "环比", "去年同期", "同比"]


def table_sheets(data: dict, topics: dict | None) -> list[tuple[str, list[str], list[list], list[str], list[str]]]:
    """The review's tables as (sheet name, header, rows, column kinds, notes), values raw: counts
    as int (None: the span has no data), changes and rates in percent (None: not compared, or
    nothing to rate), times as datetime; the notes say which comparison is not made and why."""
    def cmp(rows):
        return [[r["name"], r["current"], r["previous"], r["mom"], r["last_year"], r["yoy"]] for r in rows]

    notes = compare_notes(data)
    clocks = [label for _, label in CLOCKS]
    return [
        ("总体", cmp_head("类型"), cmp(data["kinds"]), CMP_FORMATS, notes),
        ("行业", cmp_head("行业"), cmp(data["industries"]), CMP_FORMATS, notes),
        ("地区", cmp_head("地区"), cmp(data["districts"]), CMP_FORMATS, notes),
        ("热点短语", ["短语", "件数", "常态", "上升", "趋势（前4期→本期）"],
         [[r["phrase"], r["count"], r["expected"], "是" if r["rising"] else "", trend_text(r["trend"])]
          for r in phrase_rows(topics, 50)], [TEXT, INT, USUAL, TEXT, TEXT], []),
        ("商户", ["经营者", "件数"], [[m["name"], m["count"]] for m in data["merchants"]], [TEXT, INT], []),
        ("预警", ["开出时间", "地区", "行业", "级别", "件数", "常态", "状态", "派单对象"] + clocks,
         [[a["opened_at"], a["place"], a["industry"], severity_label(a["severity"]), a["observed"], a["expected"],
           a["state"], a["team"]] + [alertview.MARK_LABELS.get(a["marks"][n], "") for n, _ in CLOCKS]
          for a in data["alerts"]], [WHEN, TEXT, TEXT, TEXT, INT, USUAL, TEXT, TEXT] + [TEXT] * len(clocks), []),
        ("时效", ["环节", "达标", "超时", "办理中", "其中已超时", "达标率"],
         [[s["clock"], s["met"], s["missed"], s["running"], s["overdue"], s["rate"]] for s in data["sla"]],
         [TEXT, INT, INT, INT, INT, RATE], []),
    ]


def severity_label(level: str) -> str:
    from alerts.severity import LABELS
    return LABELS.get(level or "", "")


def text_of(value, kind: str) -> str:
    """A raw table value as the CSV and the DOCX write it."""
    if value is None:
        return {INT: NO_DATA, PCT: "—", RATE: "—", USUAL: "—"}.get(kind, "")
    if kind == PCT:
        return pct(value)
    if kind == RATE:
        return f"{value:.1f}%"
    if kind == USUAL and isinstance(value, (int, float)):
        return usual_text(value)
    if kind == WHEN and isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if kind == INT and isinstance(value, (int, float)):
        return f"{round(value):,}"
    return str(value)


def tables_csv(data: dict, topics: dict | None) -> bytes:
    """The review's tables as one CSV file (UTF-8 with BOM, so Excel reads the Chinese): the title,
    then each table under a line with its name, its notes after it, a blank line between."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_cell(title(data))])
    for name, header, rows, kinds, notes in table_sheets(data, topics):
        w.writerow([])
        w.writerow([csv_cell(f"【{name}】")])
        w.writerow([csv_cell(h) for h in header])
        for r in rows:
            w.writerow([csv_cell(v if k in (INT, USUAL) and isinstance(v, (int, float)) else text_of(v, k))
                        for v, k in zip(r, kinds)])
        for note in notes:
            w.writerow([csv_cell(f"注：{note}")])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def tables_xlsx(data: dict, topics: dict | None) -> bytes:
    """The review's tables as one workbook, one sheet each: counts as integers, changes and rates
    as numbers with a percent format, times as date-time cells with the year."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")

    def put_row(ws, values: list, kinds: list[str] | None = None) -> None:
        out = []
        for i, v in enumerate(values):
            k = kinds[i] if kinds and i < len(kinds) else TEXT
            if v is None and k == INT:
                v = NO_DATA
            elif isinstance(v, (int, float)) and k in (PCT, RATE):
                v = v / 100
            elif isinstance(v, datetime):
                v = v.replace(tzinfo=None)          # local time as written on the screens
            out.append(export_text(v) if isinstance(v, str) else v)
        ws.append(out)
        for i, cell in enumerate(ws[ws.max_row]):
            k = kinds[i] if kinds and i < len(kinds) else TEXT
            if isinstance(cell.value, str):
                cell.data_type = "s"            # never "f": a merchant "=HYPERLINK(…)" stays text
                if formula_like(cell.value):
                    cell.quotePrefix = True     # and stays text when someone edits the cell
                if k != TEXT:
                    cell.alignment = Alignment(horizontal="right")
            elif cell.value is not None and k in XLSX_FORMATS:
                cell.number_format = XLSX_FORMATS[k]

    for i, (name, header, rows, kinds, notes) in enumerate(table_sheets(data, topics)):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = name
        put_row(ws, [title(data)])
        ws["A1"].font = Font(bold=True, size=12)
        put_row(ws, header)
        for cell in ws[2]:
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(horizontal="center")
        for r in rows:
            put_row(ws, r, kinds)
        for note in notes:
            put_row(ws, [f"注：{note}"])
        for j, h in enumerate(header, 1):
            width = max([len(str(h))] + [len(text_of(r[j - 1], kinds[j - 1])) for r in rows if j - 1 < len(r)]) * 2 + 2
            ws.column_dimensions[get_column_letter(j)].width = min(60, max(10, width))
        ws.freeze_panes = "A3"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- the written report: 研判 and 建议 ------------------------------------------------------------

def _change_words(v) -> str:
    if abs(v) < 0.05:
        return "持平"
    return f"{'上升' if v > 0 else '下降'} {abs(v):.1f}%"


def _vs(row: dict, data: dict) -> str:
    """"环比上升 60.0%，同比上升 100.0%" for what can be compared; nothing for what cannot
    (that is said once, see compare_notes)."""
    parts = []
    if data["compare"]["mom"]["ok"] and row["mom"] is not None:
        parts.append(f"环比{_change_words(row['mom'])}")
    if data["compare"]["yoy"]["ok"] and row["yoy"] is not None:
        parts.append(f"同比{_change_words(row['yoy'])}")
    return "，".join(parts)


def _share(n, total) -> str:
    return f"{n / total * 100:.1f}%" if total else "—"


def summary_text(data: dict) -> list[str]:
    """The report's opening paragraphs (一、总体情况), from the numbers."""
    k = {r["name"]: r for r in data["kinds"]}
    t = k[TOTAL]
    if t["current"] is None:
        return [f"{data['label']}，{data['place']}（{data['industry']}）无受理数据（系统中没有该期的统计）。"]
    vs = _vs(t, data)
    out = [f"{data['label']}，{data['place']}（{data['industry']}）共受理投诉举报咨询 {t['current']:,} 件"
           + (f"，{vs}" if vs else "") + "。"
           + f"其中投诉 {k['投诉']['current']:,} 件" + (f"（{_vs(k['投诉'], data)}）" if _vs(k['投诉'], data) else "")
           + f"，举报 {k['举报']['current']:,} 件，咨询 {k['咨询']['current']:,} 件。"]
    notes = compare_notes(data)
    if notes:
        out.append("".join(notes))
    return out


def findings(data: dict, topics: dict | None) -> list[str]:
    """研判: what the period's numbers say, each finding with its numbers."""
    out = []
    k = {r["name"]: r for r in data["kinds"]}
    total = k[TOTAL]["current"] or 0
    cr = (k["投诉"]["current"] or 0) + (k["举报"]["current"] or 0)
    mom_ok, yoy_ok = data["compare"]["mom"]["ok"], data["compare"]["yoy"]["ok"]
    if total:
        line = (f"（一）总量。本期受理 {total:,} 件，投诉举报 {cr:,} 件，占 {_share(cr, total)}；"
                f"咨询 {k['咨询']['current'] or 0:,} 件。")
        if mom_ok and k[TOTAL]["previous"] is not None:
            line += f"上期 {k[TOTAL]['previous']:,} 件，{_vs({**k[TOTAL], 'yoy': None}, data)}。"
        if yoy_ok and k[TOTAL]["last_year"] is not None:
            line += f"去年同期 {k[TOTAL]['last_year']:,} 件，同比{_change_words(k[TOTAL]['yoy'])}。" \
                if k[TOTAL]["yoy"] is not None else f"去年同期 {k[TOTAL]['last_year']:,} 件。"
        out.append(line)
    else:
        out.append("（一）总量。本期无受理数据。")
    inds = [r for r in data["industries_cr"] if r["current"]]
    if inds:
        top = inds[:3]
        line = ("（二）行业。投诉举报量居前的行业为"
                + "、".join(f"{r['name']}（{r['current']:,} 件，占 {_share(r['current'], cr)}）" for r in top) + "。")
        if mom_ok:
            ups = sorted((r for r in inds if r["mom"] is not None and r["mom"] > 0 and r["current"] >= 5),
                         key=lambda r: -r["mom"])
            if ups:
                line += "环比增幅较大的有" + "、".join(
                    f"{r['name']}（由 {r['previous']:,} 件增至 {r['current']:,} 件，{pct(r['mom'])}）" for r in ups[:3]) + "。"
            else:
                line += "各行业投诉举报量环比无明显上升。"
        out.append(line)
    dists = [r for r in data["districts"] if r["current"]]
    if dists and len(data["districts"]) > 1:
        line = "（三）地区。受理量较多的地区为" + "、".join(
            f"{r['name']}（{r['current']:,} 件，占 {_share(r['current'], total)}）" for r in dists[:3]) + "。"
        if mom_ok:
            ups = sorted((r for r in dists if r["mom"] is not None and r["mom"] > 0 and r["current"] >= 5),
                         key=lambda r: -r["mom"])
            if ups:
                line += "环比增幅较大的有" + "、".join(f"{r['name']}（{pct(r['mom'])}）" for r in ups[:3]) + "。"
        out.append(line)
    rows = phrase_rows(topics, 15)
    if rows:
        line = "（四）热点问题。反映较多的问题为" + "、".join(f"「{r['phrase']}」（{r['count']:,} 件）" for r in rows[:5]) + "。"
        rising = [r for r in rows if r["rising"]]
        if rising:
            line += "较常态明显上升的有" + "、".join(
                f"「{r['phrase']}」（{r['count']:,} 件，常态约 {r['expected'] if r['expected'] is not None else 0:g} 件）"
                for r in rising[:3]) + "。"
        out.append(line)
    merchants = data["merchants"]
    if merchants:
        n = sum(m["count"] for m in merchants[:5])
        out.append("（五）经营者。被投诉较多的经营者为" + "、".join(f"{m['name']}（{m['count']:,} 件）" for m in merchants[:5])
                   + f"，前 {min(5, len(merchants))} 家合计 {n:,} 件。")
    alerts = data["alerts"]
    if alerts:
        by_level: dict[str, int] = {}
        for a in alerts:
            by_level[a["severity"]] = by_level.get(a["severity"], 0) + 1
        levels = "、".join(f"{severity_label(lv)} {by_level[lv]} 条" for lv in ("red", "orange", "yellow", "blue")
                          if by_level.get(lv))
        closed = sum(1 for a in alerts if a["closed"])
        line = f"（六）预警与处置。本期开出激增预警 {len(alerts)} 条" + (f"（{levels}）" if levels else "") + \
               f"，已办结 {closed} 条，未办结 {len(alerts) - closed} 条。"
        rates = [f"{s['clock']}达标率 {s['rate']:.1f}%（{s['met']}/{s['met'] + s['missed']}）"
                 for s in data["sla"] if s["rate"] is not None]
        if rates:
            line += "处置时效：" + "，".join(rates) + "。"
        overdue = sum(s["overdue"] for s in data["sla"])
        if overdue:
            line += f"另有 {overdue} 个环节办理中已超时。"
        worst = sorted(alerts, key=lambda a: -(a["observed"] or 0))[0]
        line += (f"件数最多的一条为{worst['place']}{worst['industry']}（{worst['observed']:,} 件"
                 + (f"，常态约 {usual_text(worst['expected'])} 件" if isinstance(worst.get("expected"), (int, float)) else "")
                 + f"，{worst['state']}）。")
        out.append(line)
    else:
        out.append("（六）预警与处置。本期未开出激增预警。")
    return out


def suggestions(data: dict, topics: dict | None) -> list[str]:
    """建议: drafted from the findings, for the head to edit."""
    out = []
    mom_ok = data["compare"]["mom"]["ok"]
    inds = [r for r in data["industries_cr"] if r["current"]]
    ups = sorted((r for r in inds if mom_ok and r["mom"] is not None and r["mom"] >= 20 and r["current"] >= 5),
                 key=lambda r: -r["mom"])
    if ups:
        r = ups[0]
        out.append(f"针对{r['name']}行业投诉举报量环比上升 {r['mom']:.1f}%（{r['current']:,} 件），建议会同相关部门开展专项检查，"
                   "分析集中问题，必要时发布消费警示。")
    elif inds:
        r = inds[0]
        out.append(f"{r['name']}行业投诉举报量居首（{r['current']:,} 件），建议列为下期日常监管重点，加强源头治理。")
    dists = [r for r in data["districts"] if r["current"]]
    if dists and len(data["districts"]) > 1:
        r = dists[0]
        out.append(f"{r['name']}受理量最多（{r['current']:,} 件），建议督促属地市场监管部门加强巡查和在线纠纷解决（ODR）企业培育。")
    rising = [r for r in phrase_rows(topics, 15) if r["rising"]]
    if rising:
        out.append("针对" + "、".join(f"「{r['phrase']}」" for r in rising[:3])
                   + "等上升的问题，建议通过 12315 平台和新闻媒体发布消费提示，引导消费者理性维权。")
    if data["merchants"]:
        top = data["merchants"][:3]
        out.append("对" + "、".join(f"{m['name']}（{m['count']:,} 件）" for m in top)
                   + "等被投诉较多的经营者开展行政约谈或行政指导，督促落实首问负责和先行赔付。")
    low = [s for s in data["sla"] if s["rate"] is not None and s["rate"] < 95]
    if low:
        out.append("、".join(f"{s['clock']}（达标率 {s['rate']:.1f}%）" for s in low)
                   + "环节时效未达 95%，建议调整值班力量和快反分队响应安排，对超时环节逐条复盘。")
    elif data["alerts"]:
        out.append(f"本期 {len(data['alerts'])} 条预警的处置时效总体达标，建议保持现行值班与快反机制。")
    if not (data["compare"]["mom"]["ok"] and data["compare"]["yoy"]["ok"]):
        out.append("补录往期统计数据（历史投诉举报导入），以便下期完整开展同比、环比分析。")
    out.append("（以上建议由系统根据本期数据生成，请审阅修改。）")
    return out


# -- the Word document ---------------------------------------------------------------------------

A4 = (21.0, 29.7)
MARGINS = {"top": 3.0, "bottom": 2.5, "left": 2.8, "right": 2.6}   # cm; 15.6 cm of text width


def report_charts(data: dict, trend_data: dict | None) -> dict[str, bytes]:
    """The report's charts as PNG: trend (when ``trend_data`` is given), industries, districts."""
    from dashboard import charts

    out = {}
    if trend_data:
        out["trend"] = charts.trend_png(trend_data["labels"], [
            ("current", "本期", trend_data["current"]), ("previous", "上期", trend_data["previous"]),
            ("last_year", "去年同期", trend_data["last_year"])],
            f"{data['place']} {data['label']} 受理量走势（{'按小时' if data['period'].kind == 'day' else '按日'}）")
    inds = [r for r in data["industries_cr"] if r["current"]]
    if inds:
        out["industries"] = charts.bars_png([r["name"] for r in inds], [r["current"] for r in inds], "各行业投诉举报量")
    dists = [r for r in data["districts"] if r["current"]]
    if dists:
        out["districts"] = charts.bars_png([r["name"] for r in dists], [r["current"] for r in dists], "各地区受理量")
    return out


OUTCOMES = {"mediated": "调解成功", "failed": "调解不成", "terminated": "终止调解", "withdrawn": "撤回投诉",
            "self_settled": "自行和解"}


def handling_data(r, settings, level: str, code: str, sp: dict, industry: str | None, now: datetime) -> dict:
    """The 办理情况 of a period: the handling figures (``streams.cases.read.kpis``) of
    the items received in each span of ``sp`` (本期, 上期, 去年同期; None when the span is empty),
    the slowest units of this period (items late or overdue / items, worst first) and the outcomes
    of its closed items. Reads Redis: run it in the background process (``jobs.handling``)."""
    from collections import Counter

    from dashboard.handling import slowest_units
    from streams.cases.config import default_case_config
    from streams.cases.kpis import item_figures
    from streams.cases.read import QueryError, calendar, kpis, read_cases

    out: dict = {"kpis": {}}
    for name, (a, b) in sp.items():
        try:
            out["kpis"][name] = kpis(r, settings, level, code, a, b, industry, now=now.timestamp())
        except QueryError:
            out["kpis"][name] = None
    a, b = sp["current"]
    cfg = default_case_config()
    cal = calendar(settings, cfg)
    units: dict[str, list[int]] = {}
    outcomes: Counter = Counter()
    a, b = datetime.fromisoformat(str(a)), datetime.fromisoformat(str(b))
    cases = read_cases(r, settings, level, code, a, b, industry) if a < b else []
    for case in cases:
        if case["kind"] not in cfg.kinds:
            continue
        f = item_figures(case, cfg, cal, now.timestamp())
        late = bool(f["overdue"]) or any(f[k][1] and not f[k][0] for k in ("on_time_first_check", "on_time_closing"))
        unit = next((e["unit"] for e in sorted(case["events"], key=lambda e: e["ts"], reverse=True) if e.get("unit")),
                    "未分流")
        u = units.setdefault(unit, [0, 0])
        u[0] += late
        u[1] += 1
        closes = [e for e in case["events"] if e["event"] == "close"]
        if closes:
            outcomes[max(closes, key=lambda e: (e["ts"], e["id"]))["outcome"]] += 1
    out["units"] = slowest_units({u: (o, n) for u, (o, n) in units.items()}, top=8)
    total = sum(outcomes.values())
    out["outcomes"] = [(OUTCOMES.get(k, k), n, f"{n / total * 100:.1f}%") for k, n in outcomes.most_common()]
    return out


def report_docx(data: dict, topics: dict | None, cloud_png: bytes | None, kind: str,
                trend_data: dict | None = None, charts: dict[str, bytes] | None = None) -> bytes:
    """月分析 (kind="month") or 季报告 (kind="quarter") as one Word document on A4: overview,
    industries, districts, hot problems with the keyword cloud, merchants, alerts and their
    handling, each with its chart; then 研判 and 建议 written from the numbers."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    if charts is None:
        charts = report_charts(data, trend_data)
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(A4[0]), Cm(A4[1])
    sec.top_margin, sec.bottom_margin = Cm(MARGINS["top"]), Cm(MARGINS["bottom"])
    sec.left_margin, sec.right_margin = Cm(MARGINS["left"]), Cm(MARGINS["right"])
    text_width = Cm(A4[0] - MARGINS["left"] - MARGINS["right"] - 0.1)
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    style.paragraph_format.line_spacing = 1.3
    for s in ("Title", "Heading 1", "Heading 2"):
        doc.styles[s].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "黑体")
    name = "消费投诉举报月分析" if kind == "month" else "消费投诉举报季度报告"
    h = doc.add_heading(export_text(f"{data['place']}{data['label']}{name}"), level=0)
    h.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in h.runs:
        run.font.size = Pt(20)
    p = doc.add_paragraph(export_text(f"统计范围：{data['start']:%Y年%m月%d日}至{(data['end'] - timedelta(seconds=1)):%Y年%m月%d日}"
                          f"{'（本期尚未结束，按同等时长比较）' if data['running'] else ''}；行业：{data['industry']}。"
                          f"数据来源：12315 投诉举报预警系统，生成于 {datetime.now(data['end'].tzinfo):%Y-%m-%d %H:%M}。"))
    p.runs[0].font.size = Pt(9)

    def heading(text: str, level: int = 1):
        hp = doc.add_heading(export_text(text), level=level)
        hp.paragraph_format.keep_with_next = True
        return hp

    def caption(text: str):
        cp = doc.add_paragraph(export_text(text))
        cp.paragraph_format.keep_with_next = True
        return cp

    def picture(png: bytes | None):
        if png:
            doc.add_picture(io.BytesIO(png), width=text_width)
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    def table(header: list[str], rows: list[list], kinds: list[str] | None = None, widths: list[float] | None = None):
        t = doc.add_table(rows=1, cols=len(header))
        t.style = "Light Grid Accent 1"
        if widths:
            t.autofit = False
        kinds = kinds or [TEXT] * len(header)
        head = t.rows[0]
        trpr = head._tr.get_or_add_trPr()
        for tag in ("w:tblHeader", "w:cantSplit"):     # repeated on each page; never split
            el = OxmlElement(tag)
            el.set(qn("w:val"), "true")
            trpr.append(el)
        for i, x in enumerate(header):
            head.cells[i].text = export_text(str(x))
            for para in head.cells[i].paragraphs:
                para.paragraph_format.keep_with_next = True
        for r in rows:
            cells = t.add_row().cells
            for i, x in enumerate(r):
                k = kinds[i] if i < len(kinds) else TEXT
                cells[i].text = export_text(text_of(x, k))
                if k != TEXT:
                    cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if widths:      # the grid (LibreOffice reads it) and every cell (Word reads those)
            for col, w in zip(t.columns, widths):
                col.width = Cm(w)
            for row in t.rows:
                for cell, w in zip(row.cells, widths):
                    cell.width = Cm(w)
        doc.add_paragraph("")
        return t

    def cmp(rows):
        return [[r["name"], r["current"], r["previous"], r["mom"], r["last_year"], r["yoy"]] for r in rows]

    heading("一、总体情况")
    for para in summary_text(data):
        doc.add_paragraph(export_text(para))
    if "trend" in charts:
        caption("图 1  受理量走势：本期、上期与去年同期（无数据的日期留空）")
        picture(charts["trend"])
    caption("表 1  受理量及同比环比")
    table(cmp_head("类型"), cmp(data["kinds"]), CMP_FORMATS)
    heading("二、行业分布")
    if "industries" in charts:
        caption("图 2  各行业投诉举报量（不含咨询）")
        picture(charts["industries"])
    caption("表 2  各行业受理量（含咨询）及同比环比")
    table(cmp_head("行业"), cmp(data["industries"]), CMP_FORMATS)
    heading("三、地区分布")
    if "districts" in charts:
        caption("图 3  各地区受理量")
        picture(charts["districts"])
    caption("表 3  各地区受理量及同比环比")
    table(cmp_head("地区"), cmp(data["districts"]), CMP_FORMATS)
    heading("四、热点问题")
    if cloud_png:
        caption("图 4  投诉举报关键词云（紫色为上升的热点）")
        picture(cloud_png)
    rows = phrase_rows(topics, 15)
    if rows:
        caption("表 4  热点短语")
        table(["热点短语", "件数", "常态", "上升", "趋势（前4期→本期）"],
              [[r["phrase"], r["count"], r["expected"], "↑" if r["rising"] else "", trend_text(r["trend"], " → ")]
               for r in rows], [TEXT, INT, USUAL, TEXT, TEXT], widths=[4.6, 1.8, 1.8, 1.2, 6.2])
    else:
        doc.add_paragraph("本期无热点短语数据（超出文本保存期或无投诉）。")
    heading("五、被投诉较多的经营者")
    if data["merchants"]:
        table(["经营者", "件数"], [[m["name"], m["count"]] for m in data["merchants"][:10]], [TEXT, INT])
    else:
        doc.add_paragraph("本期无经营者数据。")
    heading("六、激增预警与处置时效")
    if data["alerts"]:
        caption(f"表 5  激增预警（共 {len(data['alerts'])} 条{'，列出最近 30 条' if len(data['alerts']) > 30 else ''}）")
        table(["开出时间", "地区", "行业", "级别", "件数", "状态", "派单对象"],
              [[a["opened_at"], a["place"], a["industry"], severity_label(a["severity"]), a["observed"], a["state"], a["team"]]
               for a in data["alerts"][:30]], [WHEN, TEXT, TEXT, TEXT, INT, TEXT, TEXT],
              widths=[3.3, 3.3, 2.2, 1.3, 1.3, 1.6, 2.6])
        caption("表 6  处置时效")
        table(["环节", "达标", "超时", "办理中", "达标率"],
              [[s["clock"], s["met"], s["missed"], s["running"], s["rate"]] for s in data["sla"]],
              [TEXT, INT, INT, INT, RATE])
    else:
        doc.add_paragraph("本期未开出激增预警。")
    n = 7
    if data.get("handling") is not None:
        from dashboard.handling import handling_table

        hd = data["handling"]
        k = hd["kpis"]
        heading("七、办理情况")
        cur = k.get("current") or {}
        doc.add_paragraph(export_text(
            f"本期受理的投诉举报 {cur.get('items', 0):,} 件，目前在办 {cur.get('open', 0):,} 件，其中临期 "
            f"{cur.get('due_soon', 0):,} 件、超期 {cur.get('overdue', 0):,} 件。比率的分母为已到期或已办结的事项，"
            f"尚在办理且未到期的事项不计为超时；分母为 0 时记为“无数据”。"))
        caption("表 7  办理情况及与上期、去年同期比较")
        table(["指标", "本期", "上期", "较上期", "去年同期", "较去年同期"],
              handling_table(k.get("current"), k.get("previous"), k.get("last_year")),
              widths=[3.6, 2.4, 2.4, 3.0, 2.4, 3.0])
        if hd["units"]:
            caption("表 8  办理较慢的承办单位（按超时、超期占比）")
            table(["承办单位", "超时或超期", "事项", "占比"], [list(u) for u in hd["units"]], [TEXT, INT, INT, TEXT])
        if hd["outcomes"]:
            caption("表 9  办结方式")
            table(["办结方式", "件数", "占比"], [list(o) for o in hd["outcomes"]], [TEXT, INT, TEXT])
        else:
            doc.add_paragraph("本期受理的事项尚无办结。")
        n = 8
    num = "一二三四五六七八九十"
    heading(f"{num[n - 1]}、研判")
    for para in findings(data, topics):
        doc.add_paragraph(export_text(para))
    heading(f"{num[n]}、建议")
    for para in suggestions(data, topics):
        doc.add_paragraph(export_text(para))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
