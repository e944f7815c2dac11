"""The environment tox gives a conformance run, for the benches that run the suite.

tox.ini's setenv caches bytecode (and pytest's rewritten asserts) under the
checkout's .cache/: without it every pytest process, the xdist controller
and each worker, compiles everything again. A bench that runs the suite as
a user's tox does gets the same, so its figures are a user's.
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def suite_env(root=ROOT):
    """This process's environment with tox's setenv for the checkout at root."""
    return {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": os.path.join(root, ".cache", "pycache"),
    }
