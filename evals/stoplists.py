"""Write cleaners/boilerplate/stoplists.json: the stoplists of the boilerplate features, taken from wordfreq.

``stopwords_for`` (cleaners/boilerplate/features.py) is the ``STOPWORD_TOP_N`` most frequent words
of each of ``STOPWORD_LANGUAGES``. wordfreq reads a language's whole frequency list to give its
top words: about 2 s of CPU for the 14 languages at every process start (a one-page run's largest
fixed cost after the imports). The lists ship instead; tests/cleaners/test_stoplists.py checks
that they equal wordfreq's. Run after changing either constant or upgrading wordfreq:

    python -m evals.stoplists [--out PATH]
"""

from __future__ import annotations

import argparse
import json
from importlib.metadata import version
from pathlib import Path

from wordfreq import top_n_list

from cleaners.boilerplate.features import STOPLISTS_PATH, STOPWORD_LANGUAGES, STOPWORD_TOP_N


def stoplists() -> dict:
    return {
        "source": f"wordfreq {version('wordfreq')} top_n_list(language, {STOPWORD_TOP_N})",
        "top_n": STOPWORD_TOP_N,
        "languages": {lang: top_n_list(lang, STOPWORD_TOP_N) for lang in STOPWORD_LANGUAGES},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=STOPLISTS_PATH)
    args = ap.parse_args(argv)
    data = stoplists()
    langs = ",\n".join(f"  {json.dumps(lang)}: {json.dumps(words, ensure_ascii=False)}" for lang, words in data.pop("languages").items())
    head = json.dumps(data, ensure_ascii=False)[:-1]  # one language a line: readable diffs
    args.out.write_text(f'{head}, "languages": {{\n{langs}\n}}}}\n', encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
