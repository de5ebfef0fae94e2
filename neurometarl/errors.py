"""Errors a user can cause. The CLI prints their message on one line and exits with status 2."""


class NeurometarlError(Exception):
    """Base class: a problem with the user's input, explained in the message."""


class ConfigError(NeurometarlError, ValueError):
    """An invalid configuration value (task, training, model or analysis option)."""


class DataError(NeurometarlError, ValueError):
    """Behavioural or recorded data that does not fit what was asked of it."""


class CheckpointError(NeurometarlError):
    """A checkpoint that is missing, unreadable or incompatible."""


class TrainingDivergedError(NeurometarlError, RuntimeError):
    """Training produced a non-finite loss or parameters."""


class WriteError(NeurometarlError, OSError):
    """An output that cannot be written: a folder where a file goes, a full disk, a concurrent writer."""
