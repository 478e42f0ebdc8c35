"""Live surge detection over the hourly tallies: which series, their counts, one alert per surge.

Pure logic (no Redis, no Kafka): :class:`SeriesIndex` turns a tally hash (field
``district|industry|kind|channel`` -> count, see ``streams/keys.py``) into one count per
watched series; :class:`LiveDetector` keeps the share scan (:class:`SharePanel`) over them,
scores the hour in progress on every tick and learns each hour when it closes, and picks
which alarms become alerts.  ``alerts/agents.py`` runs it inside the stream worker.

Series watched, for the province of ``config/alerts.yaml`` (``detection.province``):

=====================  ===========================  ===========================
series key             what                         counted from
=====================  ===========================  ===========================
county:140403:产品质量  a county x an industry       items coded to the county
county:140403:*        a county, all industries
city:140400:产品质量    a city x an industry         items coded to the city or its counties
city:140400:*          a city, all industries
province:140000:食品    the province x an industry   every item of the province
=====================  ===========================  ===========================

The parent of every series is the province's count of the same step.

**One surge, one alert.**  A surge in one county and industry lifts the county, its city
and the industry's province count too.  An aggregate series (county, city, city x
industry, province x industry) becomes an alert only when no series inside it has alarmed
within ``suppress`` (6 h): the most specific series carries the alert, and an aggregate
alarms on its own only when a rise is spread too thin for any one of its parts.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from alerts.detectors.share import REST_FLOOR, SharePanel

__all__ = ["Series", "SeriesIndex", "LiveDetector", "hour_floor", "phrase_detections"]

ALL = "*"


@dataclass(frozen=True)
class Series:
    key: str            # level:district:industry
    level: str          # county | city | province
    district: str
    industry: str       # an industry, or "*" for all


def hour_floor(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


class SeriesIndex:
    """The watched series of one province and how tally fields add up into them."""

    def __init__(self, province: str, industries: list[str], table) -> None:
        self.province = province
        self.industries = list(industries)
        self.table = table
        counties = sorted(table.counties_of(province), key=lambda d: d.code)
        cities = sorted({d.city_code for d in counties if d.city_code})
        series: list[Series] = []
        for c in counties:
            series += [Series(f"county:{c.code}:{i}", "county", c.code, i) for i in self.industries]
            series.append(Series(f"county:{c.code}:{ALL}", "county", c.code, ALL))
        for c in cities:
            series += [Series(f"city:{c}:{i}", "city", c, i) for i in self.industries]
            series.append(Series(f"city:{c}:{ALL}", "city", c, ALL))
        series += [Series(f"province:{province}:{i}", "province", province, i) for i in self.industries]
        self.series = series
        self.pos = {s.key: n for n, s in enumerate(series)}
        self.n = len(series)
        self.levels = np.array([s.level for s in series])
        # descendants: the more specific series whose counts an aggregate contains
        kids: list[list[int]] = [[] for _ in series]
        for s in series:
            if s.level == "county" and s.industry == ALL:
                kids[self.pos[s.key]] = [self.pos[f"county:{s.district}:{i}"] for i in self.industries]
        for c in cities:
            under = [d.code for d in counties if d.city_code == c]
            for i in self.industries:
                kids[self.pos[f"city:{c}:{i}"]] = [self.pos[f"county:{d}:{i}"] for d in under]
            kids[self.pos[f"city:{c}:{ALL}"]] = [self.pos[f"{lv}:{d}:{i}"] for d in under
                                                 for lv, i in [("county", x) for x in self.industries + [ALL]]] \
                + [self.pos[f"city:{c}:{i}"] for i in self.industries]
        for i in self.industries:
            kids[self.pos[f"province:{province}:{i}"]] = (
                [self.pos[f"city:{c}:{i}"] for c in cities] + [self.pos[f"county:{d.code}:{i}"] for d in counties])
        self.kids = [np.asarray(k, dtype=np.int64) for k in kids]
        # a starting share per series: an even split within its kind (county x industry, ...)
        kind = [(s.level, s.industry == ALL) for s in series]
        size = {k: kind.count(k) for k in set(kind)}
        self.prior_share = np.array([1.0 / size[k] for k in kind])
        self._targets: dict[tuple[str, str], tuple[int, ...] | None] = {}

    def _targets_of(self, district: str, industry: str) -> tuple[int, ...] | None:
        """Series a tally field counts towards (None: not this province's)."""
        key = (district, industry)
        if key in self._targets:
            return self._targets[key]
        d = self.table.get(district)
        out: list[int] | None = None
        if d is not None and d.province_code == self.province:
            out = []
            known = industry in self.industries
            if d.level == "county":
                if known:
                    out.append(self.pos[f"county:{d.code}:{industry}"])
                out.append(self.pos[f"county:{d.code}:{ALL}"])
            city = d.city_code if d.level != "province" else ""
            if city and f"city:{city}:{ALL}" in self.pos:
                if known:
                    out.append(self.pos[f"city:{city}:{industry}"])
                out.append(self.pos[f"city:{city}:{ALL}"])
            if known:
                out.append(self.pos[f"province:{self.province}:{industry}"])
        self._targets[key] = tuple(out) if out is not None else None
        return self._targets[key]

    def vector(self, fields: dict) -> tuple[np.ndarray, float]:
        """Counts per series and the province's count, from one tally hash."""
        x = np.zeros(self.n)
        parent = 0.0
        for f, c in fields.items():
            parts = f.split("|")
            if len(parts) < 2:
                continue
            t = self._targets_of(parts[0], parts[1])
            if t is None:
                continue
            c = float(c)
            parent += c
            for i in t:
                x[i] += c
        return x, parent


def _taught(x: np.ndarray, e: np.ndarray, cap_sd: float, warm: bool) -> np.ndarray:
    """What an hour of counts ``x`` (expected ``e``) teaches the shares, as the share scan learns
    it: a count is clipped at its cap; once the scan was warm (could alarm), a count above its
    cap is taken as an alarm, which teaches the expected count (a surge is not the new normal)."""
    cap = e + cap_sd * np.sqrt(e) + 1.0
    return np.where(x > cap, e if warm else cap, x)


class LiveDetector:
    """The share scan over a province's series, hour by hour, with alert selection.

    ``commit(hour, fields)`` learns a closed hour (in order; a gap is filled with empty
    hours), ``tick(now, fields)`` scores the hour in progress and returns the detections
    that should be alerts now, as dicts ready for :meth:`alerts.store.AlertStore.raise_or_update`.

    **Late complaints.**  The counts of every hour learned (the last ``detection.history``
    of them) are kept; ``revise({hour: fields})`` replaces those of hours a late complaint
    (an import, a replay, a backlog) wrote into after they were learned and relearns from the
    kept counts, so the detector is what a rebuild from Redis would give, without re-reading
    the hours that did not change.
    """

    def __init__(self, index: SeriesIndex, detection: dict) -> None:
        self.index = index
        self.cfg = detection
        self.panel = self._new_panel()
        self.last_hour: datetime | None = None
        self.last_alarm = np.full(index.n, -np.inf)     # epoch seconds of each series' last alarm
        self.suppress_s = float(detection["suppress_s"])
        self.keep_hours = max(1, int(detection.get("history_s", 0) // 3600))
        self.learned: dict[datetime, tuple[np.ndarray, float]] = {}   # hour -> (counts per series, province)
        self.revisions = 0                                             # hours relearned after late complaints

    def _new_panel(self) -> SharePanel:
        d = self.cfg
        thr = np.array([d["threshold"][lv] for lv in self.index.levels])
        return SharePanel(self.index.n, h=thr, windows=d["windows"], halflife=d["halflife_s"] / 3600.0,
                          min_count=d["min_count"], grace_period=int(d["grace_s"] // 3600), hold=d["hold"],
                          prior_share=self.index.prior_share, slots=48,
                          groups=[f"{x.level}:{x.industry}" for x in self.index.series],
                          cities=[(self.index.table.get(x.district).city_code or x.key) if x.level == "county" and x.industry != ALL
                                  else x.key for x in self.index.series])

    @property
    def warm(self) -> bool:
        return self.panel.steps >= self.panel.grace_period

    def commit(self, hour: datetime, fields: dict) -> None:
        """Learn the closed hour ``hour`` (its final tally)."""
        hour = hour_floor(hour)
        if self.last_hour is not None and hour <= self.last_hour:
            return
        x, parent = self.index.vector(fields)
        self._learn(hour, x, parent)
        self.learned[hour] = (x, parent)
        if len(self.learned) > self.keep_hours:
            cut = hour - timedelta(hours=self.keep_hours)
            for h in [h for h in self.learned if h <= cut]:
                del self.learned[h]

    def _learn(self, hour: datetime, x: np.ndarray, parent: float) -> None:
        """The panel learns one hour after ``last_hour`` (the hours between as empty ones)."""
        if self.last_hour is not None:
            gap = int((hour - self.last_hour) / timedelta(hours=1)) - 1
            for _ in range(min(gap, max(self.panel.windows) + 1)):
                self.panel.commit(np.zeros(self.index.n), 0.0)
        out = self.panel.commit(x, parent, at=hour)
        self.last_alarm[out["alarm"]] = np.maximum(self.last_alarm[out["alarm"]], (hour + timedelta(hours=1)).timestamp())
        self.last_hour = hour

    def knows(self, hour: datetime) -> bool:
        """Whether ``hour`` is one of the learned hours kept (a late write into it is folded in)."""
        return hour_floor(hour) in self.learned

    def learned_count(self, hour: datetime, series: str) -> float | None:
        """What the detector learned of ``series`` in ``hour`` (None: not a kept hour)."""
        got = self.learned.get(hour_floor(hour))
        return None if got is None else float(got[0][self.index.pos[series]])

    def revise(self, hours: dict[datetime, dict]) -> int:
        """Fold late complaints in: ``hours`` maps learned hours to their tally now.

        For each kept hour whose counts changed, what was learned of it is replaced: the scan's
        own record of the hour (the last three days: the counts its windows sum exactly, and the
        expected counts, as the baselines now give them for the hour's new counts), and the
        baselines (each series' share of the province, weighted by age with the share's
        half-life) by the change of what that hour taught, as an in-control hour. No hour is
        read again and nothing is relearned, so it costs one hour's arithmetic. Returns how many
        hours changed; an hour not kept (too old, not learned yet) is ignored.
        """
        p = self.panel
        changed = 0
        for hour, fields in sorted(hours.items()):
            hour = hour_floor(hour)
            old = self.learned.get(hour)
            if old is None or self.last_hour is None or hour > self.last_hour:
                continue
            x, parent = self.index.vector(fields)
            x0, parent0 = old
            if parent == parent0 and np.array_equal(x, x0):
                continue
            self.learned[hour] = (x, parent)
            k = int((self.last_hour - hour) / timedelta(hours=1))       # hours learned since
            rest0, rest = np.maximum(parent0 - x0, 0.0), np.maximum(parent - x, 0.0)
            if k < p.x.filled:
                col = (p.x.pos - 1 - k) % p.x.size
                e0 = p.e.buf[:, col].copy()
                # the hour's expected counts as the scan's baselines now give them: the baselines it
                # had when it learned the hour may have come from a history still arriving (a bulk
                # of late hours then looked like a surge against shares learned from empty hours)
                e = p.expected(x, parent, at=hour)
                p.x.buf[:, col] = x
                p.e.buf[:, col] = e
            else:
                e0, e = p.share() * np.maximum(rest0, REST_FLOOR), p.share() * np.maximum(rest, REST_FLOOR)
            warm = p.steps - k - 1 >= p.grace_period          # could the hour alarm when learned
            learn0, learn = _taught(x0, e0, p.cap_sd, warm), _taught(x, e, p.cap_sd, warm)
            w = p.decay ** k
            p.num = p.num + w * (learn - learn0)
            p.den = p.den + w * (rest - rest0)
            if getattr(p, "slots", 0):
                slot = p.slot_of(hour)
                p.snum[:, slot] += w * (learn - learn0)
                p.sden[:, slot] += w * (rest - rest0)
            p.parent_ew += float(parent - parent0)
            changed += 1
        self.revisions += changed
        return changed

    def tick(self, now: datetime, fields: dict) -> list[dict]:
        """Score the hour in progress (``fields`` = its tally so far): detections to raise."""
        x, parent = self.index.vector(fields)
        out = self.panel.score(x, parent, at=hour_floor(now))
        alarm = out["alarm"]
        if not alarm.any():
            return []
        ts = now.timestamp()
        self.last_alarm[alarm] = ts
        recent = self.last_alarm >= ts - self.suppress_s
        hour = hour_floor(now)
        dets = []
        h = np.broadcast_to(self.panel.h, alarm.shape)
        for i in np.flatnonzero(alarm & (out["score"] >= h)):   # held alarms update, never open, an alert
            kids = self.index.kids[i]
            if len(kids) and recent[kids].any():
                continue                          # a more specific series carries this surge
            s = self.index.series[i]
            window = int(out["window"][i])
            dets.append({
                "series": s.key, "level": s.level, "district": s.district, "industry": s.industry,
                "at": now.isoformat(), "since": (hour - timedelta(hours=window - 1)).isoformat(),
                "window_hours": window, "observed": int(round(out["observed"][i])),
                "expected": round(float(out["expected"][i]), 2), "score": round(float(out["score"][i]), 2),
                "threshold": float(self.panel.h[i]) if np.ndim(self.panel.h) else float(self.panel.h),
                "method": "share-scan"})
        return dets


def phrase_detections(bursts: list[dict], docs, *, province: str, table, busy: set[str], min_count: int,
                      min_score: float, now: datetime, since: datetime, recent: set[str] = frozenset()) -> list[dict]:
    """Rising phrases of the province's hour that no district alert already explains.

    ``bursts`` are the phrase items of :meth:`streams.readmodel.ReadModel.topics` for the
    province's last hour (``topic``, ``parts``, ``count``, ``expected``, ``score``, ``rising``:
    each phrase against its own count in the same hour of the days before, see
    ``nlp/burst.py``); ``docs`` the topic documents of that hour (``streams.topicmodel.Doc``).
    A phrase becomes a detection when it is rising, said at least ``min_count`` times and
    scores ``min_score``; not when most of its complaints come from one county and industry
    whose series is in ``busy`` (alarmed recently: that alert carries it, its top phrases name
    it); not when half its complaints already carry a phrase taken before, now or in
    ``recent`` (phrase keys alerted lately: 保温杯涂层脱落 and 涂层脱落 are one topic).  Where: the
    city when 70 % of its complaints come from one, else the province.
    """
    out = []
    t0 = since.timestamp()
    covered = {d.id for d in docs if d.ts >= t0 and any(k in d.phrases for k in recent)}
    for b in bursts:
        if not b.get("rising") or b["count"] < min_count or (b.get("score") or 0) < min_score:
            continue
        key = "|".join(b["parts"])
        mine = [d for d in docs if d.ts >= t0 and key in d.phrases]
        ids = {d.id for d in mine}
        if not mine or len(ids & covered) >= 0.5 * len(ids):
            continue
        cells, cities = Counter(), Counter()
        for d in mine:
            div = table.get(d.district)
            county = div.code_at("county") if div else ""
            cells[(county, d.industry)] += 1
            cities[div.code_at("city") if div else ""] += 1
        (county, industry), n_top = cells.most_common(1)[0]
        if county and n_top >= 0.5 * len(mine) and f"county:{county}:{industry}" in busy:
            continue
        covered |= ids
        city, n_city = cities.most_common(1)[0]
        level, code = ("city", city) if city and n_city >= 0.7 * len(mine) else ("province", province)
        out.append({
            "series": f"phrase:{code}:{b['topic']}", "level": level, "district": code, "industry": ALL,
            "phrase": b["topic"], "phrase_key": key, "at": now.isoformat(), "since": since.isoformat(),
            "observed": int(b["count"]), "expected": b.get("expected"), "score": float(b["score"]),
            "threshold": float(min_score), "method": "phrase-burst",
            "counties": len({c for c, _ in cells if c}), "industries": len({i for _, i in cells})})
    return out
