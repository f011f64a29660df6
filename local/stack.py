"""``make run``: embedded AWS, the API and the queue pump in one process tree.

Three children share this terminal: the moto server (every AWS service the
app uses, in memory), ``chalice local`` (the API) and the queue pump. Ctrl-C
stops all three; starting again works at once (the state lives in memory and
starts empty each time).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def stack_env() -> dict[str, str]:
    """The environment of every child: the local stage's settings plus ports."""
    import json

    aws_port = os.environ.get("CRM_AWS_PORT", "4566")
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(os.environ)
    env.update(config.get("environment_variables", {}))
    env.update(config["stages"]["local"]["environment_variables"])
    # Not in .chalice/config.json: chalice local would let it override the port.
    env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{aws_port}"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("AWS_PROFILE", None)
    return env


def wait_for_port(port: int, proc: subprocess.Popen[Any], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with code {proc.returncode} while starting")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not open port {port} within {timeout:.0f}s")


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main() -> None:
    env = stack_env()
    aws_port = int(os.environ.get("CRM_AWS_PORT", "4566"))
    api_port = int(os.environ.get("CRM_API_PORT", "8000"))
    for port in (aws_port, api_port):
        if port_in_use(port):
            raise SystemExit(
                f"port {port} is already in use (another `make run`?). "
                "Stop it, or set CRM_AWS_PORT / CRM_API_PORT."
            )
    os.environ.update(env)
    children: list[subprocess.Popen[Any]] = []

    def stop(*_: Any) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()

    # Ctrl-C and SIGTERM both stop the children in order, even when this
    # process was started with SIGINT ignored (a shell's background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(aws_port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        children.append(moto)
        wait_for_port(aws_port, moto, "the embedded AWS (moto server)")

        from local.bootstrap import create_all

        queues = create_all()

        # chalice local, answering missing routes as the deployed stage does.
        api = subprocess.Popen(
            [sys.executable, "-m", "local.api", "--stage", "local", "--port", str(api_port)],
            env=env,
            cwd=ROOT,
        )
        children.append(api)
        pump = subprocess.Popen([sys.executable, "-m", "local.pump"], env=env, cwd=ROOT)
        children.append(pump)
        wait_for_port(api_port, api, "the API (chalice local)")
        banner(aws_port, api_port, env, sorted(queues))
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        names = {id(moto): "the embedded AWS", id(api): "the API", id(pump): "the queue pump"}
        failed = next(child for child in children if child.poll() is not None)
        raise SystemExit(f"{names[id(failed)]} stopped (code {failed.returncode}); stopping all")
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
    finally:
        stop()


def banner(aws_port: int, api_port: int, env: dict[str, str], queues: list[str]) -> None:
    bucket = env.get("FILES_BUCKET") or f"crm-files-{env.get('STAGE', 'local')}"
    lines = [
        "",
        "Clean CRM is running locally (Ctrl-C stops everything)",
        f"  API            http://127.0.0.1:{api_port}/api/",
        f"  embedded AWS   http://127.0.0.1:{aws_port}  (moto server, in memory)",
        f"  bucket         s3://{bucket}",
        f"  queues         {', '.join(queues)}",
        f"  email sender   {env.get('EMAIL_SENDER')} (verified); sent messages print here",
        f"  try            curl -s -X POST http://127.0.0.1:{api_port}/api/accounts/register "
        "-H 'Content-Type: application/json' "
        """-d '{"email":"me@example.com","username":"me","password":"a long passphrase"}'""",
        "",
    ]
    print("\n".join(lines), flush=True)
