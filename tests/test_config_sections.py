"""Typed settings sections (config/sections.py): what ``settings.kafka`` & co. read."""
from dataclasses import FrozenInstanceError, fields

import pytest

from config import Settings, load_settings
from config.sections import DashboardSettings, NlpSettings, SimulatorSettings


def site(tmp_path, text: str) -> dict:
    p = tmp_path / "site.yaml"
    p.write_text(text, encoding="utf-8")
    return {"SETTINGS_FILE": str(p)}


def test_every_section_reads_every_key_of_the_defaults():
    s = load_settings({})
    for name in ("kafka", "redis", "api", "complaints", "tally", "nlp", "simulator"):
        section = getattr(s, name)
        for f in fields(section):
            raw = s.raw[name][f.name]
            assert getattr(section, f.name) == (tuple(raw) if isinstance(raw, list) else raw), (name, f.name)
        # and no key of the defaults is left without a typed name
        assert set(s.raw[name]) <= {f.name for f in fields(section)}, name


def test_site_file_and_environment_reach_the_typed_sections(tmp_path):
    env = site(tmp_path, "tally: {grace_seconds: 30}\ncomplaints: {industries: [食品, 旅游]}\n"
                         "dashboard: {secure_cookies: true, boundaries: {city: /x.json}}\n")
    s = load_settings({**env, "API_PORT": "8123", "NLP_ENABLED": "0", "KAFKA_PARTITIONS": "8"})
    assert s.tally.grace_seconds == 30 and s.tally.dedup_days == 400
    assert s.api.port == 8123 and s.nlp.enabled is False and s.kafka.partitions == 8
    assert s.complaints.industries == ("食品", "旅游")
    assert s.complaints.industries_and_unclassified == ("食品", "旅游", "未分类")
    assert s.dashboard.secure_cookies is True and s.dashboard.boundaries == {"city": "/x.json"}
    assert s.dashboard.refresh_seconds == 2            # not in the site file: the default


def test_sections_are_frozen_and_a_typo_is_an_attribute_error():
    s = load_settings({})
    with pytest.raises(FrozenInstanceError):
        s.tally.grace_seconds = 1
    with pytest.raises(AttributeError):
        s.tally.grace_second  # noqa: B018


def test_the_wall_province_is_the_dashboards_else_the_simulators(tmp_path):
    assert load_settings({}).dashboard.province == "140000"
    s = load_settings(site(tmp_path, "simulator: {province: 150000}\n"))
    assert s.simulator.province == "150000" and s.dashboard.province == "150000"
    s = load_settings(site(tmp_path, "simulator: {province: '150000'}\ndashboard: {province: '130000'}\n"))
    assert s.dashboard.province == "130000"


def test_optional_sections_and_keys_have_defaults_and_unknown_keys_are_ignored():
    raw = load_settings({}).raw
    raw = {**raw, "nlp": {"enabled": True, "some_future_key": 1}}
    raw.pop("simulator")
    s = Settings(raw)
    assert s.nlp == NlpSettings(enabled=True)
    assert s.nlp.learn_online is True and s.nlp.learn_max_per_second == 50
    assert s.simulator == SimulatorSettings() and s.dashboard == DashboardSettings()
    # a section reflects the raw mapping it is read from (tests change raw in place)
    raw["nlp"]["learn_online"] = False
    assert s.nlp.learn_online is False


def test_no_runtime_module_reads_raw_settings():
    # settings.raw is the loader's output (handed whole to the dashboard's background process);
    # values are read through the typed sections, so a misspelt name fails where it is read
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    raw_read = re.compile(r"\.raw\s*(\[|\.get\()")
    found = [f"{f.relative_to(root)}:{n}" for pkg in ("streams", "dashboard", "alerts", "nlp")
             for f in sorted((root / pkg).rglob("*.py"))
             for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if raw_read.search(line)]
    assert found == []
