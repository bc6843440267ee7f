"""The error a console service raises when a change cannot be made in the object's state."""

from __future__ import annotations


class ConsoleError(ValueError):
    """A change that cannot be made; the (translated) message says why and what to do.

    Forms check what a person typed; services raise this only for rules that depend on
    the stored state (a wave's status, its responses) or that protect callers without a
    form, such as the command line.
    """
