"""cleaners.language: the identifier's code when sure, None when unsure, the declared language as fallback."""

import pytest

from cleaners.config import ConfigError, LanguageConfig, parse_config
from cleaners.language import choose_language, detect_language

CFG = LanguageConfig()

EN = "The city council voted on Tuesday to approve a new budget for road repairs and public schools."
DE = "Der Stadtrat hat am Dienstag einen neuen Haushalt für Straßenreparaturen und öffentliche Schulen beschlossen."
FR = "Le conseil municipal a voté mardi un nouveau budget pour la réparation des routes et les écoles publiques."
RU = "Городской совет во вторник утвердил новый бюджет на ремонт дорог и государственные школы."
ZH = "市议会周二投票批准了一项用于道路维修和公立学校的新预算，预计明年开始实施。"
# mostly English with a German quote: the majority language wins
MIXED = EN + " " + EN + ' He said: "Das ist gut."'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (EN, "en"),
        (DE, "de"),
        (FR, "fr"),
        (RU, "ru"),
        (ZH, "zh"),
        (MIXED, "en"),
        ("Hello world", None),  # shorter than min_chars: unsure
        ("", None),
        ("   \n\t  ", None),
        ("12 345 678 910 1112 1314 1516 1718", None),  # figures: no two-letter code / low confidence
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text, CFG) == expected


@pytest.mark.parametrize(
    ("text", "declared", "expected"),
    [
        (DE, "en", "de"),  # a sure identifier overrides a template's default lang attribute
        (EN, "en", "en"),  # agreement
        ("Hello world", "fr", "fr"),  # unsure: the declaration stays
        ("Hello world", None, None),  # text page, unsure: nothing to say
        (RU, None, "ru"),  # text page: the identifier fills in
    ],
)
def test_choose_language(text, declared, expected):
    assert choose_language(text, declared, CFG) == expected


def test_disabled_keeps_only_the_declaration():
    off = LanguageConfig(enabled=False)
    assert choose_language(DE, "en", off) == "en"
    assert choose_language(DE, None, off) is None


def test_min_confidence_one_makes_the_identifier_always_unsure():
    assert detect_language(EN, LanguageConfig(min_confidence=1.0)) is None


@pytest.mark.parametrize(("key", "value"), [("min_confidence", 1.5), ("min_confidence", -0.1), ("min_chars", 0)])
def test_settings_are_bounded(key, value):
    with pytest.raises(ConfigError):
        parse_config(f"[language]\n{key} = {value}\n")


def test_only_the_first_max_chars_are_read():
    """A body whose first max_chars characters are English is English, whatever follows."""
    en = " ".join([EN] * 2)
    long_de = en + " " + " ".join([DE] * 60)
    cfg = LanguageConfig(max_chars=len(en) + 5)
    assert detect_language(long_de, cfg) == "en"
    assert detect_language(long_de, CFG) == "de"


def test_max_chars_is_range_checked():
    with pytest.raises(ConfigError):
        parse_config(None, {"language.max_chars": 10})
