"""Environment variables are checked once, at start: a bad value falls back to the default with one
message naming the variable, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_demo import settings
from gan_demo.runs import live


@pytest.mark.parametrize("text", ["two", "0", "65", "2.5", "-1", "", " "])
def test_a_bad_max_runs_falls_back_to_2_naming_the_variable(text):
    s = settings.load({"GAN_DEMO_MAX_RUNS": text})
    assert s.max_runs == 2
    assert tuple(map(str, s.problems)) == (f"GAN_DEMO_MAX_RUNS={text!r} is not allowed: it must be a whole number from "
                          "1 to 64. Using the default, 2.",)  # fmt: skip


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("4", 4), (" 8 ", 8), ("64", 64)])
def test_a_good_max_runs_is_used(text, value):
    assert settings.load({"GAN_DEMO_MAX_RUNS": text}) == settings.Settings(value, settings.load({}).data_root)


def test_a_data_folder_that_is_a_file_or_empty_falls_back(tmp_path):
    file = tmp_path / "not-a-folder"
    file.write_text("x")
    for text in (str(file), "", "  "):
        s = settings.load({"GAN_DEMO_DATA": text})
        assert s.data_root == Path("~/.cache/gan_demo").expanduser()
        assert tuple(map(str, s.problems)) == (f"GAN_DEMO_DATA={text!r} is not allowed: it must be a folder path (it need "
                              "not exist yet), not a file. Using the default, ~/.cache/gan_demo.",)  # fmt: skip


def test_a_data_folder_need_not_exist_and_tilde_is_expanded(tmp_path):
    assert settings.load({"GAN_DEMO_DATA": str(tmp_path / "later")}).data_root == tmp_path / "later"
    assert settings.load({"GAN_DEMO_DATA": "~/d"}).data_root == Path.home() / "d"
    assert settings.load({}).problems == ()


def test_both_bad_give_two_messages_and_the_registry_uses_the_default(monkeypatch):
    monkeypatch.setenv("GAN_DEMO_MAX_RUNS", "two")
    monkeypatch.setenv("GAN_DEMO_DATA", "")
    settings.current.cache_clear()
    try:
        assert [str(p).split("=")[0] for p in settings.current().problems] == ["GAN_DEMO_MAX_RUNS", "GAN_DEMO_DATA"]
        assert live.RunRegistry().max_running == 2  # was: ValueError: invalid literal for int()
        monkeypatch.setenv("GAN_DEMO_MAX_RUNS", "5")  # read once: a later change is not seen
        assert live.RunRegistry().max_running == 2
    finally:
        settings.current.cache_clear()


@pytest.mark.parametrize(
    "text, value, problem",
    [("90", 90.0, False), ("0", 0.0, False), (" 2.5 ", 2.5, False), ("3600", 3600.0, False),
     ("two", 60.0, True), ("-1", 60.0, True), ("nan", 60.0, True), ("inf", 60.0, True),
     ("3601", 60.0, True), ("", 60.0, True)],
)  # fmt: skip
def test_the_reconnect_grace_period_is_checked_with_the_others(text, value, problem):
    s = settings.load({"GAN_DEMO_RECONNECT_GRACE_S": text})
    assert s.reconnect_grace_s == value
    assert settings.load({}).reconnect_grace_s == 60.0
    if problem:
        assert tuple(map(str, s.problems)) == (
            f"GAN_DEMO_RECONNECT_GRACE_S={text!r} is not allowed: it must be a number of seconds "
            "from 0 to 3600. Using the default, 60.",
        )
    else:
        assert tuple(map(str, s.problems)) == ()


@pytest.mark.parametrize(("text", "value", "problem"), [("3", 3, False), ("1", 1, False), ("0", 1, True),
                                                        ("two", 1, True), ("65", 1, True)])  # fmt: skip
def test_runs_per_session_is_a_whole_number_from_1_to_64_and_the_registry_uses_it(text, value, problem, monkeypatch):
    s = settings.load({"GAN_DEMO_RUNS_PER_SESSION": text})
    assert s.runs_per_session == value
    assert tuple(map(str, s.problems)) == ((f"GAN_DEMO_RUNS_PER_SESSION={text!r} is not allowed: it must be a whole number from 1 "
                           "to 64. Using the default, 1.",) if problem else ())  # fmt: skip
    monkeypatch.setenv("GAN_DEMO_RUNS_PER_SESSION", text)
    settings.current.cache_clear()
    try:
        assert live.RunRegistry().per_session == value
    finally:
        settings.current.cache_clear()
