"""newsclean flows: the world side (sources, fetching, Prefect flows, storage, CLI, reports)."""
