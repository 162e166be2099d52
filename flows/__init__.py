"""newsclean flows: the world side (sources, fetching, Prefect flows, storage, CLI, reports)."""

import os

# polars allocates with jemalloc, which by default keeps the pages a thread freed for a while in
# that thread's arena. A run's dedup chunks allocate on many polars threads, so the flow process
# kept memory after its first chunk and its peak crept up with the run. Returning freed pages at
# once costs little dedup time (figures: README, benchmarks).
# Set before polars is loaded (here: before any flows module imports it). A decay the user set
# wins; the default polars itself exports (a parent process that imported polars passes it on)
# does not count as one.
_JEMALLOC_ENV = "_RJEM_MALLOC_CONF"
_POLARS_DEFAULT = "dirty_decay_ms:500,muzzy_decay_ms:1000"
_user_conf = os.environ.get(_JEMALLOC_ENV, "").removeprefix(_POLARS_DEFAULT).strip(",")
if "decay_ms" not in _user_conf:
    os.environ[_JEMALLOC_ENV] = ",".join(p for p in (_user_conf, "dirty_decay_ms:0,muzzy_decay_ms:0") if p)
