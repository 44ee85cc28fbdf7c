"""`python -m devcluster.forward`: carry TCP connections from the host's loopback into a sandbox.

The parent opens the listening socket on the host's 127.0.0.1 and hands its file descriptor to
this process, which runs inside the sandbox's network namespace (started through `nsenter`): a
socket keeps the namespace it was made in, so accepting on it serves the host while each
connection's other end is opened inside the sandbox. Nothing is routed between the namespaces and
no address outside loopback is ever used on the host. Plain byte copying, so TLS, watches and the
upgraded streams of `kubectl logs -f`/`exec`/`port-forward` pass through untouched.
"""

from __future__ import annotations

import argparse
import contextlib
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devcluster.forward")
    parser.add_argument("--fd", type=int, required=True, help="inherited listening socket")
    parser.add_argument("--to", required=True, help="HOST:PORT inside this namespace")
    args = parser.parse_args(argv)
    host, port = args.to.rsplit(":", 1)
    listener = socket.socket(fileno=args.fd)
    serve(listener, (host, int(port)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
