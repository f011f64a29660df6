"""The local stack's API: ``chalice local``, answering a missing route as a deployed stage does.

On AWS the template's Gateway Responses turn API Gateway's "Missing
Authentication Token" 403 into a 404 problem with CORS headers; chalice's
local server still sends the bare 403, so this server sends the 404 the
client will meet in production.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)

from local.stack import ROOT


class GatewayLikeHandler(ChaliceRequestHandler):
    """chalice local's request handler with the deployed stage's answer to a missing route."""

    def _send_error_response(self, error: LocalGatewayException) -> None:
        if not isinstance(error, ForbiddenError):
            super()._send_error_response(error)
            return
        from chalicelib.http.cors import cors_headers
        from chalicelib.http.problems import NO_ROUTE_DETAIL, problem_response

        response = problem_response(404, "not_found", "Not found", NO_ROUTE_DETAIL)
        headers: dict[str, Any] = {
            **response.headers,
            **cors_headers(self.headers.get("Origin")),
            "X-Content-Type-Options": "nosniff",  # as on every other answer
        }
        self._send_http_response(404, headers, str(response.body))


def serve(host: str, port: int, stage: str) -> None:
    factory = CLIFactory(project_dir=str(ROOT), environ=dict(os.environ))
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    # What chalice.local.create_local_server does, with our handler.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    server = LocalDevServer(app, config, host, port, handler_cls=GatewayLikeHandler)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()
    # As `chalice local` does: the app's log lines on stdout.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    # Ctrl-C reaches the whole process group; the stack says it is stopping.
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port, args.stage)


if __name__ == "__main__":
    main()
