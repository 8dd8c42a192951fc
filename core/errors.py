"""Errors a user can act on.

Every expected failure is a ``ShopLensError``. Its message is one line written for the user:
what is wrong, where, and what to do about it. Pages show it with ``st.error``; the command
line prints it to stderr and exits with code 2.
"""

from __future__ import annotations


class ShopLensError(Exception):
    """Base class of every error whose message is meant for the user."""


class SourceNotFoundError(ShopLensError):
    """The file to read does not exist."""


class NotAFileError(ShopLensError):
    """The path names a folder, a named pipe, a device or a socket rather than a file."""


class UnreadableFileError(ShopLensError):
    """The file exists but cannot be read: no permission, or an input/output error."""


class EmptyFileError(ShopLensError):
    """The file has no bytes, or nothing but blank lines."""


class NoDataRowsError(ShopLensError):
    """The file has a header but no data rows."""


class BinaryFileError(ShopLensError):
    """The file is not text and not a supported binary format."""


class CorruptFileError(ShopLensError):
    """A compressed, Parquet or Excel file that cannot be opened."""


class ExpansionLimitError(ShopLensError):
    """A compressed file or archive member that would expand past a limit (a likely bomb)."""


class ArchiveContentsError(ShopLensError):
    """A zip file that does not hold exactly one table."""


class TooFewColumnsError(ShopLensError):
    """The table has a single column, so it cannot hold events."""


class MissingColumnsError(ShopLensError):
    """No column can serve as a required field (user id, time, item id)."""


class MappingError(ShopLensError):
    """A column mapping chosen by the user names an unknown column or does not parse."""


class AllRowsRejectedError(ShopLensError):
    """Every row of the file was rejected by validation."""


class RunError(ShopLensError):
    """A run that cannot be saved, found or loaded."""


class RunNotFoundError(RunError):
    """No run with that id."""


class RunIntegrityError(RunError):
    """A run or bundle whose files do not match their manifest, or that is not ours."""


class RunWriteError(RunError):
    """The runs folder cannot be written."""


class RunDataError(RunError):
    """Data that cannot be kept as Parquet beside the runs."""


class RunNameError(RunError):
    """A run name or tag that cannot be used."""


class CutoffError(ShopLensError):
    """A cutoff or horizon that leaves no room for training or evaluation."""


class DatasetError(ShopLensError):
    """A dataset that cannot be ingested, found or opened."""


class AudioError(ShopLensError):
    """A recording that cannot be heard: not a 16-bit PCM WAV, empty, or too long."""
