"""Language identification of a cleaned body with py3langid (langid.py's model, bundled in the wheel).

``detect_language`` returns an ISO 639-1 code or None when it is unsure: the body is shorter than
``cfg.min_chars`` non-space characters, the model's normalised probability is below
``cfg.min_confidence``, or the best label has no two-letter code (``pcm``, ``ace``, ``zxx`` for
"no linguistic content" -- tables of figures).

``choose_language`` is the rule ``cleaners.document`` applies to every row (HTML and text pages):
the identifier's code when it is sure, else the language the page declares (HTML only; text pages
declare none). A sure identifier overrides a declaration because templates declare the site's
default language (``<html lang="en">``) on pages written in another one.

Measured on py3langid 0.4.0 (WCXB dev gold bodies vs ``<html lang>``, 992 pages: 100% agree;
syndication dev bodies, 12451 English: 99.8%, the misses are Reuters earnings tables labelled
``pcm``; 200-character prefixes: 99.5% / 96.5%), ~4 ms per 10 KB of text.
"""

from __future__ import annotations

from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from cleaners.config import LanguageConfig


@cache
def _identifier() -> LanguageIdentifier:
    """The bundled model, loaded once per process (~0.3 s, ~30 MB)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, cfg: LanguageConfig) -> str | None:
    """The ISO 639-1 code of ``text``'s language, None when unsure (see the module docstring)."""
    if not cfg.enabled or sum(not c.isspace() for c in text) < cfg.min_chars:
        return None
    code, confidence = _identifier().classify(text)
    if confidence < cfg.min_confidence or len(code) != 2:
        return None
    return str(code)


def choose_language(text: str, declared: str | None, cfg: LanguageConfig) -> str | None:
    """The identifier's code when sure, else the page's declared language (None for text pages)."""
    return detect_language(text, cfg) or declared
