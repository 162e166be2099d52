"""newsclean reports: what the output tables and runs say, for people (no Prefect).

The HTML page of ``newsclean report``: ``queries`` (table reads and aggregations into the plain
data of ``model``), ``svg`` (the plots), ``page`` (the page and ``write_report``). The end-of-run
summary (terminal table, markdown, artifact rows): ``summary``; ``flows.report`` publishes it
as Prefect artifacts.
"""
