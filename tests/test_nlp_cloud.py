"""Keyword clouds (nlp/cloud.py): sizes, fonts and glyph coverage, determinism and caching,
rising colour, and the `python -m nlp cloud` command line. No broker, no Redis."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageColor

from nlp import cloud
from nlp.cloud import CloudError, FontError, cache_clear, cache_info, find_cjk_font, render_cloud, uncovered_chars

ROOT = Path(__file__).resolve().parent.parent

WEIGHTS = {"衣服掉色": 50, "更换难": 30, "价格不合理": 28, "电器质量差": 25, "退款难": 20, "门票贵": 18,
           "预付卡": 15, "虚假宣传": 12, "黄金首饰": 10, "电动车电池": 9, "家装延期": 8, "二手车": 7}
RISING = ("电器质量差", "门票贵")
MISSING = "\U00030000"   # CJK Extension G: no Debian CJK font has it


def png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def near(img: Image.Image, colour: str, tol: int = 40) -> np.ndarray:
    """Boolean map of pixels within `tol` of `colour` (per channel)."""
    rgb = np.asarray(img.convert("RGB"), dtype=int)
    return (np.abs(rgb - np.array(ImageColor.getrgb(colour))) <= tol).all(axis=2)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache_clear()
    yield
    cache_clear()


@pytest.fixture
def no_fonts(monkeypatch):
    """A machine without any CJK font: nothing configured, fc-match answers nothing, no Debian files."""
    real = cloud.load_config()
    monkeypatch.setattr(cloud, "load_config", lambda *a: {**real, "font_path": ""})
    monkeypatch.delenv("CLOUD_FONT", raising=False)
    monkeypatch.setattr(cloud, "_fc_match", lambda: None)
    monkeypatch.setattr(cloud, "KNOWN_FONTS", ())


# -- sizes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("size, expected", [("wall", (1920, 1080)), ("wall4k", (3840, 2160)),
                                            ("print", (3508, 2480)), ((1000, 701), (1000, 701)),
                                            ((3001, 1999), (3001, 1999))])
def test_png_has_the_exact_size(size, expected):
    img = png(render_cloud(WEIGHTS, RISING, size=size))
    assert img.format == "PNG" and img.size == expected


def test_print_is_white_and_wall_is_dark():
    wall = np.asarray(png(render_cloud(WEIGHTS, size="wall")).convert("L"))
    page = np.asarray(png(render_cloud(WEIGHTS, size="print")).convert("L"))
    assert wall[0, 0] < 60 and np.median(wall) < 60
    assert page[0, 0] == 255 and np.median(page) > 200


def test_unknown_size_and_nothing_to_draw():
    with pytest.raises(CloudError, match="wall"):
        render_cloud(WEIGHTS, size="huge")
    with pytest.raises(CloudError, match="nothing to draw"):
        render_cloud({})
    with pytest.raises(CloudError, match="nothing to draw"):
        render_cloud({"衣服掉色": 0, "  ": 5, "更换难": float("nan")})


# -- fonts -----------------------------------------------------------------------------------

def test_font_found_covers_every_character_drawn():
    font = find_cjk_font()
    assert os.path.isfile(font)
    drawn = "".join(WEIGHTS) + "".join(cloud.LEGEND) + "12315投诉关键词（2024年1—6月）"
    assert uncovered_chars(font, drawn) == set()


def test_ttc_collection_draws_the_simplified_chinese_face():
    from fontTools.ttLib import TTFont

    font = find_cjk_font()
    if not font.lower().endswith(".ttc"):
        pytest.skip(f"{font} is not a collection")
    with TTFont(font, fontNumber=cloud.face_index(font), lazy=True) as f:
        name = f["name"].getDebugName(1)
    if "CJK" in name:  # Noto: the first face of the collection is the Japanese one
        assert "SC" in name.split(), name


def test_missing_glyph_is_reported_not_drawn_as_tofu():
    font = find_cjk_font()
    assert uncovered_chars(font, f"衣服掉色{MISSING} 更换难") == {MISSING}
    with pytest.raises(FontError) as e:
        render_cloud({"衣服掉色": 5, f"商户{MISSING}记": 3})
    assert MISSING in str(e.value) and "U+30000" in str(e.value) and "\n" not in str(e.value)


def test_no_cjk_font_is_a_clear_one_line_error(no_fonts):
    with pytest.raises(FontError) as e:
        find_cjk_font("/nonexistent/NotoSansCJK-Bold.ttc")
    msg = str(e.value)
    assert msg.startswith("no CJK font found")
    assert "fonts-noto-cjk" in msg and "CLOUD_FONT" in msg and "config/nlp/cloud.yaml" in msg
    assert "/nonexistent/NotoSansCJK-Bold.ttc" in msg and "\n" not in msg
    with pytest.raises(FontError, match="no CJK font found"):
        render_cloud(WEIGHTS)


def test_a_latin_only_font_is_not_taken_for_a_chinese_one(no_fonts, monkeypatch):
    """`fc-match :lang=zh` answers DejaVu Sans; coverage is checked, so it is refused."""
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # fonts-dejavu-core, installed by make setup
    assert "衣" in uncovered_chars(latin, "衣服掉色")
    monkeypatch.setattr(cloud, "_fc_match", lambda: latin)
    with pytest.raises(FontError, match="no CJK font found"):
        find_cjk_font()


def test_env_font_is_used_and_a_bad_one_skipped(monkeypatch):
    good = find_cjk_font()
    monkeypatch.setenv("CLOUD_FONT", good)
    assert find_cjk_font() == good
    monkeypatch.setenv("CLOUD_FONT", "/nonexistent/font.ttf")
    assert os.path.isfile(find_cjk_font())


# -- determinism and caching -----------------------------------------------------------------

def test_same_input_same_bytes_and_the_second_call_does_not_redraw():
    first = render_cloud(WEIGHTS, RISING)
    assert cache_info().renders == 1
    # Same words in another order, scaled, rising given as a set: the same cloud.
    again = render_cloud({w: v * 10 for w, v in reversed(WEIGHTS.items())}, set(RISING))
    info = cache_info()
    assert again == first
    assert (info.renders, info.hits) == (1, 1)
    cache_clear()  # a real redraw gives the very same bytes too
    assert render_cloud(WEIGHTS, RISING) == first
    assert cache_info().renders == 1


def test_different_input_is_drawn_again():
    a = render_cloud(WEIGHTS, RISING)
    b = render_cloud(WEIGHTS, ("衣服掉色",))
    c = render_cloud({**WEIGHTS, "预付卡": 40}, RISING)
    assert len({a, b, c}) == 3 and cache_info().renders == 3


def test_disk_cache_survives_the_process_cache(tmp_path):
    cache_dir = tmp_path / "cache" / "clouds"
    first = render_cloud(WEIGHTS, RISING, cache_dir=cache_dir)
    assert len(list(cache_dir.glob("*.png"))) == 1
    cache_clear()  # as in a new process
    assert render_cloud(WEIGHTS, RISING, cache_dir=cache_dir) == first
    info = cache_info()
    assert (info.renders, info.disk_hits) == (0, 1)


def test_disk_cache_keeps_the_most_recent(tmp_path, monkeypatch):
    real = cloud.load_config()
    monkeypatch.setattr(cloud, "load_config", lambda *a: {**real, "disk_cache": 2})
    for n in range(3):
        render_cloud({"衣服掉色": 5, "更换难": 1 + n}, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.png"))) == 2 and not list(tmp_path.glob("*.tmp"))


# -- colours ---------------------------------------------------------------------------------

def test_rising_words_are_drawn_in_the_rising_colour_and_steady_ones_not():
    theme = cloud.load_config()["themes"]["dark"]
    words = {"衣服掉色": 50, "更换难": 30, "电器质量差": 25}
    with_rising = png(render_cloud(words, ["电器质量差"]))
    steady_only = png(render_cloud(words))
    h = with_rising.height
    cut = h - 140  # the legend (with a swatch of each colour) sits in the lower right corner
    hot_with = near(with_rising, theme["rising"])[:cut].sum()
    hot_without = near(steady_only, theme["rising"])[:cut].sum()
    assert hot_with > 5000, hot_with
    assert hot_without == 0, hot_without
    # the steady words are in the steady tones in both
    for img in (with_rising, steady_only):
        cool = sum(near(img, c)[:cut].sum() for c in theme["steady"])
        assert cool > 5000
    # the legend shows both colours
    assert near(steady_only, theme["rising"])[cut:].sum() > 100


def test_rising_colour_in_print():
    theme = cloud.load_config()["themes"]["light"]
    img = png(render_cloud({"衣服掉色": 50, "门票贵": 30, "预付卡": 20}, ["门票贵"], size="print"))
    assert near(img, theme["rising"])[: img.height - 300].sum() > 5000


# -- command line ----------------------------------------------------------------------------

def test_cli_missing_file_is_one_line_exit_2(tmp_path):
    r = subprocess.run([sys.executable, "-m", "nlp", "cloud", str(tmp_path / "nope.txt"), "-o",
                        str(tmp_path / "c.png")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "does not exist" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "c.png").exists()


def test_cli_no_cjk_font_is_one_line_exit_2(tmp_path, capsys, no_fonts):
    f = tmp_path / "c.txt"
    f.write_text("衣服洗后掉色，商家拒绝更换\n", encoding="utf-8")
    assert cloud.main([str(f), "-o", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert "no CJK font found" in err and "fonts-noto-cjk" in err and err.strip().count("\n") == 0
    assert cloud.main([str(f), "-o", str(tmp_path / "c.png"), "--font", "/nonexistent.ttf"]) == 2
    assert "/nonexistent.ttf: no such file" in capsys.readouterr().err


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as e:
        cloud.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "python -m nlp cloud" in out and "--size" in out and "--top" in out and "--font" in out


def test_cli_writes_a_png(tmp_path, capsys):
    texts = ["衣服洗了一次就掉色，商家拒绝更换", "买的衣服掉色严重，要求退款被拒", "冰箱买来一周就坏，电器质量差",
             "空调不制冷，售后更换难", "景区门票价格不合理", "预付卡商家跑路，退款难", "衣服掉色，更换难"] * 5
    src = tmp_path / "complaints.txt"
    src.write_text("\n".join(texts), encoding="utf-8")
    out = tmp_path / "cloud.png"
    assert cloud.main([str(src), "-o", str(out), "--top", "20"]) == 0
    img = png(out.read_bytes())
    assert img.size == (1920, 1080)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == str(out) and len(printed) > 1


def test_a_smallest_word_size_for_a_scaled_cloud_is_kept():
    """The wall draws its cloud with a larger smallest word (the browser shows it scaled down):
    a word that cannot be drawn at least that large is left out, never drawn smaller."""
    words = {"衣服掉色": 9.0, "更换难": 5.0, "价格不合理": 3.0}
    assert png(render_cloud(words, size=(400, 200))).size == (400, 200)
    with pytest.raises(CloudError, match="smallest font size 300px"):
        render_cloud(words, size=(400, 200), min_font_size=300)
