import pytest

from config import SettingsError, load_settings


def test_defaults_point_at_embedded_services_on_loopback(tmp_path):
    s = load_settings({"DATA_DIR": str(tmp_path)})   # a data dir without a Redis password file yet
    assert s.broker_embedded and s.redis_embedded
    assert s.broker == "127.0.0.1:9092"
    assert s.redis_url.startswith("redis://127.0.0.1:")
    assert s.api_url == "http://127.0.0.1:8000"
    assert "旅游" in s.raw["complaints"]["industries"] and len(s.raw["complaints"]["industries"]) == 11


def test_environment_overrides_switch_to_external_services(tmp_path):
    s = load_settings({"KAFKA_BROKER": "k1:9092,k2:9092", "REDIS_URL": "redis://r:6379/2",
                       "DATA_DIR": str(tmp_path), "API_PORT": "8123"})
    assert not s.broker_embedded and s.broker == "k1:9092,k2:9092"
    assert not s.redis_embedded and s.redis_url == "redis://r:6379/2"
    assert s.data_dir == tmp_path and s.raw["api"]["port"] == 8123


@pytest.mark.parametrize("env, words", [
    ({"API_PORT": "99999"}, ["api.port", "99999"]),
    ({"API_PORT": "eighty"}, ["api.port", "eighty"]),
    ({"REDIS_URL": "localhost:6379"}, ["redis.url", "redis://"]),
    ({"KAFKA_BROKER": "no port here"}, ["kafka.broker", "host:port"]),
    ({"KAFKA_PARTITIONS": "0"}, ["kafka.partitions", "positive"]),
])
def test_bad_values_name_the_setting_and_the_problem(env, words):
    with pytest.raises(SettingsError) as e:
        load_settings(env)
    for w in words:
        assert w in str(e.value)


def test_site_file_is_merged_and_checked(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("timezone: Mars/Olympus\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="time zone"):
        load_settings({"SETTINGS_FILE": str(site)})
    site.write_text("complaints:\n  industries: [食品, 食品]\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="twice"):
        load_settings({"SETTINGS_FILE": str(site)})
    site.write_text("tally:\n  grace_seconds: 30\n", encoding="utf-8")
    s = load_settings({"SETTINGS_FILE": str(site)})
    assert s.raw["tally"]["grace_seconds"] == 30 and s.raw["tally"]["dedup_days"] == 400
