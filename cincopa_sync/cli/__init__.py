"""The command line: parse, call the library, render, map errors to exit codes.

`app` holds the group and the exit-code mapping; each other module adds commands.
"""

from cincopa_sync.cli import (  # noqa: F401 - they register commands
    basic,
    doctor_cmd,
    export_cmd,
    plan_apply,
    show_cmd,
)
from cincopa_sync.cli.app import cli, main

__all__ = ["cli", "main"]
