"""The checkout's pytest configuration, for the harness's own tests (tests/).

The harness's options, fixtures and hooks come from the installed package's
pytest plugin (qcow2_conformance.plugin, entry point pytest11): tox installs
the checkout into its environment, editable, so the plugin is this code.
"""

# bench/ holds scripts that print figures, not tests.
collect_ignore = ["bench"]
