"""Name-typo evaluation pieces shared by ``evals.repairs`` and ``evals.fit_names``.

- Slip generators: ``keyboard_sub`` (a letter replaced by a neighbouring key), ``delete`` (a letter
  dropped), ``transpose`` (two neighbours swapped) and ``two_slips`` (two of those in one word) are
  the training generators; ``insert`` (a
  random letter added, ``HELD_OUT_GENERATOR``) is never used to fit or choose anything. ``typist``
  (fat-finger extra keys, doubled letters added or dropped, vowel swaps) is reported beside them,
  unused too.
- ``eligible_names``: the names a trial may misspell: capitalised, letters only, never in lower
  case, seen 4+ times on the page (3+ times beside the slip).
- ``build_known_names``: the gazetteer-like list (names written the same way 3+ times across 2+
  documents of a corpus).
- ``name_changes`` / ``repair_rate``: every change on clean text; the share of injected slips repaired.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable

from cleaners.config import EntitiesConfig
from cleaners.entities import KEY_NEIGHBOURS, LETTER_RUN_RE, SlipModel, apply_fixes, find_entity_typos, is_name_token, letter_runs, max_zipf

VOWEL_LETTERS = "aeiou"
HELD_OUT_GENERATOR = "insert"
TRAIN_GENERATORS = ("keyboard_sub", "delete", "transpose", "two_slips")


def _keyboard_sub(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name))
    near = sorted(KEY_NEIGHBOURS.get(name[i].lower(), frozenset()))
    return name[:i] + (rng.choice(near) if near else name[i]) + name[i + 1 :]


def _delete(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name))
    return name[:i] + name[i + 1 :]


def _insert(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name) + 1)
    return name[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + name[i:]


def _transpose(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def _typist(name: str, rng: random.Random) -> str:
    """Held out: a fat-finger extra key, a doubled letter added or dropped, or a vowel swapped."""
    op = rng.choice(("fat_finger", "double", "vowel"))
    i = rng.randrange(1, len(name))
    if op == "fat_finger":
        near = sorted(KEY_NEIGHBOURS.get(name[i].lower(), frozenset()))
        extra = rng.choice(near) if near else name[i]
        return name[: i + 1] + extra + name[i + 1 :] if rng.random() < 0.5 else name[:i] + extra + name[i:]
    if op == "double":
        pairs = [j for j in range(1, len(name) - 1) if name[j] == name[j + 1]]
        if pairs and rng.random() < 0.5:
            j = rng.choice(pairs)
            return name[:j] + name[j + 1 :]
        return name[: i + 1] + name[i] + name[i + 1 :]
    vowels = [j for j in range(1, len(name)) if name[j] in VOWEL_LETTERS]
    if not vowels:
        return name
    j = rng.choice(vowels)
    return name[:j] + rng.choice([v for v in VOWEL_LETTERS if v != name[j]]) + name[j + 1 :]


def _two_slips(name: str, rng: random.Random) -> str:
    """Two of the training slips in one word (a keyboard slip, a dropped letter, a transposition)."""
    for _ in range(2):
        name = rng.choice((_keyboard_sub, _delete, _transpose))(name, rng) if len(name) > 3 else name
    return name


GENERATORS: dict[str, Callable[[str, random.Random], str]] = {
    "keyboard_sub": _keyboard_sub,
    "delete": _delete,
    "insert": _insert,
    "transpose": _transpose,
    "two_slips": _two_slips,
    "typist": _typist,
}


def eligible_names(doc: str, cfg: EntitiesConfig) -> list[str]:
    """Names a trial may misspell: capitalised letters-only tokens never in lower case, seen once more than
    ``min_name_mentions`` (so the page still writes the name that often beside the slip)."""
    counts = Counter(letter_runs(doc))
    lower = {t for t in counts if t.islower()}
    return sorted(
        t
        for t, n in counts.items()
        if n > cfg.min_name_mentions and len(t) >= cfg.min_name_chars and t.isascii() and is_name_token(t) and t.lower() not in lower and not any(c.isupper() for c in t[1:])
    )


def inject(doc: str, generator: str, rng: random.Random, cfg: EntitiesConfig) -> tuple[str, str, str] | None:
    """One slip in one mention of one eligible name: (corrupted doc, typo, name), or None when no fair trial.

    A slip that makes a real word (Zipf >= ``max_typo_zipf`` in any of ``word_languages``) or a
    token already on the page is not a fair trial: nothing could tell it from that word.
    """
    names = eligible_names(doc, cfg)
    if not names:
        return None
    name = rng.choice(names)
    typo = GENERATORS[generator](name, rng)
    present = set(letter_runs(doc))
    if typo == name or typo in present or max_zipf(typo, cfg.word_languages) >= cfg.max_typo_zipf:
        return None
    mentions = [m for m in LETTER_RUN_RE.finditer(doc) if m.group() == name]
    m = rng.choice(mentions)
    return doc[: m.start()] + typo + doc[m.end() :], typo, name


def build_known_names(docs: Iterable[str], min_docs: int = 2, min_count: int = 3) -> set[str]:
    """Names written the same way ``min_count``+ times across ``min_docs``+ documents."""
    doc_freq: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for doc in docs:
        counts = Counter(t for t in letter_runs(doc) if is_name_token(t))
        total.update(counts)
        doc_freq.update(counts.keys())
    return {t for t, n in doc_freq.items() if n >= min_docs and total[t] >= min_count and len(t) >= 4}


def name_changes(docs: list[str], cfg: EntitiesConfig, known: frozenset[str] | None = None, model: SlipModel | None = None) -> list[tuple[int, str]]:
    """Every name change on ``docs``: (doc index, "Typo -> Name")."""
    out: list[tuple[int, str]] = []
    for i, doc in enumerate(docs):
        fixes = find_entity_typos(doc, cfg, known, model) if cfg.enabled and doc else {}
        _, edits = apply_fixes(doc, fixes)
        out += [(i, e.detail) for e in edits]
    return out


def repair_rate(
    docs: list[str], cfg: EntitiesConfig, generator: str, seed: int, known: frozenset[str] | None = None, model: SlipModel | None = None
) -> dict:
    """Inject one ``generator`` slip per document; the share repaired to the right name."""
    rng = random.Random(f"{seed}-{generator}")
    trials = repaired = wrong = 0
    for doc in docs:
        trial = inject(doc, generator, rng, cfg)
        if trial is None:
            continue
        corrupted, typo, name = trial
        trials += 1
        fixes = find_entity_typos(corrupted, cfg, known, model)
        repaired += fixes.get(typo) == name
        wrong += typo in fixes and fixes[typo] != name
    return {"trials": trials, "repaired": repaired, "repair_rate": repaired / trials if trials else 0.0, "wrong_target": wrong}
