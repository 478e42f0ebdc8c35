"""`python -m nlp.polarity check|learn` (and `python -m nlp polarity`): the command lives in
nlp/lexicon.py, apart from the polarity rule the extractor reads (no import cycle)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_check_answers_through_both_entry_points():
    r = run("nlp.polarity", "check", "房间", "脏")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["problem"] is True
    r = run("nlp", "polarity", "check", "房间", "干净")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["problem"] is False
    assert "learn" in run("nlp.polarity", "--help").stdout


def test_learn_writes_the_learned_lexicons_where_asked(tmp_path):
    rows = [{"text": "房间很脏，隔音太差，前台推诿不管", "sentiment": "neg", "group": "hotel"}] * 3 + \
           [{"text": "房间干净，早餐丰盛，前台热情", "sentiment": "pos", "group": "hotel"}] * 3
    f = tmp_path / "reviews.jsonl"
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    r = run("nlp.polarity", "learn", str(f), "--out", str(tmp_path), "--min-docs", "2")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    for side in ("negative", "positive"):
        lines = (tmp_path / f"{side}_learned.txt").read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# Learned by `python -m nlp.polarity learn`") and "3 negative, 3 positive" in lines[0]
        assert len([x for x in lines if not x.startswith("#")]) == got[side]
