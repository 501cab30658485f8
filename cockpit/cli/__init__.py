"""The ``cockpit`` command: headless commands for operators and scripts.

One module per command group, each command's parser beside its function:
:mod:`~cockpit.cli.config_cmds` (init, config, db), :mod:`~cockpit.cli.audit_cmds`,
:mod:`~cockpit.cli.release_cmds` (note, release), :mod:`~cockpit.cli.item_cmds` (item, preview),
:mod:`~cockpit.cli.rollback_cmds`, :mod:`~cockpit.cli.plan_cmds`, :mod:`~cockpit.cli.tag_cmds`
and :mod:`~cockpit.cli.app_cmds` (open, demo), on :mod:`~cockpit.cli.base` (the
:class:`~cockpit.cli.base.Command` they run with). :mod:`~cockpit.cli.entry` builds the parser
and runs a command (``cockpit.cli:main`` is the console script).
"""

from cockpit.cli.entry import build_parser, main

__all__ = ["build_parser", "main"]
