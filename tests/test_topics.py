"""Hot topics end to end: simulator → broker → worker (jieba extraction) → Redis → read API."""
import asyncio
import time
from datetime import datetime, timedelta

import httpx

from streams.readmodel import ReadModel
from streams.simgen import Simulator, load_surges, select_surges
from tests.conftest import publish_raw, start_worker, wait_until


def accepted(r) -> int:
    return int(r.hget("cc:stats", "accepted") or 0)


def test_an_injected_surge_is_the_top_bursting_phrase_of_its_county_within_its_first_hour(stack, procs, api):
    S, r = stack["settings"], stack["redis"]
    tz = S.tz
    # a fixed past Tuesday morning, so the simulated data (and the outcome) never depends on the clock
    surge_start = datetime(2026, 10, 13, 10, 20, tzinfo=tz)
    now = surge_start + timedelta(hours=1)
    surges = select_surges(load_surges(S), [f"mall-fading-clothes@{surge_start:%Y-%m-%dT%H:%M}"], tz)
    label = surges[0].label  # 长治市潞州区某商场衣服掉色、更换难投诉集中
    # a week of ordinary complaints for the baseline, then the surge at a tenth of its demo strength
    # (≈ 18 an hour in a county that usually sees a few)
    sim = Simulator(S, seed=7, surges=surges, rate_per_second=0.03, surge_scale=0.1, run_tag="topics")
    raws = list(sim.generate(now - timedelta(days=7, hours=2), now))
    in_surge = [c for c in raws if "surge:mall-fading-clothes" in c.get("tags", ())]
    assert 6 <= len(in_surge) <= 45, len(in_surge)  # ≈ 18 expected (Poisson)
    start_worker(procs, stack)
    asyncio.run(publish_raw(S, raws, per_message=500))
    wait_until(lambda: accepted(r) == len(raws), 120, f"{len(raws)} tallied")

    read = ReadModel(S, r)
    hot = read.topics("county", "140403", "hour", at=surge_start + timedelta(hours=1))
    top = hot["phrases"]["by_burst"][0]
    assert top["topic"] in label, hot["phrases"]["by_burst"][:5]   # 更换难 or 衣服掉色: what was injected
    rising = {t["topic"] for t in hot["phrases"]["by_burst"] if t["rising"]}
    assert {"衣服掉色", "更换难"} <= rising
    assert hot["keywords"]["by_burst"][0]["rising"]
    assert top["rising"] and top["count"] >= 3, hot["phrases"]["by_burst"][:3]
    assert set(top["samples"]) <= {c["id"] for c in in_surge}, "samples are complaints of the surge"
    assert len(top["trend"]) == 13 and top["trend"][-1] == top["count"]
    # the same question over HTTP
    res = httpx.get(api + "/api/v1/topics", params={"level": "county", "code": "140403", "window": "hour",
                                                     "at": (surge_start + timedelta(hours=1)).isoformat()},
                    headers=getattr(api, "headers", None))
    assert res.status_code == 200 and res.json()["phrases"]["by_burst"][0]["topic"] == top["topic"]
    # a custom period (the surge's first hour as since/until) gives the same top phrase
    custom = read.topics("county", "140403", since=surge_start, until=surge_start + timedelta(hours=1))
    assert custom["window"] == "custom" and custom["phrases"]["by_count"][0]["count"] >= top["count"] - 1
    # the keyword cloud of that selection, as the wall screen would fetch it
    png = httpx.get(api + "/api/v1/cloud.png", params={"level": "county", "code": "140403", "window": "hour",
                                                       "at": (surge_start + timedelta(hours=1)).isoformat()},
                    timeout=60, headers=getattr(api, "headers", None))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    from PIL import Image
    import io
    img = Image.open(io.BytesIO(png.content))
    assert img.size == (1920, 1080)
    (stack["env"]["DATA_DIR"] and open(f"{stack['env']['DATA_DIR']}/surge_cloud.png", "wb").write(png.content))
    empty = httpx.get(api + "/api/v1/cloud.png", params={"level": "county", "code": "140403", "window": "hour",
                                                         "at": "2020-01-01T00:00:00"},
                      headers=getattr(api, "headers", None))
    assert empty.status_code == 404 and "no complaints" in empty.json()["error"]
    # the province-wide view one hour before the surge shows nothing about fading clothes rising
    before = read.topics("province", "140000", "hour", at=surge_start)
    assert not any("掉色" in t["topic"] and t["rising"] for t in before["phrases"]["by_burst"])


def test_a_complaint_without_industry_is_classified_and_tallied_under_it(stack, procs, api):
    start_worker(procs, stack)
    when = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))
    sure = {"id": "noind-1", "received_at": when, "channel": "12315", "kind": "投诉", "district": "140403",
            "text": "酒店房间有蟑螂，床单也不干净，前台不给换房"}
    # a text the model cannot place (no industry's words) stays unclassified: it abstains
    unsure = {**sure, "id": "noind-2", "text": "我要投诉，请尽快处理"}
    for c in (sure, unsure):
        assert httpx.post(api + "/api/v1/complaints", json=c, headers=getattr(api, "headers", None)).status_code == 202
    wait_until(lambda: accepted(stack["redis"]) == 2, 30, "2 tallied")
    read = ReadModel(stack["settings"], stack["redis"])
    assert read.total("county", "140403", industry="旅游") == 1
    assert read.total("county", "140403", industry="未分类") == 1


def test_nothing_is_rising_without_history_and_a_new_topic_is_once_history_exists(stack):
    import orjson

    S, r = stack["settings"], stack["redis"]
    at = datetime(2026, 10, 13, 12, 0, tzinfo=S.tz)

    def put(when: datetime, n: int, kw: list[str], ph: list[str], tag: str):
        key = f"cc:docs:{when:%Y%m%d%H}:140000"
        r.rpush(key, *[orjson.dumps({"id": f"{tag}{i}", "ts": when.timestamp() + i, "d": "140105", "i": "商超",
                                     "k": "投诉", "c": "12315", "t": "…", "kw": kw, "ph": ph}) for i in range(n)])

    put(at - timedelta(minutes=30), 6, ["超市", "过期"], ["食品|过期"], "now")
    put(at - timedelta(minutes=20), 10, ["退款"], [], "other")  # unrelated complaints the same hour
    cold = ReadModel(S, r).topics("city", "140100", "hour", at=at)
    assert cold["baseline_ok"] is False
    assert cold["phrases"]["by_count"][0]["topic"] == "食品过期"
    assert not any(t["rising"] for kind in ("phrases", "keywords") for t in cold[kind]["by_burst"])
    for day in range(1, 8):  # the same hour on the previous week: 超市 every day, no expired food
        put(at - timedelta(days=day, minutes=30), 4, ["超市"], [], f"d{day}-")
        put(at - timedelta(days=day, minutes=20), 10, ["退款"], [], f"o{day}-")
    warm = ReadModel(S, r).topics("city", "140100", "hour", at=at)
    assert warm["baseline_ok"] is True
    rising = {t["topic"] for kind in ("phrases", "keywords") for t in warm[kind]["by_burst"] if t["rising"]}
    assert rising == {"食品过期", "过期"}


def test_an_hours_topics_read_only_the_hours_they_compare():
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from streams.topicmodel import window_keys

    tz = ZoneInfo("Asia/Shanghai")
    end = datetime(2026, 11, 24, 14, 30, tzinfo=tz)
    hour = timedelta(hours=1)
    windows = [(end - hour, end)] + [(end - hour - k * timedelta(days=1), end - k * timedelta(days=1)) for k in range(1, 8)]
    windows += [(end - (k + 1) * hour, end - k * hour) for k in range(1, 13)]
    keys = window_keys("140000", windows, tz)
    assert len(keys) == len(set(keys)) and len(keys) < 40             # not the 7 x 24 hours in between
    assert keys[0] == "cc:docs:2026111713:140000" and keys[-1] == "cc:docs:2026112414:140000"
    assert "cc:docs:2026112000:140000" not in keys and "cc:docs:2026112313:140000" in keys


def test_the_document_cache_drops_lists_it_was_not_asked_for(stack):
    from streams.topicmodel import DocCache

    r = stack["redis"]
    doc = '{"id":"x","ts":1,"d":"140403","i":"食品","kw":["外卖"],"ph":["外卖|异物"]}'
    r.rpush("cc:docs:2026112401:140000", doc, doc)
    r.rpush("cc:docs:2026112402:140000", doc)
    cache = DocCache(r, keep_s=3600)
    assert len(cache.docs(["cc:docs:2026112401:140000", "cc:docs:2026112402:140000"])) == 3
    cache.keep_s = 0.0
    assert len(cache.docs(["cc:docs:2026112402:140000"])) == 1
    assert set(cache.lists) == {"cc:docs:2026112402:140000"}
