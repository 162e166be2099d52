"""newsclean flows: the world side (sources, fetching, Prefect flows, storage, CLI, reports)."""

import os

# polars allocates with jemalloc, which by default keeps the pages a thread freed for a while in
# that thread's arena. A run's dedup chunks allocate on many polars threads, so the flow process
# kept ~200 MB more after its first chunk than before it and its peak crept up with the run.
# Returning freed pages at once costs under 2% of dedup time (measured on 10k 10 KB pages).
# Set before polars is loaded (here: before any flows module imports it). A decay the user set
# wins; the default polars itself exports (a parent process that imported polars passes it on)
# does not count as one.
_JEMALLOC_ENV = "_RJEM_MALLOC_CONF"
_POLARS_DEFAULT = "dirty_decay_ms:500,muzzy_decay_ms:1000"
_user_conf = os.environ.get(_JEMALLOC_ENV, "").removeprefix(_POLARS_DEFAULT).strip(",")
if "decay_ms" not in _user_conf:
    os.environ[_JEMALLOC_ENV] = ",".join(p for p in (_user_conf, "dirty_decay_ms:0,muzzy_decay_ms:0") if p)
