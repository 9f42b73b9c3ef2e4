"""Collection of the package's doctests (``--doctest-modules``)."""

import importlib.util

# The module of an optional extra imports it: its doctests need it installed.
collect_ignore = (
    [] if importlib.util.find_spec("skpro") else ["sklearn_mcdropout/_skpro.py"]
)
