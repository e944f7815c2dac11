"""What an exec: program's environment must lose to be the user's shell's again.

The harness runs under pytest (and pytest-xdist), in tox's virtual
environment. Each adds variables, and the venv's bin folder comes first on
PATH, so a `#!/usr/bin/env python3` program would get the harness's python
and a program could behave differently under the harness than in the shell
it is judged for. The names are taken from the harness's own environment;
the program runs with the host's environment minus those.
"""

import os
import sys
from dataclasses import dataclass

# PYTEST_CURRENT_TEST, PYTEST_VERSION, PYTEST_XDIST_WORKER...; TOX_ENV_NAME,
# TOX_ENV_DIR, TOX_WORK_DIR...
PREFIXES = ("PYTEST_", "TOX_")

# GNU readline, which pytest loads, sets these with setenv(3) in the harness's
# process, where os.environ does not show them; tox also sets them from its
# terminal. A shell exports neither unless told to.
READLINE_SETS = ("COLUMNS", "LINES")

# tox 4 sets these in every environment, over whatever the shell had (its
# tox_env/api.py, python/api.py, python/virtual_env/api.py), and tox.ini's
# setenv sets PYTHONDONTWRITEBYTECODE and PYTHONPYCACHEPREFIX
# (tests/implementations/test_external.py checks that this list covers tox.ini).
TOX_SETS = (
    "VIRTUAL_ENV",
    "PIP_USER",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "PYTHONIOENCODING",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
) + READLINE_SETS

# bin/conformance saves the shell's own value of each TOX_SETS name under this
# prefix before tox replaces it, so it can be given back.
SAVED = "HARNESS_SHELL_"
# bin/conformance names the folder it was called in, for relative paths
# (fixtures/session.py); the harness's business, not the program's.
CALLER_DIR = "HARNESS_CALLER_DIR"


@dataclass(frozen=True)
class ShellEnv:
    unset: tuple  # names to remove
    restore: dict  # name -> the shell's own value, which tox replaced
    not_on_path: tuple  # folders to take out of PATH: the harness's venv bin


# On a remote target the program runs in the environment sshd gives a
# command there, which holds nothing of the harness's: nothing to undo.
REMOTE = ShellEnv((), {}, ())


def shell_env(environ=None, prefix=None, base_prefix=None):
    """How to turn the harness's environment back into the user's shell's."""
    environ = os.environ if environ is None else environ
    prefix = sys.prefix if prefix is None else prefix
    base_prefix = sys.base_prefix if base_prefix is None else base_prefix
    restore = {
        name[len(SAVED) :]: value
        for name, value in environ.items()
        if name.startswith(SAVED) and name[len(SAVED) :] in TOX_SETS
    }
    added = {name for name in environ if name.startswith(PREFIXES + (SAVED,))}
    added |= {CALLER_DIR} & environ.keys()
    added |= set(READLINE_SETS)
    if "TOX_ENV_NAME" in environ:
        added |= {name for name in TOX_SETS if name in environ}
    # Outside a venv, sys.prefix is /usr or the like: its bin is the user's too.
    in_venv = os.path.realpath(prefix) != os.path.realpath(base_prefix)
    venv = environ.get("VIRTUAL_ENV")
    if in_venv and venv and os.path.realpath(venv) == os.path.realpath(prefix):
        added.add("VIRTUAL_ENV")
    not_on_path = (os.path.join(prefix, "bin"),) if in_venv else ()
    return ShellEnv(tuple(sorted(added - restore.keys())), restore, not_on_path)
