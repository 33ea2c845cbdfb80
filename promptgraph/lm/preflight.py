"""Pre-flight: one tiny request to each server before a run pays for a pass.

A missing or refused key, a base_url where nothing listens, a model the server does not
serve: each would fail every call of the first pass the same way, ten or a hundred
requests later. One 1-token probe per server says so at once. compile() and the CLI both
send it; an LM answers its probe once, so a run the CLI probed is not probed again.
"""

from __future__ import annotations

import logging

from promptgraph.lm.base import LM

logger = logging.getLogger(__name__)


def preflight(*lms: LM | None) -> None:
    """Probe every distinct server and model among `lms` once; raise the LMError that says what to check.

    A wrapper (a cache, a batcher) is looked through to the LM that talks to the server: a
    probe is never answered from a cache. An LM with no probe (a ScriptedLM) is skipped.
    """
    probed: set[tuple[str, str]] = set()
    for lm in lms:
        server = _prober(lm)
        if server is None:
            continue
        key = (getattr(server, "backend", ""), server.model)
        if key in probed:
            continue
        probed.add(key)
        logger.debug("pre-flight probe of %s on %s", server.model, key[0])
        server.probe()


def _prober(lm: object) -> object | None:
    """The LM itself if it has a probe, else the first LM it wraps that has one, else None."""
    while lm is not None and not callable(getattr(lm, "probe", None)):
        lm = getattr(lm, "inner", None)
    return lm
