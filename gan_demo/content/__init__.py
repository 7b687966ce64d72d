"""Every text a student reads, keyed, in English and Chinese (issue 19).

The code holds keys; the sentences live in gettext catalogues (``.po``, read with Babel), one
catalogue per area of the app and per language::

    gan_demo/content/locale/en/LC_MESSAGES/<domain>.po
    gan_demo/content/locale/zh/LC_MESSAGES/<domain>.po

A key is ``<domain>.<name>`` (``"home.title"``, ``"train.start"``): its first part names the
catalogue that holds it, so each area of the app can be translated on its own. A message's numbers
are its parameters, written in Python's format syntax (``"{share:.0%} of G's samples are {label}"``):
each language orders them as its grammar needs, and both languages of a key must name the same ones
(``tests/test_i18n.py`` checks it).

Use:
- ``t("train.start")`` or ``t("diagnosis.r10.evidence", share=0.61, label="1")``: the text in the
  current language;
- ``Msg("config.error.range", field="lr_d", low=0, high=1)``: a message kept as key and parameters,
  rendered when it is shown (``str(msg)``), in the language of whoever reads it. The engine raises and
  returns these (``raise ValueError(Msg(...))``), so one cached diagnosis or one validation error
  serves every session in its own language, and the command line prints English.

The current language comes from a *source* the app layer registers (``set_language_source``: the
Streamlit session's choice); without one (the command line, the tests, a worker thread) it is English.
A key missing from the current language falls back to English and is recorded in
:data:`MISSING`; with ``GAN_DEMO_STRICT_I18N=1`` (the test suite sets it) a missing key or a missing
parameter raises ``KeyError`` instead.

Formulas (LaTeX) and code listings are not in the catalogues: both languages show the same ones.
"""

from __future__ import annotations

import functools
import os
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import negotiate_locale
from babel.messages.pofile import read_po

LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}  # code -> the language's own name
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
STRICT_ENV = "GAN_DEMO_STRICT_I18N"

MISSING: set[tuple[str, str]] = set()  # (language, key) looked up but absent, since the process started

_source: Callable[[], str] | None = None


def set_language_source(source: Callable[[], str] | None) -> None:
    """Register the function that says the reader's language (the app layer's session choice).
    It is called at each lookup; an exception in it or an unknown code means English."""
    global _source
    _source = source


def current_language() -> str:
    """The language of the text being rendered now: a code of :data:`LANGUAGES`."""
    if _source is None:
        return DEFAULT_LANGUAGE
    try:
        lang = _source()
    except Exception:  # no session here (a worker thread, the command line)
        return DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _strict() -> bool:
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, key -> text, from every ``.po`` file of that language.

    Raises ValueError when a key sits in a catalogue its first part does not name, or appears twice."""
    messages: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            cat = read_po(fh, locale=None, domain=path.stem)
        for message in cat:
            if not message.id:  # the header
                continue
            key = str(message.id)
            if key.split(".", 1)[0] != path.stem:
                raise ValueError(f"{path}: key {key!r} belongs in {key.split('.', 1)[0]}.po")
            if key in messages:
                raise ValueError(f"{path}: key {key!r} appears twice")
            messages[key] = str(message.string)
    return messages


def placeholders(text: str) -> set[str]:
    """The parameter names a message uses: ``"{n:,} of {total}"`` -> ``{"n", "total"}``."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def t(key: str, /, lang: str | None = None, **params: Any) -> str:
    """The text of ``key`` in ``lang`` (default: the current language), formatted with ``params``.

    A key missing in ``lang`` falls back to English, then to the key itself (recorded in
    :data:`MISSING`); in strict mode (``GAN_DEMO_STRICT_I18N=1``) it raises KeyError, as does a
    parameter the text names but the call does not give."""
    lang = lang or current_language()
    text = catalogue(lang).get(key)
    if text is None:
        MISSING.add((lang, key))
        if _strict():
            raise KeyError(f"message {key!r} is missing in language {lang!r}")
        text = catalogue(DEFAULT_LANGUAGE).get(key, key)
    if not params and "{" not in text and "}" not in text:  # else format: "{{" in LaTeX is a literal brace
        return text
    try:
        return text.format(**{k: (v.render(lang) if isinstance(v, Msg) else v) for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        if _strict():
            raise
        return text


@dataclass(frozen=True)
class Msg:
    """A message as key and parameters, rendered in the reader's language when shown (``str()``).

    Parameters may be Msgs themselves (rendered in the same language). Equality and hashing
    are by key and parameters, so a Msg can sit in a cached result."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def __init__(self, key: str, /, **params: Any):
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "params", params)

    def __str__(self) -> str:
        return t(self.key, **self.params)

    def __hash__(self) -> int:
        return hash((self.key, tuple(sorted((k, repr(v)) for k, v in self.params.items()))))

    def render(self, lang: str | None = None) -> str:
        return t(self.key, lang=lang, **self.params)


def parse_language(value: object) -> tuple[str | None, Msg | None]:
    """Read a requested language (``?lang=`` or a setting): returns (code, None) for a known code
    (case and region ignored: ``"zh-CN"`` -> ``"zh"``), (None, Msg) naming what was wrong and what is
    allowed otherwise (the message is shown; the app goes on in the negotiated language)."""
    if isinstance(value, list | tuple):  # a query parameter given twice
        value = value[-1] if value else ""
    text = str(value).strip()
    code = negotiate([text]) if text else None
    if code is None:
        return None, Msg("app.lang_unknown", value=text[:40], allowed=", ".join(LANGUAGES))
    return code, None


def negotiate(preferred: Iterable[str | None]) -> str | None:
    """The first of the reader's preferred locales (browser order; ``"zh-CN"``, ``"en_US"``) that
    the app speaks, by Babel's locale negotiation; None when none matches."""
    tags = [p.replace("-", "_").lower() for p in preferred if p]
    return negotiate_locale(tags, list(LANGUAGES), sep="_") if tags else None
