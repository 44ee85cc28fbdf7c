"""`python -m devcluster.forward`: carry TCP connections from the host's loopback into a sandbox.

The parent opens the listening socket on the host's 127.0.0.1 and hands its file descriptor to
this process, which runs inside the sandbox's network namespace (started through `nsenter`): a
socket keeps the namespace it was made in, so accepting on it serves the host while each
connection's other end is opened inside the sandbox. Nothing is routed between the namespaces and
no address outside loopback is ever used on the host. Plain byte copying, so TLS, watches and the
upgraded streams of `kubectl logs -f`/`exec`/`port-forward` pass through untouched.

With `--dns IP`, `--to` may name a Service (`name.namespace.svc.cluster.local:port`): each
connection resolves it afresh through the cluster's DNS server and connects to the answer, so a
test on the host reaches a Service as a pod does, by DNS name and through kube-proxy's
load-balancing.

`--into NETNS --listen IP:PORT` is the other direction, for services the test harness runs on the
host's loopback (MLflow, Redis, PostgreSQL): this process stays on the host, makes its listening
socket inside the sandbox (switching only its own thread into the namespace to create it) and
connects each accepted connection to `--to` on the host's loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import random
import socket
import struct
import sys
import threading
from collections.abc import Callable


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def resolve_a(name: str, server: tuple[str, int], timeout: float = 3.0) -> str:
    """The first IPv4 address the DNS server at `server` answers for `name` (one UDP query)."""
    query_id = random.randrange(1 << 16)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question + b"\0\1\0\1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, server)
        answer = sock.recv(4096)
    ident, flags, _, count = struct.unpack(">HHHH", answer[:8])
    if ident != query_id or flags & 0x000F:
        raise OSError(f"DNS: no address for {name} (rcode {flags & 0x000F})")
    offset = 12 + len(question) + 4
    for _ in range(count):
        if answer[offset] & 0xC0 == 0xC0:
            offset += 2
        else:
            while answer[offset]:
                offset += answer[offset] + 1
            offset += 1
        rtype, _, _, length = struct.unpack(">HHIH", answer[offset : offset + 10])
        offset += 10
        if rtype == 1 and length == 4:
            return socket.inet_ntoa(answer[offset : offset + 4])
        offset += length
    raise OSError(f"DNS: no A record for {name}")


def _serve_one(client: socket.socket, target: Callable[[], tuple[str, int]]) -> None:
    try:
        upstream = socket.create_connection(target(), timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
    back.start()
    _pipe(client, upstream)
    back.join()
    client.close()
    upstream.close()


def serve(listener: socket.socket, target: Callable[[], tuple[str, int]]) -> None:
    """Accept forever, one pair of copying threads per connection."""
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve_one, args=(client, target), daemon=True).start()


_CLONE_NEWNET = 0x40000000


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, _CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns failed")


def listen_inside(netns: str, address: tuple[str, int]) -> socket.socket:
    """A listening socket bound to `address` in network namespace `netns` (by `ip netns` name)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(address)
            listener.listen(128)
        finally:
            _setns(home)
    finally:
        os.close(home)
        os.close(target)
    return listener


def _address(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devcluster.forward")
    parser.add_argument("--fd", type=int, help="inherited listening socket")
    parser.add_argument("--into", help="sandbox netns to listen in (with --listen)")
    parser.add_argument("--listen", help="IP:PORT inside the sandbox")
    parser.add_argument("--to", required=True, help="HOST:PORT to connect each connection to")
    parser.add_argument("--dns", help="resolve --to's host through this DNS server (IP)")
    args = parser.parse_args(argv)
    if args.fd is not None:
        listener = socket.socket(fileno=args.fd)
    elif args.into and args.listen:
        listener = listen_inside(args.into, _address(args.listen))
    else:
        parser.error("give --fd, or --into with --listen")
    host, port = _address(args.to)
    if args.dns:
        dns = (args.dns, 53)

        def target() -> tuple[str, int]:
            return resolve_a(host, dns), port
    else:

        def target() -> tuple[str, int]:
            return host, port

    print("listening", flush=True)
    serve(listener, target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
