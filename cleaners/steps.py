"""The cleaning pipeline as a plain list of steps, and the only code that counts.

``build_steps(cfg)`` returns the ordered fixers as ``Step(name, fn)`` with config bound by
``functools.partial``; ``apply_steps`` runs them over one text and returns the new text, the
edits and per-step stats. Stats use datatrove's vocabulary (``total``, ``forwarded``,
``dropped``, ``dropped_<reason>``, ``changed``, ``chars_delta``) and add up across batches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from cleaners import artifacts, chars, entities, filters, punctuation
from cleaners.config import PipelineConfig
from cleaners.edits import Edit

Fixer = Callable[[str], tuple[str, list[Edit]]]
Filter = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Step:
    name: str
    fn: Fixer


@dataclass(frozen=True)
class FilterStep:
    name: str
    fn: Filter


@dataclass
class Stats:
    """Mergeable counters keyed ``<step>.<counter>`` (datatrove's MetricStats idea)."""

    counters: Counter = field(default_factory=Counter)

    def add(self, key: str, value: int = 1) -> None:
        self.counters[key] += value

    def __add__(self, other: Stats) -> Stats:
        return Stats(_sum(self.counters, other.counters))

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counters.items()))


def _sum(a: Counter, b: Counter) -> Counter:
    # Counter.__add__ drops non-positive values (chars_delta is usually negative): add by hand.
    out = Counter(a)
    for k, v in b.items():
        out[k] += v
    return out


def merge_stats(items: Iterable[Stats]) -> Stats:
    total = Stats()
    for s in items:
        total = total + s
    return total


def build_steps(cfg: PipelineConfig) -> list[Step]:
    """The ordered text fixers applied to every document body (after extraction/boilerplate)."""
    steps = [Step("chars", partial(chars.fix_characters_with_edits, cfg=cfg.chars))]
    if cfg.artifacts.strip_link_artifacts or cfg.artifacts.strip_shortcodes:
        steps.append(Step("artifacts", partial(artifacts.strip_artifacts_with_edits, cfg=cfg.artifacts)))
    if cfg.punctuation.enabled:
        steps.append(Step("punctuation", partial(punctuation.repair_semicolons_with_edits, cfg=cfg.punctuation)))
    if cfg.entities.enabled:
        steps.append(Step("entities", partial(entities.fix_entity_typos_with_edits, cfg=cfg.entities)))
    return steps


def build_filters(cfg: PipelineConfig) -> list[FilterStep]:
    return [FilterStep(f.__name__.removeprefix("check_"), partial(f, cfg=cfg.filters)) for f in filters.FILTERS]


def apply_steps(text: str, steps: list[Step], stats: Stats) -> tuple[str, list[Edit]]:
    """Run ``steps`` in order over ``text``; count into ``stats``; return text and all edits."""
    edits: list[Edit] = []
    for step in steps:
        stats.add(f"{step.name}.total")
        new_text, step_edits = step.fn(text)
        if new_text != text:
            stats.add(f"{step.name}.changed")
            stats.add(f"{step.name}.chars_delta", len(new_text) - len(text))
        stats.add(f"{step.name}.edits", sum(e.count for e in step_edits))
        edits.extend(step_edits)
        stats.add(f"{step.name}.forwarded")
        text = new_text
    return text, edits


def apply_filters(text: str, checks: list[FilterStep], stats: Stats) -> str | None:
    """First drop reason among ``checks``, or None; counts ``filters.dropped_<reason>``."""
    stats.add("filters.total")
    for check in checks:
        reason = check.fn(text)
        if reason is not None:
            stats.add("filters.dropped")
            stats.add(f"filters.dropped_{reason}")
            return reason
    stats.add("filters.forwarded")
    return None
