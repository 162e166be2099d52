"""newsclean evals: offline measurement and training harnesses over labelled data.

Each harness runs the cleaners' own code paths on a labelled set and scores the result; none
starts Prefect or imports ``flows``. Where the data lives: ``evals.data``. The commands:
``newsclean eval text | extract | dedup | repairs`` (``evals.cli``, mounted by ``flows.cli``);
the boilerplate classifier is refitted with ``python -m evals.fit_boilerplate``.
"""
