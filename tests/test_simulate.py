"""The complaint simulator: the pure generator (streams.simgen) and the CLI (streams.simulate)."""
from __future__ import annotations

import asyncio
import math
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from functools import lru_cache

import orjson
import pytest

from config import load_settings
from config.divisions import divisions
from streams.schema import Rules
from streams.simgen import KIND_MIX, Simulator, SurgeError, load_surges, parse_duration, select_surges
from tests.conftest import ROOT, consume_all

SETTINGS = load_settings({})
TZ = SETTINGS.tz
TUESDAY = datetime(2024, 10, 8, 0, 0, tzinfo=TZ)   # an ordinary working week (after the National Day holiday)
SHANXI = {d.code for d in divisions().counties_of("140000")}


def complaints(hours: float, rate: float = 1.0, seed: int = 7, surges=(), start: datetime = TUESDAY, **kw) -> list[dict]:
    sim = Simulator(SETTINGS, seed=seed, surges=list(surges), rate_per_second=rate, **kw)
    return list(sim.generate(start, start + timedelta(hours=hours)))


@lru_cache(maxsize=1)
def one_week() -> tuple[dict, ...]:
    """About 20,000 baseline complaints over an ordinary week, shared by several tests."""
    return tuple(complaints(24 * 7, rate=20_000 / (7 * 86400)))


def surge(name: str, start: str = "2h"):
    return select_surges(load_surges(SETTINGS), [f"{name}@{start}"], TZ)[0]


def when(rec: dict) -> datetime:
    return datetime.fromisoformat(rec["received_at"])


# --- the generator -------------------------------------------------------------------------------

def test_every_record_validates_with_rules_and_looks_like_a_complaint():
    recs = list(one_week()) + complaints(6, rate=0.2, seed=8, surges=[surge(n, "30m") for n in load_surges(SETTINGS)])
    rules = Rules(SETTINGS)
    for r in recs:
        _, errs = rules.validate(r)
        assert errs == [], (r, errs)
    assert len({r["id"] for r in recs}) == len(recs)
    assert all(re.fullmatch(r"SIM-[78]-\d{14}-\d{9}", r["id"]) for r in recs)
    assert all(30 <= len(r["text"]) <= 200 for r in recs)
    assert all(r["received_at"].endswith("+08:00") for r in recs)
    # varied wording, with the keywords the bureaus' keyword clouds show
    texts = [r["text"] for r in recs]
    assert len(set(texts)) > 0.85 * len(texts)
    complaint_texts = [r["text"] for r in recs if r["kind"] == "投诉"]
    assert len(set(complaint_texts)) > 0.98 * len(complaint_texts)
    for word in ("掉色", "更换难", "价格不合理", "预付卡", "异物", "鼓包", "以次充好", "强制消费", "虚假宣传",
                 "里程造假", "装修延期", "过期", "质量差", "退一赔十"):
        assert any(word in t for t in texts), word
    assert {r["industry"] for r in recs} == set(SETTINGS.complaints.industries)
    assert {"12315", "12345", "mini-program", "110", "letter", "visit"} <= {r["channel"] for r in recs}
    assert Counter(r["channel"] for r in recs).most_common(1)[0][0] == "12315"


def test_some_texts_carry_a_phone_number_that_intake_masks():
    recs = one_week()
    phone = re.compile(r"1[3-9]\d0000\d{4}")
    with_phone = [r for r in recs if phone.search(r["text"])]
    assert 0.03 * len(recs) < len(with_phone) < 0.15 * len(recs)
    rules = Rules(SETTINGS)
    for r in with_phone[:50]:
        rec, _ = rules.validate(r)
        assert not phone.search(rec["text"]) and "****" in rec["text"]
    assert all(phone.fullmatch(r["contact"]["phone"]) for r in recs if r.get("contact", {}).get("phone"))


def test_kind_mix_is_close_to_changzhi():
    recs = one_week()
    assert 18_000 < len(recs) < 22_000
    mix = Counter(r["kind"] for r in recs)
    for kind, share in KIND_MIX.items():
        assert abs(mix[kind] / len(recs) - share) < 0.02, (kind, mix[kind] / len(recs))


def test_districts_are_shanxi_counties_and_big_cities_get_more():
    recs = one_week()
    by_code = Counter(r["district"] for r in recs)
    assert set(by_code) <= SHANXI
    assert len(by_code) > 110
    table = divisions()
    by_city = Counter()
    for code, n in by_code.items():
        by_city[table.get(code).city_code] += n
    assert len(by_city) == 11
    assert by_city.most_common(1)[0][0] == "140100"                   # 太原
    for big in ("140100", "140400", "140800", "140200"):             # 太原, 长治, 运城, 大同
        assert by_city[big] > by_city["140600"]                      # > 朔州
    assert by_code["140403"] > 5 * by_code["140426"]                  # 潞州区 > 黎城县


def test_daily_rhythm_low_at_night_peaks_in_the_morning():
    recs = one_week()
    by_hour = Counter(when(r).hour for r in recs)
    night = sum(by_hour[h] for h in range(1, 6)) / 5
    morning = sum(by_hour[h] for h in range(9, 12)) / 3
    assert night < 0.1 * morning, (night, morning)
    by_day = Counter(when(r).weekday() for r in recs)
    assert by_day[0] > by_day[6] * 1.3                                # Monday busier than Sunday


def test_merchant_pools_are_stable_per_county():
    a = Simulator(SETTINGS, seed=1).merchant_pool("140403", "mall")
    b = Simulator(SETTINGS, seed=2).merchant_pool("140403", "mall")
    assert a == b and len(a) >= 4
    merchants = Counter(r["merchant"] for r in one_week() if r["district"] == "140105" and r.get("merchant"))
    assert merchants.most_common(1)[0][1] >= 3                      # names recur, a few more than others
    assert any(m.startswith("小店") for m in merchants)


@pytest.mark.parametrize("name", ["mall-fading-clothes", "national-day-tourism", "prepaid-card-gym"])
def test_surge_records_are_tagged_confined_and_raise_the_county_rate(name):
    s = surge(name, "2h")
    base = complaints(8, rate=1.0, seed=3)
    with_surge = complaints(8, rate=1.0, seed=3, surges=[s])
    t0, t1 = TUESDAY + timedelta(hours=2), TUESDAY + timedelta(hours=2) + timedelta(seconds=s.duration)
    tagged = [r for r in with_surge if r.get("tags")]
    assert tagged and all(r["tags"] == [f"surge:{name}"] for r in tagged)
    assert all(t0 <= when(r) < t1 for r in tagged)
    assert {r["district"] for r in tagged} == {s.district}
    assert {r["industry"] for r in tagged} == {s.industry}
    assert {r["merchant"] for r in tagged} <= set(s.merchants)
    assert all(not r.get("tags") for r in base)
    # expected size: the surge's rate over its window (a ramp gives half of it)
    hours = s.duration / 3600
    ramp = s.ramp_up / 3600 if s.ramp_up else hours
    expect = s.rate_per_hour * (hours - ramp / 2 if s.shape == "ramp" else hours)
    assert abs(len(tagged) - expect) < 5 * math.sqrt(expect), (len(tagged), expect)

    def county_industry(recs):
        return sum(1 for r in recs if r["district"] == s.district and r["industry"] == s.industry
                   and t0 <= when(r) < t1)
    def county(recs):
        return sum(1 for r in recs if r["district"] == s.district and t0 <= when(r) < t1)
    assert county_industry(with_surge) > 3 * max(1, county_industry(base))
    assert county(with_surge) > 1.4 * county(base)


def test_ramp_rises_and_step_is_flat():
    ramp = surge("national-day-tourism", "0s")
    recs = [r for r in complaints(3, rate=0.0, surges=[ramp]) if r.get("tags")]
    first, last = (sum(1 for r in recs if when(r) < TUESDAY + timedelta(minutes=20)),
                   sum(1 for r in recs if TUESDAY + timedelta(minutes=40) <= when(r) < TUESDAY + timedelta(hours=1)))
    assert last > 2 * first
    step = surge("mall-fading-clothes", "0s")
    recs = complaints(4, rate=0.0, surges=[step])
    halves = Counter(when(r) < TUESDAY + timedelta(hours=2) for r in recs)
    assert abs(halves[True] - halves[False]) < 4 * math.sqrt(len(recs))


def test_same_seed_same_output_other_seed_other_output():
    s = [surge("mall-fading-clothes", "30m")]
    a = complaints(3, rate=0.5, seed=11, surges=s)
    b = complaints(3, rate=0.5, seed=11, surges=s)
    c = complaints(3, rate=0.5, seed=12, surges=s)
    assert a == b
    assert [r["text"] for r in a] != [r["text"] for r in c]
    assert {r["id"] for r in a}.isdisjoint(r["id"] for r in c)
    later = complaints(3, rate=0.5, seed=11, start=TUESDAY + timedelta(seconds=1))
    assert {r["id"] for r in a}.isdisjoint(r["id"] for r in later)      # another run never reuses ids


def test_rate_at_follows_the_rhythm_and_adds_surges():
    s = surge("mall-fading-clothes", "1h")
    sim = Simulator(SETTINGS, seed=1, surges=[s], rate_per_second=2.0)
    assert sim.rate_at(TUESDAY.replace(hour=3)) < 0.3
    assert sim.rate_at(TUESDAY.replace(hour=10)) > 2.0
    assert sim.rate_at(TUESDAY + timedelta(hours=2), origin=TUESDAY) == pytest.approx(
        sim.baseline_rate_at(TUESDAY + timedelta(hours=2)) + 180 / 3600)
    week = sum(sim.baseline_rate_at(TUESDAY + timedelta(minutes=m)) for m in range(0, 7 * 1440, 10)) / (7 * 144)
    assert week == pytest.approx(2.0, rel=0.01)                       # --rate is the weekly average
    assert Simulator(SETTINGS, rate_per_second=2.0, flat=True).rate_at(TUESDAY.replace(hour=3)) == 2.0


def test_surge_file_is_checked_and_names_the_bad_value(tmp_path):
    assert {"national-day-tourism", "mall-fading-clothes", "prepaid-card-gym"} <= set(load_surges(SETTINGS))
    bad = tmp_path / "surges.yaml"
    bad.write_text("surges:\n  oops:\n    district: '999999'\n    industry: 旅游\n    merchant: x\n"
                   "    rate_per_hour: 5\n    start: 1h\n    duration: 1h\n    templates: ['在{merchant}很贵']\n",
                   encoding="utf-8")
    with pytest.raises(SurgeError, match=r"'oops'.*district 999999"):
        load_surges(SETTINGS, bad)
    with pytest.raises(SurgeError, match="no surge named 'nope'"):
        select_surges(load_surges(SETTINGS), ["nope"], TZ)
    s = select_surges(load_surges(SETTINGS), ["mall-fading-clothes@2024-10-01T09:00"], TZ)[0]
    assert s.start == datetime(2024, 10, 1, 9, 0, tzinfo=TZ)
    assert parse_duration("90s") == 90 and parse_duration("2h") == 7200 and parse_duration("1d") == 86400


# --- the command line ----------------------------------------------------------------------------

def cli(*args: str, env=None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streams.simulate", *args], cwd=ROOT, env=env, check=False,
                          capture_output=True, text=True, timeout=timeout)


def test_help_names_every_option():
    p = cli("--help")
    assert p.returncode == 0, p.stderr
    for opt in ("--rate", "--duration", "--count", "--surge", "--list-surges", "--seed", "--speedup",
                "--history-days", "--history-rate", "--out", "--api", "--surge-scale", "--flat"):
        assert opt in p.stdout, opt
    listed = cli("--list-surges")
    assert listed.returncode == 0 and "national-day-tourism" in listed.stdout and "140922" in listed.stdout


def test_out_stdout_prints_valid_json_lines_and_announces_surges():
    p = cli("--count", "60", "--out", "-", "--speedup", "1000", "--flat", "--surge", "mall-fading-clothes@0s",
            "--surge-scale", "50")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 60
    rules = Rules(SETTINGS)
    recs = [orjson.loads(x) for x in lines]
    assert all(rules.validate(r)[1] == [] for r in recs)
    assert any(r.get("tags") == ["surge:mall-fading-clothes"] for r in recs)
    # live mode stamps the real time
    assert all(abs(when(r).timestamp() - time.time()) < 60 for r in recs)
    assert re.search(r"^SURGE START name=mall-fading-clothes at=\S+\+08:00 district=140403 industry=产品质量 ",
                     p.stderr, re.MULTILINE)
    assert re.search(r"^SURGE END name=mall-fading-clothes ", p.stderr, re.MULTILINE)
    assert re.search(r"^simulator: sent 60 complaints to stdout .*surge:mall-fading-clothes \d+", p.stderr, re.MULTILINE)


def test_history_days_writes_about_the_expected_number(tmp_path):
    out = tmp_path / "history.jsonl"
    p = cli("--history-days", "2", "--out", str(out))
    assert p.returncode == 0, p.stderr
    end = datetime.now(TZ)
    expect = Simulator(SETTINGS, rate_per_second=317_214 / (365 * 24 * 3600)).expected_count(end - timedelta(days=2), end)
    recs = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert abs(len(recs) - expect) < 5 * math.sqrt(expect), (len(recs), expect)
    times = [when(r) for r in recs]
    assert times == sorted(times) and end - timedelta(days=2, minutes=1) < times[0] and times[-1] <= end
    assert f"sent {len(recs):,} complaints" in p.stderr


def test_ctrl_c_stops_cleanly_with_a_summary(tmp_path):
    out = tmp_path / "live.jsonl"
    p = subprocess.Popen([sys.executable, "-m", "streams.simulate", "--out", str(out), "--rate", "50", "--flat"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline and (not out.exists() or out.stat().st_size == 0):
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    n = len(out.read_bytes().splitlines())
    assert n > 0 and f"simulator: sent {n:,} complaints" in err and "Traceback" not in err


def test_unreachable_broker_or_api_is_one_clear_line():
    import os

    from streams.services import free_port

    port = free_port()
    p = cli("--count", "5", env={**os.environ, "KAFKA_BROKER": f"127.0.0.1:{port}"})
    assert p.returncode == 1
    assert f"cannot reach the Kafka broker at 127.0.0.1:{port}" in p.stderr and "Traceback" not in p.stderr
    p = cli("--count", "5", "--api", f"http://127.0.0.1:{port}")
    assert p.returncode == 1
    assert "cannot reach the intake API" in p.stderr and "Traceback" not in p.stderr


# --- against the real broker ---------------------------------------------------------------------

def test_cli_publishes_exactly_count_complaints_in_envelopes(stack):
    settings = stack["settings"]
    p = cli("--count", "300", "--speedup", "1000", "--flat", "--surge", "prepaid-card-gym@0s", "--surge-scale", "100",
            env=stack["env"])
    assert p.returncode == 0, p.stderr
    assert f"to Kafka {settings.broker} topic {settings.complaints_topic}" in p.stderr
    # the run has ended and every send was acknowledged: whatever is on the topic now is all there is
    msgs = asyncio.run(consume_all(settings, settings.complaints_topic, expect=10**6, timeout=4))
    envelopes = [orjson.loads(m) for m in msgs]
    assert envelopes and all(e["v"] == 1 and e["src"] == "simulator" for e in envelopes)
    items = [i for e in envelopes for i in e["items"]]
    assert len(items) == 300 and len({i["id"] for i in items}) == 300
    assert all(i["district"] in SHANXI and i["province"] == "140000" for i in items)
    assert any(i.get("tags") == ["surge:prepaid-card-gym"] for i in items)
    assert all(i["contact"].get("masked") for i in items if "contact" in i)
    assert not any(re.search(r"1[3-9]\d0000\d{4}", i["text"]) for i in items)


def test_cli_posts_batches_to_the_intake_api(stack, api):
    settings = stack["settings"]
    nobody = cli("--count", "5", "--speedup", "1000", "--flat", "--api", api,
                 env={k: v for k, v in stack["env"].items() if k != "API_TOKEN"})
    assert nobody.returncode == 1 and "answered 401" in nobody.stderr and "API_TOKEN" in nobody.stderr
    token = api.token_headers("demo-feed", "submit")["Authorization"].split()[1]
    p = cli("--count", "120", "--speedup", "1000", "--flat", "--api", api, env={**stack["env"], "API_TOKEN": token})
    assert p.returncode == 0, p.stderr
    assert f"sent 120 complaints to API {api}/api/v1/complaints" in p.stderr
    msgs = asyncio.run(consume_all(settings, settings.complaints_topic, expect=10**6, timeout=4))
    items = [i for m in msgs for i in orjson.loads(m)["items"]]
    assert len(items) == 120 and all(i["id"].startswith("SIM-") for i in items)
