"""newsclean cleaners: a pure library (no I/O, no prefect, no globals).

Fixers are ``text -> text``; filters are ``text -> reason | None``. Configuration is passed in
explicitly as frozen dataclasses from :mod:`cleaners.config`.
"""

__version__ = "0.1.0"
