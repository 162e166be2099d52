"""Plain-text page boilerplate removal: headline, date and article body from a text dump.

``parse_text_page(text, cfg, repeated)`` returns ``TextPage(title, published, body, edits)``;
``strip_boilerplate`` returns the body alone. The modules, each importing only those above it:

- ``lines.py``: the page as lines (``PageLine``: text, indentation, list marker, paragraph);
- ``vocab.py``: the vocabulary, named token groups and the regexes built from them;
- ``rules.py``: the named line rules (``LINE_RULES``), one per kind of page furniture;
- ``features.py``: the classifier's line features (jusText-like, with context);
- ``model.py``: the two-stage line classifier and its shipped weights (``model.json``);
- ``page.py``: the parser: comment cut, related tail, rules, site repeats, classifier,
  headline and date, rescue of protected prose and lists, duplicates (its docstring lists the
  steps in order).

``cleaners.residual`` applies some of ``LINE_RULES`` to text extracted from HTML;
``evals/fit_boilerplate.py`` fits the classifier and writes ``model.MODEL_PATH``.
"""

from cleaners.boilerplate.model import (
    MODEL_PATH,
    MODEL_RESOURCE,
    LineClassifier,
    LineModel,
    TreeModel,
    classifier_from_dict,
    default_model,
    model_from_dict,
)
from cleaners.boilerplate.page import (
    TextPage,
    find_date,
    line_signature,
    parse_text_page,
    parse_text_page_with_model,
    repeated_lines,
    rule_kept_lines,
    strip_boilerplate,
    strip_boilerplate_with_edits,
)
from cleaners.boilerplate.rules import LINE_RULES, RULE_MAX_WORDS, LineRule

__all__ = [
    "LINE_RULES",
    "MODEL_PATH",
    "MODEL_RESOURCE",
    "RULE_MAX_WORDS",
    "LineClassifier",
    "LineModel",
    "LineRule",
    "TextPage",
    "TreeModel",
    "classifier_from_dict",
    "default_model",
    "find_date",
    "line_signature",
    "model_from_dict",
    "parse_text_page",
    "parse_text_page_with_model",
    "repeated_lines",
    "rule_kept_lines",
    "strip_boilerplate",
    "strip_boilerplate_with_edits",
]
