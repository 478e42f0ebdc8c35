"""The report's charts as PNG images (matplotlib, drawn off-screen): the trend of the period
against the period before and the same period last year, and ranked bars (industries,
districts). Chinese text is drawn with the CJK font the keyword cloud uses
(:func:`nlp.cloud.find_cjk_font`: Noto Sans CJK on Debian); a value of None is a gap in the
line (no data stored for that day), never a zero.

Sized for a Word page of A4 with 15.6 cm between the margins: 16 x 7.5 cm at 200 dpi.
"""
from __future__ import annotations

import io
import threading

WIDTH_CM, HEIGHT_CM, DPI = 16.0, 7.5, 200
COLOURS = {"current": "#1f4e79", "previous": "#7f9fbf", "last_year": "#b0b0b0"}
BAR = "#2e75b6"
_lock = threading.Lock()        # pyplot's state is global: one figure at a time
_font = None


def font():
    """matplotlib FontProperties of the CJK font (found once)."""
    global _font
    if _font is None:
        from matplotlib.font_manager import FontProperties

        from nlp.cloud import find_cjk_font

        _font = FontProperties(fname=find_cjk_font(require="投诉举报行业地区"))
    return _font


def _figure(height_cm: float = HEIGHT_CM):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(WIDTH_CM / 2.54, height_cm / 2.54), dpi=DPI)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return plt, fig, ax


def _png(plt, fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def _ticks(ax, fp, size: float = 7.5) -> None:
    for t in ax.get_xticklabels() + ax.get_yticklabels():
        t.set_fontproperties(fp)
        t.set_fontsize(size)


def trend_png(labels: list[str], series: list[tuple[str, str, list]], title: str) -> bytes:
    """One line per (key, legend label, values); ``labels`` name the x positions (day 1 … n of
    the period, or hours). None values are left out of the line (a gap)."""
    fp = font()
    with _lock:
        plt, fig, ax = _figure()
        n = len(labels)
        for key, name, values in series:
            ys = [float("nan") if v is None else v for v in values[:n]]
            if not ys or all(v is None for v in values[:n]):
                name += "（无数据）"
                ys = [float("nan")] * max(1, n)
            ax.plot(range(len(ys)), ys, label=name, color=COLOURS.get(key, "#444444"),
                    linewidth=2.0 if key == "current" else 1.3, marker="o" if n <= 31 else None, markersize=2.5,
                    linestyle="-" if key == "current" else "--")
        step = max(1, n // 12)
        ax.set_xticks(range(0, n, step))
        ax.set_xticklabels([labels[i] for i in range(0, n, step)])
        top = max([v for _, _, vs in series for v in vs[:n] if v is not None] or [1])
        ax.set_ylim(0, top * 1.3)         # room for the legend above the lines
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_ylabel("件数", fontproperties=fp, fontsize=8)
        ax.set_title(title, fontproperties=fp, fontsize=10)
        _ticks(ax, fp)
        ax.legend(prop=fp.copy(), fontsize=7.5, frameon=False, loc="upper left", ncol=3)
        for t in ax.get_legend().get_texts():
            t.set_fontsize(7.5)
        return _png(plt, fig)


def bars_png(names: list[str], values: list[float], title: str, unit: str = "件") -> bytes:
    """Horizontal bars, the largest on top, each labelled with its value."""
    fp = font()
    names, values = names[:12], values[:12]
    with _lock:
        plt, fig, ax = _figure(max(4.5, 1.2 + 0.55 * len(names)))
        ys = list(range(len(names)))[::-1]
        ax.barh(ys, values, color=BAR, height=0.6)
        ax.set_yticks(ys)
        ax.set_yticklabels(names)
        top = max(values) if values else 1
        for y, v in zip(ys, values):
            ax.text(v + top * 0.01, y, f"{v:,.0f} {unit}", va="center", fontproperties=fp, fontsize=7.5)
        ax.set_xlim(0, top * 1.15 if top else 1)
        ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
        ax.set_title(title, fontproperties=fp, fontsize=10)
        _ticks(ax, fp, 8)
        return _png(plt, fig)
