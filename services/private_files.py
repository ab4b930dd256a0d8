"""Files only the app's user may read: the SQLite database (and its folder) and the
token-signing secret. Created 0600 in folders created 0700, whatever the umask; files and
folders that already exist keep their modes (a warning names a world-readable one)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

_log = logging.getLogger("salesops.files")


def private_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents readable by the owner only (0700)."""
    missing = []
    here = Path(folder)
    while not here.exists():
        missing.append(here)
        here = here.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def private_file(path: Path) -> bool:
    """Create an empty ``path`` (and its folder) readable by the owner only, unless it
    exists. True when it was created here."""
    path = Path(path)
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        warn_if_shared(path)
        return False
    os.fchmod(fd, 0o600)
    os.close(fd)
    return True


def warn_if_shared(path: Path) -> None:
    mode = stat.S_IMODE(Path(path).stat().st_mode)
    if mode & 0o077:
        _log.warning("%s can be read by other users of this machine (mode %o): chmod 600 it", path, mode)
