"""Thin wrappers around the external tools the harness drives.

Only modules in this package build command lines. Each takes a Toolset (or a
host of tools/hosts.py) and runs everything through that host.
"""
