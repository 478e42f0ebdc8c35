"""Boundary files for the map tests: the Shanxi files of ../shared/data/geo/ when this machine
has them, else a synthetic stand-in written by the test (rectangles, real GB/T 2260 codes).

The project ships no boundary data (it is not openly licensed; see ../shared/data/README.md),
so a clean checkout on another machine has none; the map code is the same for both.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from config.divisions import divisions
from tests.conftest import ROOT

SHARED = Path(os.environ.get("SHANXI_GEO_DIR") or ROOT.parent / "shared" / "data" / "geo")
REAL = (SHARED / "shanxi_140000_cities_datav_v3.json", SHARED / "shanxi_140000_counties_datav_v3.json")


def _rect(x0: float, y0: float, x1: float, y1: float) -> dict:
    # outer ring clockwise (x east, y north), as plotly.js expects
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]]}


def _grid(n: int, x0: float, y0: float, x1: float, y1: float, gap: float):
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    w, h = (x1 - x0) / cols, (y1 - y0) / rows
    for i in range(n):
        r, c = divmod(i, cols)
        top = y1 - r * h
        yield x0 + c * w + gap, top - h + gap, x0 + (c + 1) * w - gap, top - gap


def synthetic(dir_: Path) -> tuple[Path, Path]:
    """A city and a county FeatureCollection of Shanxi's 11 cities and 117 counties as rectangles."""
    table = divisions()
    counties = sorted(table.counties_of("140000"), key=lambda d: d.code)
    cities = sorted({d.city_code for d in counties})
    city_f, county_f = [], []
    for code, (x0, y0, x1, y1) in zip(cities, _grid(len(cities), 110.3, 34.6, 114.5, 40.7, 0.03)):
        c = table.get(code)
        city_f.append({"type": "Feature", "properties": {"adcode": int(code), "name": c.name},
                       "geometry": _rect(x0, y0, x1, y1)})
        under = [d for d in counties if d.city_code == code]
        for d, box in zip(under, _grid(len(under), x0, y0, x1, y1, 0.01)):
            county_f.append({"type": "Feature", "properties": {"adcode": int(d.code), "name": d.name},
                             "geometry": _rect(*box)})
    dir_.mkdir(parents=True, exist_ok=True)
    out = (dir_ / "synthetic_cities.json", dir_ / "synthetic_counties.json")
    for path, feats in zip(out, (city_f, county_f)):
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
                        encoding="utf-8")
    return out


def boundary_files(dir_: Path) -> tuple[Path, Path]:
    if all(p.is_file() for p in REAL):
        return REAL
    return synthetic(dir_)
