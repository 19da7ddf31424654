"""Errors that reach the user as one line naming the file or flag at fault."""


class BadFileError(ValueError):
    """A file the tools read (metadata, index, checkpoint, audio) that cannot be used; the message starts with the path."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class AudioError(BadFileError):
    """A file that cannot be used as audio."""


class UsageError(ValueError):
    """A bad flag, path or argument value given on the command line."""
