"""Files of a :class:`sparktorch7.LuaScript` that travel by reference.

A script's files travel one of two ways:

* **inside the UDF**: a local file of at most :data:`INLINE_FILE_BYTES`, or
  bytes given in a ``files`` dict, is pickled with the script into the
  function Spark runs (on a classic session and on Spark Connect alike);
* **by reference** (a :class:`FileRef`): a larger local file, and every file
  named by a URI. Executors read it themselves, once per machine, into a cache
  under ``SPARK_LOCAL_DIRS`` named by its sha256:

  - a URI (``file:///shared/m.t7``, ``hdfs://nn/m.t7``, ``s3://bucket/m.t7``,
    anything :func:`pyarrow.fs.FileSystem.from_uri` opens) is read from there,
    so it must be reachable from every executor (``file://`` means a path that
    every machine sees, such as a shared mount);
  - a large local file goes through SparkFiles: ``SparkContext.addFile`` on a
    classic session, ``SparkSession.addArtifacts(..., file=True)`` on Spark
    Connect, under a name made of its hash, once per session.

Every copy is checked against the size and sha256 measured on the driver when
the script was made: a file that changed since then is an error naming it, never
a silently different model.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import uuid
from typing import Any, Dict, Mapping, Tuple

__all__ = ["INLINE_FILE_BYTES", "FileRef", "is_uri", "local_copy", "ship_name", "files_root"]

#: A local file up to this size (8 MiB) travels inside the UDF, pickled with the
#: script; a larger one is read on the executors through SparkFiles.
INLINE_FILE_BYTES = 8 << 20

_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_CHUNK = 4 << 20
_lock = threading.Lock()
_verified: Dict[str, str] = {}   # sha256 -> checked local path, in this process


def is_uri(path: str) -> bool:
    """True for ``scheme://...`` (``file://``, ``hdfs://``, ``s3://``, ...)."""
    return bool(_URI_RE.match(path))


def _open_uri(uri: str) -> Tuple[Any, str]:
    import pyarrow.fs as pafs

    try:
        return pafs.FileSystem.from_uri(uri)
    except Exception as e:   # ArrowInvalid, ArrowNotImplementedError (unknown scheme), OSError
        raise OSError(f"cannot open the file system of {uri!r}: {e}") from None


def _hash_stream(read) -> Tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            return size, digest.hexdigest()
        digest.update(chunk)
        size += len(chunk)


class FileRef:
    """A file the executors read themselves: where it is, its size and sha256.

    Made on the driver by :meth:`from_local` or :meth:`from_uri`; travels as the
    plain dict :meth:`payload`.
    """

    __slots__ = ("name", "location", "via", "size", "sha256")

    def __init__(self, name: str, location: str, via: str, size: int, sha256: str) -> None:
        self.name = name
        self.location = location   # the driver's path (via 'sparkfiles') or the URI (via 'uri')
        self.via = via
        self.size = size
        self.sha256 = sha256

    @classmethod
    def from_local(cls, name: str, path: str) -> "FileRef":
        with open(path, "rb") as f:
            size, sha = _hash_stream(f.read)
        return cls(name, os.path.abspath(path), "sparkfiles", size, sha)

    @classmethod
    def from_uri(cls, name: str, uri: str) -> "FileRef":
        fs, path = _open_uri(uri)
        try:
            with fs.open_input_stream(path) as f:
                size, sha = _hash_stream(f.read)
        except FileNotFoundError:
            raise FileNotFoundError(f"LuaScript file not found: {uri}") from None
        except OSError as e:
            raise OSError(f"LuaScript file {uri!r} cannot be read: {e}") from None
        return cls(name, uri, "uri", size, sha)

    def payload(self) -> Dict[str, Any]:
        return {"name": self.name, "location": self.location, "via": self.via,
                "size": self.size, "sha256": self.sha256}

    def __repr__(self) -> str:
        return f"FileRef({self.name!r}, {self.location!r}, via={self.via}, size={self.size})"


def ship_name(ref: Mapping[str, Any]) -> str:
    """The SparkFiles name of a large local file: its hash and base name."""
    return f"sparktorch7-{ref['sha256'][:16]}-{os.path.basename(ref['location'])}"


def stage_for_spark_files(ref: Mapping[str, Any]) -> str:
    """A driver path whose base name is :func:`ship_name` holding the file (a hard
    link, or a copy across file systems), for ``addFile`` / ``addArtifacts``."""
    folder = os.path.join(tempfile.gettempdir(), f"sparktorch7-ship-{os.getuid()}")
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, ship_name(ref))
    tmp = f"{target}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    try:
        os.link(ref["location"], tmp)
    except OSError:
        shutil.copyfile(ref["location"], tmp)
    os.replace(tmp, target)
    return target


def files_root() -> str:
    """Where the private directories go: Spark's local dir on an executor, else the temp dir."""
    # SPARK_LOCAL_DIRS is set for executors' Python workers and cleaned by Spark.
    local_dirs = os.environ.get("SPARK_LOCAL_DIRS")
    if local_dirs:
        root = local_dirs.split(",")[0]
        if os.path.isdir(root):
            return root
    return tempfile.gettempdir()


def _cache_dir() -> str:
    folder = os.path.join(files_root(), f"sparktorch7-files-{os.getuid()}")
    os.makedirs(folder, exist_ok=True)
    return folder


def _mismatch(ref: Mapping[str, Any], where: str, size: int, sha: str) -> OSError:
    return OSError(f"LuaScript file {ref['name']!r} ({where}) is not the file the script was made "
                   f"with: expected {ref['size']} bytes with sha256 {ref['sha256'][:16]}..., got "
                   f"{size} bytes with sha256 {sha[:16]}...; it changed after the LuaScript was "
                   "made: make the script again")


def _copy_checked(ref: Mapping[str, Any], read, where: str) -> str:
    """Copy the stream ``read`` into the cache as ``<sha256>`` after checking it."""
    folder = _cache_dir()
    target = os.path.join(folder, ref["sha256"])
    if os.path.isfile(target) and os.path.getsize(target) == ref["size"]:
        return target   # written by this or another worker, checked before the rename
    tmp = os.path.join(folder, f".{ref['sha256']}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    digest, size = hashlib.sha256(), 0
    try:
        with open(tmp, "wb") as out:
            while True:
                chunk = read(_CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if size != ref["size"] or digest.hexdigest() != ref["sha256"]:
            raise _mismatch(ref, where, size, digest.hexdigest())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _checked_in_place(ref: Mapping[str, Any], path: str, where: str) -> str:
    with open(path, "rb") as f:
        size, sha = _hash_stream(f.read)
    if size != ref["size"] or sha != ref["sha256"]:
        raise _mismatch(ref, where, size, sha)
    return path


def local_copy(ref: Mapping[str, Any], *, on_driver: bool) -> str:
    """A local path holding the file of ``ref``, checked against its size and hash.

    On the driver a large local file is its own path; on an executor it comes
    from SparkFiles. A URI is read once per machine into the cache. The result
    is remembered for the life of the process."""
    with _lock:
        known = _verified.get(ref["sha256"])
        if known is not None and os.path.isfile(known):
            return known
        if ref["via"] == "uri":
            fs, path = _open_uri(ref["location"])
            try:
                with fs.open_input_stream(path) as f:
                    got = _copy_checked(ref, f.read, ref["location"])
            except FileNotFoundError:
                raise FileNotFoundError(f"LuaScript file {ref['name']!r} not found at "
                                        f"{ref['location']!r} (read from this machine, "
                                        f"pid {os.getpid()})") from None
        elif on_driver:
            if not os.path.isfile(ref["location"]):
                raise FileNotFoundError(f"LuaScript file not found: {ref['location']}")
            got = _checked_in_place(ref, ref["location"], ref["location"])
        else:
            from pyspark import SparkFiles

            path = SparkFiles.get(ship_name(ref))
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"LuaScript file {ref['name']!r} (from {ref['location']!r} on the driver) is "
                    f"not among this worker's SparkFiles ({path}): it is added to each session "
                    "that runs the script; was the UDF made on another session?")
            got = _checked_in_place(ref, path, f"SparkFiles {ship_name(ref)}")
        _verified[ref["sha256"]] = got
        return got
