"""Inline artifacts left by HTML-to-text conversion: link notices and CMS shortcodes.

``strip_artifacts(text, cfg)`` removes
- link artifacts (kind ``link_artifact``): screen-reader notices glued to link text, such as
  ``said(opens in new tab)``, ``(opens in a new window)``, ``(link is external)``, ``[external link]``;
- shortcodes (kind ``shortcode``): WordPress-style ``[embedpost slug=”...”]``, ``[video ...]``,
  ``[gallery]``, closing tags ``[/name]``, and ``[caption ...]...[/caption]`` with its content.
Bracketed editorial text (``[the president]``, ``[sic]``, ``[1]``) is left alone: a bracket is a
shortcode only when its name is a known shortcode or it carries ``key=value`` attributes.
A line that held nothing but artifacts is removed; the text never gets longer.
"""

from __future__ import annotations

import re

from cleaners.config import ArtifactsConfig
from cleaners.edits import Edit, clip

MAX_FIX_ROUNDS = 3  # removing one artifact can close up another ("[vi[video]deo]")


def _alt(tokens: tuple[str, ...]) -> str:
    """A non-capturing alternation of literal tokens whose spaces match any run of whitespace."""
    return "(?:%s)" % "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in sorted(tokens, key=len, reverse=True))


# --- link artifacts -------------------------------------------------------------------------------
LINK_NOTICES = (
    "opens in new tab",
    "opens in a new tab",
    "opens in new window",
    "opens in a new window",
    "opens in new browser tab",
    "opens in a new browser tab",
    "opens in new browser window",
    "opens in a new browser window",
    "open in new tab",
    "open in new window",
    "link opens in new tab",
    "link opens in a new tab",
    "link opens in new window",
    "link opens in a new window",
    "this link opens in a new tab",
    "this link opens in a new window",
    "link is external",
    "external link",
    "external link, opens in new tab",
    "external link, opens in new window",
    "new window",
    "new tab",
)  # a bare "(external)" is left alone: "the (external) auditors" is prose
# LINK_ARTIFACT_RE matches: "said(opens in new tab)", " [external link]" ; does not match: "(a new tab design)"
LINK_ARTIFACT_RE = re.compile(r"[ \t]*[(\[]\s*%s\s*[)\]]" % _alt(LINK_NOTICES), re.IGNORECASE)

# --- shortcodes -----------------------------------------------------------------------------------
# Shortcodes whose content between the opening and closing tag is dropped too.
ENCLOSING_SHORTCODES = ("caption", "wp_caption")
# Known shortcode names: removed with or without attributes (lower case, as WordPress writes them).
SHORTCODE_NAMES = (
    "embedpost",
    "embed",
    "video",
    "audio",
    "playlist",
    "gallery",
    "youtube",
    "vimeo",
    "tweet",
    "twitter",
    "instagram",
    "facebook",
    "soundcloud",
    "related",
    "related_posts",
    "relatedposts",
    "ad",
    "ads",
    "adsense",
    "advert",
    "newsletter",
    "contact-form",
    "contact-form-7",
    "mc4wp_form",
    "jwplayer",
    "brightcove",
    "pullquote",
    "dropcap",
    "button",
    *ENCLOSING_SHORTCODES,
)
# A quoted attribute value: straight, curly, primes or guillemets, as CMS editors mangle them.
QUOTE_CHARS = ('"', "'", "\u201c", "\u201d", "\u2018", "\u2019", "\u2033", "\u2032", "\u00ab", "\u00bb", "\u201e")
_Q = "[%s]" % "".join(QUOTE_CHARS)
_VALUE = rf"(?:{_Q}[^\]\n]*?{_Q}|[^\s\]\[{''.join(QUOTE_CHARS)}]+)"
_ATTR = rf"[\w-]+\s*=\s*{_VALUE}"
_NAME = r"[A-Za-z][\w-]*"
# CAPTION_BLOCK_RE matches: "[caption id=”a1” align=”x”]<img> A photo[/caption]" ; does not match: "[caption]" alone
CAPTION_BLOCK_RE = re.compile(
    r"[ \t]*\[(%s)\b[^\]\n]*\].{0,2000}?\[/\1\]" % _alt(ENCLOSING_SHORTCODES), re.DOTALL
)
# KNOWN_SHORTCODE_RE matches: "[gallery]", "[embedpost slug=”x”]", "[video src=a.mp4 /]" ; does not match: "[Video]"
KNOWN_SHORTCODE_RE = re.compile(r"[ \t]*\[%s(?:\s+(?:%s|[\w-]+))*\s*/?\]" % (_alt(SHORTCODE_NAMES) + r"\b", _ATTR))
# GENERIC_SHORTCODE_RE matches: "[su_note color=”red” size=3]" ; does not match: "[the president]", "[sic]", "[1]"
GENERIC_SHORTCODE_RE = re.compile(r"[ \t]*\[%s(?:\s+%s)+\s*/?\]" % (_NAME, _ATTR))
# CLOSING_SHORTCODE_RE matches: "[/caption]", "[/su_note]" ; does not match: "[/ ]", "and/or]"
CLOSING_SHORTCODE_RE = re.compile(r"[ \t]*\[/%s\]" % _NAME)

SHORTCODE_RES = (CAPTION_BLOCK_RE, KNOWN_SHORTCODE_RE, GENERIC_SHORTCODE_RE, CLOSING_SHORTCODE_RE)

LEADING_SPACE = r"[ \t]*"  # every artifact pattern above opens with the spaces it also removes


def _without_leading_space(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern minus its leading ``[ \\t]*``: it matches somewhere exactly when ``pattern`` does.

    It opens with ``(`` or ``[``, so the regex engine jumps between brackets instead of trying
    every position; a text without a match is rejected about ten times faster.
    """
    assert pattern.pattern.startswith(LEADING_SPACE)
    return re.compile(pattern.pattern.removeprefix(LEADING_SPACE), pattern.flags)


# Pre-checks: "said(opens in new tab)" matches the first, "(a new tab design)" none of them.
GATE_RES = {p: _without_leading_space(p) for p in (LINK_ARTIFACT_RE, *SHORTCODE_RES)}


def _remove(pattern: re.Pattern[str], text: str, kind: str, edits: list[Edit]) -> str:
    if GATE_RES[pattern].search(text) is None:
        return text
    first = pattern.search(text)
    if first is None:
        return text
    new, n = pattern.subn("", text)
    edits.append(Edit(kind, clip(first.group(0).strip(), 60), n))
    return new


def _tidy_changed_lines(before: str, after: str) -> str:
    """Drop lines that became empty and strip spaces a removal left at a line's start."""
    if before == after:
        return after
    old_blank = sum(1 for line in before.split("\n") if not line.strip())
    lines = after.split("\n")
    out = [line.lstrip(" \t") if line[:1] in " \t" else line for line in lines]
    new_blank = sum(1 for line in out if not line.strip())
    if new_blank > old_blank:  # a removal emptied lines: drop empty lines the input did not have
        keep_blank = old_blank
        kept: list[str] = []
        for line in out:
            if line.strip():
                kept.append(line)
            elif keep_blank > 0 and kept and kept[-1].strip():
                keep_blank -= 1
                kept.append(line)
        out = kept
    return "\n".join(out)


def strip_artifacts_with_edits(text: str, cfg: ArtifactsConfig) -> tuple[str, list[Edit]]:
    """Remove link notices and shortcodes; return the text and what was removed."""
    edits: list[Edit] = []
    original = text
    for _ in range(MAX_FIX_ROUNDS):
        before = text
        if cfg.strip_link_artifacts:
            text = _remove(LINK_ARTIFACT_RE, text, "link_artifact", edits)
        if cfg.strip_shortcodes:
            for pattern in SHORTCODE_RES:
                text = _remove(pattern, text, "shortcode", edits)
        if text == before:
            break
    return _tidy_changed_lines(original, text), edits


def strip_artifacts(text: str, cfg: ArtifactsConfig) -> str:
    """Remove inline link artifacts and CMS shortcodes, keeping bracketed editorial text."""
    return strip_artifacts_with_edits(text, cfg)[0]
