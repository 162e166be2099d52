import dataclasses
import math

import pytest

from cleaners import boilerplate
from cleaners.config import (
    RULE,
    ConfigError,
    DedupConfig,
    FetchConfig,
    PipelineConfig,
    RunConfig,
    parse_config,
    sections,
    with_overrides,
)


def test_defaults_are_frozen():
    cfg = PipelineConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.filters.min_words = 3  # type: ignore[misc]


def test_toml_then_overrides():
    cfg = parse_config("[filters]\nmin_words = 7\n[dedup]\nseed = 3\n", {"dedup.seed": "9"})
    assert cfg.filters.min_words == 7
    assert cfg.dedup.seed == 9  # CLI string coerced to the field's type
    assert PipelineConfig().filters.min_words != 7  # defaults untouched


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"nosuch.key": 1}, "unknown config section"),
        ({"filters.nosuch": 1}, "unknown config key"),
        ({"filters.min_words": "many"}, 'filters.min_words = "many": must be an integer >= 0'),
        ({"punctuation.enabled": "maybe"}, 'punctuation.enabled = "maybe": must be true or false'),
    ],
    ids=["section", "key", "int", "bool"],
)
def test_bad_overrides_are_clear_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        with_overrides(PipelineConfig(), overrides)


def test_bad_toml_is_a_config_error():
    with pytest.raises(ConfigError):
        parse_config("[filters\nmin_words = 1")


def test_bool_strings():
    cfg = with_overrides(PipelineConfig(), {"punctuation.enabled": "false"})
    assert cfg.punctuation.enabled is False


# (TOML document or None, --set style overrides or None, fragment of the one-line error)
BAD = {
    "negative_batch": (None, {"run.batch_size": "-5"}, "run.batch_size = -5: must be an integer from 1 to 100000"),
    "zero_batch": ("[run]\nbatch_size = 0", None, "run.batch_size = 0: must be an integer from 1 to 100000"),
    "huge_batch": (None, {"run.batch_size": "100001"}, "run.batch_size = 100001: must be an integer from 1 to 100000"),
    "fractional_int_toml": ("[run]\nbatch_size = 1.9", None, "run.batch_size = 1.9: must be an integer"),
    "fractional_int_set": (None, {"run.batch_size": "1.9"}, "run.batch_size = 1.9: must be an integer"),
    "bool_as_int": ("[filters]\nmin_words = true", None, "filters.min_words = true: must be an integer >= 0"),
    "bool_string_as_int": (None, {"filters.min_words": "true"}, 'filters.min_words = "true": must be an integer'),
    "list_as_int": ("[filters]\nmin_words = [1]", None, "filters.min_words = [1]: must be an integer"),
    "table_as_int": ("[run.batch_size]\nx = 1", None, "run.batch_size = {'x': 1}: must be an integer"),
    "zero_bands": (None, {"dedup.num_bands": "0"}, "dedup.num_bands = 0: must be an integer from 1 to 1024"),
    "bands_not_dividing": (None, {"dedup.num_bands": "60"}, "dedup.num_bands = 60: must divide dedup.num_perm = 128"),
    "negative_seed": (None, {"dedup.seed": "-1"}, "dedup.seed = -1: must be an integer >= 0"),
    "jaccard_above_one": ("[dedup]\nmin_jaccard = 1.5", None, "dedup.min_jaccard = 1.5: must be a number from 0 to 1"),
    "share_below_zero": (None, {"filters.min_alpha_ratio": "-0.1"}, "filters.min_alpha_ratio = -0.1: must be a number from 0 to 1"),
    "nan_share_toml": ("[boilerplate]\nmin_keep_probability = nan", None, "boilerplate.min_keep_probability = nan: must be a number from 0 to 1"),
    "nan_share_set": (None, {"boilerplate.min_keep_probability": "NaN"}, "boilerplate.min_keep_probability = nan: must be a number"),
    "inf_seconds": (None, {"fetch.timeout_seconds": "inf"}, "fetch.timeout_seconds = inf: must be a number > 0"),
    "zero_timeout": (None, {"guard.max_page_seconds": "0"}, "guard.max_page_seconds = 0.0: must be a number > 0"),
    "negative_wait": (None, {"fetch.min_host_interval_seconds": "-0.5"}, "fetch.min_host_interval_seconds = -0.5: must be a number >= 0"),
    "negative_retries": (None, {"fetch.max_retries": "-1"}, "fetch.max_retries = -1: must be an integer >= 0"),
    "no_host_slots": (None, {"fetch.max_host_connections": "0"}, "fetch.max_host_connections = 0: must be an integer >= 1"),
    "robots_cap_below_rfc": (None, {"fetch.max_robots_bytes": "1000"}, "fetch.max_robots_bytes = 1000: must be an integer >= 512000"),
    "robots_age_over_a_day": (None, {"fetch.max_robots_age_seconds": "90000"}, "fetch.max_robots_age_seconds = 90000.0: must be a number from 0 to 86400"),
    "backoff_min_over_max": (None, {"fetch.min_backoff_seconds": "60"}, "fetch.min_backoff_seconds = 60.0: must be at most fetch.max_backoff_seconds = 30.0"),
    "min_words_over_max": (None, {"filters.min_words": "500", "filters.max_words": "100"}, "filters.min_words = 500: must be at most filters.max_words = 100"),
    "site_repeat_one": (None, {"boilerplate.min_site_repeat_pages": "1"}, "boilerplate.min_site_repeat_pages = 1: must be an integer >= 2"),
    "normalize_unknown": (None, {"chars.normalize_unicode": "NFX"}, 'chars.normalize_unicode = "NFX": must be one of NFC, NFD, NFKC, NFKD or none'),
    "runner_typo": (None, {"run.runner": "thread"}, 'run.runner = "thread": must be threads, processes, dask or dask=ADDRESS'),
    "runner_empty_address": ("[run]\nrunner = 'dask='", None, 'run.runner = "dask=": must be threads'),
    "runner_not_a_string": ("[run]\nrunner = 5", None, "run.runner = 5: must be threads"),
    "section_not_a_table": ("run = 5", None, "run = 5: must be a table [run] of settings"),
    "section_override_not_a_table": (None, {"dedup": 3}, "dedup = 3: must be a table [dedup] of settings"),
    "content_type_case": (None, {"fetch.content_types": "Text/HTML"}, 'fetch.content_types = ["Text/HTML"]: must be a list of lower-case media types'),
    "content_types_empty": ("[warc]\ncontent_types = []", None, "warc.content_types = []: must be a list of lower-case media types (type/subtype), at least one"),
    "content_types_not_strings": ("[fetch]\ncontent_types = [1]", None, "fetch.content_types = [1]: must be a list of lower-case media types"),
    "residual_rule_unknown": (None, {"boilerplate.html_residual_rules": "share,cookies"}, 'boilerplate.html_residual_rules = ["share", "cookies"]: must be a list of line rule names'),
    "language_without_wordlist": (None, {"entities.language": "xx"}, 'entities.language = "xx": must be a language wordfreq has a word list for'),
    "language_not_a_tag": (None, {"entities.language": "english"}, 'entities.language = "english": must be a language wordfreq'),
    "target_language_with_region": (None, {"extract.target_language": "en-US"}, 'extract.target_language = "en-US": must be a 2- or 3-letter ISO 639 code (e.g. en, de) or none'),
    "encoding_unknown": (None, {"load.fallback_encoding": "nope"}, 'load.fallback_encoding = "nope": must be a text encoding Python knows'),
    "encoding_not_text": (None, {"load.fallback_encoding": "rot13"}, 'load.fallback_encoding = "rot13": must be a text encoding'),
    "user_agent_injection": (None, {"fetch.user_agent": "bot\r\nX-Evil: 1"}, 'fetch.user_agent = "bot\\r\\nX-Evil: 1": must be printable ASCII'),
    "user_agent_no_token": (None, {"fetch.user_agent": "/0.1"}, 'fetch.user_agent = "/0.1": must be printable ASCII starting with a product token'),
    "zipf_above_nine": (None, {"entities.max_typo_zipf": "10"}, "entities.max_typo_zipf = 10.0: must be a number from 0 to 9"),
    "shingles_zero": (None, {"dedup.shingle_words": "0"}, "dedup.shingle_words = 0: must be an integer from 1 to 32"),
    "pipeline_version_empty": (None, {"pipeline_version": ""}, 'pipeline_version = "": must be a non-empty string'),
}


@pytest.mark.parametrize("toml_text, overrides, message", list(BAD.values()), ids=list(BAD))
def test_bad_settings_name_key_value_and_range(toml_text, overrides, message):
    with pytest.raises(ConfigError) as info:
        parse_config(toml_text, overrides)
    text = str(info.value)
    assert message in text
    assert "\n" not in text and isinstance(info.value, ValueError)  # one line, and still a ValueError


GOOD = {
    "batch_of_one": ({"run.batch_size": "1"}, lambda c: c.run.batch_size == 1),
    "largest_batch": ({"run.batch_size": "100000"}, lambda c: c.run.batch_size == 100_000),
    "integral_float_is_an_int": ({"run.batch_size": 2.0}, lambda c: c.run.batch_size == 2 and type(c.run.batch_size) is int),
    "int_for_a_float": ({"guard.max_page_seconds": 5}, lambda c: c.guard.max_page_seconds == 5.0 and type(c.guard.max_page_seconds) is float),
    "share_edges": ({"dedup.min_jaccard": "0", "dedup.min_containment": "1"}, lambda c: (c.dedup.min_jaccard, c.dedup.min_containment) == (0.0, 1.0)),
    "one_band_one_perm": ({"dedup.num_perm": "1", "dedup.num_bands": "1"}, lambda c: c.dedup.num_perm == c.dedup.num_bands == 1),
    "bands_and_perm_together": ({"dedup.num_perm": "120", "dedup.num_bands": "60"}, lambda c: c.dedup.num_perm == 120),
    "zero_wait": ({"fetch.min_host_interval_seconds": "0"}, lambda c: c.fetch.min_host_interval_seconds == 0.0),
    "zero_retries": ({"fetch.max_retries": "0"}, lambda c: c.fetch.max_retries == 0),
    "min_words_equal_max": ({"filters.min_words": "20", "filters.max_words": "20"}, lambda c: c.filters.min_words == 20),
    "normalize_off": ({"chars.normalize_unicode": "none"}, lambda c: c.chars.normalize_unicode is None),
    "normalize_nfkc": ({"chars.normalize_unicode": "NFKC"}, lambda c: c.chars.normalize_unicode == "NFKC"),
    "target_language": ({"extract.target_language": "DE"}, lambda c: c.extract.target_language == "DE"),
    "target_language_off": ({"extract.target_language": ""}, lambda c: c.extract.target_language is None),
    "wordfreq_language": ({"entities.language": "de"}, lambda c: c.entities.language == "de"),
    "runner_dask_address": ({"run.runner": "dask=tcp://10.0.0.5:8786"}, lambda c: c.run.runner == "dask=tcp://10.0.0.5:8786"),
    "runner_any_case": ({"run.runner": " Processes "}, lambda c: c.run.runner == " Processes "),
    "encoding_alias": ({"load.fallback_encoding": "latin-1"}, lambda c: c.load.fallback_encoding == "latin-1"),
    "residual_rules_off": ({"boilerplate.html_residual_rules": ""}, lambda c: c.boilerplate.html_residual_rules == ()),
    "robots_rfc_minimum": ({"fetch.max_robots_bytes": str(500 * 1024)}, lambda c: c.fetch.max_robots_bytes == 512_000),
    "big_seed": ({"dedup.seed": str(2**63 - 1)}, lambda c: c.dedup.seed == 2**63 - 1),
}


@pytest.mark.parametrize("overrides, holds", list(GOOD.values()), ids=list(GOOD))
def test_good_edge_values_are_accepted(overrides, holds):
    assert holds(parse_config(None, overrides))


def test_tuple_keys_from_a_toml_list():
    cfg = parse_config('[fetch]\ncontent_types = ["text/html", "text/plain"]\n[boilerplate]\nhtml_residual_rules = ["share"]')
    assert cfg.fetch.content_types == ("text/html", "text/plain")
    assert cfg.boilerplate.html_residual_rules == ("share",)


def test_tuple_keys_from_a_comma_string():
    cfg = parse_config(None, {"fetch.content_types": "text/html, text/plain", "warc.content_types": "text/html"})
    assert cfg.fetch.content_types == ("text/html", "text/plain")
    assert cfg.warc.content_types == ("text/html",)  # one string is one item, never its characters
    assert parse_config('[warc]\ncontent_types = "text/html"').warc.content_types == ("text/html",)


def test_direct_construction_and_replace_are_checked():
    with pytest.raises(ConfigError, match="run.batch_size = 0: must be an integer"):
        RunConfig(batch_size=0)
    with pytest.raises(ConfigError, match="run.batch_size = true: must be an integer"):
        dataclasses.replace(RunConfig(), batch_size=True)
    with pytest.raises(ConfigError, match="dedup.num_bands = 3: must divide dedup.num_perm = 128"):
        dataclasses.replace(DedupConfig(), num_bands=3)
    with pytest.raises(ConfigError, match="run = 5: must be a table"):
        dataclasses.replace(PipelineConfig(), run=5)
    with pytest.raises(ConfigError, match='fetch.content_types = "text/html": must be a list'):
        FetchConfig(content_types="text/html")  # type: ignore[arg-type]
    assert FetchConfig(content_types=["text/html"]).content_types == ("text/html",)  # type: ignore[arg-type]


def test_every_field_declares_its_bounds():
    """A new field without a Rule, or with one of another type than its annotation, fails here."""
    kinds = {"int": "int", "float": "float", "bool": "bool", "str": "str", "str | None": "str", "tuple[str, ...]": "names"}
    top = {f.name: f for f in dataclasses.fields(PipelineConfig)}
    assert set(top) == {*sections(), "pipeline_version"}
    assert RULE in top["pipeline_version"].metadata
    for name, cls in sections().items():
        assert cls.section == name
        for f in dataclasses.fields(cls):
            rule = f.metadata.get(RULE)
            assert rule is not None, f"{name}.{f.name} declares no bounds: use setting(default, rule)"
            annotation = "str" if str(f.type).startswith("Literal[") else str(f.type)
            assert rule.kind == kinds[annotation], f"{name}.{f.name}: {f.type} checked as {rule.kind}"
            assert rule.check(f.default), f"{name}.{f.name}: the default is outside its own bounds"


def test_line_rule_names_match_boilerplate():
    from cleaners.config import LINE_RULE_NAMES

    assert LINE_RULE_NAMES == tuple(name for name, _ in boilerplate.LINE_RULES)


@pytest.mark.parametrize("spec", ["threads", " Dask ", "dask=tcp://h:1", "processes=tcp://x:1", "ray", "dask="])
def test_run_runner_accepts_what_the_runner_parser_accepts(spec):
    from flows.runners import RunnerError, parse_runner  # no Prefect import: flows/runners imports it lazily

    try:
        parse_runner(spec)
    except RunnerError:
        with pytest.raises(ConfigError, match="run.runner"):
            parse_config(None, {"run.runner": spec})
    else:
        assert parse_config(None, {"run.runner": spec}).run.runner == spec


def test_nan_and_inf_never_pass_a_number_rule():
    for name, cls in sections().items():
        for f in dataclasses.fields(cls):
            rule = f.metadata[RULE]
            if rule.kind == "float":
                assert not rule.check(math.nan) and not rule.check(math.inf), f"{name}.{f.name}"
