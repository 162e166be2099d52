"""Residual boilerplate in text extracted from HTML (text -> text, pure).

trafilatura already chose the main content, so the plain-text page cleaner (title line,
line classifier, duplicate lines) would remove real paragraphs here: measured on the
extract-dev set it cost 0.8 F1 points. Only the high-precision named line rules of
``cleaners.boilerplate`` run on extracted text: share/follow calls, teaser links
("SEE MORE: ..."), related-list headers, syndication footers, ad banners, cookie notices and
shortcode lines. The rule set is ``BoilerplateConfig.html_residual_rules``.
"""

from __future__ import annotations

from cleaners import boilerplate
from cleaners.boilerplate.lines import split_lines
from cleaners.config import BoilerplateConfig
from cleaners.edits import Edit, clip


def strip_residual_with_edits(text: str, cfg: BoilerplateConfig) -> tuple[str, list[Edit]]:
    """Drop whole lines matched by the configured named rules; paragraphs otherwise untouched."""
    rules = [(name, rule) for name, rule in boilerplate.LINE_RULES if name in cfg.html_residual_rules]
    if not rules or not text:
        return text, []
    dropped: dict[str, list[str]] = {}
    drop_raw: set[int] = set()
    for line in split_lines(text):
        for name, rule in rules:
            if rule(line, cfg):
                dropped.setdefault(name, []).append(line.text)
                drop_raw.add(line.index)
                break
    if not drop_raw:
        return text, []
    kept: list[str] = []
    i = -1
    for raw in text.splitlines():
        if raw.strip():
            i += 1
            if i in drop_raw:
                continue
        kept.append(raw)
    out = "\n".join(kept).strip("\n")
    while "\n\n\n" in out:
        out = out.replace("\n\n\n", "\n\n")
    edits = [Edit(f"boilerplate_{name}", clip(lines[0]), len(lines)) for name, lines in dropped.items()]
    return out, edits


def strip_residual(text: str, cfg: BoilerplateConfig) -> str:
    return strip_residual_with_edits(text, cfg)[0]
