"""The HTML of the API viewers: Swagger UI at /api/docs, ReDoc at /api/redoc.

The viewers' JavaScript comes from the jsDelivr CDN, pinned to one version
and checked by the browser against its hash (Subresource Integrity): the
API serves only these few lines, and a tampered CDN file does not run. The
Content-Security-Policy lets the page load nothing else but the schema.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json

CDN = "https://cdn.jsdelivr.net/npm"
# sha384 of the files as published on npm (jsDelivr serves them unchanged).
SWAGGER_UI = "swagger-ui-dist@5.35.0"
SWAGGER_UI_JS = "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9"
SWAGGER_UI_CSS = "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I"
REDOC = "redoc@2.5.4"
REDOC_JS = "sha384-w447zOpYfw/1Tv/5AK9NfHTlQIqE3RVR6KY62jCyy9zNDgO64cMwGGP1Fj0zJVf5"

TITLE = "Clean CRM API"


def swagger_ui(schema_url: str) -> tuple[str, dict[str, str]]:
    """The Swagger UI page for the document at ``schema_url``, and its headers."""
    init = (
        "window.ui = SwaggerUIBundle({url: "
        + json.dumps(schema_url)
        + ', dom_id: "#swagger-ui", deepLinking: true});'
    )
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{TITLE}</title>
<link rel="stylesheet" href="{CDN}/{SWAGGER_UI}/swagger-ui.css"
 integrity="{SWAGGER_UI_CSS}" crossorigin="anonymous">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{CDN}/{SWAGGER_UI}/swagger-ui-bundle.js"
 integrity="{SWAGGER_UI_JS}" crossorigin="anonymous"></script>
<script>{init}</script>
</body>
</html>
"""
    return page, security_headers(script_hashes=[_sha256(init)])


def redoc(schema_url: str) -> tuple[str, dict[str, str]]:
    """The ReDoc page for the document at ``schema_url``, and its headers."""
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{TITLE}</title>
</head>
<body>
<redoc spec-url="{html.escape(schema_url)}"></redoc>
<script src="{CDN}/{REDOC}/bundles/redoc.standalone.js"
 integrity="{REDOC_JS}" crossorigin="anonymous"></script>
</body>
</html>
"""
    return page, security_headers(script_hashes=[])


def security_headers(script_hashes: list[str]) -> dict[str, str]:
    """Headers that keep the docs pages from being framed, sniffed or injected into."""
    scripts = " ".join([CDN + "/", *(f"'{h}'" for h in script_hashes)])
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src {scripts}",
            # Both viewers set inline styles from JavaScript.
            f"style-src {CDN}/ 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src data:",
            "connect-src 'self'",
            # ReDoc searches in a worker it creates from a blob.
            "worker-src blob:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Strict-Transport-Security": "max-age=31536000",
        "Cache-Control": "no-cache",
    }


def _sha256(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
