"""Cold starts of Clearway's Lambda handlers, measured locally: `python -m bench.lambda_cold_start`.

Each figure comes from a fresh Python process, as a new execution environment is:

- import: `clearway.runtime.aws.handlers` and boto3 (what Lambda's init phase loads);
- init: building the execution environment (settings, key store, clients, database pool, the
  service or the gateway, start hooks); for the gateway, with the services it calls at start
  (JWKS, revocations, OpenAPI documents) already warm in the same process;
- first: the first invocation (a `/healthz` HTTP API event; for the worker, an empty SQS
  batch; for the key service, one Decrypt).

AWS is moto's server in a process of its own (tests/aws/moto_kms.py), on 127.0.0.1; data in
SQLite under a temporary directory. A real deployment adds network round trips to KMS, Secrets
Manager and the RDS Proxy, and Lambda's own start of the runtime; it has no moto on the
machine. Run it on a quiet machine: the figures are wall-clock times.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from clearway.settings import SERVICES

ROOT = Path(__file__).resolve().parents[1]
PARTS = ["gateway", *SERVICES, "common-worker", "keys"]
RUNS = 3


def environment_variables(data_dir: Path, endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "CLEARWAY_DATA_DIR": str(data_dir),
        "CLEARWAY_AWS_ENDPOINT_URL": endpoint,
        "CLEARWAY_AWS_REGION": "eu-central-1",
        "CLEARWAY_BUS_URL": "sns-sqs://bench",
        "CLEARWAY_KEYS_BACKEND": "kms",
        "CLEARWAY_FILES_BACKEND": "s3",
        "CLEARWAY_FILES_BUCKET": "bench-files",
        "CLEARWAY_ADMIN_PASSWORD": "bench-admin-password",
        "CLEARWAY_LOG_LEVEL": "warning",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto's server did not start")


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as temp:
        env = environment_variables(Path(temp), f"http://127.0.0.1:{port}")
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.aws.moto_kms", str(port)], env=env, cwd=ROOT
        )
        try:
            wait_for(port)
            subprocess.run(
                [sys.executable, "-m", "bench.lambda_cold_start", "--deploy"],
                env=env,
                cwd=ROOT,
                check=True,
            )
            results: dict[str, list[dict[str, float]]] = {}
            for _ in range(RUNS):
                for part in PARTS:
                    out = subprocess.run(
                        [sys.executable, "-m", "bench.lambda_cold_start", "--measure", part],
                        env=env,
                        cwd=ROOT,
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                    results.setdefault(part, []).append(json.loads(out.splitlines()[-1]))
        finally:
            server.terminate()
            server.wait()
    load = os.getloadavg()[0]
    print(f"median of {RUNS} runs, ms; wall clock (CPU time); load average {load:.1f}")
    print(f"{'handler':<15}{'import':>16}{'init':>16}{'first request':>15}")
    for part, runs in results.items():
        m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{part:<15}{m['import']:>8.0f} ({m['import_cpu']:>5.0f})"
            f"{m['init']:>8.0f} ({m['init_cpu']:>5.0f}){m['first']:>15.0f}"
        )


def deploy() -> None:
    """What the template and the deploy step make: the bucket, then `handlers.migrate`."""
    import boto3

    from clearway.runtime.aws import handlers

    s3 = boto3.client("s3", endpoint_url=os.environ["CLEARWAY_AWS_ENDPOINT_URL"])
    s3.create_bucket(
        Bucket="bench-files", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    handlers.migrate({}, None)


def measure(part: str) -> dict[str, float]:
    started, started_cpu = time.perf_counter(), time.process_time()
    import boto3  # (Lambda's init phase pays for it)

    from clearway.runtime.aws import handlers

    imported, imported_cpu = time.perf_counter(), time.process_time()
    import base64
    from concurrent.futures import ThreadPoolExecutor

    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    from clearway.kit.crypto.kms import OAEP
    from clearway.settings import Settings

    def settings_for(name: str) -> Settings:
        return Settings(lambda_part=name)

    # Functions the measured one calls (the gateway calls services): warm, one thread each.
    workers: dict[str, ThreadPoolExecutor] = {}

    def invoke(function: str, payload: bytes) -> bytes:
        name = function.removeprefix("clearway-")

        def run() -> Any:
            handlers.configure(settings_for(name), invoke)
            return handlers.service(json.loads(payload), None)

        return json.dumps(workers[name].submit(run).result()).encode()

    if part == "gateway":
        for service in SERVICES:
            workers[service] = ThreadPoolExecutor(1)

            def warm(name: str = service) -> None:
                handlers.configure(settings_for(name), invoke)
                handlers.environment()

            workers[service].submit(warm).result()
    if part == "keys":
        kms = boto3.client("kms", endpoint_url=os.environ["CLEARWAY_AWS_ENDPOINT_URL"])
        key = "alias/clearway/master/v1"
        public = load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
        assert isinstance(public, RSAPublicKey)
        event = {"key": key, "ciphertext": base64.b64encode(public.encrypt(b"k" * 64, OAEP))}
        # Nothing is kept between invocations: no init beyond the import.
        init_started = init_done = time.perf_counter()
        init_cpu = 0.0
        handlers.keys({**event, "ciphertext": event["ciphertext"].decode()}, None)
    else:
        name = part.removesuffix("-worker")
        handlers.configure(settings_for(name), invoke)
        init_started, init_started_cpu = time.perf_counter(), time.process_time()
        handlers.environment()
        init_done = time.perf_counter()
        init_cpu = time.process_time() - init_started_cpu
        if part.endswith("-worker"):
            handlers.worker({"Records": []}, None)
        else:
            handlers.gateway(healthz_event(), None)
    first_done = time.perf_counter()
    for executor in workers.values():
        executor.shutdown()
    return {
        "import": (imported - started) * 1000,
        "import_cpu": (imported_cpu - started_cpu) * 1000,
        "init": (init_done - init_started) * 1000,
        "init_cpu": init_cpu * 1000,
        "first": (first_done - init_done) * 1000,
    }


def healthz_event() -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/healthz",
        "rawQueryString": "",
        "headers": {"host": "api.example", "user-agent": "bench"},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": "/healthz",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "bench",
            },
            "requestId": "bench",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--deploy"]:
        deploy()
    elif sys.argv[1:2] == ["--measure"]:
        print(json.dumps(measure(sys.argv[2])))
    else:
        main()
