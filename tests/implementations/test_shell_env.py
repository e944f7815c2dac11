"""What the harness takes back out of its own environment before it starts an exec: program.

tests/implementations/test_external.py checks what a program then sees.
"""

import pytest

from qcow2_conformance.implementations import shell_env

# (the harness's environment, sys.prefix, sys.base_prefix) -> ShellEnv
SHELL_ENVS = [
    (
        "under tox, with a value bin/conformance saved",
        {
            "TOX_ENV_NAME": "conformance",
            "VIRTUAL_ENV": "/v",
            "PYTHONHASHSEED": "7",
            "PYTHONIOENCODING": "utf-8",
            "HARNESS_SHELL_PYTHONHASHSEED": "7",
            "PYTEST_XDIST_WORKER": "gw0",
            "HOME": "/root",
        },
        "/v",
        "/usr",
        shell_env.ShellEnv(
            (
                "COLUMNS",
                "HARNESS_SHELL_PYTHONHASHSEED",
                "LINES",
                "PYTEST_XDIST_WORKER",
                "PYTHONIOENCODING",
                "TOX_ENV_NAME",
                "VIRTUAL_ENV",
            ),
            {"PYTHONHASHSEED": "7"},
            ("/v/bin",),
        ),
    ),
    (
        "pytest in the user's own venv: the user's PYTHONHASHSEED stays",
        {"VIRTUAL_ENV": "/v", "PYTHONHASHSEED": "3", "PYTEST_CURRENT_TEST": "t"},
        "/v",
        "/usr",
        shell_env.ShellEnv(
            ("COLUMNS", "LINES", "PYTEST_CURRENT_TEST", "VIRTUAL_ENV"), {}, ("/v/bin",)
        ),
    ),
    (
        "the system's python: its bin and another venv are the user's",
        {"VIRTUAL_ENV": "/other", "PYTHONIOENCODING": "utf-8", "HARNESS_SHELL_LINES": "50"},
        "/usr",
        "/usr",
        shell_env.ShellEnv(("COLUMNS", "HARNESS_SHELL_LINES"), {"LINES": "50"}, ()),
    ),
]


@pytest.mark.parametrize(
    "environ, prefix, base, expected", [c[1:] for c in SHELL_ENVS], ids=[c[0] for c in SHELL_ENVS]
)
def test_what_is_taken_back_out_of_the_harness_environment(environ, prefix, base, expected):
    assert shell_env.shell_env(environ, prefix, base) == expected
