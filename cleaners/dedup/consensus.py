"""Consensus repair: fix the canonical copy of a cluster where its other copies agree.

Syndicated copies are damaged independently (a typo here, a stray semicolon there), so where the
canonical text differs from its copies and the copies agree with each other, the copies are right.
:func:`repair_from_copies` aligns the canonical's tokens (words, single punctuation marks) with each
copy's (``difflib.SequenceMatcher``, no junk heuristic) and lets each copy vote on every canonical
token it *covers*:

- inside an equal block the copy reads the canonical token;
- inside a short differing block (at most ``cfg.max_consensus_span_tokens`` tokens on each side, of
  equal length, or a deletion) that is anchored by ``cfg.min_consensus_anchor_tokens`` equal tokens
  on both sides, the copy reads its own token (or nothing, for a deletion);
- elsewhere (truncated, rewritten or inserted text) the copy abstains.

A canonical token is replaced (or deleted) when at least ``cfg.min_consensus_copies`` covering copies
agree on the same other reading and they are a strict majority of the covering copies. Readings
equal up to case and typography (curly vs straight quotes, en dash vs hyphen) count as the
canonical's own: title-cased or typographic copies never restyle the canonical. Only typo-sized
changes are made: a word is replaced only by a word within ``cfg.max_consensus_edit_chars``
character edits (OSA: "won" -> "own" is one), punctuation only by punctuation or nothing; words are
never deleted and tokens never inserted (copies that rewrite a sentence drop and add words, and a
majority of rewrites is still a rewrite). Every change is an ``Edit("consensus_repair", '"won" -> "own"', 1)``.

:func:`repair_clusters` applies this to the canonical row of every cluster of an
``assign_clusters`` output that has at least ``cfg.min_consensus_copies`` copies in the frame.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher

import polars as pl
from rapidfuzz.distance import OSA

from cleaners import schema
from cleaners.config import DedupConfig
from cleaners.derived import text_columns
from cleaners.edits import Edit, clip, merge_edits

EDIT_KIND = "consensus_repair"

# TOKEN_RE: a word (letters/digits with inner apostrophes, dots or commas: "won't", "2.41", "1,875,000")
# or one punctuation mark. "its won" matches "its"; " " does not
TOKEN_RE = re.compile(r"\w+(?:['’.,]\w+)*|[^\w\s]")

# typographic variants folded before comparing tokens (never written into the text)
_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "‐": "-"})


def _fold(token: str) -> str:
    return token.translate(_TYPOGRAPHY).casefold()


def _tokens(text: str) -> tuple[list[tuple[int, int]], list[str], list[str]]:
    """Spans, surface forms and folded forms of the tokens of ``text``."""
    spans, surface = [], []
    for m in TOKEN_RE.finditer(text):
        spans.append(m.span())
        surface.append(m.group())
    return spans, surface, [_fold(t) for t in surface]


def _anchor(ops: Sequence[tuple[str, int, int, int, int]], k: int, step: int, cfg: DedupConfig) -> bool:
    """True when ``cfg.min_consensus_anchor_tokens`` equal tokens lie beside op ``k`` (direction
    ``step``), stepping over other short differences (a typo next to a stray mark) but not long ones."""
    equal = 0
    j = k + step
    while 0 <= j < len(ops) and equal < cfg.min_consensus_anchor_tokens:
        tag, i1, i2, j1, j2 = ops[j]
        if tag == "equal":
            equal += i2 - i1
        elif max(i2 - i1, j2 - j1) > cfg.max_consensus_span_tokens:
            return False
        j += step
    return equal >= cfg.min_consensus_anchor_tokens


def _votes(canon: list[str], copy: list[str], copy_surface: list[str], cfg: DedupConfig) -> dict[int, str]:
    """The reading of ``copy`` at every canonical token it covers: its surface token, or "" (deleted)."""
    votes: dict[int, str] = {}
    ops = SequenceMatcher(None, canon, copy, autojunk=False).get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            for i in range(i1, i2):
                votes[i] = copy_surface[j1 + i - i1]
            continue
        if tag == "insert":
            continue
        anchored = _anchor(ops, k, -1, cfg) and _anchor(ops, k, 1, cfg)
        if not anchored or i2 - i1 > cfg.max_consensus_span_tokens:
            continue
        if tag == "delete":
            for i in range(i1, i2):
                votes[i] = ""
        elif j2 - j1 == i2 - i1:  # replace, token for token
            for i in range(i1, i2):
                votes[i] = copy_surface[j1 + i - i1]
    return votes


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _typo_sized(old: str, new: str, cfg: DedupConfig) -> bool:
    """A change a typo or a stray mark explains: word -> close word, punctuation -> punctuation or nothing."""
    if _is_word(old):
        return bool(new) and _is_word(new) and OSA.distance(old, new) <= cfg.max_consensus_edit_chars
    return not _is_word(new)


def _delete_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span to cut for a deleted token: the token plus one adjoining space when it stood alone."""
    before = start > 0 and text[start - 1] == " "
    after = end < len(text) and text[end] == " "
    if before and (after or end == len(text) or not text[end].isalnum()):
        return start - 1, end
    if after and (start == 0 or not text[start - 1].isalnum()):
        return start, end + 1
    return start, end


def repair_from_copies(canonical: str, copies: Sequence[str], cfg: DedupConfig) -> tuple[str, list[Edit]]:
    """``canonical`` with tokens replaced/deleted where its ``copies`` agree otherwise; the edits made."""
    if len(copies) < cfg.min_consensus_copies or not canonical:
        return canonical, []
    spans, surface, folded = _tokens(canonical)
    if not spans:
        return canonical, []
    readings: list[Counter] = [Counter() for _ in spans]
    forms: dict[tuple[int, str], Counter] = {}
    covering = [0] * len(spans)
    for copy in copies:
        _, c_surface, c_folded = _tokens(copy)
        if not c_folded:
            continue
        for i, token in _votes(folded, c_folded, c_surface, cfg).items():
            covering[i] += 1
            key = _fold(token)
            if key == folded[i]:
                continue  # agrees with the canonical (up to case and typography)
            readings[i][key] += 1
            forms.setdefault((i, key), Counter())[token] += 1
    changes: list[tuple[int, int, str]] = []  # (start, end, replacement) in canonical offsets
    edits: list[Edit] = []
    for i, counter in enumerate(readings):
        if not counter:
            continue
        key, n = max(counter.items(), key=lambda kv: (kv[1], kv[0]))
        if n < cfg.min_consensus_copies or 2 * n <= covering[i]:
            continue
        if not _typo_sized(folded[i], key, cfg):
            continue
        start, end = spans[i]
        if key == "":
            start, end = _delete_span(canonical, start, end)
            replacement = ""
        else:
            replacement = max(forms[(i, key)].items(), key=lambda kv: (kv[1], kv[0]))[0]
        changes.append((start, end, replacement))
        edits.append(Edit(EDIT_KIND, clip(f'"{surface[i]}" -> "{replacement}"'), 1))
    if not changes:
        return canonical, []
    out, last = [], 0
    for start, end, replacement in sorted(changes):
        if start < last:  # two deletions claiming the same space: keep the text between them
            start = last
        out.append(canonical[last:start])
        out.append(replacement)
        last = end
    out.append(canonical[last:])
    return "".join(out), merge_edits(edits)


def repair_clusters(clustered_df: pl.DataFrame, cfg: DedupConfig) -> pl.DataFrame:
    """Repair the ``text`` of each cluster's canonical row from the cluster's other rows.

    ``clustered_df`` is an ``assign_clusters`` output (``doc_id``, ``text``, ``cluster_id``,
    ``is_canonical``; ``edits`` as a list of kind/detail/count structs when present). The canonical
    rows get their repaired text and the ``consensus_repair`` edits appended to ``edits``, and a
    repaired row's ``content_hash`` and ``n_words``, where the frame has them, are derived again
    from its new text (``derived.text_columns``); every other row is returned unchanged, in the
    input order. A cluster whose canonical is not in the
    frame (it joined an indexed cluster) is left alone.
    """
    edit_type = pl.List(pl.Struct({"kind": pl.String, "detail": pl.String, "count": pl.Int32}))
    df = clustered_df
    if "edits" not in df.columns:
        df = df.with_columns(pl.lit([], dtype=edit_type).alias("edits"))
    if not cfg.consensus_repair or df.height == 0:
        return df
    sizes = df.group_by("cluster_id").len()
    eligible = sizes.filter(pl.col("len") > cfg.min_consensus_copies)["cluster_id"]
    in_cluster = pl.col("cluster_id").is_in(eligible.implode())
    copies = (
        df.filter(in_cluster & ~pl.col("is_canonical"))
        .group_by("cluster_id")
        .agg(pl.col("text").sort_by("doc_id").alias("_copies"))
    )
    canon = df.filter(in_cluster & pl.col("is_canonical")).select("doc_id", "cluster_id", "text").join(copies, on="cluster_id")
    if canon.height == 0:
        return df
    new_text, new_edits = [], []
    for text, others in zip(canon["text"].to_list(), canon["_copies"].to_list()):
        fixed, edits = repair_from_copies(text or "", others, cfg)
        new_text.append(fixed if edits else text)
        new_edits.append([e._asdict() for e in edits])
    changed = [i for i, edits in enumerate(new_edits) if edits]
    if not changed:
        return df
    repaired = pl.DataFrame(
        {
            "doc_id": canon["doc_id"].gather(changed),
            "_text": pl.Series([new_text[i] for i in changed], dtype=pl.String),
            "_edits": pl.Series([new_edits[i] for i in changed], dtype=edit_type),
        }
    )
    derived = [c for c in (schema.CONTENT_HASH, schema.N_WORDS) if c in df.columns]
    if derived:
        values = [text_columns(t) for t in repaired["_text"].to_list()]
        repaired = repaired.with_columns(
            pl.Series(f"_{c}", [v[c] for v in values], dtype=df.schema[c]) for c in derived
        )
    out = df.join(repaired, on="doc_id", how="left", maintain_order="left")
    return out.with_columns(
        pl.coalesce("_text", "text").alias("text"),
        pl.when(pl.col("_edits").is_not_null())
        .then(pl.concat_list(pl.col("edits").fill_null(pl.lit([], dtype=edit_type)).cast(edit_type), "_edits"))
        .otherwise(pl.col("edits"))
        .alias("edits"),
        *(pl.coalesce(f"_{c}", c).alias(c) for c in derived),
    ).drop("_text", "_edits", *(f"_{c}" for c in derived))
