"""Workloads the Service and DNS tests run on the real node, from the operator image (the
smallest of ours with a Python): a small HTTP server and a client, both plain standard library."""

from __future__ import annotations

from typing import Any

from .pods import restricted_pod

#: An HTTP server on :8000 that answers with its pod's name.
SERVER = """
import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ["HOSTNAME"].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 8000), Handler).serve_forever()
"""

#: GET `url` until `seconds` pass (at least once each, bounded), `workers` at a time; print
#: how many answers came from how many pods.
CLIENT = """
import collections, sys, threading, time, urllib.request
url, seconds, workers = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + seconds
answers, errors = collections.Counter(), collections.Counter()
def work():
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                answers[response.read().decode()] += 1
        except Exception as error:
            errors[type(error).__name__] += 1
        if time.monotonic() >= deadline:
            return
threads = [threading.Thread(target=work) for _ in range(workers)]
for t in threads: t.start()
for t in threads: t.join()
print("answers:", sum(answers.values()), "from", len(answers), "pods; errors:", dict(errors))
"""


def server_deployment(name: str, image: str, replicas: int = 1) -> dict[str, Any]:
    pod = restricted_pod(name, image, ["python", "-c", SERVER], cpu="100m", memory="128Mi")
    container = pod["spec"]["containers"][0]
    container["ports"] = [{"name": "http", "containerPort": 8000}]
    container["readinessProbe"] = {"tcpSocket": {"port": 8000}, "periodSeconds": 1}
    container["resources"]["limits"]["cpu"] = "500m"
    spec = dict(pod["spec"], restartPolicy="Always")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": "http"}]},
    }


def client_pod(name: str, image: str, url: str, seconds: float, workers: int) -> dict[str, Any]:
    return restricted_pod(
        name,
        image,
        ["python", "-c", CLIENT, url, str(seconds), str(workers)],
        cpu="200m",
        memory="128Mi",
    )
