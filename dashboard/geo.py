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
