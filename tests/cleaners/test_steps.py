from cleaners.edits import Edit
from cleaners.steps import FilterStep, Stats, Step, apply_filters, apply_steps, merge_stats


def _upper(text):
    new = text.upper()
    return new, ([Edit("upper", "x", 1)] if new != text else [])


def test_apply_steps_counts_changes_and_edits():
    stats = Stats()
    text, edits = apply_steps("abc", [Step("upper", _upper)], stats)
    assert text == "ABC" and edits == [Edit("upper", "x", 1)]
    assert stats.counters["upper.changed"] == 1 and stats.counters["upper.edits"] == 1
    text, edits = apply_steps("ABC", [Step("upper", _upper)], stats)
    assert edits == [] and stats.counters["upper.changed"] == 1 and stats.counters["upper.total"] == 2


def test_stats_merge_keeps_negative_deltas():
    a, b = Stats(), Stats()
    a.add("x.chars_delta", -5)
    b.add("x.chars_delta", -3)
    b.add("y", 2)
    assert merge_stats([a, b]).as_dict() == {"x.chars_delta": -8, "y": 2}


def test_apply_filters_first_reason_wins():
    stats = Stats()
    checks = [FilterStep("a", lambda t: None), FilterStep("b", lambda t: "bad"), FilterStep("c", lambda t: "worse")]
    assert apply_filters("t", checks, stats) == "bad"
    assert stats.counters["filters.dropped_bad"] == 1 and "filters.dropped_worse" not in stats.counters
