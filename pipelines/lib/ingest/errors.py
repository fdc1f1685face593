"""Errors of ingestion."""


class FileRejected(ValueError):
    """The whole file is refused (its message names the file and the problem); nothing from it is written."""
