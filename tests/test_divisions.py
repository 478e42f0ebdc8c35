from config.divisions import divisions


def test_the_whole_official_table_is_carried():
    t = divisions()
    assert len(t) == 3213
    shanxi_cities = [d for d in t.children("140000") if d.level == "city"]
    assert len(shanxi_cities) == 11
    assert len(t.counties_of("140000")) == 117
    assert t.get("140400").name == "长治市"


def test_rollup_codes_at_each_level():
    d = divisions().get("140403")  # 潞州区, 长治市, 山西省
    assert (d.code_at("province"), d.code_at("city"), d.code_at("county")) == ("140000", "140400", "140403")
    beijing = divisions().get("110101")  # a district directly under a municipality has no city
    assert beijing.code_at("city") == "" and beijing.code_at("province") == "110000"


def test_names_as_exports_write_them():
    t = divisions()
    assert t.resolve_name("长治市潞州区").code == "140403"
    assert t.resolve_name("山西省长治市潞州区").code == "140403"
    assert t.resolve_name("潞州区").code == "140403"
    assert t.resolve_name("城区") is None  # several cities have one: ambiguous
    assert t.resolve_name("火星市") is None
