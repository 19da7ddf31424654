"""One writer per run folder: `run.lock`, held by the process that writes the folder for the run's whole life.

The file is created with O_CREAT | O_EXCL and names its holder (pid, host, start time); the holder also
keeps an `flock` on it, which the kernel drops when the process dies however it dies. A second writer
finds the file flocked and stops with one line naming the holder (exit status 2). A lock nobody flocks
whose pid no longer runs on this host is stale (a killed run): it is taken over with a warning. A lock
from another host is never judged stale here (its pid means nothing on this one): the line says to
remove the file if that run has ended. Under a multi-worker strategy only the chief writes, so only the
chief holds the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from audioprep.errors import UsageError

LOCK = "run.lock"


def _alive(pid) -> bool:
    """Whether process `pid` runs on this host (another user's process counts as running)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder_text(holder: dict) -> str:
    return f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} since {holder.get('started', '?')}"


class RunLock:
    """`with RunLock(folder):` holds `folder/run.lock`; UsageError names a live holder."""

    def __init__(self, folder):
        self.path = Path(folder) / LOCK
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _held_by(self, holder: dict) -> UsageError:
        return UsageError(f"{self.path}: held by {_holder_text(holder)}: another training writes this run folder "
                          f"(wait for it to end, or remove {self.path} if no training runs there)")

    @staticmethod
    def _read(fd: int) -> dict:
        try:
            holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {}
        return holder if isinstance(holder, dict) else {}

    def _open_existing(self) -> int | None:
        """The existing lock file, flocked by this process if its holder is gone; None if it vanished meanwhile.

        Raises UsageError naming a holder that still runs."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read(fd)
            os.close(fd)
            raise self._held_by(holder) from None
        try:
            same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # released (and maybe made anew) between the open and the flock: start over
            os.close(fd)
            return None
        holder = self._read(fd)
        if holder and (holder.get("host") != socket.gethostname() or _alive(holder.get("pid"))):
            os.close(fd)  # another host's run, or a live process that holds no flock: not judged stale
            raise self._held_by(holder)
        what = _holder_text(holder) if holder else "an unreadable holder"
        print(f"warning: {self.path}: taking over the lock of {what}, which no longer runs", file=sys.stderr)
        return fd

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
            except FileExistsError:
                fd = self._open_existing()
                if fd is None:
                    continue
            else:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # another writer took the fresh file over before this flock
                    holder = self._read(fd)
                    os.close(fd)
                    raise self._held_by(holder) from None
            me = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(me) + "\n").encode("utf-8"), 0)
            os.fsync(fd)
            self._fd = fd
            return
        raise UsageError(f"{self.path}: other processes keep taking and releasing this lock; try again")

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            if os.stat(self.path).st_ino == os.fstat(self._fd).st_ino:
                self.path.unlink()
        os.close(self._fd)
        self._fd = None


def live_holder(folder) -> None:
    """Raise UsageError if a process still holds `folder`'s lock (a check before any data is read)."""
    path = Path(folder) / LOCK
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RunLock(folder)._held_by(RunLock._read(fd)) from None
    finally:
        os.close(fd)
