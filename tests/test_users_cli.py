"""`python -m dashboard.users first-start`: the stack's first sign-in, made by the dashboard's own
command (the stack runs it instead of importing the dashboard)."""
import os
import re
import subprocess
import sys
from pathlib import Path

from dashboard.auth import Users
from dashboard.users import first_start

ROOT = Path(__file__).resolve().parent.parent


def test_first_start_makes_a_duty_officer_and_a_head_once(tmp_path):
    users = Users(tmp_path / "users.json")
    text = first_start(users)
    made = dict(re.findall(r"(duty|head) / (\S+)", text))
    assert set(made) == {"duty", "head"} and "shown once" in text
    assert users.check("duty", made["duty"]).role == "duty"
    assert users.check("head", made["head"]).role == "head"
    assert users.check("duty", made["head"]) is None
    again = first_start(users)                      # a second start changes nothing and shows no password
    assert made["duty"] not in again and made["head"] not in again and str(users.path) in again
    assert users.check("duty", made["duty"]) is not None


def test_the_command_uses_the_data_directory_of_its_environment(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "SETTINGS_FILE": ""}
    env.pop("DASHBOARD_USERS", None)
    run = subprocess.run([sys.executable, "-m", "dashboard.users", "first-start"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "duty / " in run.stdout and "head / " in run.stdout
    assert (tmp_path / "dashboard" / "users.json").is_file()
    help_ = subprocess.run([sys.executable, "-m", "dashboard.users", "--help"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert "first-start" in help_.stdout
