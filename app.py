"""Clean CRM: the Chalice app. Wiring only; the logic lives in chalicelib/."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, SQSEvent

from chalicelib.accounts.routes import bp as accounts_routes
from chalicelib.campaigns.routes import bp as campaigns_routes
from chalicelib.config import settings
from chalicelib.contacts.routes import bp as contacts_routes
from chalicelib.directories.routes import bp as directories_routes
from chalicelib.exports.routes import bp as exports_routes
from chalicelib.http import cors, middleware
from chalicelib.imports.routes import bp as imports_routes
from chalicelib.openapi.routes import bp as openapi_routes

app = Chalice(app_name="clean-crm")
middleware.install(app)
app.register_blueprint(accounts_routes, url_prefix="/api/accounts")
app.register_blueprint(directories_routes, url_prefix="/api/directory")
app.register_blueprint(contacts_routes, url_prefix="/api/contacts")
app.register_blueprint(imports_routes, url_prefix="/api/contacts")
app.register_blueprint(exports_routes, url_prefix="/api/contacts")
app.register_blueprint(campaigns_routes, url_prefix="/api/campaigns")
app.register_blueprint(openapi_routes, url_prefix="/api")
# After every blueprint: each path gets an OPTIONS route for CORS preflights.
cors.add_preflight_routes(app)
# Every body is binary to API Gateway: uploads reach the app byte for byte,
# and exported files reach the client intact whatever Accept it sends (with
# a narrower list API Gateway decodes a body only for a matching Accept, and
# Chalice answers 400 to a request that has none).
app.api.binary_types.append("*/*")


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


@app.on_sqs_message(queue=settings().queue_name("exports"), batch_size=1)
def export_contacts(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.events import process_batch
    from chalicelib.exports.handlers import handle_export_message

    return process_batch(event, handle_export_message)


@app.on_sqs_message(queue=settings().queue_name("exports-dlq"), batch_size=10)
def fail_dead_exports(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.events import process_batch
    from chalicelib.exports.handlers import handle_dead_letter

    return process_batch(event, handle_dead_letter)


@app.on_sqs_message(queue=settings().queue_name("campaigns"), batch_size=1)
def fan_out_campaign(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.campaigns.handlers import handle_fan_out
    from chalicelib.events import process_batch

    return process_batch(event, handle_fan_out)


@app.on_sqs_message(queue=settings().queue_name("campaigns-dlq"), batch_size=10)
def fail_dead_campaigns(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.campaigns.handlers import handle_dead_fan_out
    from chalicelib.events import process_batch

    return process_batch(event, handle_dead_fan_out)


@app.on_sqs_message(queue=settings().queue_name("deliveries"), batch_size=10)
def send_deliveries(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.campaigns.sending import process_deliveries

    return process_deliveries(event)


@app.on_sqs_message(queue=settings().queue_name("deliveries-dlq"), batch_size=10)
def fail_dead_deliveries(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.campaigns.sending import handle_dead_deliveries
    from chalicelib.events import process_batch

    return process_batch(event, handle_dead_deliveries)
