"""``python -m flows ARGS`` is ``newsclean ARGS`` (e.g. ``python -m flows run --input data/raw``)."""

from flows.cli import app

app(prog_name="newsclean")
