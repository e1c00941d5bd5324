"""Writing a file so that nothing is lost when writing fails: a temporary file beside it, renamed over it.

A failed export (a full disk, ffmpeg missing, Ctrl-C) leaves the file that was there before untouched, and a
reader never sees half a file: ``os.replace`` is atomic on POSIX and Windows within one directory.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, what: str = "the file") -> Iterator[Path]:
    """Yields a temporary path in ``path``'s directory (same suffix) to write to; renamed to ``path`` when the
    block succeeds, removed when it raises. ``OSError``s name ``path`` and ``what`` is written.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> _ = target.write_text("kept")
    >>> try:
    ...     with atomic_path(target) as tmp:
    ...         _ = tmp.write_text("half")
    ...         raise RuntimeError("the writer failed")
    ... except RuntimeError:
    ...     pass
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('kept', ['out.txt'])
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"path={str(path)!r} is a directory; give a file name to write {what} to")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem[:40]}.", suffix=f".tmp{path.suffix}", dir=path.parent)
        os.close(fd)
        os.chmod(name, 0o666 & ~_umask())  # what open() would have made, not mkstemp's private 0600
    except OSError as err:
        raise OSError(err.errno, f"could not write {what} to {str(path)!r}: {err.strerror or err}") from err
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(err, OSError) and str(path) not in str(err):
            raise OSError(err.errno, f"could not write {what} to {str(path)!r}: {err.strerror or err}") from err
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
