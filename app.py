"""Clean CRM: the Chalice app. Wiring only; the logic lives in chalicelib/."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, SQSEvent

from chalicelib.accounts.routes import bp as accounts_routes
from chalicelib.config import settings
from chalicelib.contacts.routes import bp as contacts_routes
from chalicelib.directories.routes import bp as directories_routes
from chalicelib.http import cors, middleware
from chalicelib.imports.routes import bp as imports_routes
from chalicelib.openapi.routes import bp as openapi_routes

app = Chalice(app_name="clean-crm")
middleware.install(app)
app.register_blueprint(accounts_routes, url_prefix="/api/accounts")
app.register_blueprint(directories_routes, url_prefix="/api/directory")
app.register_blueprint(contacts_routes, url_prefix="/api/contacts")
app.register_blueprint(imports_routes, url_prefix="/api/contacts")
app.register_blueprint(openapi_routes, url_prefix="/api")
# After every blueprint: each path gets an OPTIONS route for CORS preflights.
cors.add_preflight_routes(app)
# Uploaded files must reach the app byte for byte, not as text.
app.api.binary_types.append("multipart/form-data")


@app.on_sqs_message(queue=settings().queue_name("notifications"), batch_size=10)
def send_notifications(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.accounts.handlers import handle_notification
    from chalicelib.events import process_batch

    return process_batch(event, handle_notification)


@app.on_sqs_message(queue=settings().queue_name("cleanup"), batch_size=1)
def clean_up(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.directories.cleanup import handle_cleanup
    from chalicelib.events import process_batch

    return process_batch(event, handle_cleanup)


@app.on_sqs_message(queue=settings().queue_name("imports"), batch_size=1)
def import_contacts(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.events import process_batch, remaining_ms
    from chalicelib.imports.handlers import handle_import_message

    time_left = remaining_ms(event.context)
    return process_batch(event, lambda message: handle_import_message(message, time_left))


@app.on_sqs_message(queue=settings().queue_name("imports-dlq"), batch_size=10)
def fail_dead_imports(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.events import process_batch
    from chalicelib.imports.handlers import handle_dead_letter

    return process_batch(event, handle_dead_letter)
