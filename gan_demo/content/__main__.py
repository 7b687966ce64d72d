"""Catalogue upkeep: ``python -m gan_demo.content check`` lists what the tests would refuse (a key in
one language only, different parameters in the two, a key in the wrong catalogue);
``python -m gan_demo.content format`` rewrites every ``.po`` file in Babel's canonical layout (sorted
keys, lines wrapped at 100), so a hand edit and a generated one read the same;
``python -m gan_demo.content merge DOMAIN FILE.json`` adds or replaces messages of one catalogue from
``{"key": {"en": "...", "zh": "..."}}`` (no PO escaping to get wrong by hand)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from gan_demo import content


def problems() -> list[str]:
    """What is wrong with the catalogues, one line each (empty when they agree)."""
    out: list[str] = []
    cats = {}
    for lang in content.LANGUAGES:
        try:
            cats[lang] = content.catalogue(lang)
        except ValueError as e:
            out.append(str(e))
            cats[lang] = {}
    en = cats[content.DEFAULT_LANGUAGE]
    for lang, cat in cats.items():
        for key in sorted(set(en) ^ set(cat)):
            where = lang if key in cat else content.DEFAULT_LANGUAGE
            out.append(f"{key}: only in {where}")
        for key in sorted(set(en) & set(cat)):
            if content.placeholders(en[key]) != content.placeholders(cat[key]):
                out.append(f"{key}: parameters {sorted(content.placeholders(en[key]))} in en, "
                           f"{sorted(content.placeholders(cat[key]))} in {lang}")
            if not cat[key].strip():
                out.append(f"{key}: empty in {lang}")
    return out


def format_all() -> int:
    n = 0
    for path in sorted(content.LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        with path.open("rb") as fh:
            cat = read_po(fh, domain=path.stem)
        with path.open("wb") as fh:
            write_po(fh, cat, width=100, sort_output=True, omit_header=True)
        n += 1
    return n


def merge(domain: str, messages: dict[str, dict[str, str]]) -> None:
    """Add or replace ``messages`` (key -> {language: text}) in ``domain``'s catalogue of each language."""
    for lang in content.LANGUAGES:
        path = content.LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                cat = read_po(fh, domain=domain)
        else:
            cat = Catalog(domain=domain)
        for key, texts in messages.items():
            if not key.startswith(domain + "."):
                raise SystemExit(f"{key!r} does not belong in {domain}.po (its first part names the catalogue)")
            if key in cat:  # Catalog.add keeps an existing text; a merge replaces it
                del cat[key]
            cat.add(key, texts[lang])
        with path.open("wb") as fh:
            write_po(fh, cat, width=100, sort_output=True, omit_header=True)
    content.catalogue.cache_clear()


def main(argv: list[str]) -> int:
    if argv[:1] == ["merge"] and len(argv) == 3:
        merge(argv[1], json.loads(Path(argv[2]).read_text(encoding="utf-8")))
        argv = []
    if argv[:1] == ["format"]:
        print(f"rewrote {format_all()} catalogues")
        return 0
    found = problems()
    for line in found:
        print(line)
    print(f"{len(found)} problems in {sum(len(content.catalogue(lang)) for lang in content.LANGUAGES)} messages")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
