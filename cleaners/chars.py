"""Character repair: mojibake (ftfy), invisible characters, odd spaces, line structure.

``fix_characters(text, cfg)`` keeps the paragraph structure (one paragraph a line, blank lines
between) and typographic quotes (unless ``cfg.uncurl_quotes``). Edit kinds: ``control_chars``,
``line_endings``, ``mojibake``, ``html_entities``, ``unicode_fix``, ``zero_width``,
``soft_hyphen``, ``nbsp``, ``whitespace``, ``blank_lines``.
"""

from __future__ import annotations

import re

import ftfy

from cleaners.config import CharsConfig
from cleaners.edits import Edit, clip

# C0/C1 controls other than tab and line breaks (DEL included).
CONTROL_CHARS = tuple(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0x85), *range(0x86, 0xA0)))
# CONTROL_CHARS_RE matches: "a\x07b" (the bell) ; does not match: "a\tb\n"
CONTROL_CHARS_RE = re.compile("[%s]" % re.escape("".join(CONTROL_CHARS)))

LINE_BREAKS = ("\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c")
# LINE_BREAK_RE matches: "a\r\nb", "a\u2028b" ; does not match: "a\nb"
LINE_BREAK_RE = re.compile("|".join(map(re.escape, LINE_BREAKS)))

# Always invisible: zero width space, word joiner, BOM / zero width no-break space, Mongolian vowel separator.
ZERO_WIDTH_CHARS = ("\u200b", "\u2060", "\ufeff", "\u180e")
# ZERO_WIDTH_RE matches: "news\u200broom" ; does not match: "newsroom"
ZERO_WIDTH_RE = re.compile("[%s]" % "".join(ZERO_WIDTH_CHARS))
# ZWJ/ZWNJ shape emoji and Indic/Persian script: only dropped next to ASCII or a line edge.
JOINERS = ("\u200c", "\u200d")
# STRAY_JOINER_RE matches: "word\u200d " ; does not match: "\U0001f469\u200d\U0001f52c" (emoji sequence)
STRAY_JOINER_RE = re.compile(
    "(?:(?<=[\\x00-\\x7f])|^)[{j}]+|[{j}]+(?=[\\x00-\\x7f]|$)".format(j="".join(JOINERS)), re.MULTILINE
)

SOFT_HYPHEN = "\u00ad"

# No-break and typographic spaces that should be plain spaces.
ODD_SPACES = ("\u00a0", "\u1680", *map(chr, range(0x2000, 0x200B)), "\u202f", "\u205f", "\u3000")
# ODD_SPACE_RE matches: "10\u00a0km" ; does not match: "10 km"
ODD_SPACE_RE = re.compile("[%s]" % "".join(ODD_SPACES))

# SPACE_RUN_RE matches: "a  b", "a\t b" ; does not match: "a b"
# (= "[ \t]{2,}|\t"; each branch opens with a literal, which lets the regex engine skip ahead)
SPACE_RUN_RE = re.compile(r" [ \t]+|\t[ \t]*")
# EDGE_SPACE_RE matches: "  text", "text " (per line) ; does not match: "text"
# (the definition; _collapse_spaces applies it line by line without a whole-text pass)
EDGE_SPACE_RE = re.compile(r"^[ \t]+|[ \t]+$", re.MULTILINE)
# BLANK_RUN_RE matches: "a\n\n\nb" ; does not match: "a\n\nb"
BLANK_RUN_RE = re.compile(r"\n{3,}")

FTFY_ENCODING_STEPS = ("encode", "decode", "transcode")
FTFY_ENCODING_FIXERS = ("decode_inconsistent_utf8", "replace_lossy_sequences", "restore_byte_a0", "fix_c1_controls")


def _sub_count(pattern: re.Pattern[str], repl: str, text: str, kind: str, edits: list[Edit]) -> str:
    new, n = pattern.subn(repl, text)
    first = pattern.search(text) if n else None
    if first is not None:
        edits.append(Edit(kind, clip(repr(first.group(0))), n))
    return new


def _ftfy_config(cfg: CharsConfig, text: str) -> ftfy.TextFixerConfig:
    return ftfy.TextFixerConfig(
        uncurl_quotes=cfg.uncurl_quotes,
        fix_encoding=cfg.fix_encoding,
        normalization=cfg.normalize_unicode,
        # like ftfy.fix_text's "auto": text that contains markup keeps its entities
        unescape_html="<" not in text,
        fix_line_breaks=True,
        explain=True,
    )


def _edit_kind(explanation: list | None) -> str:
    steps = {step.action for step in explanation or ()} | {step.parameter for step in explanation or ()}
    if steps & set(FTFY_ENCODING_STEPS + FTFY_ENCODING_FIXERS):
        return "mojibake"
    if any(step.parameter == "unescape_html" for step in explanation or ()):
        return "html_entities"
    return "unicode_fix"


def _fix_lines_with_ftfy(text: str, cfg: CharsConfig, edits: list[Edit], since: str | None = None) -> str:
    """ftfy one line at a time (as ``ftfy.fix_text`` does), only on lines that can need it.

    A pure-ASCII line without ``&`` cannot hold mojibake or entities. One ``fix_and_explain``
    call suffices: it loops to its own fixed point, so a second call never changes the line.
    With ``since`` (the text before a change that kept its lines), only lines that differ from
    it are looked at: the others were fixed already.
    """
    if text.isascii() and "&" not in text:
        return text
    config = _ftfy_config(cfg, text)
    lines = text.split("\n")
    old = since.split("\n") if since is not None else None
    if old is not None and len(old) != len(lines):
        old = None
    found: dict[str, list] = {}
    for i, line in enumerate(lines):
        if (line.isascii() and "&" not in line) or (old is not None and old[i] == line):
            continue
        fixed, explanation = ftfy.fix_and_explain(line, config)
        if fixed != line:
            kind = _edit_kind(explanation)
            entry = found.setdefault(kind, [0, f"{clip(line, 50)} -> {clip(fixed, 50)}"])
            entry[0] += 1
            lines[i] = fixed
    edits.extend(Edit(kind, detail, n) for kind, (n, detail) in found.items())
    return "\n".join(lines)


def _contains_any(text: str, chars: tuple[str, ...]) -> bool:
    """A cheap exact pre-check: does ``text`` hold any of ``chars`` (skips a regex pass)?"""
    return any(c in text for c in chars)


def _collapse_spaces(text: str) -> tuple[str, int]:
    """SPACE_RUN_RE then EDGE_SPACE_RE over the text, line by line: neither crosses a line feed.

    Only lines holding a double space, a tab or an edge space are touched. The count is the
    number of SPACE_RUN_RE plus EDGE_SPACE_RE matches, as whole-text passes would give.
    """
    if not ("  " in text or "\t" in text or " \n" in text or "\n " in text or text[:1] == " " or text[-1:] == " "):
        return text, 0
    lines = text.split("\n")
    n = 0
    for i, line in enumerate(lines):
        if "  " in line or "\t" in line:
            line, n_runs = SPACE_RUN_RE.subn(" ", line)
            n += n_runs
        # no tab is left, and at most one space at each edge
        lead, trail = line[:1] == " ", line[-1:] == " "
        if lead or trail:
            line = line.strip(" ")
            n += lead + (trail and line != "")  # an all-space line is one EDGE_SPACE_RE match
        lines[i] = line
    return "\n".join(lines), n


def _collapse_spaces_after_indent(text: str) -> tuple[str, int]:
    """``_collapse_spaces`` on each line after its leading spaces and tabs, which stay (lines of
    spaces only become empty)."""
    lines = text.split("\n")
    n = 0
    for i, line in enumerate(lines):
        body = line.lstrip(" \t")
        body, k = _collapse_spaces(body)
        lines[i] = line[: len(line) - len(line.lstrip(" \t"))] + body if body else ""
        n += k
    return "\n".join(lines), n


MAX_FIX_ROUNDS = 3  # ftfy / invisible-character passes before the text is taken as fixed


def _strip_invisible(text: str, edits: list[Edit]) -> str:
    """Remove C0/C1 controls, zero-width characters, stray joiners and soft hyphens."""
    text = _sub_count(CONTROL_CHARS_RE, "", text, "control_chars", edits)
    if text.isascii():  # zero-width, joiners and soft hyphens are all non-ASCII
        return text
    n_zero = n_joiners = 0
    if _contains_any(text, ZERO_WIDTH_CHARS):
        text, n_zero = ZERO_WIDTH_RE.subn("", text)
    if _contains_any(text, JOINERS):
        text, n_joiners = STRAY_JOINER_RE.subn("", text)
    if n_zero + n_joiners:
        edits.append(Edit("zero_width", "zero-width characters removed", n_zero + n_joiners))
    if SOFT_HYPHEN in text:
        edits.append(Edit("soft_hyphen", "soft hyphens removed", text.count(SOFT_HYPHEN)))
        text = text.replace(SOFT_HYPHEN, "")
    return text


def fix_characters_with_edits(text: str, cfg: CharsConfig) -> tuple[str, list[Edit]]:
    """Repair characters and whitespace; return the text and what was changed.

    Each pass runs only when a cheap ``in`` check shows it can match (most text has no line
    feeds other than ``\\n``, no invisible characters and no odd spaces).
    """
    edits: list[Edit] = []
    if _contains_any(text, LINE_BREAKS):
        text = _sub_count(LINE_BREAK_RE, "\n", text, "line_endings", edits)
    # C1 controls are part of mojibake ("â€\x9d" is a mis-decoded "”"): ftfy first, then remove the
    # rest. Removing a control or invisible character can join two halves of new mojibake
    # ("\x81\x8a¬" -> "Š¬", which ftfy reads as "Ь"), so ftfy runs again on what a removal changed.
    text = _fix_lines_with_ftfy(text, cfg, edits)
    for _ in range(MAX_FIX_ROUNDS):
        stripped = _strip_invisible(text, edits)
        if stripped == text:
            break
        text = _fix_lines_with_ftfy(stripped, cfg, edits)
        if text == stripped:
            break
    n_space = 0
    for _ in range(MAX_FIX_ROUNDS):
        before = text
        if not text.isascii():
            if _contains_any(text, ODD_SPACES):
                text = _sub_count(ODD_SPACE_RE, " ", text, "nbsp", edits)
        if cfg.keep_leading_indent:  # text pages: boilerplate removal reads the nesting, then drops it
            text, n = _collapse_spaces_after_indent(text)
        else:
            text, n = _collapse_spaces(text)
        n_space += n
        # a space change can also make new mojibake ("\xa0Š¤": with its edge space stripped, ftfy
        # reads "Š¤" as "Ф"): ftfy again on the non-ASCII lines the space pass changed
        if text == before or text.isascii():
            break
        refixed = _fix_lines_with_ftfy(text, cfg, edits, since=before)
        if refixed == text:
            break
        text = refixed
    if n_space:
        edits.append(Edit("whitespace", "space runs collapsed, line ends stripped", n_space))
    stripped = BLANK_RUN_RE.sub("\n\n", text) if "\n\n\n" in text else text
    stripped = stripped.strip("\n")
    if stripped != text:
        edits.append(Edit("blank_lines", "blank line runs collapsed", max(1, len(BLANK_RUN_RE.findall(text)))))
    return stripped, edits


def fix_characters(text: str, cfg: CharsConfig) -> str:
    """Repair mojibake, invisible characters, odd spaces and blank-line runs; keep the lines."""
    return fix_characters_with_edits(text, cfg)[0]
