"""Misspelled-name repair: a rare near-miss of a frequent capitalised name in the same document.

"Rogzonin’s behavior" in an article that says "Rogozin" a dozen times is a typo; "Borisova"
next to "Borisov", "Austria" next to "Australia" or "Johnston" next to "Johnson" are not. A
capitalised token is corrected only when all of these hold:

- it occurs at most ``max_typo_mentions`` times (never in lower case) and is at least
  ``min_name_chars`` long;
- it is not an English word or a listed name: wordfreq Zipf below ``max_typo_zipf``;
- exactly one capitalised name that occurs ``min_name_mentions`` times and
  ``min_frequency_ratio`` times as often is within the optimal-string-alignment distance
  (Damerau-Levenshtein with transpositions) allowed for its length, with the same initial and
  a rapidfuzz Indel similarity of at least ``min_similarity_ratio``;
- neither is a prefix of the other (inflections: "Borisova", "Johnsons"), they differ in more
  than case or the final letter, and the name has no second near-miss (listed variants);
- most lower-case words of the document are words of ``cfg.language``.

Possessives survive because only the letters of the name are replaced ("Rogzonin’s" ->
"Rogozin’s"). ``fix_entity_typos`` wraps ``fix_entity_typos_with_edits``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from rapidfuzz.distance import OSA, Indel
from wordfreq import zipf_frequency

from cleaners.config import EntitiesConfig
from cleaners.edits import Edit, merge_edits
from cleaners.words import WORD_CHARS_RE

EDIT_KIND = "name_typo"

# A run of letters not glued to other word characters. "Rogzonin" in "Rogzonin’s" matches; "B2B" does not.
LETTER_RUN_RE = re.compile(r"(?<![\w])[^\W\d_]+(?![\w])")
# Letters only, as LETTER_RUN_RE counts them. "Rogozin" matches; "B2B", "snake_case" do not.
LETTERS_ONLY_RE = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=65536)
def word_zipf(word: str, language: str) -> float:
    """wordfreq Zipf frequency of ``word`` (cached immutable lookup)."""
    return zipf_frequency(word, language)


def is_name_token(token: str) -> bool:
    """Capitalised with a lower-case letter after the first: "Rogozin" yes, "NASA"/"rogozin" no."""
    return token[0].isupper() and any(c.islower() for c in token[1:])


def _allowed_edits(name: str, cfg: EntitiesConfig) -> int:
    return min(cfg.max_edit_distance, 2 if len(name) >= cfg.min_chars_for_second_edit else 1)


def _is_near_miss(typo: str, name: str, cfg: EntitiesConfig) -> bool:
    if cfg.require_same_initial and typo[0] != name[0]:
        return False
    if typo.lower() == name.lower():
        return False  # casing variant: Transamerican/TransAmerican
    if not (typo.isascii() and name.isascii()):
        return False  # transliteration variant: Boumédienne/Boumediene, Jābir/Jabir
    if any(c.isupper() for c in typo[1:]):
        return False  # glued or camel-case token: WillsJack
    if len(typo) == len(name) and typo[:-1] == name[:-1]:
        return False  # inflected ending: Versicherter/Versicherten, Ivanov/Ivanova-style
    if typo.startswith(name) or name.startswith(typo):
        return False  # inflection or extension: Borisov/Borisova, Johnson/Johnsons
    if OSA.distance(typo, name) > _allowed_edits(name, cfg):
        return False
    return Indel.normalized_similarity(typo, name) >= cfg.min_similarity_ratio


def letter_runs(text: str) -> list[str]:
    """``LETTER_RUN_RE.findall(text)`` without its per-position look-arounds.

    A LETTER_RUN_RE match is exactly a maximal ``\\w`` run made only of letters, so the
    maximal runs are found first and the few that hold a digit or ``_`` are dropped.
    """
    return [w for w in WORD_CHARS_RE.findall(text) if w.isalpha() or LETTERS_ONLY_RE.fullmatch(w)]


def find_entity_typos(text: str, cfg: EntitiesConfig) -> dict[str, str]:
    """Map each suspected misspelling in ``text`` to the document's frequent name it misses."""
    tokens = letter_runs(text)
    token_counts = Counter(tokens)  # distinct tokens in first-seen order
    counts = {t: n for t, n in token_counts.items() if is_name_token(t)}
    if len(counts) < 2:
        return {}
    lower_seen = {t for t in token_counts if t.islower()}
    names = [n for n, c in counts.items() if c >= cfg.min_name_mentions and len(n) >= cfg.min_name_chars]
    if not names:
        return {}
    # a near miss shares the name's initial: compare each token with those names only
    by_initial: dict[str, list[str]] = {}
    for name in names:
        by_initial.setdefault(name[0] if cfg.require_same_initial else "", []).append(name)
    fixes: dict[str, str] = {}
    for typo, n_typo in counts.items():
        if n_typo > cfg.max_typo_mentions or len(typo) < cfg.min_name_chars or typo.lower() in lower_seen:
            continue
        matches = [
            name
            for name in by_initial.get(typo[0] if cfg.require_same_initial else "", ())
            if name != typo
            and counts[name] >= cfg.min_frequency_ratio * n_typo
            and abs(len(name) - len(typo)) <= cfg.max_edit_distance
            and _is_near_miss(typo, name, cfg)
        ]
        if len(matches) != 1:
            continue  # none, or ambiguous between two names
        if word_zipf(typo.lower(), cfg.language) >= cfg.max_typo_zipf:
            continue  # a real word or a listed name in its own right
        fixes[typo] = matches[0]
    # several different near-misses of one name are listed variants (Alibamu, Alibamo, Alibamon), not typos
    targets = Counter(fixes.values())
    fixes = {typo: name for typo, name in fixes.items() if targets[name] <= cfg.max_variants_per_name}
    if fixes and not _is_mostly_language(tokens, cfg):
        return {}
    return {typo: name for typo, name in fixes.items() if not _is_next_to(text, typo, name)}


def _is_next_to(text: str, typo: str, name: str) -> bool:
    """"Jumardi Jukardi": a near-miss written right beside the name is a different name."""
    pattern = re.compile(rf"\b(?:{re.escape(typo)}\W{{1,3}}{re.escape(name)}|{re.escape(name)}\W{{1,3}}{re.escape(typo)})\b")
    return bool(pattern.search(text))


def _is_mostly_language(tokens: list[str], cfg: EntitiesConfig) -> bool:
    """True when most lower-case words are words of ``cfg.language`` (German nouns are not English typos)."""
    lower = [t for t in tokens if t.islower()][: cfg.max_language_sample_words]
    if not lower:
        return False
    known = sum(word_zipf(t, cfg.language) >= cfg.min_language_word_zipf for t in lower)
    return known >= cfg.min_language_word_share * len(lower)


def fix_entity_typos_with_edits(text: str, cfg: EntitiesConfig) -> tuple[str, list[Edit]]:
    """Replace rare near-miss spellings of a document's frequent names; report ``name_typo`` edits."""
    if not cfg.enabled or not text:
        return text, []
    fixes = find_entity_typos(text, cfg)
    if not fixes:
        return text, []
    edits: list[Edit] = []

    def substitute(m: re.Match[str]) -> str:
        token = m.group()
        if token in fixes:
            edits.append(Edit(EDIT_KIND, f"{token} -> {fixes[token]}", 1))
            return fixes[token]
        return token

    return LETTER_RUN_RE.sub(substitute, text), merge_edits(edits)


def fix_entity_typos(text: str, cfg: EntitiesConfig) -> str:
    """Fixer: ``fix_entity_typos_with_edits`` without the edit list."""
    return fix_entity_typos_with_edits(text, cfg)[0]
