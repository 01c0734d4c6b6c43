"""Every error a user can cause, each with its exit code (DESIGN.md, "Exit codes").

Stages raise these; only `cli.py` turns them into a message and an exit status.
"""

from __future__ import annotations

from enum import IntEnum, unique


@unique
class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    TRANSCRIPT = 3
    VOICES = 4
    ENGINE = 5
    OUTPUT = 6
    INTERRUPTED = 130  # 128 + SIGINT, as shells expect
    TERMINATED = 143  # 128 + SIGTERM


class BroadcastError(Exception):
    """Base for errors a person can act on; `str(error)` is the one-line message."""

    exit_code: ExitCode = ExitCode.INTERNAL


class UsageError(BroadcastError):
    """Options that do not fit together, found after typer's own checks."""

    exit_code = ExitCode.USAGE


class TranscriptError(BroadcastError):
    """The transcript is unreadable, not text, or has nothing to speak."""

    exit_code = ExitCode.TRANSCRIPT


class VoicesError(BroadcastError):
    """voices.yaml is malformed or names something that does not exist."""

    exit_code = ExitCode.VOICES

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")
        self.path, self.line = path, line


class EngineError(BroadcastError):
    """A speech engine is unknown, not installed, crashed or timed out."""

    exit_code = ExitCode.ENGINE


class OutputError(BroadcastError):
    """An output file cannot be written."""

    exit_code = ExitCode.OUTPUT
