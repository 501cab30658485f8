"""The one catalog of UI text, in Japanese and English.

Screens and widgets never hard-code words: they ask :func:`tr` for a key; the words live in
:mod:`cockpit.catalog`, by where they are said. A test checks that every
key has both languages and the same ``{placeholders}`` in each.
"""

from __future__ import annotations

import os

from cockpit.catalog import comms, engine, errors, files, metrics, refusals, screens, words

LANGS = ("ja", "en")
# One catalog, merged from where each word is said (:mod:`cockpit.catalog`).
CATALOG: dict[str, dict[str, str]] = {
    **screens.WORDS,
    **refusals.WORDS,
    **comms.WORDS,
    **errors.WORDS,
    **files.WORDS,
    **engine.WORDS,
    **metrics.WORDS,
    **words.WORDS,
}


def tr(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``values`` filled in. A value that is itself said
    in a language (it has a ``text(lang)`` method: a refusal's reason, a duration) is said in
    ``lang`` too."""
    text = CATALOG[key].get(lang) or CATALOG[key]["en"]
    if not values:
        return text
    return text.format(**{name: said(value, lang) for name, value in values.items()})


def said(value: object, lang: str) -> object:
    """``value`` said in ``lang`` when it can be (it has a ``text(lang)`` method: a phrase, an
    error, a refusal's reason, a duration), else as it is."""
    say = getattr(value, "text", None)
    return say(lang) if callable(say) else value


def default_lang(environ: dict[str, str] | None = None) -> str:
    """``ja`` when the locale says Japanese (LC_ALL, LC_MESSAGES, LANG), else ``en``."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"
