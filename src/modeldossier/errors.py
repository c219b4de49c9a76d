"""Errors that the CLI turns into a one-line message and exit code 2."""


class DossierError(Exception):
    """A usage or input error: bad path, invalid file, unreachable service.

    The message is shown to the user as is, on one line, so it must say what is wrong
    and, where possible, what to do about it.
    """
