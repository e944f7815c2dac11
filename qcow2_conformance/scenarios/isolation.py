"""Drawing that does not depend on which modules the process has loaded.

hypothesis (since 6.131) mixes into what it draws the literals of every
local module in sys.modules (hypothesis.internal.conjecture.providers,
_get_local_constants). One seed would then draw other scenarios in the
xdist controller, in a plain script, or after any harness module changed a
string. While without_local_constants() is active, hypothesis sees no local
literal at all; its own fixed constants are kept. This touches hypothesis
internals: a version without them draws as before, and
tests/scenarios/test_strategies.py checks that a draw does not depend on loaded modules.
"""

from contextlib import contextmanager

try:
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants
except ImportError:  # a hypothesis without local constants
    providers = None


@contextmanager
def without_local_constants():
    original = getattr(providers, "_get_local_constants", None)
    if original is None:
        yield
        return
    # The cache of permitted constants may hold local ones from earlier draws.
    providers.CONSTANTS_CACHE.cache.clear()
    providers._get_local_constants = Constants
    try:
        yield
    finally:
        providers._get_local_constants = original
        providers.CONSTANTS_CACHE.cache.clear()
