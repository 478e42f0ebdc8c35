from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from streams.tally import bucket_range, is_late, minute_bucket, tally_args

TZ = ZoneInfo("Asia/Shanghai")


def ts(s: str) -> float:
    return datetime.fromisoformat(s).timestamp()


def test_windows_are_local_calendar_windows():
    # 2024-09-30 16:30 UTC is 2024-10-01 00:30 in Shanghai: it belongs to 1 October's day
    # (the hour and day buckets are the minute's first 10 and 8 digits, cut in tally.lua).
    assert minute_bucket({"ts": ts("2024-09-30T16:30:59+00:00")}, TZ) == "202410010030"
    assert minute_bucket({"ts": ts("2024-10-01T23:59:59+08:00")}, TZ) == "202410012359"


def test_late_means_beyond_the_grace_period():
    now = ts("2024-10-01T12:00:00+08:00")
    assert not is_late({"ts": now - 200}, now, grace_seconds=300)
    assert is_late({"ts": now - 400}, now, grace_seconds=300)


def test_tally_args_name_the_most_specific_district():
    rec = {"id": "x", "ts": ts("2024-10-01T10:15:00+08:00"), "province": "140000", "district": "140403",
           "industry": "旅游", "kind": "投诉", "channel": "12315"}
    assert tally_args(rec, TZ, rec["ts"], 300) == ("x", "140000", "140403|旅游|投诉|12315", "202410011015", 0)


def test_bucket_ranges():
    since = datetime(2024, 10, 1, 10, 15, tzinfo=TZ)
    assert [b for _, b in bucket_range("h", since, since + timedelta(hours=2), TZ)] == \
        ["2024100110", "2024100111", "2024100112"]
    days = bucket_range("d", datetime(2024, 9, 29, 23, tzinfo=TZ), datetime(2024, 10, 2, tzinfo=TZ), TZ)
    assert [b for _, b in days] == ["20240929", "20240930", "20241001"]
    utc_since = datetime(2024, 10, 1, 2, 0, tzinfo=timezone.utc)  # = 10:00 local
    assert bucket_range("m", utc_since, utc_since + timedelta(minutes=2), TZ)[0][1] == "202410011000"
