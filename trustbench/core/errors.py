"""Exceptions that the command line reports as one-line messages."""

from __future__ import annotations


class TrustbenchError(Exception):
    """Base class of errors caused by input the user can fix.

    The command line prints the message of such an error on one line and exits with a
    non-zero status, without a traceback. Every message names the offending value and
    what to do instead.
    """


class RegistryError(TrustbenchError):
    """An unknown family, method or claim, or a method that does not fit its family."""


class ParameterError(TrustbenchError, ValueError):
    """A parameter value outside its declared constraints."""


class PluginError(TrustbenchError):
    """A plugin file or entry point that fails to load."""


class StoreError(TrustbenchError):
    """A results store that cannot be opened, read or written."""


class CellError(Exception):
    """A failure inside one cell; the runner records it and goes on with the other cells."""
