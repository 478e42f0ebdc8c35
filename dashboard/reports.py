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
from dashboard.data import (KINDS, TOTAL, Period, by, change, child_codes, last_year_period, previous_period, select)

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


def compare_rows(cur, prev, ly, names: list[str], part: str) -> list[dict]:
    """Rows of name, this period, previous, 环比 %, last year, 同比 % for one part of the key."""
    c, p, y = by(cur, part), by(prev, part), by(ly, part)
    rows = []
    for name in names:
        if name == TOTAL:
            a, b, d = sum(c.values()), sum(p.values()), sum(y.values())
        else:
            a, b, d = c.get(name, 0), p.get(name, 0), y.get(name, 0)
        rows.append({"name": name, "current": round(a), "previous": round(b), "mom": change(a, b),
                     "last_year": round(d), "yoy": change(a, d)})
    return rows


def district_rows(ctx, level: str, code: str, cur, prev, ly) -> list[dict]:
    kid_level, kids = child_codes(ctx.table, level, code)
    if level == "county":
        kids = [code]
    rows = []
    for k in kids:
        under = ctx.lookup.districts_under(kid_level, k)
        a, b, d = (sum(select(x, under).values()) for x in (cur, prev, ly))
        rows.append({"name": ctx.table.get(k).name, "code": k, "current": round(a), "previous": round(b),
                     "mom": change(a, b), "last_year": round(d), "yoy": change(a, d)})
    rows.sort(key=lambda r: -r["current"])
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
        rows.append({"id": a["id"], "opened": a["opened_at"][5:16].replace("T", " "), "place": alertview.place(a),
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
    cur, prev, ly = counts["current"], counts["previous"], counts["last_year"]
    industries = ctx.settings.raw["complaints"]["industries"] + [ctx.settings.raw["complaints"]["unclassified"]]
    ind_rows = [r for r in compare_rows(cur, prev, ly, industries, "industry") if r["current"] or r["previous"] or r["last_year"]]
    ind_rows.sort(key=lambda r: -r["current"])
    start, end = sp["current"]
    merchants = ctx.docs.merchants(start, end, under, industry).most_common(15)
    alerts, sla = alert_rows(ctx, start, end, under, industry, now)
    place = d.full_name
    return {
        "place": place, "level": level, "code": code, "industry": industry or "全部行业", "period": period,
        "label": period.label(), "start": start, "end": end, "running": end < _dt(period.end, now.tzinfo),
        "spans": sp, "kinds": compare_rows(cur, prev, ly, [*KINDS, TOTAL], "kind"),
        "industries": ind_rows, "districts": district_rows(ctx, level, code, cur, prev, ly),
        "merchants": [{"name": m, "count": n} for m, n in merchants],
        "docs_from": now - timedelta(days=float(ctx.settings.raw["tally"]["keep_docs_days"])),
        "alerts": alerts, "sla": sla,
    }


def title(data: dict) -> str:
    cut = f"（截至{data['end']:%m月%d日%H:%M}）" if data["running"] else ""
    return f"{data['place']} · {data['label']}{cut} · {data['industry']}"


def pct(v) -> str:
    return "—" if v is None else f"{v:+.1f}%"


def phrase_rows(topics: dict | None, n: int = 15) -> list[dict]:
    if not topics:
        return []
    rows = []
    for x in topics["phrases"]["by_count"][:n]:
        rows.append({"phrase": x["topic"], "count": x["count"],
                     "expected": None if x["expected"] is None else round(x["expected"], 1),
                     "rising": x["rising"], "trend": x["trend"]})
    return rows


# -- exports ---------------------------------------------------------------------------------

CMP_HEAD = ["项目", "本期", "上期", "环比", "去年同期", "同比"]


def table_sheets(data: dict, topics: dict | None) -> list[tuple[str, list[str], list[list]]]:
    """The review's tables as (sheet name, header, rows), as the XLSX and CSV exports write them."""
    def cmp(rows):
        return [[r["name"], r["current"], r["previous"], pct(r["mom"]), r["last_year"], pct(r["yoy"])] for r in rows]

    return [
        ("总体", CMP_HEAD, cmp(data["kinds"])),
        ("行业", CMP_HEAD, cmp(data["industries"])),
        ("地区", CMP_HEAD, cmp(data["districts"])),
        ("热点短语", ["短语", "件数", "常态", "上升", "趋势（前4期→本期）"],
         [[r["phrase"], r["count"], r["expected"] if r["expected"] is not None else "", "是" if r["rising"] else "",
           " ".join(str(v) for v in r["trend"])] for r in phrase_rows(topics, 50)]),
        ("商户", ["经营者", "件数"], [[m["name"], m["count"]] for m in data["merchants"]]),
        ("预警", ["开出时间", "地区", "行业", "件数", "常态", "状态", "派单对象"] + [label for _, label in CLOCKS],
         [[a["opened"], a["place"], a["industry"], a["observed"], a["expected"], a["state"], a["team"]]
          + [alertview.MARK_LABELS.get(a["marks"][n], "") for n, _ in CLOCKS] for a in data["alerts"]]),
        ("时效", ["环节", "达标", "超时", "办理中", "其中已超时", "达标率"],
         [[s["clock"], s["met"], s["missed"], s["running"], s["overdue"], "—" if s["rate"] is None else f"{s['rate']}%"]
          for s in data["sla"]]),
    ]


def tables_csv(data: dict, topics: dict | None) -> bytes:
    """The review's tables as one CSV file (UTF-8 with BOM, so Excel reads the Chinese): the title,
    then each table under a line with its name, a blank line between."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_cell(title(data))])
    for name, header, rows in table_sheets(data, topics):
        w.writerow([])
        w.writerow([csv_cell(f"【{name}】")])
        w.writerow([csv_cell(h) for h in header])
        for r in rows:
            w.writerow([csv_cell(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def tables_xlsx(data: dict, topics: dict | None) -> bytes:
    """The review's tables as one workbook, one sheet each."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")

    def put_row(ws, values: list) -> None:
        ws.append([export_text(v) for v in values])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"            # never "f": a merchant "=HYPERLINK(…)" stays text
                if formula_like(cell.value):
                    cell.quotePrefix = True     # and stays text when someone edits the cell

    def sheet(name: str, header: list[str], rows: list[list], first: bool = False):
        ws = wb.active if first else wb.create_sheet()
        ws.title = name
        put_row(ws, [title(data)])
        ws["A1"].font = Font(bold=True, size=12)
        put_row(ws, header)
        for cell in ws[2]:
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(horizontal="center")
        for r in rows:
            put_row(ws, r)
        for i, h in enumerate(header, 1):
            width = max([len(str(h))] + [len(str(r[i - 1])) for r in rows if i - 1 < len(r)]) * 2 + 2
            ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, width))
        ws.freeze_panes = "A3"
        return ws

    for i, (name, header, rows) in enumerate(table_sheets(data, topics)):
        sheet(name, header, rows, first=i == 0)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def summary_text(data: dict) -> list[str]:
    """The report's opening paragraphs, from the numbers."""
    k = {r["name"]: r for r in data["kinds"]}
    t = k[TOTAL]
    out = [f"{data['label']}，{data['place']}（{data['industry']}）共受理投诉举报咨询 {t['current']:,} 件，"
           f"环比{_dir(t['mom'])}，同比{_dir(t['yoy'])}。其中投诉 {k['投诉']['current']:,} 件（环比{_dir(k['投诉']['mom'])}），"
           f"举报 {k['举报']['current']:,} 件，咨询 {k['咨询']['current']:,} 件。"]
    inds = [r for r in data["industries"] if r["current"]][:3]
    if inds:
        out.append("投诉举报量居前的行业为" + "、".join(f"{r['name']}（{r['current']:,} 件，环比{_dir(r['mom'])}）" for r in inds) + "。")
    ups = [r for r in data["industries"] if r["mom"] is not None and r["mom"] >= 20 and r["current"] >= 10]
    if ups:
        out.append("环比增幅较大的行业：" + "、".join(f"{r['name']}（{pct(r['mom'])}）" for r in ups[:3]) + "，需重点关注。")
    dists = [r for r in data["districts"] if r["current"]][:3]
    if dists and len(data["districts"]) > 1:
        out.append("受理量较多的地区为" + "、".join(f"{r['name']}（{r['current']:,} 件）" for r in dists) + "。")
    n = len(data["alerts"])
    if n:
        rates = [f"{s['clock']}达标率 {s['rate']}%" for s in data["sla"] if s["rate"] is not None]
        out.append(f"本期共开出激增预警 {n} 条" + (f"，{'，'.join(rates)}" if rates else "") + "。")
    else:
        out.append("本期未开出激增预警。")
    return out


def _dir(v) -> str:
    if v is None:
        return "无可比数据"
    if abs(v) < 0.05:
        return "持平"
    return f"{'上升' if v > 0 else '下降'} {abs(v):.1f}%"


def report_docx(data: dict, topics: dict | None, cloud_png: bytes | None, kind: str) -> bytes:
    """月分析 (kind="month") or 季报告 (kind="quarter") as one Word document."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    for s in ("Title", "Heading 1", "Heading 2"):
        doc.styles[s].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "黑体")
    name = "消费投诉举报月分析" if kind == "month" else "消费投诉举报季度报告"
    h = doc.add_heading(export_text(f"{data['place']}{data['label']}{name}"), level=0)
    h.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p = doc.add_paragraph(export_text(f"统计范围：{data['start']:%Y年%m月%d日}至{(data['end'] - timedelta(seconds=1)):%Y年%m月%d日}"
                          f"{'（本期尚未结束，按同等时长比较）' if data['running'] else ''}；行业：{data['industry']}。"
                          f"数据来源：12315 投诉举报预警系统，生成于 {datetime.now(data['end'].tzinfo):%Y-%m-%d %H:%M}。"))
    p.runs[0].font.size = Pt(9)

    def table(header: list[str], rows: list[list]):
        t = doc.add_table(rows=1, cols=len(header))
        t.style = "Light Grid Accent 1"
        for i, x in enumerate(header):
            t.rows[0].cells[i].text = export_text(str(x))
        for r in rows:
            cells = t.add_row().cells
            for i, x in enumerate(r):
                cells[i].text = "" if x is None else export_text(str(x))
        return t

    def cmp(rows):
        return [[r["name"], f"{r['current']:,}", f"{r['previous']:,}", pct(r["mom"]), f"{r['last_year']:,}", pct(r["yoy"])]
                for r in rows]

    head = ["项目", "本期", "上期", "环比", "去年同期", "同比"]
    doc.add_heading("一、总体情况", level=1)
    for para in summary_text(data):
        doc.add_paragraph(export_text(para))
    table(head, cmp(data["kinds"]))
    doc.add_heading("二、行业分布", level=1)
    table(head, cmp(data["industries"]))
    doc.add_heading("三、地区分布", level=1)
    table(head, cmp(data["districts"]))
    doc.add_heading("四、热点问题", level=1)
    if cloud_png:
        doc.add_paragraph("投诉举报关键词云（橙色为上升的热点）：")
        doc.add_picture(io.BytesIO(cloud_png), width=Cm(16))
    rows = phrase_rows(topics, 15)
    if rows:
        table(["热点短语", "件数", "常态", "上升", "趋势（前4期→本期）"],
              [[r["phrase"], r["count"], r["expected"] if r["expected"] is not None else "—", "↑" if r["rising"] else "",
                " → ".join(str(v) for v in r["trend"])] for r in rows])
    else:
        doc.add_paragraph("本期无热点短语数据（超出文本保存期或无投诉）。")
    doc.add_heading("五、被投诉较多的经营者", level=1)
    if data["merchants"]:
        table(["经营者", "件数"], [[m["name"], m["count"]] for m in data["merchants"][:10]])
    else:
        doc.add_paragraph("本期无经营者数据。")
    doc.add_heading("六、激增预警与处置时效", level=1)
    if data["alerts"]:
        table(["开出时间", "地区", "行业", "件数", "状态", "派单对象"],
              [[a["opened"], a["place"], a["industry"], a["observed"], a["state"], a["team"]] for a in data["alerts"][:30]])
        doc.add_paragraph("")
        table(["环节", "达标", "超时", "办理中", "达标率"],
              [[s["clock"], s["met"], s["missed"], s["running"], "—" if s["rate"] is None else f"{s['rate']}%"]
               for s in data["sla"]])
    else:
        doc.add_paragraph("本期未开出激增预警。")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
