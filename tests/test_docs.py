"""The API reference lists every public object, and each has an Examples section.

Cheap checks that need no Sphinx; the documentation itself is built by
``sphinx-build -W -b html docs docs/_build/html`` (see README).
"""

import inspect
import re
from pathlib import Path

import pytest

import sklearn_mcdropout
from sklearn_mcdropout import _base, _regressor, metrics, plotting

API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"

PUBLIC = [
    (module, name)
    for module in (sklearn_mcdropout, metrics, plotting)
    for name in module.__all__
    if name != "__version__"
]
# The objects of the optional extras, imported on first access (not in
# __all__, so that ``import *`` needs no extra).
PUBLIC += [(sklearn_mcdropout, name) for name in sklearn_mcdropout._LAZY]


def _api_entries():
    """Names listed in the autosummary tables of docs/api.rst, by module."""
    entries, module, in_table = set(), None, False
    for line in API_RST.read_text().splitlines():
        if match := re.match(r"\.\. module:: (\S+)", line):
            module = match.group(1)
        elif line.startswith(".. autosummary::"):
            in_table = True
        elif in_table and re.match(r"   [A-Za-z_]\w*$", line):
            entries.add((module, line.strip()))
        elif line and not line.startswith(" "):
            in_table = False
    return entries


@pytest.mark.parametrize(
    ("module", "name"), PUBLIC, ids=[f"{m.__name__}.{n}" for m, n in PUBLIC]
)
def test_public_object_in_api_reference(module, name):
    assert (module.__name__, name) in _api_entries()


def test_api_reference_lists_only_public_objects():
    public = {(module.__name__, name) for module, name in PUBLIC}
    assert _api_entries() <= public


@pytest.mark.parametrize(
    ("module", "name"), PUBLIC, ids=[f"{m.__name__}.{n}" for m, n in PUBLIC]
)
def test_public_object_has_examples(module, name):
    if name in sklearn_mcdropout._LAZY:
        pytest.importorskip("skpro")
    obj = getattr(module, name)
    if isinstance(obj, int | float):
        # A limit is documented by the #: comment above its assignment.
        sources = [inspect.getsource(m) for m in (_base, _regressor)]
        assert any(re.search(rf"#: .*\n{name} = ", src) for src in sources), name
        return
    doc = inspect.getdoc(obj)
    assert re.search(r"^Examples\n--------$", doc, re.MULTILINE), (
        f"{module.__name__}.{name} has no Examples section"
    )
