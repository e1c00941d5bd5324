"""Where a run's files live: a directory on this machine, or any fsspec file system (S3, GCS, Azure, memory...).

A *store* is a run's folder seen through a handful of whole-file calls (read, read a byte range, write, list,
delete), so the run format (``store.py``) is written once for both. Only the local store can append to a file;
object stores cannot, which is why a remote run is written as numbered segments (docs/run-format.md).

Errors from a file system are turned into ones that name the URL and say what to do: an unknown protocol, a
missing package (s3fs, gcsfs, adlfs), missing credentials, a bucket that does not exist.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
from pathlib import Path

from .records import NotARunError


def is_url(path) -> bool:
    """A path with a protocol (``s3://...``) other than a plain local path."""
    return isinstance(path, str) and "://" in path


class LocalStore:
    """A run directory on this machine; files are replaced atomically (temporary file, then rename)."""

    remote = False

    def __init__(self, path: str | os.PathLike):
        self.url = str(Path(path))  # as the user wrote it, for messages
        self.path = Path(path).absolute()  # fixed now: a later chdir (a notebook's %cd) never moves the run

    def file(self, name: str) -> Path:
        return self.path / name

    def inside(self, name: str) -> Path:
        """The path of file ``name`` of the run, for reading: a regular file inside the run's directory, else a
        NotARunError (a symlink leading out of the run, a FIFO that would block ``open`` forever, a device such
        as /dev/zero that never ends). A file not there yet is returned as is (its reader says so)."""
        target = self.path / name
        try:
            st = os.stat(target)  # follows symlinks and never opens: a FIFO cannot block here
        except (FileNotFoundError, NotADirectoryError):
            return target  # opening it raises what callers already handle
        except OSError as err:
            raise NotARunError(f"{str(target)!r} cannot be read: {err.strerror or err}") from None
        if not stat.S_ISREG(st.st_mode):
            raise NotARunError(
                f"{str(target)!r} is not a regular file (a FIFO, a device or a folder); a run holds files"
            )
        root, real = self.path.resolve(), target.resolve()
        if real != root and root not in real.parents:
            raise NotARunError(
                f"{str(target)!r} leads outside the run (to {str(real)!r}); a run's files stay inside it"
            )
        return target

    def read(self, name: str, timeout: float | None = None) -> bytes:
        with open(self.inside(name), "rb") as f:
            return f.read(os.fstat(f.fileno()).st_size)  # bounded by the file's real size

    def lock(self) -> WriterLock:
        """Hold the run's writer lock (one writer per run directory, across processes); FileExistsError when
        another process holds it. The OS drops it when the holder exits, so a killed writer leaves none."""
        return WriterLock(self.path / LOCK)

    def read_many(self, names: list[str]) -> dict[str, bytes]:
        out = {}
        for name in names:
            try:
                out[name] = self.read(name)
            except FileNotFoundError:
                pass
        return out

    def read_range(self, name: str, start: int, end: int) -> bytes:
        with open(self.inside(name), "rb") as f:
            f.seek(start)
            return f.read(end - start)

    def write(self, name: str, data: bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def size(self, name: str) -> int | None:
        try:
            return (self.path / name).stat().st_size
        except OSError:
            return None

    def exists(self, name: str = "") -> bool:
        return (self.path / name).exists() if name else self.path.exists()

    def is_dir(self) -> bool:
        return self.path.is_dir()

    def list(self, name: str = "") -> list[str]:
        """The names directly inside ``name`` (files and folders), sorted; [] when it does not exist."""
        try:
            return sorted(p.name for p in (self.path / name).iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []

    def delete(self, name: str) -> None:
        target = self.path / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)

    def du(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def child(self, name: str) -> LocalStore:
        return LocalStore(self.path / name)


LOCK = ".writer.lock"  # held (flock) by the process writing the run


class WriterLock:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            self._fd = None
            raise FileExistsError(
                f"path={str(path.parent)!r}: another process is writing a run there right now; choose another "
                "path, or wait for it to end"
            ) from None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    __del__ = release  # a writer dropped without close() must not hold its run forever


class FsspecStore:
    """A run folder on an fsspec file system (``s3://bucket/runs/x``, ``memory://runs/x``, ...)."""

    remote = True

    def __init__(self, fs, root: str, url: str):
        self.fs, self.root, self.url = fs, root.rstrip("/"), url.rstrip("/")

    def _p(self, name: str) -> str:
        return f"{self.root}/{name}" if name else self.root

    def _fresh(self, name: str) -> str:
        # listings and sizes may be cached by the file system (s3fs does): a follower must see new objects
        path = self._p(name)
        self.fs.invalidate_cache(path)
        return path

    def read(self, name: str, timeout: float | None = None) -> bytes:
        """The object's bytes; ``timeout`` (async file systems such as s3fs) bounds a request that never answers:
        a follower polls with it, so one stuck connection costs a poll, not the whole follow."""
        with remote_errors(self.url):
            if timeout and getattr(self.fs, "async_impl", False):
                return self.fs.cat_file(self._p(name), timeout=timeout)
            return self.fs.cat_file(self._p(name))

    def read_many(self, names: list[str]) -> dict[str, bytes]:
        """Several small files at once (s3fs fetches them concurrently); missing ones are left out."""
        if not names:
            return {}
        with remote_errors(self.url):
            got = self.fs.cat([self._p(n) for n in names], on_error="omit")
        by_path = {self._p(n): n for n in names}
        return {by_path[p]: data for p, data in got.items() if p in by_path and isinstance(data, bytes)}

    def read_range(self, name: str, start: int, end: int) -> bytes:
        with remote_errors(self.url):
            return self.fs.cat_file(self._p(name), start=start, end=end)

    def write(self, name: str, data: bytes) -> None:
        # one PUT: an object appears whole or not at all, so no temporary name is needed
        with remote_errors(self.url):
            self.fs.pipe_file(self._p(name), data)

    def size(self, name: str) -> int | None:
        try:
            with remote_errors(self.url):
                return int(self.fs.size(self._fresh(name)))
        except FileNotFoundError:
            return None

    def exists(self, name: str = "") -> bool:
        with remote_errors(self.url):
            return bool(self.fs.exists(self._fresh(name)))

    def is_dir(self) -> bool:
        with remote_errors(self.url):
            path = self._fresh("")
            return bool(self.fs.isdir(path))

    def list(self, name: str = "") -> list[str]:
        try:
            with remote_errors(self.url):
                paths = self.fs.ls(self._fresh(name), detail=False)
        except FileNotFoundError:
            return []
        return sorted({p.rstrip("/").rsplit("/", 1)[-1] for p in paths} - {""})

    def delete(self, name: str) -> None:
        try:
            with remote_errors(self.url):
                self.fs.rm(self._fresh(name), recursive=True)
        except FileNotFoundError:
            pass

    def du(self) -> int:
        with remote_errors(self.url):
            return int(self.fs.du(self._fresh(""), total=True))

    def child(self, name: str) -> FsspecStore:
        return FsspecStore(self.fs, self._p(name), f"{self.url}/{name}")


class remote_errors:
    """Turn a file system's exception into one that names the URL and the fix (FileNotFoundError stays one)."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if err is None or isinstance(err, RemoteStoreError):
            return False
        name = " ".join(c.__name__ for c in type(err).__mro__)
        text = str(err)
        if "Credential" in name or "credential" in text.lower() or isinstance(err, PermissionError):
            raise RemoteStoreError(
                f"path={self.url!r}: access denied or no credentials ({type(err).__name__}: {text}); pass them "
                "with storage_options= (e.g. {'key': ..., 'secret': ...} for s3://) or the file system's usual "
                "environment variables / config files"
            ) from err
        if "NoSuchBucket" in text or "bucket does not exist" in text.lower():
            raise RemoteStoreError(f"path={self.url!r}: the bucket does not exist ({text}); create it first") from err
        if isinstance(err, (FileNotFoundError, TimeoutError)):
            return False  # callers probe for objects that are not there yet, or retry a request that timed out
        if isinstance(err, OSError) or "ClientError" in name or "Endpoint" in name:
            raise RemoteStoreError(f"path={self.url!r}: {type(err).__name__}: {text}") from err
        return False


class RemoteStoreError(OSError):
    """A remote file system refused or failed a request; the message names the run's URL."""


def store_for(path, storage_options: dict | None = None):
    """The store for ``path``: a local directory (a plain path or ``file://``) or an fsspec URL."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a directory path or a URL such as 's3://bucket/run', got {type(path).__name__}")
    if storage_options is not None and not isinstance(storage_options, dict):
        raise TypeError(f"storage_options must be a dict of fsspec options, got {type(storage_options).__name__}")
    if not is_url(path):
        if storage_options:
            raise ValueError(f"storage_options= is for URLs such as 's3://...'; path={str(path)!r} is a local path")
        return LocalStore(path)
    url = path.rstrip("/")
    protocol = url.split("://", 1)[0]
    if protocol in ("file", "local"):
        return LocalStore(url.split("://", 1)[1])
    try:
        import fsspec
    except ImportError:
        raise ImportError(
            f"path={url!r} needs fsspec to reach {protocol}:// storage: pip install 'nnviz_widgets[remote]' "
            "(plus s3fs for s3://, gcsfs for gs://, adlfs for az://)"
        ) from None
    if protocol not in fsspec.available_protocols():
        raise ValueError(
            f"path={url!r}: unknown protocol {protocol!r}; use a local path or one of fsspec's protocols "
            "(s3://, gs://, az://, memory://, file://, ...)"
        )
    try:
        fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
    except ImportError as err:
        raise ImportError(f"path={url!r} needs the package for {protocol}:// ({err})") from None
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"path={url!r}: fsspec could not open it with storage_options={storage_options!r}: {err}"
        ) from None
    return FsspecStore(fs, root, url)
