# SPDX-License-Identifier: Apache-2.0
"""CoAP for spb serve and the device client, on aiocoap (`pip install 'spb[ota]'`). The only module that
imports aiocoap, which has no type annotations: what it returns is converted to typed values here.

Server: one resource for every path, which slices Block2 blocks itself for each request (RFC 7959: the
block number and size exponent the client asks for, 16..1024 bytes; the first block in 1024 when it asks
for none), so it keeps nothing per client or per transfer; aiocoap's own blockwise cache is bypassed.

Client: requests are non-confirmable and retried by spb.ota.client (its timeouts and backoff, not CoAP's
ACK_TIMEOUT doubling), which suits a lossy link and a restarting server alike.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any, Callable

from ..errors import SpbError
from .client import Block, TransportError
from .manifest import QueryError
from .server import MAX_SZX, QUERY_PATH, Repository


def _aiocoap() -> Any:
    try:
        import aiocoap
    except ImportError:
        raise SpbError(
            None, "CoAP needs aiocoap: pip install 'spb[ota]' (or aiocoap>=0.4.17), or serve HTTP only (--no-coap)"
        ) from None
    return aiocoap


def _make_resource(repo: Repository) -> Any:
    aiocoap = _aiocoap()
    from aiocoap import resource
    from aiocoap.numbers.codes import Code
    from aiocoap.optiontypes import BlockOption

    def error(code: Any, text: str) -> Any:
        return aiocoap.Message(code=code, payload=text.encode()[:200])

    class RepositoryResource(resource.Resource):  # type: ignore[misc]
        async def needs_blockwise_assembly(self, request: Any) -> bool:
            return False  # Block2 handled below, without a per-client cache

        async def render(self, request: Any) -> Any:
            if request.code != Code.GET:
                return error(Code.METHOD_NOT_ALLOWED, "GET only")
            try:
                path = "/".join(request.opt.uri_path)
            except UnicodeDecodeError:
                return error(Code.BAD_REQUEST, "path is not UTF-8")
            if path == QUERY_PATH:
                params = []
                for item in request.opt.uri_query:
                    key, eq, value = item.partition("=")
                    if not eq:
                        return error(Code.BAD_REQUEST, f"query option {item[:20]!r} is not key=value")
                    params.append((key, value))
                try:
                    body = repo.query(params)
                except QueryError as exc:
                    return error(Code.NOT_FOUND if exc.status == 404 else Code.BAD_REQUEST, str(exc))
                response = aiocoap.Message(code=Code.CONTENT, payload=body, content_format=50)
                return self._slice(request, response, body, None)
            entry = repo.files.get(path)
            if entry is None:
                return error(Code.NOT_FOUND, f"no such file: {path[:100]}")
            if request.opt.uri_query:
                return error(Code.BAD_REQUEST, "files take no query")
            if entry.etag in request.opt.etags:
                return aiocoap.Message(code=Code.VALID, etag=entry.etag)
            return self._slice(request, aiocoap.Message(code=Code.CONTENT, etag=entry.etag), entry.data, entry.etag)

        def _slice(self, request: Any, response: Any, data: bytes, etag: bytes | None) -> Any:
            block = request.opt.block2
            if block is None:
                if len(data) <= 1 << (MAX_SZX + 4):
                    response.payload = data
                    return response
                num, szx = 0, MAX_SZX
            else:
                num, szx = block.block_number, min(block.size_exponent, MAX_SZX)
            size = 1 << (szx + 4)
            start = num * size
            if start >= len(data) and not (start == 0 and not data):
                return error(Code.BAD_OPTION, f"block {num} of {size} bytes is past the end ({len(data)} bytes)")
            response.payload = data[start : start + size]
            response.opt.block2 = BlockOption.BlockwiseTuple(num, start + size < len(data), szx)
            return response

    return RepositoryResource()


LOGGER = "spb.serve.coap"


class MalformedDatagrams(logging.Filter):
    """Datagrams that are not CoAP, or not a request, counted and reported as one line per `interval` seconds.

    aiocoap logs a warning for each datagram it cannot parse or ignores, and for some (an option that is not
    UTF-8) its receive callback raises, which asyncio logs with a full traceback. A flood of garbage must not
    become a flood of log: a server whose stderr goes to a pipe or a disk would block or fill it. Both
    paths are counted here; anything else passes through unchanged.
    """

    def __init__(self, interval: float = 60.0, emit: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.interval = interval
        self.emit = emit or (lambda line: print(line, file=sys.stderr, flush=True))
        self.total = 0
        self._pending = 0
        self._last_from = ""
        self._reported = -float("inf")

    def count(self, source: str) -> None:
        self.total += 1
        self._pending += 1
        self._last_from = source
        now = time.monotonic()
        if now - self._reported >= self.interval:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if self._pending:
            self.emit(
                f"spb serve: ignored {self._pending} malformed or unexpected CoAP datagram(s) "
                f"(last from {self._last_from})"
            )
        self._pending = 0
        self._reported = time.monotonic() if now is None else now

    def filter(self, record: logging.LogRecord) -> bool:
        """aiocoap's per-datagram warnings - "Ignoring unparsable message from ...", "Received a message with
        code ... (those don't fit) from ..., ignoring it." and the like - are counted, not logged."""
        if record.levelno <= logging.WARNING and "ignor" in str(record.msg).lower():
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            self.count(str(args[-1]) if args else "?")
            return False
        return True

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio exception handler: aiocoap's decoder raising on a datagram counts as one malformed."""
        exception = context.get("exception")
        if isinstance(exception, (UnicodeError, ValueError, IndexError)) and _raised_in_aiocoap(exception):
            self.count("a datagram aiocoap could not decode")
        else:
            loop.default_exception_handler(context)


def _raised_in_aiocoap(exception: BaseException) -> bool:
    trace = exception.__traceback__
    while trace is not None:
        if "/aiocoap/" in trace.tb_frame.f_code.co_filename.replace("\\", "/"):
            return True
        trace = trace.tb_next
    return False


async def start_server(repo: Repository, host: str, port: int, malformed: MalformedDatagrams | None = None) -> Any:
    """A server context serving `repo` on UDP host:port; shut it down with `await context.shutdown()`.

    Malformed datagrams are counted by `malformed` (one default reporter if None), never logged one by one.
    """
    aiocoap = _aiocoap()
    malformed = malformed or MalformedDatagrams()
    logging.getLogger(LOGGER).addFilter(malformed)
    asyncio.get_running_loop().set_exception_handler(malformed.loop_exception)
    try:
        return await aiocoap.Context.create_server_context(_make_resource(repo), bind=(host, port), loggername=LOGGER)
    except OSError as error:
        raise SpbError(f"{host}:{port}", f"cannot serve CoAP there ({error.strerror or error})") from None


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class CoapTransport:
    """spb.ota.client.Transport over CoAP: one GET per block, non-confirmable, each with a fresh token and
    message ID (a late or duplicated answer to an earlier try is dropped by aiocoap's token matching)."""

    def __init__(self, context: Any, host: str, port: int) -> None:
        self.context = context
        self.base = f"coap://{host}:{port}/"

    @classmethod
    async def create(cls, host: str, port: int) -> CoapTransport:
        aiocoap = _aiocoap()
        return cls(await aiocoap.Context.create_client_context(), host, port)

    async def close(self) -> None:
        await self.context.shutdown()

    async def _get(self, uri: str, block: tuple[int, int] | None, timeout: float) -> Any:
        aiocoap = _aiocoap()
        from aiocoap.optiontypes import BlockOption

        message = aiocoap.Message(code=aiocoap.GET, uri=uri, transport_tuning=aiocoap.Unreliable)
        if block is not None:
            message.opt.block2 = BlockOption.BlockwiseTuple(block[0], False, block[1])
        request = self.context.request(message, handle_blockwise=False)
        try:
            # Shielded: a late answer then completes a future nobody awaits, instead of one wait_for cancelled
            # (which aiocoap 0.4.17 reports as an error); its token is matched and dropped either way.
            return await asyncio.wait_for(asyncio.shield(request.response), timeout)
        except asyncio.TimeoutError:
            request.response.add_done_callback(_consume)  # its late result, or LibraryShutdown at close
            raise TransportError("timeout", retry=True) from None
        except aiocoap.error.Error as exc:
            raise TransportError(f"CoAP: {type(exc).__name__}: {exc}", retry=True) from None

    async def query(self, query: str, timeout: float) -> bytes:
        response = await self._get(f"{self.base}{QUERY_PATH}?{query}", None, timeout)
        if response.opt.block2 is not None and response.opt.block2.more:
            raise TransportError("query answer larger than one block", retry=False)
        self._check(response)
        return bytes(response.payload)

    async def block(self, path: str, num: int, szx: int, timeout: float) -> Block:
        response = await self._get(self.base + path, (num, szx), timeout)
        self._check(response)
        opt = response.opt.block2
        if opt is None:
            more, got_num, got_szx = False, 0, szx
        else:
            more, got_num, got_szx = bool(opt.more), int(opt.block_number), int(opt.size_exponent)
        etag = response.opt.etag
        return Block(bytes(response.payload), more, None if etag is None else bytes(etag), got_num, got_szx)

    @staticmethod
    def _check(response: Any) -> None:
        code = response.code
        if not code.is_successful():
            text = bytes(response.payload).decode(errors="replace")
            server_side = code.class_ == 5
            raise TransportError(f"CoAP {code.dotted}: {text}", retry=server_side, status=int(code))
