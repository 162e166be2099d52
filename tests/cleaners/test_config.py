import dataclasses

import pytest

from cleaners.config import ConfigError, PipelineConfig, parse_config, with_overrides


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
        ({"filters.min_words": "many"}, "expected int"),
        ({"punctuation.enabled": "maybe"}, "expected a boolean"),
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
