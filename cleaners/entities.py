"""Misspelled-name repair: a rare near-miss of a frequent capitalised name in the same document.

"Rogzonin’s behavior" in an article that says "Rogozin" a dozen times is a typo; "Chryses" next
to "Chryseis", "Equibank" next to "Equimark" or "Wrike" next to "Write" are distinct names, and
changing one into the other is a factual error the pipeline would introduce. The repair is
therefore precision first: a typo left in place costs less than a name changed. A capitalised
token is corrected only when it passes every gate (``slip_candidates``) and a logistic slip model
(``SlipModel``, weights in ``entities_model.json``) says it looks like a slip of the name.

Gates (each a reason to leave the token alone):

- the token occurs at most ``max_typo_mentions`` times, the name ``min_name_mentions`` times and
  ``min_frequency_ratio`` times as often; both are at least ``min_name_chars`` long;
- the name is never written in lower case on the page ("Write", "Concrete": a capitalised common
  word, not a name) and the token is not either;
- the two are one edit apart (optimal string alignment: a transposition is one edit), or two
  edits when the name has ``min_chars_for_second_edit`` letters, with the same initial;
- they are not an ending change: what follows their common prefix is an inflection or derivation
  ending on both sides ("Chryses/Chryseis", "Byzantinus/Byzantine", "Substacker/Substacks"), nor
  a transliteration variant (an "h" after b/d/g/j/k/p/t: "Hepthalites/Hephthalites");
- the token is unknown to wordfreq in every language of ``word_languages`` (Zipf below
  ``max_typo_zipf``) and to the list of names built from the dev corpora (``known_names``);
- the token is not two common words run together ("Gainline" = gain + line: a coined name);
- the page does not spell the token out as a variant: in quotes or parentheses of its own, after
  "spelled" or "also known as", beside the name ("Rogozin or Rogosin", "Rogozin/Rogosin"), or
  with a company designator when the name has another ("Texscan Corp" beside "Texcan Ltd");
- one name is nearer than any other, the name has no second near-miss on the page (listed
  variants), and the page is mostly
  ``cfg.language`` prose.

The slip model scores the edit (keyboard-adjacent substitution, transposition, a doubled letter
dropped or added, vowel change, where in the word), the two forms' counts and Zipf; the token is
replaced when the probability is at least ``min_slip_probability``. ``evals.fit_names`` fits it on
injected slips against real near-name pairs from the clean dev corpora.

Possessives survive because only the letters of the name are replaced ("Rogzonin’s" ->
"Rogozin’s"). ``fix_entity_typos`` wraps ``fix_entity_typos_with_edits``.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import OSA, Indel
from wordfreq import zipf_frequency

from cleaners.config import EntitiesConfig
from cleaners.edits import Edit, merge_edits
from cleaners.words import WORD_CHARS_RE

EDIT_KIND = "name_typo"
MODEL_FILE = Path(__file__).with_name("entities_model.json")
NAMES_FILE = Path(__file__).with_name("entities_names.json")

# A run of letters not glued to other word characters. "Rogzonin" in "Rogzonin’s" matches; "B2B" does not.
LETTER_RUN_RE = re.compile(r"(?<![\w])[^\W\d_]+(?![\w])")
# Letters only, as LETTER_RUN_RE counts them. "Rogozin" matches; "B2B", "snake_case" do not.
LETTERS_ONLY_RE = re.compile(r"[^\W\d_]+")

# A letter three times in a row. "alllure" matches; "allure" does not.
TRIPLED_LETTER_RE = re.compile(r"([^\W\d_])\1\1")
VOWELS = frozenset("aeiouy")
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# Endings of inflection and derivation: two names whose tails after their common prefix are both
# among these are forms of one another or related names ("Chryse|s/is", "Cynth|us/ius", "Taiwa|n/in" is not).
NAME_ENDINGS = frozenset(
    "|s|es|er|ers|ian|ians|an|ans|ean|eans|ese|ic|ics|ist|ists|ism|ia|ias|a|e|i|o|u|y|us|um|is|os|ae|ii|"
    "ie|en|ine|ite|ites|ish|ova|ov|ev|eva|ica|ius|io|ios|eus|aeus|aios|ea|eis|as|ae|on|ons|or|ors|et|ette|"
    "ed|ing|ly|al|in|ine|inus|ina|ino|ano|ana|ez|es|id|ids|ides|idae|inae|oidea|ness|ity|ist|ite|ar|ars|"
    "ski|sky|ska|ya".split("|")
)
# A company designator or spelled-out variant cue right after/before the rare form: "Equibank Corp",
# "Texscan Inc"; "spelled Rogozine", "also known as Rogosin", "Rogosin (or Rogozin)".
DESIGNATORS = frozenset(
    "inc corp corporation co ltd llc plc ag sa nv gmbh bank bancorp group holdings partners fund trust "
    "systems industries technologies international association capital".split()
)
QUOTE_PAIRS = frozenset({("(", ")"), ('"', '"'), ("“", "”"), ("‘", "’"), ("'", "'"), ("«", "»"), ("[", "]")})
SPELLING_CUE_RE = re.compile(
    r"(?:\bspel+(?:ed|t|ing)|\balso\s+(?:known\s+as|called|written)|\baka|\bnée|\bformerly|\bvariant|\bsic)\W{1,3}$",
    re.IGNORECASE,
)  # the text before a token: "spelled " matches, "also known as " matches, "the " does not


@lru_cache(maxsize=65536)
def word_zipf(word: str, language: str) -> float:
    """wordfreq Zipf frequency of ``word`` (cached immutable lookup)."""
    return zipf_frequency(word, language)


def max_zipf(word: str, languages: Iterable[str]) -> float:
    """The highest Zipf of ``word`` (lower-cased) in any of ``languages``."""
    return max((word_zipf(word.lower(), lang) for lang in languages), default=0.0)


def is_name_token(token: str) -> bool:
    """Capitalised with a lower-case letter after the first: "Rogozin" yes, "NASA"/"rogozin" no."""
    return token[0].isupper() and any(c.islower() for c in token[1:])


def _keyboard_neighbours() -> dict[str, frozenset[str]]:
    pos = {c: (r, i) for r, row in enumerate(KEYBOARD_ROWS) for i, c in enumerate(row)}
    out: dict[str, frozenset[str]] = {}
    for c, (r, i) in pos.items():
        near = {d for d, (r2, i2) in pos.items() if d != c and abs(r2 - r) <= 1 and (i2 - i) in ((-1, 0) if r2 < r else (0, 1) if r2 > r else (-1, 1))}
        out[c] = frozenset(near)
    return out


KEY_NEIGHBOURS = _keyboard_neighbours()  # constant: "s" -> {a, d, w, e, z, x}


def keys_adjacent(a: str, b: str) -> bool:
    """Neighbouring keys on a QWERTY keyboard ("s"/"d" yes, "s"/"k" no)."""
    return b.lower() in KEY_NEIGHBOURS.get(a.lower(), frozenset())


TYPING_KINDS = frozenset({"transpose", "sub_keyboard", "ins_keyboard", "del_double", "ins_double"})
EDIT_TYPES = ("sub_keyboard", "sub_other", "transpose", "del_double", "del_other", "ins_double", "ins_keyboard", "ins_other", "two_edits")


@dataclass(frozen=True)
class EditShape:
    """How ``typo`` differs from ``name``: the edit type, where, and whether only vowels changed."""

    kind: str  # one of EDIT_TYPES
    position: int  # index in ``name`` of the first difference
    vowel_only: bool  # every changed letter is a vowel


def edit_shape(typo: str, name: str) -> EditShape:
    """Classify a one-edit (or transposition) difference; anything else is ``two_edits``."""
    t, n = typo.lower(), name.lower()
    i = 0
    while i < min(len(t), len(n)) and t[i] == n[i]:
        i += 1
    if len(t) == len(n):
        if t[i + 1 :] == n[i + 1 :]:
            kind = "sub_keyboard" if keys_adjacent(t[i], n[i]) else "sub_other"
            return EditShape(kind, i, t[i] in VOWELS and n[i] in VOWELS)
        if i + 1 < len(t) and t[i] == n[i + 1] and t[i + 1] == n[i] and t[i + 2 :] == n[i + 2 :]:
            return EditShape("transpose", i, t[i] in VOWELS and t[i + 1] in VOWELS)
    elif len(t) + 1 == len(n) and t[i:] == n[i + 1 :]:
        c = n[i]
        doubled = (i > 0 and n[i - 1] == c) or (i + 1 < len(n) and n[i + 1] == c)
        return EditShape("del_double" if doubled else "del_other", i, c in VOWELS)
    elif len(t) == len(n) + 1 and t[i + 1 :] == n[i:]:
        c = t[i]
        near = [t[j] for j in (i - 1, i + 1) if 0 <= j < len(t)]
        if c in near:
            return EditShape("ins_double", i, c in VOWELS)
        kind = "ins_keyboard" if any(keys_adjacent(c, d) for d in near) else "ins_other"
        return EditShape(kind, i, c in VOWELS)
    return EditShape("two_edits", i, False)


def is_ending_change(typo: str, name: str) -> bool:
    """The forms differ only in an inflection/derivation ending ("Chryses"/"Chryseis", "Substacker"/"Substacks",
    "Lezgin"/"Lezgian": split before their last shared letters too); "Taiwain"/"Taiwan" does not."""
    t, n = typo.lower(), name.lower()
    i = 0
    while i < min(len(t), len(n)) and t[i] == n[i]:
        i += 1
    return any(t[j:] in NAME_ENDINGS and n[j:] in NAME_ENDINGS for j in range(max(1, i - 2), i + 1))


def is_transliteration_change(typo: str, name: str) -> bool:
    """An "h" added or dropped after b, d, g, j, k, p or t (romanised Arabic, Greek, Indic names):
    "Hepthalites"/"Hephthalites", "Abdelkhader"/"Abdelkader"; not "Sclumberger"/"Schlumberger"."""
    shape = edit_shape(typo, name)
    if shape.kind not in ("del_other", "del_double", "ins_other", "ins_keyboard", "ins_double"):
        return False
    longer = name.lower() if len(name) > len(typo) else typo.lower()
    i = shape.position
    return longer[i] == "h" and i > 0 and longer[i - 1] in "bdgjkpt"


# Features describe the edit, not the generator that made it, so a slip type left out of fitting
# (evals.name_slips.HELD_OUT_GENERATOR) is still scored by what it shares with the others.
FEATURES = (
    "bias",
    "two_edits",  # not one substitution, insertion, deletion or transposition
    "transpose",
    "length_change",  # a letter added or dropped
    "keyboard",  # the changed letter is a neighbouring key of the one it replaces or sits beside
    "doubled",  # a doubled letter written once, or a letter written twice
    "vowel_only",  # only vowels changed ("Chryses"/"Chrysis": distinct names differ in vowels)
    "edit_at_end",  # within the last two letters of the name
    "edit_at_second",  # at the second letter
    "log_name_count",
    "name_len",
    "name_zipf",
)


def edit_steps(typo: str, name: str) -> list[EditShape]:
    """The one or two edits from ``typo`` to ``name``: two edits go through a single edit of ``typo``
    (deletion, transposition, or a letter of ``name`` put in or over) one edit from ``name``, the most
    typist-like such path ("Rogzonin" -> "Rogoznin" -> "Rogozin": a transposition, then a letter dropped)."""
    first = edit_shape(typo, name)
    if first.kind != "two_edits":
        return [first]
    letters = sorted(set(name))
    middles = [typo[:i] + typo[i + 1 :] for i in range(len(typo))]
    middles += [typo[:i] + typo[i + 1] + typo[i] + typo[i + 2 :] for i in range(len(typo) - 1)]
    middles += [typo[:i] + c + typo[i + 1 :] for i in range(len(typo)) for c in letters]
    middles += [typo[:i] + c + typo[i:] for i in range(len(typo) + 1) for c in letters]
    paths = [
        [edit_shape(typo, middle), edit_shape(middle, name)]
        for middle in dict.fromkeys(middles)
        if middle != typo and OSA.distance(typo, middle) == 1 and OSA.distance(middle, name) == 1
    ]
    # the most typist-like path: most transpositions, neighbouring keys and doubled letters
    return max(paths, key=lambda path: sum(shape.kind in TYPING_KINDS for shape in path), default=[first])


def slip_features(typo: str, name: str, name_count: int, cfg: EntitiesConfig) -> dict[str, float]:
    """The slip model's features of replacing ``typo`` (seen once or so) by ``name`` (seen ``name_count`` times).

    A two-edit pair counts the features of both edits (``edit_steps``)."""
    steps = edit_steps(typo, name)
    feats = dict.fromkeys(FEATURES, 0.0)
    feats["bias"] = 1.0
    feats["two_edits"] = float(len(steps) > 1 or steps[0].kind == "two_edits")
    for shape in steps:
        feats["transpose"] += shape.kind == "transpose"
        feats["length_change"] += shape.kind.startswith(("del_", "ins_"))
        feats["keyboard"] += shape.kind in ("sub_keyboard", "ins_keyboard")
        feats["doubled"] += shape.kind in ("del_double", "ins_double")
        feats["edit_at_end"] += shape.position >= len(name) - 2
        feats["edit_at_second"] += shape.position <= 1
    feats["vowel_only"] = float(all(shape.vowel_only for shape in steps))
    feats["log_name_count"] = math.log(name_count)
    feats["name_len"] = (len(name) - 7) / 3
    feats["name_zipf"] = word_zipf(name.lower(), cfg.language)
    return feats


@dataclass(frozen=True)
class SlipModel:
    """Logistic model: P(slip) = sigmoid(sum of weight * feature)."""

    weights: dict[str, float]

    def probability(self, feats: dict[str, float]) -> float:
        z = sum(self.weights.get(k, 0.0) * v for k, v in feats.items())
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=1)
def load_slip_model() -> SlipModel:
    """The shipped slip model (``entities_model.json``, written by ``evals.fit_names``)."""
    return SlipModel(json.loads(MODEL_FILE.read_text(encoding="utf-8"))["weights"])


@lru_cache(maxsize=1)
def load_known_names() -> frozenset[str]:
    """Names written consistently in the dev corpora (``entities_names.json``, from ``evals.fit_names``)."""
    return frozenset(json.loads(NAMES_FILE.read_text(encoding="utf-8"))["names"])


def _allowed_edits(name: str, cfg: EntitiesConfig) -> int:
    return min(cfg.max_edit_distance, 2 if len(name) >= cfg.min_chars_for_second_edit else 1)


def is_near_miss(typo: str, name: str, cfg: EntitiesConfig) -> bool:
    if cfg.require_same_initial and typo[0] != name[0]:
        return False
    if typo.lower() == name.lower():
        return False  # casing variant: Transamerican/TransAmerican
    if not (typo.isascii() and name.isascii()):
        return False  # transliteration variant: Boumédienne/Boumediene, Jābir/Jabir
    if any(c.isupper() for c in typo[1:]):
        return False  # glued or camel-case token: WillsJack
    pressed_twice = typo == name + name[-1]  # "Hickss", "Powerr": the last key pressed twice, no ending
    if edit_shape(typo, name).kind != "transpose" and not pressed_twice and is_ending_change(typo, name):
        return False  # Borisov/Borisova, Johnson/Johnsons, Chryses/Chryseis, Byzantinus/Byzantine (not Indai/India)
    if is_transliteration_change(typo, name):
        return False  # Hepthalites/Hephthalites
    if OSA.distance(typo, name) > _allowed_edits(name, cfg):
        return False
    return Indel.normalized_similarity(typo, name) >= cfg.min_similarity_ratio


def letter_runs(text: str) -> list[str]:
    """``LETTER_RUN_RE.findall(text)`` without its per-position look-arounds.

    A LETTER_RUN_RE match is exactly a maximal ``\\w`` run made only of letters, so the
    maximal runs are found first and the few that hold a digit or ``_`` are dropped.
    """
    return [w for w in WORD_CHARS_RE.findall(text) if w.isalpha() or LETTERS_ONLY_RE.fullmatch(w)]


@dataclass(frozen=True)
class Candidate:
    """A rare token that passed every gate, the frequent name it may miss, and that name's count."""

    typo: str
    name: str
    name_count: int


def slip_candidates(text: str, cfg: EntitiesConfig, known_names: frozenset[str] = frozenset()) -> list[Candidate]:
    """Rare near-misses of the page's frequent names that pass every gate (before the slip model)."""
    tokens = letter_runs(text)
    token_counts = Counter(tokens)  # distinct tokens in first-seen order
    counts = {t: n for t, n in token_counts.items() if is_name_token(t)}
    if len(counts) < 2:
        return []
    lower_seen = {t for t in token_counts if t.islower()}
    names = [
        n
        for n, c in counts.items()
        if c >= cfg.min_name_mentions and len(n) >= cfg.min_name_chars and not (cfg.require_name_never_lower and n.lower() in lower_seen)
    ]
    if not names:
        return []
    # a near miss shares the name's initial: compare each token with those names only
    by_initial: dict[str, list[str]] = {}
    for name in names:
        by_initial.setdefault(name[0] if cfg.require_same_initial else "", []).append(name)
    found: list[Candidate] = []
    for typo, n_typo in counts.items():
        if n_typo > cfg.max_typo_mentions or len(typo) < cfg.min_name_chars or typo.lower() in lower_seen:
            continue
        matches = [
            name
            for name in by_initial.get(typo[0] if cfg.require_same_initial else "", ())
            if name != typo
            and counts[name] >= cfg.min_frequency_ratio * n_typo
            and abs(len(name) - len(typo)) <= cfg.max_edit_distance
            and is_near_miss(typo, name, cfg)
        ]
        if len(matches) > 1:  # "Paokistan": Pakistan (one edit) before Pakistani (two)
            nearest = min(OSA.distance(typo, name) for name in matches)
            matches = [name for name in matches if OSA.distance(typo, name) == nearest]
        if len(matches) != 1:
            continue  # none, or ambiguous between two names as near
        if typo in known_names or max_zipf(typo, cfg.word_languages) >= cfg.max_typo_zipf:
            continue  # a real word or a listed name in its own right
        if is_two_words(typo, cfg):
            continue  # a coined name of two words (Gainline = gain + line), not a slip of Grainline
        found.append(Candidate(typo, matches[0], counts[matches[0]]))
    if not found:
        return []
    # several unknown near-misses of one name, gated or not, are listed variants (Alibamu: Alibamo, Alibamon), not typos;
    # a known word beside it (Israel beside Israeli) is not one
    targets = {c.name for c in found}
    near_all = Counter(
        name
        for t, n in counts.items()
        if n <= cfg.max_typo_mentions and len(t) >= cfg.min_name_chars and t not in known_names and max_zipf(t, cfg.word_languages) < cfg.max_typo_zipf
        for name in targets
        if t != name and t[0] == name[0] and OSA.distance(t, name) <= _allowed_edits(name, cfg)
    )
    found = [c for c in found if near_all[c.name] <= cfg.max_variants_per_name]
    if found and not _is_mostly_language(tokens, cfg):
        return []
    return [c for c in found if not _is_next_to(text, c.typo, c.name) and not _is_spelled_out(text, c.typo, c.name)]


def is_two_words(token: str, cfg: EntitiesConfig) -> bool:
    """Two common ``cfg.language`` words of 4+ letters run together: "Gainline", "Rustsell" yes; "Oaklad", "Rogzonin" no.

    A letter written three times in a row is a slip, never a coinage ("Alllure" = all + lure is no name)."""
    t = token.lower()
    if TRIPLED_LETTER_RE.search(t):
        return False
    return any(
        word_zipf(t[:i], cfg.language) >= cfg.min_compound_part_zipf and word_zipf(t[i:], cfg.language) >= cfg.min_compound_part_zipf
        for i in range(4, len(t) - 3)
    )


def find_entity_typos(
    text: str, cfg: EntitiesConfig, known_names: frozenset[str] | None = None, model: SlipModel | None = None
) -> dict[str, str]:
    """Map each suspected misspelling in ``text`` to the document's frequent name it misses."""
    known = load_known_names() if known_names is None else known_names
    slip = load_slip_model() if model is None else model
    return {
        c.typo: c.name
        for c in slip_candidates(text, cfg, known)
        if slip.probability(slip_features(c.typo, c.name, c.name_count, cfg)) >= cfg.min_slip_probability
    }


def _is_next_to(text: str, typo: str, name: str) -> bool:
    """"Jumardi Jukardi", "Rogozin or Rogosin", "Rogozin/Rogosin": a near-miss beside the name is a different name or a variant."""
    a, b = re.escape(typo), re.escape(name)
    gap = r"(?:\W{1,3}|\s+or\s+|\s*/\s*|\s+\(\s*)"
    return bool(re.search(rf"\b(?:{a}{gap}{b}|{b}{gap}{a})\b", text))


def _is_spelled_out(text: str, typo: str, name: str) -> bool:
    """The page presents ``typo`` as a form in its own right: in quotes or parentheses of its own
    ("(Rogosin)", "“Rogosin”"), after a spelling cue ("spelled", "also known as") or before a
    company designator when the name has another one ("Texscan Corp" beside "Texcan Ltd")."""
    designators_of_name = {m.group(1).lower() for m in re.finditer(rf"(?<!\w){re.escape(name)}\W{{1,2}}([A-Za-z]+)", text)} & DESIGNATORS
    for m in re.finditer(rf"(?<!\w){re.escape(typo)}(?!\w)", text):
        before, after = text[max(0, m.start() - 24) : m.start()], text[m.end() : m.end() + 24]
        if before and after and (before[-1], after[0]) in QUOTE_PAIRS:
            return True
        if SPELLING_CUE_RE.search(before):
            return True
        nxt = re.match(r"\W{1,2}([A-Za-z]+)", after)
        if nxt and nxt.group(1).lower() in DESIGNATORS and designators_of_name and nxt.group(1).lower() not in designators_of_name:
            return True
    return False


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
    return apply_fixes(text, find_entity_typos(text, cfg))


def apply_fixes(text: str, fixes: dict[str, str]) -> tuple[str, list[Edit]]:
    """Replace each token of ``fixes`` by its name, letters only (possessives survive)."""
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
