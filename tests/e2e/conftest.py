"""The real local stack (`python -m local`, what `make run` starts) as a subprocess."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalStack:
    """A running stack: its API URL, AWS endpoint, and every console line so far."""

    api: str
    aws: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def wait_for_line(self, pattern: str, *, after: int = 0, timeout: float = 30) -> re.Match[str]:
        """The first console line from index ``after`` on that matches ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                match = regex.search(line)
                if match:
                    return match
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines[-40:]))

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.api + path, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    aws_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JWT_", "STAGE"))}
    env.update(CRM_AWS_PORT=str(aws_port), CRM_API_PORT=str(api_port), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    stack = LocalStack(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}", process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    try:
        stack.wait_for_line(r"Clean CRM is running locally", timeout=90)
        yield stack
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
