"""Where a table lives: a local directory or an ``s3://bucket/prefix`` URI.

A table ``NAME`` lives at ``ROOT/NAME``; the root defaults to what ``wnb.init()``
set, else ``$WEAVE_NB_ROOT``, else ``./weave_nb_data``. Names are checked so
that a table stays portable (no path tricks, nothing Windows reserves).

delta-rs reads its S3 settings from ``storage_options`` and the standard AWS
environment variables; data files are moved with boto3 (pyarrow's S3 file
system ignores ``AWS_ENDPOINT_URL``, and its multipart uploads fail on some
S3-compatible servers), configured here from the same merged options, so one
place decides both.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .._config import default_root, default_storage_options
from ._layout import LEGACY_MARKER, ROWS

__all__ = ["Location", "StorageError", "check_name", "refuse_legacy", "resolve", "table_location"]

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)

_REMOTE_SCHEMES = ("s3", "s3a")
_REFUSED_SCHEMES = ("gs", "gcs", "az", "abfs", "abfss", "adl", "azure", "http", "https", "file")
_AWS_KEYS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ALLOW_HTTP",
)


class StorageError(OSError):
    """The table's storage cannot be read or written (the message names its URI)."""


@dataclass(frozen=True)
class Location:
    """A directory of the store: local (``local`` set) or on S3-compatible storage.

    ``uri`` is what delta-rs opens; ``storage_options`` go with it. Remote data
    files are cached under ``cache`` once read (they never change once committed).
    """

    uri: str
    local: Path | None
    storage_options: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_remote(self) -> bool:
        """Whether the location is on object storage."""
        return self.local is None

    @property
    def name(self) -> str:
        """The last path component."""
        return self.uri.rstrip("/").rsplit("/", 1)[-1]

    def child(self, name: str) -> Location:
        """The location ``name`` inside this one."""
        local = self.local / name if self.local is not None else None
        return Location(f"{self.uri.rstrip('/')}/{name}", local, self.storage_options)

    def _bucket_key(self, name: str) -> tuple[str, str]:
        parsed = urlparse(self.uri)
        return parsed.netloc, f"{parsed.path.strip('/')}/{name}"

    def put(self, name: str, data: bytes) -> None:
        """Store ``data`` as the file ``name`` in this (remote) location."""
        bucket, key = self._bucket_key(name)
        _client(self.storage_options).put_object(Bucket=bucket, Key=key, Body=data)

    def download(self, name: str, target: Path) -> None:
        """Copy the remote file ``name`` to ``target``, atomically."""
        bucket, key = self._bucket_key(name)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            body = _client(self.storage_options).get_object(Bucket=bucket, Key=key)["Body"]
            with open(tmp, "wb") as out:
                shutil.copyfileobj(body, out, 1 << 20)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def cache_dir(self) -> Path:
        """A local directory caching this remote location's immutable data files."""
        digest = hashlib.sha1(self.uri.encode()).hexdigest()[:16]
        base = os.environ.get("WEAVE_NB_CACHE") or os.path.join(
            tempfile.gettempdir(), f"weave_nb-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"
        )
        return Path(base) / f"{self.name}-{digest}"

    def __str__(self) -> str:
        return self.uri


def resolve(
    root: str | os.PathLike[str], storage_options: Mapping[str, str] | None = None
) -> Location:
    """The location of a root given as a local path or an ``s3://`` URI.

    Raises ``ValueError`` naming the URI for a scheme the store cannot write.
    """
    text = os.fspath(root)
    scheme = urlparse(text).scheme.lower() if "://" in text else ""
    if scheme in _REMOTE_SCHEMES:
        parsed = urlparse(text)
        if not parsed.netloc:
            raise ValueError(f"root {text!r} names no bucket: use s3://bucket/prefix")
        uri = f"s3://{parsed.netloc}{parsed.path}".rstrip("/")
        return Location(uri, None, _aws_options(storage_options or {}))
    if scheme in _REFUSED_SCHEMES or scheme:
        raise ValueError(
            f"root {text!r}: scheme {scheme}:// is not supported; use a local path "
            "or s3://bucket/prefix (any S3-compatible service)"
        )
    if storage_options:
        raise ValueError(f"storage_options apply to s3:// roots, not to the local path {text!r}")
    path = Path(text).expanduser().absolute()
    return Location(path.as_posix(), path, {})


def check_name(name: object) -> str:
    """``name`` if it is a valid table name, else ``ValueError`` saying why."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ValueError(
            f"invalid table name {name!r}: use letters, digits, '_', '-' and '.', "
            "1 to 200 characters, no '..', no path separators"
        )
    if _WINDOWS_RESERVED.match(name):
        raise ValueError(
            f"invalid table name {name!r}: reserved on Windows (CON, PRN, AUX, NUL, COM1-9, "
            "LPT1-9); tables stay portable, so pick another"
        )
    return name


def table_location(
    name: str, root: str | os.PathLike[str] | None, storage_options: Mapping[str, str] | None
) -> Location:
    """Where the table ``name`` lives: under ``root``, or under the default root."""
    if root is None:
        root = default_root()
        if storage_options is None:
            storage_options = default_storage_options() or None
    return resolve(root, storage_options).child(name)


def refuse_legacy(location: Location) -> None:
    """A table in the pre-release segment layout is not read (no release wrote it)."""
    local = location.local
    legacy = local is not None and (local / LEGACY_MARKER).exists()
    if legacy and local is not None and not (local / ROWS / "_delta_log").exists():
        raise ValueError(
            f"{local} holds a table in weave_nb's pre-release segment layout (format 1), "
            "which this version does not read. Its files are plain Parquet: re-log them "
            f"into a new table, e.g. wnb.StreamTable('new').log(pandas.read_parquet("
            f"'{local / ROWS}').to_dict('records'))"
        )


def _aws_options(given: Mapping[str, str]) -> dict[str, str]:
    """Environment AWS settings overlaid by ``given``; keys upper-cased as delta-rs spells them."""
    options = {k: v for k in _AWS_KEYS if (v := os.environ.get(k))}
    for key, value in given.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"storage_options must map str to str, got {key!r}: {type(value).__name__}"
            )
        options[key.upper()] = value
    if "AWS_REGION" not in options and "AWS_DEFAULT_REGION" in options:
        options["AWS_REGION"] = options["AWS_DEFAULT_REGION"]
    if "AWS_ENDPOINT_URL" not in options and "AWS_ENDPOINT_URL_S3" in options:
        options["AWS_ENDPOINT_URL"] = options["AWS_ENDPOINT_URL_S3"]
    options.pop("AWS_DEFAULT_REGION", None)
    options.pop("AWS_ENDPOINT_URL_S3", None)
    return options


_clients: dict[tuple[int, tuple[tuple[str, str], ...]], Any] = {}
_clients_lock = threading.Lock()


def _client(options: Mapping[str, str]) -> Any:
    """A boto3 S3 client for ``options`` (one per process: clients do not survive fork)."""
    key = (os.getpid(), tuple(sorted(options.items())))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            try:
                import boto3
            except ImportError:
                raise ImportError(
                    "tables on s3:// need boto3: pip install 'weave_nb[s3]'"
                ) from None
            client = boto3.client(
                "s3",
                endpoint_url=options.get("AWS_ENDPOINT_URL"),
                aws_access_key_id=options.get("AWS_ACCESS_KEY_ID"),
                aws_secret_access_key=options.get("AWS_SECRET_ACCESS_KEY"),
                aws_session_token=options.get("AWS_SESSION_TOKEN"),
                region_name=options.get("AWS_REGION", "us-east-1"),
            )
            _clients[key] = client
    return client
