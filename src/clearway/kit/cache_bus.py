"""Cache invalidation messages: "drop what you hold for this key", to every process of a service.

A service that caches in memory (the rules snapshot, identity's profiles) publishes a key when
the cached thing changes; every process of that service, this one included, hears it and drops
its copy at once. Three transports, one per shape:

- one process: delivered in-process (`LocalCacheBus`);
- several workers on one machine (`clearway up --workers N`, memory backend): one Unix datagram
  socket per process in a shared directory (`SocketCacheBus`), nothing to install;
- several machines: a Redis pub/sub channel per service (`clearway.cache.<service>`).

Messages are hints, not data: a process that misses one (Redis restarting, a worker too busy to
read its socket) still has its caches' own expiry and checks to fall back on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from clearway.settings import Settings

log = logging.getLogger("clearway.cache_bus")

CHANNEL_PREFIX = "clearway.cache."
Handler = Callable[[str], None]


class CacheBus(Protocol):
    async def publish(self, service: str, key: str) -> None:
        """Tell every process of `service` to drop what it caches under `key`."""

    def subscribe(self, service: str, handler: Handler) -> None:
        """Call `handler(key)` for every key published for `service` (before `start`)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LocalCacheBus:
    """Everything in one process: publishing calls the handlers directly."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def subscribe(self, service: str, handler: Handler) -> None:
        self._handlers.setdefault(service, []).append(handler)

    async def publish(self, service: str, key: str) -> None:
        _dispatch(self._handlers.get(service, ()), key)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class RedisCacheBus:
    """Redis pub/sub: one connection listens to the channels of the services hosted here."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis: Redis = Redis.from_url(url, socket_connect_timeout=2.0)
        self._handlers: dict[str, list[Handler]] = {}
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, service: str, handler: Handler) -> None:
        self._handlers.setdefault(service, []).append(handler)

    async def publish(self, service: str, key: str) -> None:
        try:
            await self.redis.publish(CHANNEL_PREFIX + service, key)
        except (RedisError, OSError):
            log.warning("could not publish a cache invalidation for %s on %s", service, self.url)

    async def start(self) -> None:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            raise RuntimeError(f"cache backend {self.url} is unreachable: {exc}") from exc
        if self._handlers:
            ready = asyncio.Event()
            self._task = asyncio.create_task(self._listen(ready), name="cache-bus")
            await ready.wait()  # subscribed before start returns: no change slips past

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.redis.aclose()

    async def _listen(self, ready: asyncio.Event) -> None:
        channels = [CHANNEL_PREFIX + service for service in self._handlers]
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(*channels)
                    ready.set()
                    async for message in pubsub.listen():
                        if message["type"] != "message":
                            continue
                        service = message["channel"].decode()[len(CHANNEL_PREFIX) :]
                        _dispatch(self._handlers.get(service, ()), message["data"].decode())
            except (RedisError, OSError):
                ready.set()
                log.warning("cache invalidations from %s interrupted; reconnecting", self.url)
                await asyncio.sleep(1.0)


class SocketCacheBus:
    """Workers on one machine: each process binds a Unix datagram socket in `directory`.

    Publishing calls this process's handlers at once, then sends one datagram
    (`service + "\\n" + key`, UTF-8) to every other socket in the directory. Datagrams are hints:
    one a busy peer has no room for, or one sent while a peer restarts, is lost (logged), and
    the caches' own expiry covers it. Same user only: the directory is 0700, the sockets 0600.
    """

    def __init__(self, directory: Path, name: str | None = None) -> None:
        self.directory = directory
        self._name = name
        self._handlers: dict[str, list[Handler]] = {}
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inode = 0

    @property
    def path(self) -> Path:
        # Named by the pid at start (then pinned), not at construction: a bus built before a
        # fork must not give every worker the same file.
        return self.directory / f"{self._name or os.getpid()}.sock"

    def subscribe(self, service: str, handler: Handler) -> None:
        self._handlers.setdefault(service, []).append(handler)

    async def start(self) -> None:
        if self._sock is not None:
            return
        _prepare_socket_dir(self.directory)
        path = self.path
        path.unlink(missing_ok=True)  # left by a dead process with our name (pid reuse)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind(os.fspath(path))
            os.chmod(path, 0o600)
            self._inode = os.lstat(path).st_ino
            self._loop = asyncio.get_running_loop()
            # Registered even with no handlers: reading and dropping is harmless and simplest.
            self._loop.add_reader(sock.fileno(), self._read)
        except BaseException:
            sock.close()
            path.unlink(missing_ok=True)
            raise
        self._sock = sock
        self._name = path.stem  # pinned: stop unlinks the file start bound

    async def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(sock.fileno())
        sock.close()
        with contextlib.suppress(OSError):
            # Only our own inode: a process that took the name since must keep its socket.
            if os.lstat(self.path).st_ino == self._inode:
                self.path.unlink()

    async def publish(self, service: str, key: str) -> None:
        _dispatch(self._handlers.get(service, ()), key)
        data = f"{service}\n{key}".encode()
        if len(data) > _MAX_DATAGRAM:
            log.warning("cache invalidation for %s too long to send (%d bytes)", service, len(data))
            return
        if self._sock is not None:
            self._send_to_peers(self._sock, data, service)
            return
        # Before start or after stop (a one-off command) a throwaway unbound socket sends.
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            self._send_to_peers(sock, data, service)

    def _send_to_peers(self, sock: socket.socket, data: bytes, service: str) -> None:
        # Listing the directory on every publish keeps no peer list to go stale; publishes are
        # rare (profile edits, rule publishes) and a local listing of a few entries is cheap.
        # sendto on a non-blocking datagram socket never waits: the loop is never blocked.
        own = self.path.name if self._sock is not None else None
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return  # nobody has started yet
        for entry in entries:
            if entry.name == own or not entry.name.endswith(".sock"):
                continue
            try:
                sock.sendto(data, entry.path)
            except (ConnectionRefusedError, FileNotFoundError):
                # Its process is gone (or the file just went): drop the file, unless a new
                # process has bound a fresh socket under that name meanwhile.
                with contextlib.suppress(OSError):
                    if os.lstat(entry.path).st_ino == entry.inode():
                        os.unlink(entry.path)
            except BlockingIOError:
                log.warning("cache invalidation for %s dropped: %s is full", service, entry.name)
            except OSError as exc:
                log.warning("could not send a cache invalidation to %s: %s", entry.path, exc)

    def _read(self) -> None:
        sock = self._sock
        if sock is None:
            return
        # A bounded batch per wake-up: the reader is level-triggered, so what is left is read
        # on the next turn of the loop and a flood cannot starve everything else.
        for _ in range(256):
            try:
                data = sock.recv(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("cache invalidation socket %s: %s", self.path, exc)
                return
            try:
                service, sep, key = data.decode().partition("\n")
            except UnicodeDecodeError:
                sep = ""
            if not sep:
                log.warning("ignored a malformed cache invalidation datagram (%d bytes)", len(data))
                continue
            _dispatch(self._handlers.get(service, ()), key)


# A datagram bigger than this is refused when sent rather than truncated when received.
_MAX_DATAGRAM = 65536
# sun_path holds 108 bytes on Linux (104 on macOS); keep a margin.
_MAX_SOCKET_PATH = 100
# The longest pid (Linux PID_MAX_LIMIT, 2**22) as a socket file name.
_LONGEST_SOCKET_NAME = "4194304.sock"


def cache_socket_dir(data_dir: Path) -> Path:
    """Where the workers sharing `data_dir` put their cache invalidation sockets.

    `<data_dir>/run/cache`, unless a socket path there would not fit in `sun_path` (~107 bytes,
    bind fails beyond): then a directory in the temp dir named from a hash of `data_dir`, so
    every worker on the same data directory still finds the same one.
    """
    preferred = data_dir / "run" / "cache"
    if len(os.fsencode(preferred / _LONGEST_SOCKET_NAME)) <= _MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"clearway-{digest}"


def _prepare_socket_dir(directory: Path) -> None:
    # In a shared temp dir another user could have made the directory first: use it only if it
    # is a real directory of ours, and keep it 0700 so only this user reaches the sockets.
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise RuntimeError(f"{directory} is not a directory owned by this user")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(directory, 0o700)


def _dispatch(handlers: Iterable[Handler], key: str) -> None:
    for handler in handlers:
        try:
            handler(key)
        except Exception:
            log.exception("a cache invalidation handler failed for key %r", key)


def cache_bus_from_settings(settings: Settings) -> CacheBus:
    backend = settings.cache_backend
    if backend == "memory":
        if settings.workers == 1:
            return LocalCacheBus()
        return SocketCacheBus(cache_socket_dir(settings.resolved_data_dir))
    if backend.startswith(("redis://", "rediss://", "unix://")):
        return RedisCacheBus(backend)
    raise ValueError(f"CLEARWAY_CACHE_BACKEND must be 'memory' or a redis:// URL: {backend!r}")
