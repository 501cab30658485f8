"""The UI catalog: every key in both languages with the same placeholders; locale default."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from cockpit.i18n import CATALOG, LANGS, default_lang, tr

REPO = Path(__file__).resolve().parent.parent


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_key_has_both_languages_with_the_same_placeholders(key: str) -> None:
    entry = CATALOG[key]
    assert set(entry) == set(LANGS)
    assert all(entry[lang].strip() for lang in LANGS)
    assert placeholders(entry["ja"]) == placeholders(entry["en"])


def test_tr_fills_values_in_each_language() -> None:
    assert tr("msg.recorded", "en", seq=5, action="item.done") == "recorded #5 item.done"
    assert tr("msg.recorded", "ja", seq=5, action="item.done") == "#5 item.done を記録"


def test_every_key_the_screens_use_exists() -> None:
    used: set[str] = set()
    for path in (REPO / "screens").glob("*.py"):  # the app too: screens/app.py
        used |= set(re.findall(r'\bt\(\s*"([a-z_]+\.[a-z_.]*[a-z_])"', path.read_text()))
    assert used, "the screens should take their words from the catalog"
    assert used <= set(CATALOG), used - set(CATALOG)


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LC_ALL": "ja_JP.eucJP", "LANG": "en_US.UTF-8"}, "ja"),
        ({"LC_MESSAGES": "C", "LANG": "ja_JP.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_default_language_follows_the_locale(environ: dict[str, str], lang: str) -> None:
    assert default_lang(environ) == lang


def test_every_status_and_item_kind_has_words() -> None:
    from cockpit.checklist import Status
    from cockpit.plan import ITEM_KINDS

    assert {f"status.{s.value}" for s in Status} <= set(CATALOG)
    assert {f"list.kind.{k}" for k in ITEM_KINDS} <= set(CATALOG)


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_no_placeholder_takes_the_name_of_an_argument_of_tr(key: str) -> None:
    """``tr(key, lang, **values)``: a ``{key}`` or ``{lang}`` could never be filled, and a text
    said without values is not formatted, so an escaped ``{{`` would show as it is."""
    assert not placeholders(CATALOG[key]["en"]) & {"key", "lang"}
    assert not any("{{" in CATALOG[key][lang] for lang in LANGS)


def test_durations_weekdays_and_windows_are_said_in_each_language() -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from cockpit.when import Duration, format_remaining
    from cockpit.window import Window

    spans = [timedelta(days=9, hours=16), timedelta(hours=3, minutes=2), timedelta(seconds=245)]
    assert [format_remaining(s) for s in spans] == ["9d 16h", "3h02m", "4m05s"]
    assert [format_remaining(s, "ja") for s in spans] == ["9日16時間", "3時間02分", "4分05秒"]
    assert format_remaining(-timedelta(seconds=45), "ja") == "-45秒"
    assert tr("list.in", "ja", left=Duration(spans[0])) == "(あと 9日16時間)"  # said when read
    jst = ZoneInfo("Asia/Tokyo")
    window = Window(datetime(2026, 12, 16, 1, tzinfo=jst), datetime(2026, 12, 16, 5, tzinfo=jst))
    assert window.label() == "Wed 12-16 01:00-05:00 JST"
    assert window.label("ja") == "12-16(水) 01:00-05:00 JST"
    assert window.label("ja", year=True) == "2026-12-16(水) 01:00-05:00 JST"
    assert window.start_label("ja") == "12-16(水) 01:00 JST"
    assert datetime(2026, 12, 16, tzinfo=UTC).weekday() == 2  # (a Wednesday: 水)


def test_no_key_is_in_two_catalog_modules() -> None:
    """The merge would keep one silently: each key is said in one place."""
    import importlib
    import pkgutil

    import cockpit.catalog

    modules = [
        importlib.import_module(f"cockpit.catalog.{info.name}")
        for info in pkgutil.iter_modules(cockpit.catalog.__path__)
    ]
    assert len(modules) >= 8
    seen: dict[str, str] = {}
    for module in modules:
        for key in module.WORDS:
            assert key not in seen, f"{key} in {seen[key]} and {module.__name__}"
            seen[key] = module.__name__
    assert set(seen) == set(CATALOG)
