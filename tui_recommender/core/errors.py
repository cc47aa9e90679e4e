"""Errors a user can cause. The CLI turns them into one line + exit code 2, the TUI into a
notification; anything else is a bug and may show a traceback."""


class UserError(Exception):
    """Base class: the message is written for the user and is shown as it is."""


class ConfigError(UserError):
    """A bad config file, setting or hyperparameter; the message names where and which key."""


class DataError(UserError):
    """A dataset file is missing or malformed; the message names the file and line."""


class DownloadError(UserError):
    """A dataset could not be fetched (offline, bad checksum, bad archive)."""


class CheckpointError(UserError):
    """A checkpoint is missing, corrupt, truncated or was trained on other data."""


class UnknownUserError(UserError):
    """A user ID that is neither in the dataset nor in the ratings store."""


class UnknownMovieError(UserError):
    """A movie ID that is not in the dataset."""


class UnknownGenreError(UserError):
    """A genre name that is not in the dataset's genre vocabulary."""


class RatingError(UserError):
    """A rating value outside the dataset's scale or not on its step."""


class InvalidIdError(UserError):
    """A user or movie id that is not a whole number in the valid range (see `ids`)."""


class RatingsDatabaseError(UserError):
    """The ratings database cannot be read or written (damaged, read-only, disk full); the
    message says what was not saved and, for a damaged one, how to recover."""


class DistributedError(UserError):
    """A training across processes lost one of them (it died, hung or was stopped); the
    message names this rank and says that nothing was written."""
