"""Where a job may write: the output never overlaps an input, and lands whole or not at all.

Two parts, used by :func:`sparktorch7.udf.score_files` (and so ``jobs/score.py``):

* :func:`check_paths` refuses an output path that is, is inside or contains one
  of the inputs (the table, the script, its files), after resolving both: made
  absolute, ``file:`` URIs turned into local paths, symlinks followed, trailing
  slashes dropped. Nothing has been written when it raises.
* :func:`write_atomically` has Spark write into a hidden sibling of the
  destination and renames it into place only when the write succeeded, with
  Spark's save modes: ``error`` (the default: an existing output is an error),
  ``overwrite`` (the old output is moved aside and deleted only once the new one
  is in place, so a failed job leaves it intact) and ``append`` (the new files
  are moved into the existing directory). File system operations go through
  Hadoop's ``FileSystem`` (:class:`HadoopFS`), so HDFS or S3 paths work as local ones.
  A Spark Connect client has no JVM: there they go through ``pyarrow.fs``
  (:class:`ArrowFS`: local paths, ``file:``, ``s3://``, ``hdfs://`` with libhdfs), which
  must see the paths as the cluster does (a local server, a shared mount, an object store).
"""
from __future__ import annotations

import os
import posixpath
import uuid
from typing import Any, Callable, Iterable, Optional, Sequence, Tuple
from urllib.parse import unquote, urlsplit

from sparktorch7.errors import OutputExistsError, PathOverlapError  # (defined there; old imports work)

__all__ = ["MODES", "PathOverlapError", "OutputExistsError", "resolve", "check_paths",
           "check_mode", "HadoopFS", "ArrowFS", "file_system", "write_atomically"]

#: Spark's save modes that a job accepts; the first is the default.
MODES = ("error", "overwrite", "append")


def check_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`MODES`; ValueError otherwise."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES} (as Spark's save modes), not {mode!r}")
    return mode


def _scheme(path: str) -> str:
    """The URI scheme of ``path`` ('' for a plain path)."""
    head = path.split("/", 1)[0]
    if ":" in head and len(head.split(":", 1)[0]) > 1:   # 'C:' is no scheme
        return head.split(":", 1)[0].lower()
    return ""


def resolve(path: str, qualify: Optional[Callable[[str], str]] = None) -> str:
    """The canonical form of ``path`` used to compare locations.

    A local path (or ``file:`` URI) becomes an absolute, symlink-free path
    without a trailing slash; another URI keeps its scheme and authority with
    a normalized path. ``qualify`` (e.g. :meth:`HadoopFS.qualify`) first turns
    a path without a scheme into a full URI, as the file system will see it.
    """
    if not isinstance(path, str) or not path:
        raise ValueError(f"a path must be a non-empty string, not {path!r}")
    if qualify is not None and not _scheme(path):
        path = qualify(path)
    scheme = _scheme(path)
    if scheme in ("", "file"):
        local = path
        if scheme == "file":
            parts = urlsplit(path)
            if parts.netloc not in ("", "localhost"):
                raise ValueError(f"{path!r} names host {parts.netloc!r}: a file: URI must be local")
            local = unquote(parts.path) or "/"
        return os.path.realpath(os.path.abspath(os.path.expanduser(local)))
    parts = urlsplit(path)
    norm = posixpath.normpath(parts.path or "/")
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return f"{scheme}://{parts.netloc.lower()}{norm}"


def _within(inner: str, outer: str) -> bool:
    """Whether canonical path ``inner`` is strictly inside ``outer``."""
    if inner == outer:
        return False
    prefix = outer if outer.endswith("/") else outer + "/"
    return inner.startswith(prefix)


def check_paths(output: str, inputs: Iterable[Tuple[str, str]],
                qualify: Optional[Callable[[str], str]] = None) -> str:
    """Refuse an output that would overwrite, or be written into, an input.

    Parameters
    ----------
    output : str
        The output path (local path, ``file:`` or another URI).
    inputs : iterable of (role, path)
        What the job reads, e.g. ``[("input table", "in.parquet"), ("script", "s.lua")]``.
    qualify : callable, optional
        Turns a path without a scheme into a full URI (see :func:`resolve`).

    Returns
    -------
    str
        The resolved output path.

    Raises
    ------
    PathOverlapError
        Naming both paths, as given and resolved.

    Examples
    --------
    >>> check_paths("data/", [("input table", "./data")])
    Traceback (most recent call last):
    ...
    sparktorch7.errors.PathOverlapError: refusing to write output 'data/' (= .../data): it is the same path as the input table './data' ...
    >>> check_paths("data/scores", [("input table", "data/in.parquet")]).endswith("/data/scores")
    True
    """
    out = resolve(output, qualify)
    for role, path in inputs:
        src = resolve(path, qualify)
        if src == out:
            how = "is the same path as"
        elif _within(out, src):
            how = "is inside"
        elif _within(src, out):
            how = "contains"
        else:
            continue
        shown_out = repr(output) + ("" if output == out else f" (= {out})")
        shown_src = repr(path) + ("" if path == src else f" (= {src})")
        raise PathOverlapError(
            f"refusing to write output {shown_out}: it {how} the {role} {shown_src}, so "
            f"writing it would destroy or mix with what the job reads. Nothing was written; "
            "choose an output path outside the inputs")
    return out


class HadoopFS:
    """The few Hadoop ``FileSystem`` operations a safe write needs, through the
    SparkSession's JVM (local, HDFS, S3... alike)."""

    def __init__(self, spark: Any) -> None:
        sc = spark.sparkContext
        self._jvm = sc._jvm
        self._conf = sc._jsc.hadoopConfiguration()

    def _fs_path(self, path: str) -> Tuple[Any, Any]:
        p = self._jvm.org.apache.hadoop.fs.Path(path)
        return p.getFileSystem(self._conf), p

    def qualify(self, path: str) -> str:
        """``path`` as a full URI of its file system (relative paths made absolute)."""
        fs, p = self._fs_path(path)
        return str(fs.makeQualified(p).toString())

    def exists(self, path: str) -> bool:
        fs, p = self._fs_path(path)
        return bool(fs.exists(p))

    def is_dir(self, path: str) -> bool:
        fs, p = self._fs_path(path)
        return bool(fs.exists(p)) and bool(fs.getFileStatus(p).isDirectory())

    def children(self, path: str) -> Sequence[str]:
        """The names in directory ``path``."""
        fs, p = self._fs_path(path)
        return [str(s.getPath().getName()) for s in fs.listStatus(p)]

    def rename(self, src: str, dst: str) -> None:
        fs, p = self._fs_path(src)
        if not fs.rename(p, self._jvm.org.apache.hadoop.fs.Path(dst)):
            raise OSError(f"could not rename {src!r} to {dst!r}")

    def delete(self, path: str) -> None:
        fs, p = self._fs_path(path)
        if fs.exists(p):
            fs.delete(p, True)


class ArrowFS:
    """:class:`HadoopFS`'s operations through ``pyarrow.fs``, for a Spark Connect
    client (no JVM on this side). Paths without a scheme are local to this machine."""

    def _fs_path(self, path: str) -> Tuple[Any, str]:
        import pyarrow.fs as pafs

        if not _scheme(path):
            return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(path))
        try:
            return pafs.FileSystem.from_uri(path)
        except Exception as e:
            raise OSError(f"cannot open the file system of {path!r}: {e}") from None

    def _info(self, path: str) -> Any:
        fs, p = self._fs_path(path)
        return fs.get_file_info(p)

    def qualify(self, path: str) -> str:
        if _scheme(path):
            return path
        return "file://" + os.path.abspath(os.path.expanduser(path))

    def exists(self, path: str) -> bool:
        import pyarrow.fs as pafs

        return self._info(path).type != pafs.FileType.NotFound

    def is_dir(self, path: str) -> bool:
        import pyarrow.fs as pafs

        return self._info(path).type == pafs.FileType.Directory

    def children(self, path: str) -> Sequence[str]:
        import pyarrow.fs as pafs

        fs, p = self._fs_path(path)
        return [posixpath.basename(i.path) for i in fs.get_file_info(pafs.FileSelector(p))]

    def rename(self, src: str, dst: str) -> None:
        fs, p = self._fs_path(src)
        fs2, q = self._fs_path(dst)
        if type(fs) is not type(fs2):
            raise OSError(f"could not rename {src!r} to {dst!r}: not on one file system")
        fs.move(p, q)

    def delete(self, path: str) -> None:
        import pyarrow.fs as pafs

        fs, p = self._fs_path(path)
        info = fs.get_file_info(p)
        if info.type == pafs.FileType.Directory:
            fs.delete_dir(p)
        elif info.type != pafs.FileType.NotFound:
            fs.delete_file(p)


def file_system(spark: Any) -> Any:
    """The file system operations for ``spark``'s paths: :class:`HadoopFS` on a
    classic session, :class:`ArrowFS` on a Spark Connect client."""
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        return ArrowFS()
    return HadoopFS(spark)


def _sibling(dest: str, tag: str) -> str:
    """A hidden, unique path next to ``dest`` (Spark and Hadoop skip names that start with '.')."""
    stripped = dest.rstrip("/") or dest
    parent, base = posixpath.split(stripped)
    name = f".{base}.sparktorch7-{tag}-{uuid.uuid4().hex[:12]}"
    return posixpath.join(parent, name) if parent else name


def _exists_message(dest: str) -> str:
    return (f"output {dest!r} exists and mode is 'error' (the default, as in Spark): nothing was "
            "written. Choose another path, or pass mode 'overwrite' to replace it or 'append' "
            "to add files to it (--mode in jobs/score.py)")


_BOOKKEEPING = ("_SUCCESS", "._SUCCESS.crc")


def _append_into(fs: HadoopFS, tmp: str, dest: str) -> None:
    if not fs.is_dir(dest):
        raise OutputExistsError(f"cannot append to {dest!r}: it is a file, not a directory of "
                                "part files")
    names = fs.children(tmp)
    clash = [n for n in names if n not in _BOOKKEEPING and fs.exists(posixpath.join(dest, n))]
    if clash:
        raise OutputExistsError(f"cannot append to {dest!r}: it already holds {clash[:3]}")
    for name in names:
        target = posixpath.join(dest, name)
        if name in _BOOKKEEPING:
            fs.delete(target)
        fs.rename(posixpath.join(tmp, name), target)


def _commit(fs: HadoopFS, tmp: str, dest: str, mode: str) -> None:
    """Move the finished write ``tmp`` into place at ``dest``."""
    if not fs.exists(dest):
        fs.rename(tmp, dest)
    elif mode == "error":
        raise OutputExistsError(_exists_message(dest) + " (it appeared while the job ran)")
    elif mode == "append":
        _append_into(fs, tmp, dest)
    else:   # overwrite: the old output goes aside until the new one is in place
        old = _sibling(dest, "old")
        fs.rename(dest, old)
        try:
            fs.rename(tmp, dest)
        except BaseException:
            fs.rename(old, dest)
            raise
        fs.delete(old)


def write_atomically(write: Callable[[str], None], dest: str, mode: str, fs: HadoopFS) -> None:
    """Call ``write(tmp)`` for a fresh hidden sibling ``tmp`` of ``dest``, then
    move the result into place according to ``mode`` (see the module docs).

    If ``write`` fails, ``tmp`` is deleted and ``dest`` is as it was.
    """
    check_mode(mode)
    if mode == "error" and fs.exists(dest):
        raise OutputExistsError(_exists_message(dest))
    tmp = _sibling(dest, "tmp")
    try:
        write(tmp)
        _commit(fs, tmp, dest, mode)
    finally:
        try:
            fs.delete(tmp)
        except Exception:   # the original error matters more than the clean-up
            pass
