"""The object-storage port: images and other uploaded files.

Two adapters with one contract: :class:`LocalStorage` writes under a directory that the
app serves at ``/media/...`` (the embedded default) and :class:`S3Storage` talks to S3 or
any S3-compatible store (MinIO, Ceph, R2, moto) through aiobotocore.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from boxoffice.platform.config import StorageSettings
from boxoffice.platform.errors import NotFound
from boxoffice.platform.runtime import Runtime

MEDIA_PREFIX = "/media"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$")


class InvalidKey(ValueError):
    """An object key that could escape its namespace (``..``, absolute, odd characters)."""


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/") or "//" in key:
        raise InvalidKey(f"invalid object key: {key!r}")
    return key


class Storage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def get(self, key: str) -> bytes | None: ...
    async def delete(self, key: str) -> None: ...
    def url(self, key: str) -> str: ...
    async def close(self) -> None: ...


class LocalStorage:
    """Files under ``root``; ``url`` points at the app's ``/media`` route."""

    def __init__(self, root: Path, public_url: str) -> None:
        self.root = root.resolve()
        self.public_url = public_url.rstrip("/")

    def path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidKey(f"invalid object key: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        await asyncio.to_thread(_write_atomically, path, data)

    async def get(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        path = self.path(key)
        await asyncio.to_thread(path.unlink, True)

    def url(self, key: str) -> str:
        return f"{self.public_url}{MEDIA_PREFIX}/{check_key(key)}"

    async def close(self) -> None:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    temporary.replace(path)  # readers never see half a file


class S3Storage:
    """S3 (or compatible) through aiobotocore; one client for the process's lifetime."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "ap-northeast-2",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        public_url: str | None = None,
        acl: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.acl = acl
        self.endpoint_url = endpoint_url
        self.region = region
        self._credentials = (access_key_id, secret_access_key)
        if public_url:
            self.public_url = public_url.rstrip("/")
        elif endpoint_url:
            self.public_url = f"{endpoint_url.rstrip('/')}/{bucket}"
        else:
            self.public_url = f"https://{bucket}.s3.{region}.amazonaws.com"
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def start(self) -> S3Storage:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        access_key, secret_key = self._credentials
        self._client = await self._stack.enter_async_context(
            get_session().create_client(
                "s3",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                config=AioConfig(
                    s3={"addressing_style": "path"} if self.endpoint_url else {},
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )
        )
        return self

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError("S3Storage used before start()")
        return self._client

    async def create_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            await self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            params: dict[str, Any] = {"Bucket": self.bucket}
            if self.region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            await self.client.create_bucket(**params)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": check_key(key),
            "Body": data,
            "ContentType": content_type,
            "CacheControl": "public, max-age=31536000, immutable",  # keys are never reused
        }
        if self.acl:
            params["ACL"] = self.acl
        await self.client.put_object(**params)

    async def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            response = await self.client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def delete(self, key: str) -> None:
        await self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def url(self, key: str) -> str:
        return f"{self.public_url}/{check_key(key)}"

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None


async def build_storage(settings: StorageSettings, *, data_dir: Path, public_url: str) -> Storage:
    """The configured adapter, started (call ``close()`` when done)."""
    if settings.backend == "local":
        return LocalStorage(settings.local_dir or data_dir / "media", public_url)
    if settings.backend == "s3":
        secret = settings.s3_secret_access_key
        storage = await S3Storage(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            public_url=settings.s3_public_url,
            acl=settings.s3_acl,
        ).start()
        if settings.s3_create_bucket:
            await storage.create_bucket()
        return storage
    raise ValueError(f"unknown storage backend {settings.backend!r} (local or s3)")


async def attach_storage(runtime: Runtime, stack: AsyncExitStack) -> Storage:
    """The process's storage (``runtime.storage``), built once (any context that stores
    files calls this at start-up; the first one builds, the stack closes it)."""
    if runtime.storage is not None:
        return runtime.storage
    storage = await build_storage(
        runtime.settings.storage,
        data_dir=runtime.settings.data_dir,
        public_url=runtime.settings.public_url,
    )
    runtime.storage = storage
    stack.push_async_callback(storage.close)
    return storage


def get_storage(runtime: Runtime) -> Storage:
    if runtime.storage is None:
        raise RuntimeError("no storage attached: call attach_storage at start-up")
    return runtime.storage


media_router = APIRouter(tags=["media"])


@media_router.get(MEDIA_PREFIX + "/{key:path}", include_in_schema=False)
async def get_media(key: str, request: Request) -> Response:
    """Files of the local storage adapter (an S3 deployment serves its own URLs)."""
    runtime: Runtime = request.app.state.runtime
    storage = runtime.storage
    if not isinstance(storage, LocalStorage):
        raise NotFound("No such file.")
    try:
        path = storage.path(key)
    except InvalidKey as exc:
        raise NotFound("No such file.") from exc
    if not await asyncio.to_thread(path.is_file):
        raise NotFound("No such file.")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
