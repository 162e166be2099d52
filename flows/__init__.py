"""newsclean flows: the world side (sources, fetching, Prefect flows, storage, CLI, reports)."""

import os

# polars allocates with jemalloc, which by default keeps the pages a thread freed for ~10 s in
# that thread's arena. A run's dedup chunks allocate on many polars threads, so the flow process
# kept ~200 MB more after its first chunk than before it and its peak crept up with the run.
# Returning freed pages at once costs under 2% of dedup time (measured on 10k 10 KB pages).
# Set before polars is loaded (here: before any flows module imports it); an explicit setting wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
