"""Figure builders: data in, ``go.Figure`` out, no Dash and no Redis (tested directly).

``scale`` is the screen height over 1080: the same wall at 3840×2160 draws its type twice as
large, so it reads the same from across the room.  No text is smaller than ``MIN_FONT`` (18 px
at 1080).  Bars and lines use blues and greys: red, orange and yellow mean warning levels.
"""
from __future__ import annotations

import threading

import plotly.graph_objects as go

FONT = "'C12315 Sans', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', 'WenQuanYi Micro Hei', sans-serif"
DARK = {"bg": "rgba(0,0,0,0)", "text": "#d6e4f0", "muted": "#7f9bb8", "grid": "rgba(120,160,200,0.15)",
        "bar": "#4fc3f7", "bar2": "#2b6cb0", "hot": "#e07bff", "line": "#4fc3f7", "last_year": "#8a9bb0"}
# Count colours: dark blue to cyan to white; surge colours: calm blue through amber to red.
SELECTED = "#e0f7fa"            # the selected district: near-white, not a warning colour
MIN_FONT = 18                  # px at 1080: the smallest type a wall may show (read across a room)


def px(size: float, scale: float) -> int:
    """A font size in px at this scale, never under MIN_FONT x scale."""
    return round(max(size, MIN_FONT) * scale)


COUNT_SCALE = [[0, "#0d2a4a"], [0.4, "#1565c0"], [1, "#0091ea"]]
SURGE_SCALE = [[0, "#123a5e"], [0.5, "#2a6f97"], [0.75, "#9b59d0"], [1, "#e07bff"]]   # no alarm colours


def _base(fig: go.Figure, scale: float, theme: dict, margin=(10, 10, 10, 10)) -> go.Figure:
    l, r, t, b = (round(m * scale) for m in margin)
    fig.update_layout(
        paper_bgcolor=theme["bg"], plot_bgcolor=theme["bg"], margin={"l": l, "r": r, "t": t, "b": b},
        font={"family": FONT, "size": px(18, scale), "color": theme["text"]}, showlegend=False,
        uirevision="keep", transition={"duration": 0}, hoverlabel={"font": {"family": FONT}},
    )
    return fig


def empty(message: str, scale: float = 1.0, theme: dict = DARK) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": px(20, scale), "color": theme["muted"]})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base(fig, scale, theme)


def industry_bars(rows: list[tuple[str, float]], scale: float = 1.0, theme: dict = DARK) -> go.Figure:
    """Horizontal bars, the largest on top: [(industry, count)]."""
    rows = [r for r in rows if r[1] > 0]
    if not rows:
        return empty("今日暂无数据", scale, theme)
    rows = sorted(rows, key=lambda r: r[1])
    fig = go.Figure(go.Bar(
        x=[r[1] for r in rows], y=[r[0] for r in rows], orientation="h", marker={"color": theme["bar"]},
        text=[f"{r[1]:,.0f}" for r in rows], textposition="outside", cliponaxis=False,
        textfont={"size": px(18, scale), "color": theme["text"]}, hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_xaxes(visible=False, range=[0, max(r[1] for r in rows) * 1.3])
    # every industry keeps its label: plotly would drop some when the bars get thin
    fig.update_yaxes(tickfont={"size": px(18, scale)}, automargin=True, fixedrange=True, dtick=1, tickmode="linear")
    return _base(fig, scale, theme, margin=(4, 8, 4, 4))


def trend(hours: list[str], counts: list[float | None], last_year: list[float | None], scale: float = 1.0,
          theme: dict = DARK, note: str = "") -> go.Figure:
    """Hourly counts of the last 24 hours, with the same hours a year earlier dotted. An hour
    with no data (None: before the system held any) is a gap, never a zero; ``note`` says how
    much of the comparison has data (e.g. "去年同期 仅有 6/24 小时数据")."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=hours, y=last_year, name="去年同期", mode="lines",
                             line={"color": theme["last_year"], "width": max(1, 2 * scale), "dash": "dot"},
                             hovertemplate="去年同期 %{x}: %{y}<extra></extra>"))
    fig.add_trace(go.Scatter(x=hours, y=counts, name="近24小时", mode="lines+markers",
                             line={"color": theme["line"], "width": max(2, 3 * scale)},
                             marker={"size": round(6 * scale)}, fill="tozeroy", fillcolor="rgba(79,195,247,0.12)",
                             hovertemplate="%{x}: %{y}<extra></extra>"))
    # a category of room on the left: the first hour's label stays clear of the y axis' 0
    fig.update_xaxes(showgrid=False, tickfont={"size": px(18, scale)}, nticks=8, fixedrange=True,
                     color=theme["muted"], range=[-1, max(len(hours), 1) - 0.5], automargin=True)
    fig.update_yaxes(gridcolor=theme["grid"], tickfont={"size": px(18, scale)}, rangemode="tozero",
                     fixedrange=True, color=theme["muted"], nticks=5, automargin=True)
    _base(fig, scale, theme, margin=(6, 10, 34, 6))
    fig.update_layout(showlegend=True, legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02,
                                               "yanchor": "bottom", "font": {"size": px(18, scale)}})
    if note:
        fig.add_annotation(text=note, x=0, y=1.02, xref="paper", yref="paper", xanchor="left", yanchor="bottom",
                           showarrow=False, font={"size": px(18, scale), "color": theme["muted"]})
    return fig


SURGE_COLOUR_MAX = 15.0        # surge scores at or above this share the reddest colour (values keep their rank)


def _metric(rows: list[dict], mode: str) -> tuple[list[float], str]:
    """The value each district is ranked and coloured by: today's count, or its surge score
    (unclipped: two districts far above usual keep their order; only the colour saturates)."""
    if mode == "surge":
        return [r["score"] for r in rows], "激增度"
    return [r["count"] for r in rows], "今日件数"


def district_map(geojson: dict, rows: list[dict], mode: str, selected: str | None, scale: float = 1.0,
                 theme: dict = DARK, hot: dict[str, str] | None = None) -> go.Figure:
    """Choropleth of districts coloured by today's count or by surge score, with name labels.

    Uses plotly's "geo" map with the base map hidden: no tiles are fetched, and the app serves
    the world outline plotly.js asks for (``topojsonURL``).
    """
    z, title = _metric(rows, mode)
    codes = [r["code"] for r in rows]
    text = [f"{r['name']}<br>今日 {r['count']} 件<br>常态 {r['expected']:g}<br>激增度 {r['score']:g}" for r in rows]
    hot = hot or {}
    line_w, line_c = district_lines(codes, selected, hot, scale)
    fig = go.Figure(go.Choropleth(
        geojson=geojson, locations=codes, z=z, featureidkey="properties.code",
        colorscale=SURGE_SCALE if mode == "surge" else COUNT_SCALE,
        zmin=-2 if mode == "surge" else 0,
        zmax=min(SURGE_COLOUR_MAX, max(8.0, max(z) if z else 8.0)) if mode == "surge" else max(1, max(z) if z else 1),
        marker={"line": {"color": line_c, "width": line_w}},
        colorbar={"title": {"text": title, "font": {"size": px(18, scale)}}, "thickness": round(14 * scale),
                  "len": 0.6, "x": 0.98, "tickfont": {"size": px(18, scale)}, "outlinewidth": 0, "nticks": 5},
        text=text, hovertemplate="%{text}<extra></extra>", customdata=codes))
    lon, lat, labels = district_labels(geojson, rows)
    fig.add_trace(go.Scattergeo(
        lon=lon, lat=lat, text=labels, mode="text",
        textfont={"size": px(18, scale), "color": "#ffffff", "family": FONT},
        hoverinfo="skip"))
    fig.update_geos(fitbounds="locations", visible=False, bgcolor="rgba(0,0,0,0)", projection_type="mercator")
    _base(fig, scale, theme, margin=(0, 0, 0, 0))
    fig.update_layout(geo={"bgcolor": "rgba(0,0,0,0)"}, dragmode=False)
    return fig


RANKED_MAX = 14                # bars at 18 px that fit the district panel with the banner up


def ranked_bars(rows: list[dict], mode: str, selected: str | None, scale: float = 1.0,
                theme: dict = DARK, hot: dict[str, str] | None = None) -> go.Figure:
    """The district view without a map: the same numbers as ranked bars (a district with an open
    alert in its warning level's colour)."""
    if not rows:
        return empty("暂无数据", scale, theme)
    hot = hot or {}
    z, title = _metric(rows, mode)
    order = sorted(range(len(rows)), key=lambda i: z[i])[-RANKED_MAX:]
    colours = [level_colour(hot[rows[i]["code"]]) if rows[i]["code"] in hot else
               theme["hot"] if (mode == "surge" and z[i] >= 3) else
               (SELECTED if rows[i]["code"] == selected else theme["bar"]) for i in order]
    fig = go.Figure(go.Bar(
        x=[z[i] for i in order], y=[rows[i]["name"] for i in order], orientation="h", marker={"color": colours},
        customdata=[rows[i]["code"] for i in order], text=[f"{z[i]:g}" for i in order], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x}<extra></extra>",
        textfont={"size": px(18, scale), "color": theme["text"]}))
    lo = min(0.0, min(z))
    fig.update_xaxes(visible=False, range=[lo, max(1.0, max(z)) * 1.2])
    fig.update_yaxes(tickfont={"size": px(18, scale)}, automargin=True, fixedrange=True, dtick=1, tickmode="linear")
    _base(fig, scale, theme, margin=(4, 10, 34, 4))
    shown = f"（前{len(order)}名）" if len(rows) > len(order) else ""
    fig.update_layout(title={"text": f"{title}排名{shown}", "font": {"size": px(18, scale)}, "x": 0.01, "y": 0.99})
    return fig


def district_lines(codes: list[str], selected: str | None, hot: dict[str, str], scale: float = 1.0):
    """(widths, colours) of the district borders: an alerting district outlined thick in its
    warning level's colour, the selected one near-white."""
    widths = [round((4 if c in hot else 3 if c == selected else 0.8) * scale, 1) for c in codes]
    colours = [level_colour(hot[c]) if c in hot else SELECTED if c == selected else "#7fb3e6" for c in codes]
    return widths, colours


def level_colour(level: str) -> str:
    from alerts.severity import COLOURS

    return COLOURS.get(level, COLOURS["blue"])


def _lerp_colour(colourscale: list, t: float) -> str:
    """The colour at ``t`` (0..1) of a plotly colourscale of hex stops."""
    t = min(1.0, max(0.0, t))
    for (a, ca), (b, cb) in zip(colourscale, colourscale[1:]):
        if t <= b:
            f = 0.0 if b == a else (t - a) / (b - a)
            x, y = (int(ca[i:i + 2], 16) for i in (1, 3, 5)), (int(cb[i:i + 2], 16) for i in (1, 3, 5))
            return "#" + "".join(f"{round(p + (q - p) * f):02x}" for p, q in zip(x, y))
    return colourscale[-1][1]


def _label_sides(lon: list[float], lat: list[float], texts: list[str], sizes: list[float],
                 yrange: float, font: float = 18.0, plot_h: float = 380.0) -> list[str]:
    """Where each bubble's label goes (right, left, above or below it), chosen one by one in the
    rows' order (busiest first) to overlap the bubbles and labels already placed least. Seats of
    neighbouring districts can be a few kilometres apart (太原 and 晋中), so a fixed side collides.
    Distances are estimated in px at 1080 for a map ``plot_h`` high showing ``yrange`` degrees."""
    import math

    from dashboard import geo

    k = plot_h / max(yrange, 1e-6)
    kx = k * math.cos(math.radians((min(lat) + max(lat)) / 2)) if lat else k
    pts = [(x * kx, -y * k) for x, y in zip(lon, lat)]
    boxes = [(px_ - s / 2, py - s / 2, px_ + s / 2, py + s / 2) for (px_, py), s in zip(pts, sizes)]

    def overlap(a, b) -> float:
        w = min(a[2], b[2]) - max(a[0], b[0])
        h = min(a[3], b[3]) - max(a[1], b[1])
        return w * h if w > 0 and h > 0 else 0.0

    out = []
    for i, ((cx, cy), text, s) in enumerate(zip(pts, texts, sizes)):
        w, h, r = geo.text_width(text, font), font * 1.25, s / 2 + 3
        options = {"middle right": (cx + r, cy - h / 2, cx + r + w, cy + h / 2),
                   "middle left": (cx - r - w, cy - h / 2, cx - r, cy + h / 2),
                   "bottom center": (cx - w / 2, cy + r, cx + w / 2, cy + r + h),
                   "top center": (cx - w / 2, cy - r - h, cx + w / 2, cy - r),
                   "top right": (cx + r * 0.7, cy - r * 0.7 - h, cx + r * 0.7 + w, cy - r * 0.7),
                   "bottom right": (cx + r * 0.7, cy + r * 0.7, cx + r * 0.7 + w, cy + r * 0.7 + h),
                   "top left": (cx - r * 0.7 - w, cy - r * 0.7 - h, cx - r * 0.7, cy - r * 0.7),
                   "bottom left": (cx - r * 0.7 - w, cy + r * 0.7, cx - r * 0.7, cy + r * 0.7 + h)}
        others = [b for j, b in enumerate(boxes) if j != i]
        best = min(options, key=lambda o: sum(overlap(options[o], b) for b in others))
        boxes.append(options[best])
        out.append(best)
    return out


def seat_map(points: dict[str, tuple[float, float]], rows: list[dict], mode: str, selected: str | None,
             scale: float = 1.0, theme: dict = DARK, hot: dict[str, str] | None = None) -> go.Figure:
    """The districts as bubbles at their seats (lon, lat on plain axes, no borders, nothing
    fetched): area by today's count, colour by count or surge score, a district with an open
    alert in its warning level's colour with a white ring; the selected county ringed near-white.
    ``customdata`` holds each code, as the map's click handler expects."""
    if not rows:
        return empty("暂无数据", scale, theme)
    hot = hot or {}
    z, title = _metric(rows, mode)
    codes = [r["code"] for r in rows]
    lon = [points[c][0] for c in codes]
    lat = [points[c][1] for c in codes]
    top = max([r["count"] for r in rows] + [1])
    # area by count; a district with an open alert is never a dot, however few complaints today
    size = [round(max(26 if r["code"] in hot else 0, 10 + 36 * (r["count"] / top) ** 0.5) * scale, 1) for r in rows]
    if mode == "surge":
        t = [(v + 2) / (SURGE_COLOUR_MAX + 2) for v in z]
        base = [_lerp_colour(SURGE_SCALE, x) for x in t]
    else:
        top_z = max(z + [1])
        base = [_lerp_colour(COUNT_SCALE, 0.25 + 0.75 * v / top_z) for v in z]
    colour = [level_colour(hot[c]) if c in hot else b for c, b in zip(codes, base)]
    ring = ["#ffffff" if c in hot else SELECTED if c == selected else "#7fb3e6" for c in codes]
    ring_w = [round((4 if c in hot or c == selected else 1.5) * scale, 1) for c in codes]
    value = (lambda r, v: f"{v:g}") if mode == "surge" else (lambda r, v: f"{r['count']}")
    texts = [f"{r['name']} {value(r, v)}" for r, v in zip(rows, z)]
    pad_x = max(0.4, (max(lon) - min(lon)) * 0.12)
    pad_y = max(0.3, (max(lat) - min(lat)) * 0.08)
    y_lo, y_hi = min(lat) - pad_y * 1.6, max(lat) + pad_y
    fig = go.Figure(go.Scatter(
        x=lon, y=lat, mode="markers+text", customdata=codes,
        marker={"size": size, "color": colour, "line": {"color": ring, "width": ring_w}, "opacity": 0.92},
        text=texts, textposition=_label_sides(lon, lat, texts, [x / scale for x in size], y_hi - y_lo),
        textfont={"size": px(18, scale), "color": theme["text"], "family": FONT}, cliponaxis=False,
        hovertext=[f"{r['name']}<br>今日 {r['count']} 件<br>常态 {r['expected']:g}<br>激增度 {r['score']:g}"
                   for r in rows], hovertemplate="%{hovertext}<extra></extra>"))
    # equal distances on the ground look equal: a degree of longitude is cos(latitude) of one of latitude
    import math

    mid = (min(lat) + max(lat)) / 2
    fig.update_xaxes(visible=False, range=[min(lon) - pad_x, max(lon) + pad_x], fixedrange=True, constrain="domain")
    fig.update_yaxes(visible=False, range=[y_lo, y_hi], fixedrange=True,
                     scaleanchor="x", scaleratio=1 / math.cos(math.radians(mid)), constrain="domain")
    _base(fig, scale, theme, margin=(4, 4, 34, 4))
    note = "颜色为激增度" if mode == "surge" else "气泡大小为今日件数"
    fig.update_layout(dragmode=False, title={"text": f"各地驻地位置示意，{note}，红橙黄蓝为在办预警",
                                             "font": {"size": px(18, scale), "color": theme["muted"]},
                                             "x": 0.01, "y": 0.99})
    return fig


def district_labels(geojson: dict, rows: list[dict], font: float = 18.0) -> tuple[list[float], list[float], list[str]]:
    """(lon, lat, text) of the boundary map's name-and-count labels: each at its district's label
    point, moved the least that keeps it clear of the others (``geo.spread_labels``; sizes in
    1080p px, which the 4K screen scales with the font)."""
    from dashboard import geo

    codes = {f["properties"]["code"] for f in geojson["features"]}
    shown = [r for r in rows if r["code"] in codes]
    texts = {r["code"]: f"{r['name']}<br>{r['count']}" for r in shown}
    sizes = {c: geo.label_size(t, font) for c, t in texts.items()}
    # the same districts with labels of the same sizes: the same places (a refresh re-sends them)
    key = (tuple(sorted(sizes.items())), tuple(sorted(_first_vertex(f) for f in geojson["features"])))
    at = _LABELS.get(key)
    if at is None:
        centroids = _centroids(geojson)
        k = geo.px_per_radian(geo.mercator_bounds(geojson))
        at = geo.spread_labels({c: centroids[c] for c in texts if c in centroids}, sizes, k)
        with _LABELS_LOCK:
            _LABELS[key] = at
            while len(_LABELS) > 256:
                _LABELS.pop(next(iter(_LABELS)))
    shown = [r for r in shown if r["code"] in at]
    return ([at[r["code"]][0] for r in shown], [at[r["code"]][1] for r in shown], [texts[r["code"]] for r in shown])


_LABELS: dict = {}
_LABELS_LOCK = threading.Lock()


def _first_vertex(feature: dict):
    c = feature["geometry"]["coordinates"]
    while c and not isinstance(c[0], (int, float)):
        c = c[0]
    return feature["properties"]["code"], tuple(c[:2])


def _centroids(geojson: dict) -> dict[str, tuple[float, float]]:
    """A label point per feature: the mean of its largest ring's vertices."""
    out = {}
    for f in geojson["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        ring = max((p[0] for p in polys if p), key=len, default=None)
        if ring:
            out[f["properties"]["code"]] = (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
    return out


def sparkline(values: list[float]) -> str:
    """A trend in eight block characters, for tables."""
    blocks = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi == lo:
        return blocks[0 if hi == 0 else 3] * len(values)
    return "".join(blocks[round((v - lo) / (hi - lo) * 7)] for v in values)


def alert_series(starts: list[str], observed: list[float], expected: list[float | None],
                 window: tuple[str, str] | None, usual: list[float | None] | None = None,
                 scale: float = 1.0, theme: dict = DARK) -> go.Figure:
    """An alert's series on the duty console: observed counts per hour (``starts``, ISO hour
    starts, the last 72 h), the detector's expectation per hour (None outside the alarm window),
    optionally the same hour's mean over the previous days (``usual``), and the alarm window
    (``window``: start and end, ISO) shaded.  Dates in Chinese-neutral digits (no month names)."""
    fig = go.Figure()
    if usual is not None and any(u is not None for u in usual):
        fig.add_trace(go.Scatter(x=starts, y=usual, name="近7日同时段均值", mode="lines",
                                 line={"color": theme["last_year"], "width": max(1, 2 * scale), "dash": "dot"},
                                 hovertemplate="近7日同时段均值 %{x|%m-%d %H:00}：%{y:.1f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=starts, y=observed, name="实际件数", mode="lines+markers",
                             line={"color": theme["line"], "width": max(2, 2.5 * scale), "shape": "hv"},
                             marker={"size": round(4 * scale)},
                             hovertemplate="实际 %{x|%m-%d %H:00}：%{y}件<extra></extra>"))
    fig.add_trace(go.Scatter(x=starts, y=expected, name="预期（模型常态）", mode="lines",
                             line={"color": "#b39ddb", "width": max(2, 3 * scale), "dash": "dash", "shape": "hv"},
                             connectgaps=False,
                             hovertemplate="预期 %{x|%m-%d %H:00}：%{y:.2f}<extra></extra>"))
    if window:
        fig.add_vrect(x0=window[0], x1=window[1], fillcolor="rgba(255,107,61,0.16)", line_width=0, layer="below",
                      annotation_text="预警时段", annotation_position="top left",
                      annotation_font={"size": px(18, scale), "color": theme["hot"]})
    fig.update_xaxes(type="date", tickformat="%H:00<br>%m-%d", showgrid=False, tickfont={"size": px(18, scale)},
                     nticks=7, fixedrange=True, color=theme["muted"], automargin=True)
    fig.update_yaxes(gridcolor=theme["grid"], tickfont={"size": px(18, scale)}, rangemode="tozero",
                     fixedrange=True, color=theme["muted"], nticks=5, automargin=True, title=None)
    _base(fig, scale, theme, margin=(6, 10, 40, 6))
    fig.update_layout(showlegend=True,
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom",
                              "font": {"size": px(18, scale)}})
    return fig
