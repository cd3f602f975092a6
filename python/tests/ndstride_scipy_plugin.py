"""A pytest plugin that runs SciPy's own distance tests against ndstride.

    python -m pytest -p ndstride_scipy_plugin --pyargs scipy.spatial.tests.test_distance

(with this folder on PYTHONPATH). Before the test module is imported, ``cdist``, ``pdist`` and
``squareform`` in ``scipy.spatial.distance`` become ndstride's, so the names the module
imports are ndstride's. SciPy computes only what ndstride does not claim: callable metrics,
SciPy's private ``test_*`` reference metrics, and the calls ndstride answers with
``NotSupportedError``. The summary says how many calls each side computed, and why SciPy
computed the others.
"""

from __future__ import annotations

import collections

import scipy.spatial.distance as _sd

import ndstride

_ORIGINAL = {name: getattr(_sd, name) for name in ("cdist", "pdist", "squareform")}
CALLS: collections.Counter[str] = collections.Counter()


def _scipy_owns(metric) -> str | None:
    if callable(metric):
        return "callable metric"
    if isinstance(metric, str) and metric.lower().startswith("test_"):
        return "SciPy's test_* reference metric"
    return None


def _route(name: str, nd, args, metric, kwargs):
    reason = _scipy_owns(metric)
    if reason is None:
        try:
            result = nd(*args, metric, **kwargs)
            CALLS[f"{name}: ndstride"] += 1
            return result
        except ndstride.NotSupportedError as e:
            reason = f"NotSupportedError: {str(e).split(' (')[0]}"
    CALLS[f"{name}: SciPy ({reason})"] += 1
    return _ORIGINAL[name](*args, metric, **kwargs)


def cdist(XA, XB, metric="euclidean", *, out=None, **kwargs):
    return _route("cdist", ndstride.cdist, (XA, XB), metric, dict(kwargs, out=out))


def pdist(X, metric="euclidean", *, out=None, **kwargs):
    return _route("pdist", ndstride.pdist, (X,), metric, dict(kwargs, out=out))


def squareform(X, force="no", checks=True):
    CALLS["squareform: ndstride"] += 1
    return ndstride.squareform(X, force=force, checks=checks)


def pytest_configure(config):
    _sd.cdist, _sd.pdist, _sd.squareform = cdist, pdist, squareform


def pytest_terminal_summary(terminalreporter):
    tr = terminalreporter
    tr.section("ndstride in SciPy's suite")
    for key, count in sorted(CALLS.items()):
        tr.write_line(f"{count:7d}  {key}")
