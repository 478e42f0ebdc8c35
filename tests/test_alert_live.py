"""Live detection logic (alerts/live.py, alerts/context.py) and the share scan, without I/O."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from alerts.config import load_alert_config
from alerts.context import summarize
from alerts.detectors.share import SharePanel, ShareScan, scan_llr
from alerts.live import LiveDetector, SeriesIndex, phrase_detections
from config import load_settings
from config.divisions import divisions

TZ = ZoneInfo("Asia/Shanghai")
INDUSTRIES = list(load_settings({}).complaints.industries)
T0 = datetime(2026, 11, 1, tzinfo=TZ)
PROFILE = np.array([0.15, 0.1, 0.08, 0.07, 0.08, 0.12, 0.3, 0.7, 1.3, 1.9, 2, 1.8, 1.3, 1.4, 1.8, 1.8, 1.7,
                    1.5, 1.2, 1, 0.9, 0.7, 0.5, 0.3])


@pytest.fixture(scope="module")
def index():
    return SeriesIndex("140000", INDUSTRIES, divisions())


def test_a_tally_field_counts_towards_its_county_city_and_province_series(index):
    fields = {"140403|产品质量|投诉|12315": 3, "140403|食品|咨询|12345": 2, "140400|产品质量|投诉|110": 4,
              "110101|产品质量|投诉|12315": 50,            # Beijing: not this province's
              "140403|未分类|投诉|12315": 1}               # no industry series, but in the totals
    x, parent = index.vector(fields)
    at = lambda key: x[index.pos[key]]  # noqa: E731
    assert parent == 3 + 2 + 4 + 1
    assert at("county:140403:产品质量") == 3 and at("county:140403:食品") == 2
    assert at("county:140403:*") == 6
    assert at("city:140400:产品质量") == 7           # its county's 3 and the city-coded 4
    assert at("city:140400:*") == 10
    assert at("province:140000:产品质量") == 7
    assert at("county:140404:产品质量") == 0          # another county of the city
    # county 3+2+6, city 7+2+10, province 7+2: each item once per series it belongs to
    assert x.sum() == (3 + 2 + 6) + (7 + 2 + 10) + (7 + 2)


def test_aggregates_know_the_series_inside_them(index):
    kids = lambda key: {index.series[i].key for i in index.kids[index.pos[key]]}  # noqa: E731
    assert kids("county:140403:*") == {f"county:140403:{i}" for i in INDUSTRIES}
    assert "county:140403:产品质量" in kids("city:140400:产品质量")
    assert "county:140105:产品质量" not in kids("city:140400:产品质量")
    assert {"county:140403:*", "city:140400:食品", "county:140403:食品"} <= kids("city:140400:*")
    assert "city:140400:产品质量" in kids("province:140000:产品质量")
    assert len(index.kids[index.pos["county:140403:食品"]]) == 0


def _history(rng, hours, rate=400.0, weights=None):
    counties = [d.code for d in divisions().counties_of("140000")]
    w = weights if weights is not None else rng.lognormal(0, 0.6, (len(counties), len(INDUSTRIES)))
    w = w / w.sum()
    for h in range(hours):
        n = rng.poisson(rate * PROFILE[h % 24] / PROFILE.mean())
        cells = rng.multinomial(n, w.ravel()).reshape(w.shape)
        yield {f"{counties[a]}|{INDUSTRIES[b]}|投诉|12315": int(cells[a, b]) for a, b in zip(*np.nonzero(cells))}


def _learned(index, days=10, seed=5, extra_hours=0, with_next=False):
    det = LiveDetector(index, load_alert_config().detection)
    rng = np.random.default_rng(seed)
    gen = _history(rng, days * 24 + extra_hours + 1)
    for h in range(days * 24 + extra_hours):
        det.commit(T0 + timedelta(hours=h), next(gen))
    return (det, next(gen)) if with_next else det


def test_a_county_surge_is_one_detection_on_its_most_specific_series(index):
    det = _learned(index)
    assert det.warm
    now = T0 + timedelta(days=10, minutes=30)
    fields = {"140105|食品|投诉|12315": 3, "140802|价格|咨询|12345": 2}
    assert not [d for d in det.tick(now, fields) if d["district"] == "140403"]
    fields["140403|产品质量|投诉|12315"] = 25
    dets = [d for d in det.tick(now, fields) if d["district"] in ("140403", "140400", "140000")]
    assert [d["series"] for d in dets] == ["county:140403:产品质量"]
    d = dets[0]
    assert d["observed"] >= 25 and d["expected"] < 5 and d["score"] >= d["threshold"] == 7.0
    assert d["since"] == "2026-11-11T00:00:00+08:00" and d["window_hours"] == 1


def test_a_rise_spread_over_a_city_is_raised_on_the_city(index):
    det, background = _learned(index, extra_hours=10, with_next=True)
    now = T0 + timedelta(days=10, hours=10, minutes=59)
    # every county of 长治市 a little more 价格 than usual, none enough alone
    counties = [d.code for d in divisions().counties_of("140400")]
    fields = dict(background)
    for c in counties:
        fields[f"{c}|价格|投诉|12315"] = fields.get(f"{c}|价格|投诉|12315", 0) + 2
    assert not {d["series"] for d in det.tick(now, background)} & {"city:140400:价格"}
    dets = det.tick(now, fields)
    assert "city:140400:价格" in {d["series"] for d in dets}
    assert not {d["series"] for d in dets} & {f"county:{c}:价格" for c in counties}


def test_nothing_is_raised_before_the_detector_has_learned_a_week(index):
    det = _learned(index, days=5)
    assert not det.warm
    assert det.tick(T0 + timedelta(days=5, minutes=5), {"140403|产品质量|投诉|12315": 40}) == []


def test_relearning_the_same_hours_gives_the_same_detector(index):
    a, b = _learned(index, days=8, seed=9), _learned(index, days=8, seed=9)
    assert np.array_equal(a.panel.share(), b.panel.share())
    fields = {"140403|产品质量|投诉|12315": 9}
    now = T0 + timedelta(days=8, minutes=10)
    assert a.tick(now, fields) == b.tick(now, fields)


def test_a_series_alone_in_a_quiet_hour_is_never_expected_at_zero(index):
    # an hour just begun: the three complaints of one county's 药品 are the whole province so far;
    # leave-one-out gave every series the rest of the province, 0, so expected 0.0 and score 86
    det = _learned(index)
    fields = {"140403|药品|投诉|12315": 3}
    x, parent = index.vector(fields)
    hour = T0 + timedelta(days=10)
    out = det.panel.score(x, parent, at=hour)
    i = index.pos["county:140403:药品"]
    p = det.panel
    assert np.all(out["step_expected"] > 0)
    # its share of one item, by the hour's slot and its city's recent hours (the others: of its three)
    one = p.share() * p.slot_factor(p.slot_of(hour))
    e0 = one * np.maximum(parent - x, 1.0)
    assert out["step_expected"][i] == pytest.approx(one[i] * p.city_factor(p._clip(x, e0), e0)[i])
    assert np.isfinite(out["score"][i]) and out["expected"][i] >= out["step_expected"][i]
    # a busy hour is unchanged: the floor only binds when the rest of the province is under one item
    busy = dict(fields, **{"140105|食品|投诉|12315": 40})
    xb, pb = index.vector(busy)
    eb = det.panel.expected(xb, pb, at=hour, city=False)
    assert eb[i] == pytest.approx(p.share()[i] * 40 * p.slot_factor(p.slot_of(hour))[i])


def test_the_share_scan_ignores_what_the_whole_province_does():
    # a calendar peak: everyone x3 for a day is not a surge; one series x3 is
    rng = np.random.default_rng(1)
    n, hours = 40, 24 * 21
    w = rng.lognormal(0, 0.5, n)
    w /= w.sum()
    panel = SharePanel(n, h=7.0, grace_period=168)
    alarms_peak = 0
    for t in range(hours):
        factor = 3.0 if 24 * 15 <= t < 24 * 16 else 1.0
        x = rng.poisson(30 * w * factor)
        out = panel.commit(x, float(x.sum()))
        alarms_peak += int(out["alarm"].sum()) if factor > 1 else 0
    assert alarms_peak == 0
    x = rng.poisson(30 * w)
    x[7] += int(30 * w[7] * 2 + 6)
    out = panel.score(x, float(x.sum()))
    assert out["alarm"][7]


def test_scan_llr_matches_the_closed_forms():
    c = np.array([[0, 1, 2, 8]], float)
    m = np.array([[1, 1, 1, 1]], float)
    score, win, obs, exp = scan_llr(c, m, windows=(1, 2, 4))
    # the best window is the last step alone: 8 log 8 - 7
    assert win[0] == 1 and obs[0] == 8 and exp[0] == 1
    assert score[0] == pytest.approx(8 * np.log(8) - 7)
    nb, *_ = scan_llr(c, m, windows=(1,), inv_size=np.array([0.5]))
    R = 1 / 0.5
    assert nb[0] == pytest.approx(8 * np.log(8) + (8 + R) * np.log((R + 1) / (R + 8)))
    assert nb[0] < score[0]                                   # overdispersion weighs the evidence down
    low, *_ = scan_llr(np.array([[0, 0, 1, 1]], float), m, windows=(1, 2, 4), min_count=3)
    assert low[0] == 0


def test_the_one_series_form_alarms_on_its_own_history_without_a_parent():
    det = ShareScan(h=7.0, grace_period=24 * 7)
    rng = np.random.default_rng(4)
    t0 = datetime(2025, 3, 3)
    counts = rng.poisson(2 * np.tile(PROFILE / PROFILE.mean(), 35))
    counts[24 * 32 + 10: 24 * 32 + 14] += 9
    hits = [i for i, c in enumerate(counts) if det.update(int(c), t0 + timedelta(hours=i)).alarm]
    assert hits and 24 * 32 + 10 <= hits[0] <= 24 * 32 + 12


def test_context_counts_phrases_merchants_and_masks_samples():
    table = divisions()
    ts = T0.timestamp()
    docs = [{"id": f"c{i}", "ts": ts + i, "d": "140403", "i": "产品质量", "m": "潞州金鼎购物广场",
             "t": f"衣服洗了就掉色，更换难，电话13812345678 第{i}件", "kw": ["掉色", "更换"], "ph": ["衣服|掉色", "更换难"]}
            for i in range(6)]
    docs += [{"id": "x1", "ts": ts, "d": "140105", "i": "产品质量", "m": "别家", "t": "别的县", "ph": ["衣服|掉色"]},
             {"id": "x2", "ts": ts, "d": "140403", "i": "食品", "m": "饭店", "t": "别的行业", "ph": ["饭菜|变质"]},
             {"id": "x3", "ts": ts - 7200, "d": "140403", "i": "产品质量", "m": "旧", "t": "太早", "ph": []}]
    ctx = summarize(docs, district="140403", level="county", industry="产品质量", table=table, since=ts - 60, tz=TZ)
    assert ctx["complaints"] == 6
    assert ctx["phrases"][:2] == ["衣服掉色", "更换难"]
    assert ctx["merchants"] == [["潞州金鼎购物广场", 6]]
    assert [s["id"] for s in ctx["samples"]] == ["c5", "c4", "c3", "c2", "c1"]
    assert all("13812345678" not in s["text"] and "掉色" in s["text"] for s in ctx["samples"])
    city = summarize(docs, district="140400", level="city", industry=None, table=table, tz=TZ)
    assert city["complaints"] == 8 and "别家" not in dict(city["merchants"])


def _doc(i, district, industry, phrases, ts):
    from streams.topicmodel import Doc

    return Doc(f"d{i}", ts, district, industry, (), tuple(phrases), ())


def test_a_rising_phrase_spread_over_the_province_is_one_phrase_detection():
    table = divisions()
    now = T0 + timedelta(hours=15)
    since = now - timedelta(hours=1)
    ts = since.timestamp() + 60
    counties = [d.code for d in table.counties_of("140000")]
    docs = [_doc(i, counties[i * 7 % len(counties)], ["产品质量", "商超", "价格"][i % 3], ["电池|鼓包"], ts + i)
            for i in range(24)]
    docs += [_doc(100 + i, "140105", "食品", ["外卖|异物"], ts + i) for i in range(30)]
    bursts = [{"topic": "电池鼓包", "parts": ["电池", "鼓包"], "count": 24, "expected": 1.2, "score": 18.0, "rising": True},
              {"topic": "外卖异物", "parts": ["外卖", "异物"], "count": 30, "expected": 0.8, "score": 30.0, "rising": True},
              {"topic": "退款", "parts": ["退款"], "count": 40, "expected": 35, "score": 0.4, "rising": False},
              {"topic": "少见词", "parts": ["少见", "词"], "count": 4, "expected": 0.5, "score": 7.0, "rising": True}]
    busy = {"county:140105:食品"}                 # 外卖异物 is that county's surge: its alert carries it
    dets = phrase_detections(bursts, docs, province="140000", table=table, busy=busy, min_count=10, min_score=6.0,
                             now=now, since=since)
    assert [d["phrase"] for d in dets] == ["电池鼓包"]
    d = dets[0]
    assert d["series"] == "phrase:140000:电池鼓包" and d["level"] == "province" and d["district"] == "140000"
    assert d["industry"] == "*" and d["phrase_key"] == "电池|鼓包" and d["observed"] == 24 and d["counties"] > 10
    # the same phrase from one city's counties is that city's
    in_city = [_doc(i, c, "产品质量", ["电池|鼓包"], ts + i) for i, c in
               enumerate([x.code for x in table.counties_of("140800")] * 2)]
    [c] = phrase_detections(bursts[:1], in_city, province="140000", table=table, busy=set(), min_count=10,
                            min_score=6.0, now=now, since=since)
    assert (c["level"], c["district"]) == ("city", "140800")
    # a phrase inside another (保温杯涂层脱落 / 涂层脱落) on the same complaints is the same topic,
    # now or when the other was alerted a minute ago
    cup = [_doc(200 + i, counties[i * 5 % len(counties)], "商超", ["保温杯|涂层|脱落", "涂层|脱落"], ts + i)
           for i in range(15)]
    nested = [{"topic": "保温杯涂层脱落", "parts": ["保温杯", "涂层", "脱落"], "count": 15, "expected": 0.5,
               "score": 16.0, "rising": True},
              {"topic": "涂层脱落", "parts": ["涂层", "脱落"], "count": 15, "expected": 0.5, "score": 15.0, "rising": True}]
    kw = dict(province="140000", table=table, busy=set(), min_count=10, min_score=6.0, now=now, since=since)
    assert [d["phrase"] for d in phrase_detections(nested, cup, **kw)] == ["保温杯涂层脱落"]
    assert phrase_detections(nested[1:], cup, recent={"保温杯|涂层|脱落"}, **kw) == []
    # 外卖异物 alone in a county that has not alarmed is a phrase alert after all
    assert [d["phrase"] for d in phrase_detections(bursts, docs, province="140000", table=table, busy=set(),
                                                   min_count=10, min_score=6.0, now=now, since=since)] == ["电池鼓包", "外卖异物"]


# -- late complaints ------------------------------------------------------------------------------

def _relearned(index, hours: list[dict]) -> LiveDetector:
    det = LiveDetector(index, load_alert_config().detection)
    for h, fields in enumerate(hours):
        det.commit(T0 + timedelta(hours=h), fields)
    return det


def test_a_late_complaint_is_counted_by_the_scan_as_if_it_had_come_on_time(index):
    """The hour before this one held a county's surge, but most of it arrived late (a backlog):
    once folded in, the scan sums it as a detector that learned the whole hour at its close."""
    rng = np.random.default_rng(21)
    hours = list(_history(rng, 10 * 24))
    key = "140403|产品质量|投诉|12315"
    on_time = [dict(f) for f in hours]
    on_time[-1][key] = on_time[-1].get(key, 0) + 14           # the surge as it really was
    det = _relearned(index, hours)                             # learned the hour without it
    full = _relearned(index, on_time)
    now = T0 + timedelta(days=10, minutes=40)
    current = dict(next(_history(rng, 1)))
    current[key] = current.get(key, 0) + 8
    series = "county:140403:产品质量"

    def best(d: LiveDetector) -> dict:
        return {x["series"]: x for x in d.tick(now, current)}.get(series, {})

    assert best(full)["observed"] >= 22 and best(full)["window_hours"] == 2
    assert best(det).get("observed", 0) < best(full)["observed"]        # not counted yet
    late_hour = T0 + timedelta(hours=len(hours) - 1)
    assert det.learned_count(late_hour, series) == hours[-1].get(key, 0)
    assert det.revise({late_hour: on_time[-1]}) == 1
    assert det.learned_count(late_hour, series) == on_time[-1][key]
    got, want = best(det), best(full)
    assert got["observed"] == want["observed"] and got["window_hours"] == want["window_hours"]
    assert got["score"] == pytest.approx(want["score"], rel=0.05)
    assert np.array_equal(det.panel.x.buf, full.panel.x.buf)   # the scan's record of each hour
    # the baselines move as a relearning would move them
    i = index.pos[series]
    assert det.panel.share()[i] == pytest.approx(full.panel.share()[i], rel=0.02)
    # the same tally again changes nothing; an hour never learned is not made up
    assert det.revise({late_hour: on_time[-1]}) == 0
    assert det.revise({T0 - timedelta(hours=3): {key: 5}, now: {key: 5}}) == 0 and det.revisions == 1


def test_a_late_complaint_days_back_moves_the_baseline_by_its_age(index):
    rng = np.random.default_rng(4)
    hours = list(_history(rng, 9 * 24))
    key = "140105|食品|投诉|12315"
    back = 5 * 24                                        # beyond the scan's three days of windows
    revised = [dict(f) for f in hours]
    revised[-back][key] = revised[-back].get(key, 0) + 3
    det, full = _relearned(index, hours), _relearned(index, revised)
    before = det.panel.share().copy()
    assert det.revise({T0 + timedelta(hours=len(hours) - back): revised[-back]}) == 1
    i = index.pos["county:140105:食品"]
    assert det.panel.share()[i] > before[i]
    assert det.panel.share()[i] == pytest.approx(full.panel.share()[i], rel=0.01)


def test_the_detector_folds_a_late_complaint_from_the_real_tally(stack, procs):
    """Against the real worker and redis-server: complaints posted into an hour the detector has
    learned reach it through the tally versions, and only that hour is read again."""
    import asyncio

    import redis as redis_lib

    from alerts.agents import Detection
    from streams import keys
    from tests.conftest import make_complaints, publish_raw, start_worker, wait_until

    S = stack["settings"]
    start_worker(procs, stack)
    r = redis_lib.Redis.from_url(stack["env"]["REDIS_URL"], decode_responses=True)
    now = datetime.now(S.tz)
    hour = (now - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    when = (hour + timedelta(minutes=20)).isoformat()
    series = "county:140403:产品质量"

    def post(n: int, prefix: str, total: int) -> None:
        asyncio.run(publish_raw(S, make_complaints(n, prefix=prefix, district_pool=["140403"], when=when,
                                                   industry="产品质量")))
        wait_until(lambda: int(r.hget(keys.STATS, "accepted") or 0) >= total, 60, f"{total} complaints tallied")

    post(30, "det-a-", 30)
    d = Detection(S)
    d.rebuild(now)
    assert d.live.knows(hour) and d.live.learned_count(hour, series) == 30
    assert d.fold_late(now, force=True) == 0                    # nothing moved since
    reads = []
    d.r.execute_command = _counting(d.r.execute_command, reads)
    assert d.fold_late(now, force=True) == 0 and [c for c in reads if c != "HGET"] == []

    post(12, "det-b-", 42)                                       # late: into the learned hour
    assert d.fold_late(now, force=True) == 1
    assert d.live.learned_count(hour, series) == 42
    fresh = Detection(S)
    fresh.rebuild(now)
    assert fresh.live.learned_count(hour, series) == 42
    assert np.array_equal(d.live.panel.x.buf, fresh.live.panel.x.buf)   # the scan sums what a rebuild sums
    for name in ("num", "den", "snum", "sden", "var_num", "var_den", "so", "se", "alarming"):   # and learned it
        assert np.array_equal(getattr(d.live.panel, name), getattr(fresh.live.panel, name)), name

    # an hour learned at its close is read once more when its grace period is over (complaints
    # within the grace are not late and bump no version): here as if these 5 had come so
    post(5, "det-c-", 47)
    d._read_versions()                                                  # the version path sees nothing
    at = datetime.now(S.tz)
    d.settle = {hour: at.timestamp() + 3600}                            # its grace not over yet
    assert d.fold_late(at, force=True) == 0 and d.live.learned_count(hour, series) == 42
    d.settle[hour] = at.timestamp() - 1                                 # now it is
    assert d.fold_late(at, force=True) == 1 and d.live.learned_count(hour, series) == 47
    assert d.settle == {}
    r.close()


def _counting(execute, seen: list):
    def run(*args, **kw):
        seen.append(str(args[0]).upper())
        return execute(*args, **kw)
    return run


def test_history_that_arrives_late_in_bulk_is_not_a_surge(index):
    """A first start while the history is still being written (the demo's seeding, an import of a
    past export): the detector learns a day, then a week of hours that are still empty, and the
    week arrives late. Folded in, the scan's expected counts over its windows are what learning
    the week on time gives (they were the empty hours' expected counts, from shares learned
    before most of the history was there, rescaled: 6% of the right ones, 1149 false alarms)."""
    rng = np.random.default_rng(7)
    hours = list(_history(rng, 8 * 24 + 1))
    current = hours.pop()
    full, late = _relearned(index, hours), _relearned(index, hours[:24] + [{}] * (len(hours) - 24))
    assert late.warm
    assert late.revise({T0 + timedelta(hours=h): hours[h] for h in range(24, len(hours))}) == len(hours) - 24

    def windows(d: LiveDetector) -> np.ndarray:       # each series' expected count over the last 72 h
        p = d.panel
        return p.e.buf[:, [(p.x.pos - 1 - k) % p.x.size for k in range(72)]].sum(axis=1)

    want, got = windows(full), windows(late)
    busy = want >= 5
    assert busy.sum() > 1000
    assert np.all(got[busy] >= 0.85 * want[busy]) and np.all(got[busy] <= 1.15 * want[busy])
    assert np.array_equal(late.panel.x.buf, full.panel.x.buf)
    now = T0 + timedelta(hours=len(hours), minutes=50)
    raised = {x["series"] for x in late.tick(now, current)}
    assert raised <= {x["series"] for x in full.tick(now, current)}
