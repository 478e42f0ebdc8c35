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

import copy
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from alerts.detectors.share import REST_FLOOR, SharePanel
from streams.numbers import significant

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


# A copy of the detector's whole state is kept every SNAPSHOT_EVERY steps, back to the newest copy at
# least the longest scan window (``exact_hours``) before the last learned hour: a late complaint into any
# of those hours is folded in by going back to the copy before it and learning the hours since again,
# in order, with their counts as they are now (at most that window + SNAPSHOT_EVERY hours of work).
SNAPSHOT_EVERY = 12


@dataclass
class _Snapshot:
    hour: datetime | None       # the last hour learned into it (None: before the first)
    panel: SharePanel
    last_alarm: np.ndarray


class LiveDetector:
    """The share scan over a province's series, hour by hour, with alert selection.

    ``commit(hour, fields)`` learns a closed hour (in order; a gap is filled with empty
    hours), ``tick(now, fields)`` scores the hour in progress and returns the detections
    that should be alerts now, as dicts ready for :meth:`alerts.store.AlertStore.raise_or_update`.

    **Late complaints.**  The counts of every hour learned (the last ``detection.history``
    of them) are kept, and a copy of the whole scan every ``SNAPSHOT_EVERY`` hours over the
    last ``exact_hours`` (its longest window, 72) and a little more.  ``revise({hour: fields})``
    replaces the counts of hours a late complaint (an import, a replay, a backlog) wrote into
    after they were learned, goes back to the newest copy before the first of them and learns
    the hours since again, in order: for those hours the detector is then exactly what learning
    the corrected hours on time gives (shares, hour-of-day slots, dispersion, city component,
    the scan's windows, alarms), without reading any hour from Redis again.  An older hour is
    folded into the oldest copy by the change of what it taught (see :meth:`revise`).
    """

    def __init__(self, index: SeriesIndex, detection: dict) -> None:
        self.index = index
        self.cfg = detection
        self.panel = self._new_panel()
        self.last_hour: datetime | None = None
        self.last_alarm = np.full(index.n, -np.inf)     # epoch seconds of each series' last alarm
        self.tick_alarm = np.full(index.n, -np.inf)     # ... of those the ticks saw (hours in progress)
        self.suppress_s = float(detection["suppress_s"])
        self.keep_hours = max(1, int(detection.get("history_s", 0) // 3600))
        self.learned: dict[datetime, tuple[np.ndarray, float]] = {}   # hour -> (counts per series, province)
        # hour -> (the scan's step it was learned as, its expected counts, which series alarmed)
        self.taught: dict[datetime, tuple[int, np.ndarray, np.ndarray]] = {}
        self.exact_hours = max(self.panel.windows)
        self.snapshots: list[_Snapshot] = [self._snapshot()]
        self.revisions = 0                                             # hours relearned after late complaints
        self.replayed = 0                                              # hours learned again to fold them in

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
        self.learned[hour] = (x, parent)
        self._learn_kept(hour, x, parent)
        if len(self.learned) > self.keep_hours:
            # the hours after the oldest copy stay: going back to it relearns them
            cut = hour - timedelta(hours=self.keep_hours)
            if self.snapshots[0].hour is None:
                return
            cut = min(cut, self.snapshots[0].hour)
            for h in [h for h in self.learned if h <= cut]:
                del self.learned[h]
                self.taught.pop(h, None)

    def _learn(self, hour: datetime, x: np.ndarray, parent: float) -> dict:
        """The panel learns one hour after ``last_hour`` (the hours between as empty ones)."""
        if self.last_hour is not None:
            gap = int((hour - self.last_hour) / timedelta(hours=1)) - 1
            for _ in range(min(gap, max(self.panel.windows) + 1)):
                self.panel.commit(np.zeros(self.index.n), 0.0)
        out = self.panel.commit(x, parent, at=hour)
        self.last_alarm[out["alarm"]] = np.maximum(self.last_alarm[out["alarm"]], (hour + timedelta(hours=1)).timestamp())
        self.last_hour = hour
        return out

    def _learn_kept(self, hour: datetime, x: np.ndarray, parent: float) -> None:
        """:meth:`_learn`, remembering what the hour taught, and a copy of the scan now and then."""
        out = self._learn(hour, x, parent)
        self.taught[hour] = (self.panel.steps - 1, out["step_expected"].astype(np.float32), out["alarm"].copy())
        if self.panel.steps - self.snapshots[-1].panel.steps >= SNAPSHOT_EVERY:
            self.snapshots.append(self._snapshot())
        # the oldest copy kept is the newest one at least exact_hours before the last hour
        limit = hour - timedelta(hours=self.exact_hours)
        while len(self.snapshots) > 1 and self.snapshots[1].hour <= limit:
            del self.snapshots[0]

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(self.last_hour, copy.deepcopy(self.panel), self.last_alarm.copy())

    def knows(self, hour: datetime) -> bool:
        """Whether ``hour`` is one of the learned hours kept (a late write into it is folded in)."""
        return hour_floor(hour) in self.learned

    def learned_count(self, hour: datetime, series: str) -> float | None:
        """What the detector learned of ``series`` in ``hour`` (None: not a kept hour)."""
        got = self.learned.get(hour_floor(hour))
        return None if got is None else float(got[0][self.index.pos[series]])

    def revise(self, hours: dict[datetime, dict]) -> int:
        """Fold late complaints in: ``hours`` maps learned hours to their tally now.

        The kept hours whose counts changed get their new counts; the detector goes back to the
        newest copy of its state from before the first of them and learns every hour since
        again, in order (each ``commit`` as it was, with the new counts). For the hours since
        that copy, every piece of learned state (shares, hour-of-day slot shares, overdispersion,
        city component, the scan's windows of counts and expected counts, which series alarm,
        when each last alarmed) is then what learning the corrected hours on time gives, to the
        last bit. Alarms the ticks saw while the hours were in progress are kept.

        An hour no newer than the oldest copy (``exact_hours`` to ``exact_hours`` +
        ``SNAPSHOT_EVERY`` hours back, by when the last copy was taken) is folded into that
        copy by the change of what it taught, weighted by the decay since (:meth:`_fold_old`):
        exact for the hour's own terms except its city factor and alarms, but the hours between
        it and the copy keep the expected counts, clips and alarms they had (its effect on them
        is not recomputed). Returns how many hours changed; an hour not kept (too old, not
        learned yet) is ignored.
        """
        changed: dict[datetime, tuple[np.ndarray, float]] = {}
        for hour, fields in sorted(hours.items()):
            hour = hour_floor(hour)
            old = self.learned.get(hour)
            if old is None or self.last_hour is None or hour > self.last_hour:
                continue
            x, parent = self.index.vector(fields)
            if parent == old[1] and np.array_equal(x, old[0]):
                continue
            changed[hour] = old
            self.learned[hour] = (x, parent)
        if not changed:
            return 0
        first = min(changed)
        base = len(self.snapshots) - 1
        while base > 0 and self.snapshots[base].hour is not None and self.snapshots[base].hour >= first:
            base -= 1
        snap = self.snapshots[base]
        panel = copy.deepcopy(snap.panel)
        older = [h for h in changed if snap.hour is not None and h <= snap.hour]
        for h in older:
            self._fold_old(panel, h, changed[h], self.learned[h])
        if older:
            self.snapshots[base] = _Snapshot(snap.hour, copy.deepcopy(panel), snap.last_alarm)
        del self.snapshots[base + 1:]
        self.panel, self.last_hour, self.last_alarm = panel, snap.hour, snap.last_alarm.copy()
        for h in sorted(h for h in self.learned if snap.hour is None or h > snap.hour):
            self._learn_kept(h, *self.learned[h])
            self.replayed += 1
        self.last_alarm = np.maximum(self.last_alarm, self.tick_alarm)
        self.revisions += len(changed)
        return len(changed)

    def _fold_old(self, p: SharePanel, hour: datetime, old: tuple[np.ndarray, float],
                  new: tuple[np.ndarray, float]) -> None:
        """Fold the new counts of ``hour`` into ``p``, a copy of the scan learned after it.

        What the hour taught when it was learned (its expected counts and alarms are kept) is
        replaced by what its new counts teach: the expected counts rescaled by the rest of the
        province (leave-one-out, as ``SharePanel.expected``), each series' alarm held, the
        commit's clipping, each term weighted by the decay since the hour. Not recomputed: the
        hour's city factor (its other series' new counts would move it a little) and everything
        the hours between it and ``p`` learned from the hour (their expected counts, clips and
        alarms): that would need the scan's state at each of them.
        """
        (x0, parent0), (x, parent) = old, new
        step, e_kept, alarm = self.taught[hour]
        e0 = e_kept.astype(float)
        e = e0 * np.maximum(parent - x, REST_FLOOR) / np.maximum(parent0 - x0, REST_FLOOR)
        k = p.steps - 1 - step                                     # steps learned since
        cap = p.cap_sd

        def taught(xs, es):
            return np.where(alarm, es, np.minimum(xs, es + cap * np.sqrt(es) + 1.0))

        learn0, learn = taught(x0, e0), taught(x, e)
        rest0, rest = np.maximum(parent0 - x0, 0.0), np.maximum(parent - x, 0.0)
        w = p.decay ** k
        p.num = p.num + w * (learn - learn0)
        p.den = p.den + w * (rest - rest0)
        if p.slots:
            slot = p.slot_of(hour)
            p.snum[:, slot] += w * (learn - learn0)
            p.sden[:, slot] += w * (rest - rest0)
        if p.dispersion and step >= 24:
            def excess(xs, es):
                xv = np.minimum(xs, es + 2 * cap * (np.sqrt(es) + es) + 2.0)
                return np.where(alarm, 0.0, (xv - es) ** 2 - xv)
            p.var_num = p.var_num + w * (excess(x, e) - excess(x0, e0))
            p.var_den = p.var_den + w * np.where(alarm, 0.0, e * e - e0 * e0)
        if p.cities is not None:
            # the city sums keep the expected counts before the city factor; the hour's factor is
            # taken as it was (the expected counts' change is the rest of the province's)
            wc = p.city_decay ** k
            p.so = p.so + wc * (taught(x, e) - taught(x0, e0))
            p.se = p.se + wc * (e - e0)
        p.parent_ew += float(parent - parent0)
        if k < p.x.filled:
            col = (p.x.pos - 1 - k) % p.x.size
            p.x.buf[:, col] = x
            p.e.buf[:, col] = e
        self.taught[hour] = (step, e.astype(np.float32), alarm)

    def tick(self, now: datetime, fields: dict) -> list[dict]:
        """Score the hour in progress (``fields`` = its tally so far): detections to raise."""
        x, parent = self.index.vector(fields)
        out = self.panel.score(x, parent, at=hour_floor(now))
        alarm = out["alarm"]
        if not alarm.any():
            return []
        ts = now.timestamp()
        self.last_alarm[alarm] = ts
        self.tick_alarm[alarm] = ts
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
                "expected": significant(float(out["expected"][i]), 3), "score": round(float(out["score"][i]), 2),
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
