"""The command line, ``procure COMMAND ...`` (see :mod:`procure.cli.main`)."""

from procure.cli.main import main

__all__ = ["main"]
