"""`python -m devcluster.forward`: carry TCP connections from the host's loopback into a sandbox.

The parent opens the listening socket on the host's 127.0.0.1 and hands its file descriptor to
this process, which runs inside the sandbox's network namespace (started through `nsenter`): a
socket keeps the namespace it was made in, so accepting on it serves the host while each
connection's other end is opened inside the sandbox. Nothing is routed between the namespaces and
no address outside loopback is ever used on the host. Plain byte copying, so TLS, watches and the
upgraded streams of `kubectl logs -f`/`exec`/`port-forward` pass through untouched.

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
import socket
import sys
import threading


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _serve_one(client: socket.socket, target: tuple[str, int]) -> None:
    try:
        upstream = socket.create_connection(target, timeout=10)
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


def serve(listener: socket.socket, target: tuple[str, int]) -> None:
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
    args = parser.parse_args(argv)
    if args.fd is not None:
        listener = socket.socket(fileno=args.fd)
    elif args.into and args.listen:
        listener = listen_inside(args.into, _address(args.listen))
    else:
        parser.error("give --fd, or --into with --listen")
    print("listening", flush=True)
    serve(listener, _address(args.to))
    return 0


if __name__ == "__main__":
    sys.exit(main())
