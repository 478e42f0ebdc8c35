"""District boundaries for the wall's map, from files the site names; the project ships none.

Boundary data for China is not openly licensed, and a map shown in public needs an approved
map number (审图号), so the bureau supplies its own GeoJSON:

    dashboard:
      boundaries:
        cities: /srv/geo/shanxi_cities.json      # one feature per prefecture city
        counties: /srv/geo/shanxi_counties.json  # one feature per county-level unit

in the site settings file (SETTINGS_FILE), or the environment variables BOUNDARY_CITIES and
BOUNDARY_COUNTIES. Each feature carries its 6-digit code in ``properties.adcode`` (number or
string; ``code`` is also accepted). Polygons must wind as plotly.js expects (outer rings
clockwise).

Without a file for a level the wall places each district at its seat (县城/市政府驻地) from
``config/division_seats.csv`` and draws a bubble map on plain lon/lat axes: no borders are drawn,
no base map or tiles are fetched. Only a view with a district of no known seat falls back to
ranked bars of the same numbers.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from config import ROOT_DIR, Settings


class BoundaryError(ValueError):
    """A boundary file named in the settings cannot be used; the message says why."""


@dataclass(frozen=True)
class Boundaries:
    cities: dict | None      # GeoJSON FeatureCollection, properties.code = "140400"
    counties: dict | None
    source: str = ""

    def features(self, level: str, codes: list[str]) -> dict | None:
        """A FeatureCollection of ``codes`` at ``level`` (None when there is no file for it or
        when a code has no feature)."""
        fc = self.cities if level == "city" else self.counties
        if fc is None:
            return None
        index = {f["properties"]["code"]: f for f in fc["features"]}
        if not codes or any(c not in index for c in codes):
            return None
        return {"type": "FeatureCollection", "features": [index[c] for c in codes]}

    def has(self, level: str) -> bool:
        return (self.cities if level == "city" else self.counties) is not None


def boundary_paths(settings: Settings, env: dict | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    conf = settings.dashboard.boundaries
    out = {}
    for level, var in (("cities", "BOUNDARY_CITIES"), ("counties", "BOUNDARY_COUNTIES")):
        value = env.get(var) or conf.get(level) or ""
        if value:
            p = Path(value)
            out[level] = str(p if p.is_absolute() else ROOT_DIR / p)
    return out


def load_boundaries(settings: Settings, env: dict | None = None) -> Boundaries:
    paths = boundary_paths(settings, env)
    return Boundaries(_load(paths["cities"]) if "cities" in paths else None,
                      _load(paths["counties"]) if "counties" in paths else None,
                      ", ".join(paths.values()))


@lru_cache(maxsize=8)
def _load(path: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BoundaryError(f"boundary file {path} does not exist (dashboard.boundaries / BOUNDARY_*)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BoundaryError(f"boundary file {path} cannot be read as GeoJSON: {e}") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not data.get("features"):
        raise BoundaryError(f"boundary file {path} is not a GeoJSON FeatureCollection with features")
    features = []
    for i, f in enumerate(data["features"]):
        props = f.get("properties") or {}
        code = str(props.get("adcode") or props.get("code") or "").strip()
        if not (len(code) == 6 and code.isdigit()):
            raise BoundaryError(f"boundary file {path}: feature {i} has no 6-digit properties.adcode")
        if not f.get("geometry"):
            continue
        features.append({"type": "Feature", "id": code, "geometry": _rounded(f["geometry"]),
                         "properties": {"code": code, "name": props.get("name", code)}})
    return {"type": "FeatureCollection", "features": features}


def _rounded(geometry: dict) -> dict:
    """Coordinates to 4 decimals (about 10 m): a third less to send to every browser."""
    def r(x):
        if isinstance(x, (int, float)):
            return round(x, 4)
        return [r(v) for v in x]
    return {"type": geometry["type"], "coordinates": r(geometry["coordinates"])}


# -- seats: a map without any file to supply ---------------------------------------------------

SEATS_FILE = ROOT_DIR / "config" / "division_seats.csv"


@lru_cache(maxsize=4)
def seats(path: str | None = None) -> dict[str, tuple[float, float]]:
    """Each division's seat (lon, lat) by its 2024 code, from ``config/division_seats.csv``
    (public seat coordinates from the ``cpca`` package's table, MIT; see
    ``config/division_seats.md``). A code with no row has no known seat."""
    out: dict[str, tuple[float, float]] = {}
    with open(path or SEATS_FILE, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out[row["code"]] = (float(row["lon"]), float(row["lat"]))
    return out


def seat_points(codes: list[str], table: dict[str, tuple[float, float]] | None = None) -> dict[str, tuple[float, float]] | None:
    """{code: (lon, lat)} for ``codes``; None when there is nothing to place or a code has no
    seat (the view then falls back to ranked bars, which show every district)."""
    table = seats() if table is None else table
    if not codes or any(c not in table for c in codes):
        return None
    return {c: table[c] for c in codes}


def missing_seats(codes, table: dict[str, tuple[float, float]] | None = None) -> list[str]:
    """The codes of ``codes`` that have no seat coordinates."""
    table = seats() if table is None else table
    return [c for c in codes if c not in table]


# -- labels of the boundary map: no two touch --------------------------------------------------

# The map panel's geo square at 1920x1080 with the banner up is 439 px; plotly fits the shown
# districts' bounds into 90 % of it (measured in Chromium). At 4K the panel and the font are both
# twice as large, so placing in 1080p px holds for every screen size.
MAP_FIT_PX = 0.9 * 439
LINE_EM = 1.372            # a plotly text line's height, in em (two lines of 18 px: 49.4 px, measured)
LABEL_GAP_PX = 10.0        # the least room between two labels (less reads as one run of text)


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """Plotly's mercator projection, in radians (x east, y north)."""
    import math

    return math.radians(lon), math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def inverse_mercator(x: float, y: float) -> tuple[float, float]:
    import math

    return math.degrees(x), math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


def mercator_bounds(geojson: dict) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of every vertex of the collection, projected."""
    xs, ys = [], []

    def walk(c):
        if c and isinstance(c[0], (int, float)):
            x, y = mercator(c[0], c[1])
            xs.append(x)
            ys.append(y)
        else:
            for v in c:
                walk(v)
    for f in geojson["features"]:
        walk(f["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def px_per_radian(bounds: tuple[float, float, float, float], fit_px: float = MAP_FIT_PX) -> float:
    """How many 1080p px a radian of the projection is when ``bounds`` are fitted into the map."""
    x0, y0, x1, y1 = bounds
    return fit_px / max(x1 - x0, y1 - y0, 1e-9)


def text_width(text: str, font: float) -> float:
    """About how wide ``text`` is at ``font`` px: a Chinese character is 1 em, a digit or space 0.55."""
    return sum(font if ord(ch) > 0x2e80 else font * 0.55 for ch in text)


def label_size(text: str, font: float) -> tuple[float, float]:
    """(width, height) in px of a plotly text label; lines are split at <br>."""
    lines = text.split("<br>")
    return max(text_width(s, font) for s in lines), len(lines) * font * LINE_EM


def label_box(lon: float, lat: float, size: tuple[float, float], k: float) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) in px of a label centred on (lon, lat)."""
    x, y = mercator(lon, lat)
    cx, cy = x * k, -y * k
    w, h = size
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def boxes_overlap(a, b, gap: float = 0.0) -> float:
    """The area by which two boxes, each grown by gap/2, overlap (0 when apart)."""
    w = min(a[2], b[2]) - max(a[0], b[0]) + gap
    h = min(a[3], b[3]) - max(a[1], b[1]) + gap
    return w * h if w > 0 and h > 0 else 0.0


_SHIFTS = sorted({(round(d * dx, 2), round(d * dy, 2))
                  for d in (0, 4, 8, 12, 16, 20, 25, 30, 36, 44, 52)
                  for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1), (0.71, 0.71), (-0.71, 0.71), (0.71, -0.71),
                                 (-0.71, -0.71), (0.92, 0.38), (-0.92, 0.38), (0.92, -0.38), (-0.92, -0.38),
                                 (0.38, 0.92), (-0.38, 0.92), (0.38, -0.92), (-0.38, -0.92))},
                 key=lambda s: (s[0] ** 2 + s[1] ** 2, s))
MAX_SHIFT_PX = 52


def spread_labels(anchors: dict[str, tuple[float, float]], sizes: dict[str, tuple[float, float]], k: float,
                  gap: float = LABEL_GAP_PX, rounds: int = 20) -> dict[str, tuple[float, float]]:
    """Each label's centre (lon, lat): at its anchor, or moved the least (up to 52 px) that keeps
    it ``gap`` px from the others (太原市 and 阳泉市 touched at their anchors). Placed one by one,
    then each label still touching another is moved again against all the others, for a few
    rounds; the first of six orders (by code, by position) that leaves no two touching is kept
    (else the one with the least overlap). The result depends on the districts and the label sizes, never on the
    ranking, so a label does not jump when the counts change."""
    codes = sorted(anchors)
    centre = {}
    for c in codes:
        x, y = mercator(*anchors[c])
        centre[c] = (x * k, -y * k)

    def box(c, shift):
        (cx, cy), (w, h) = centre[c], sizes[c]
        return cx + shift[0] - w / 2, cy + shift[1] - h / 2, cx + shift[0] + w / 2, cy + shift[1] + h / 2

    def place(c, others):
        (cx, cy), (w, h) = centre[c], sizes[c]
        reach = MAX_SHIFT_PX + gap      # only labels within reach of any shift can be met
        others = [o for o in others if o[0] < cx + w / 2 + reach and o[2] > cx - w / 2 - reach
                  and o[1] < cy + h / 2 + reach and o[3] > cy - h / 2 - reach]
        best, best_cost = (0.0, 0.0), None
        for shift in _SHIFTS:
            b = box(c, shift)
            cost = sum(boxes_overlap(b, o, gap) for o in others)
            if cost == 0:
                return shift
            if best_cost is None or cost < best_cost:
                best, best_cost = shift, cost
        return best

    def layout(order):
        shift: dict[str, tuple[float, float]] = {}
        for c in order:
            shift[c] = place(c, [box(o, shift[o]) for o in shift])
        for _ in range(rounds):
            moved = False
            for c in order:
                others = [box(o, shift[o]) for o in order if o != c]
                if sum(boxes_overlap(box(c, shift[c]), o, gap) for o in others) == 0:
                    continue
                new = place(c, others)
                moved |= new != shift[c]
                shift[c] = new
            if not moved:
                break
        boxes = [box(c, shift[c]) for c in order]
        clash = sum(boxes_overlap(a, b, gap) for i, a in enumerate(boxes) for b in boxes[i + 1:])
        return (clash, sum((dx * dx + dy * dy) ** 0.5 for dx, dy in shift.values())), shift

    # orders by code, then west to east, north to south and back: the first that leaves no label
    # touching another, else the one with the least overlap
    orders = [codes, codes[::-1]] + [sorted(codes, key=lambda c, i=i, s=s: (s * centre[c][i], c))
                                     for i in (0, 1) for s in (1, -1)]
    best = None
    for order in orders:
        result = layout(order)
        if best is None or result[0] < best[0]:
            best = result
        if result[0][0] == 0:
            break
    shift = best[1]
    out = {}
    for c in codes:
        (cx, cy), (dx, dy) = centre[c], shift[c]
        out[c] = inverse_mercator((cx + dx) / k, -(cy + dy) / k)
    return out
