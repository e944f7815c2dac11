"""The pipeline fixture: the flow of conformance/pipeline.py for this session.

Its run folder is shared by every xdist worker of the session, like the
chain cache, so verdicts computed by one worker are read by the others.
"""

import pytest

from conformance.pipeline import Pipeline
from fixtures.plugin import settings


@pytest.fixture(scope="session")
def pipeline(pytestconfig, tools, chain_cache, session_folder):
    runs = session_folder / "runs"
    runs.mkdir(exist_ok=True)
    harness = settings(pytestconfig)
    return Pipeline(
        tools,
        chain_cache,
        str(runs),
        harness.timeout,
        images=harness.target.subfolder("runs"),
    )
