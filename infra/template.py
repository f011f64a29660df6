"""The merge template for ``chalice package``, built from the code it deploys.

Nothing here is a hand-kept list of resources: tables come from the PynamoDB
models (keys, indexes, TTL attribute), queues from ``config.QUEUES``, the
functions and their event sources from the Chalice app, timeouts from
``.chalice/config.json``. What each function may touch comes from
:mod:`infra.policies`, which must name every function.

``chalice package --merge-template`` deep-merges this document into the one
it generates: resources are added, and the keys given for chalice's own
resources (a function's ``Role``, ``Environment``, an SQS event's ``Queue``)
replace or extend chalice's values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.constants import DEFAULT_LAMBDA_TIMEOUT
from chalice.utils import to_cfn_resource_name

from chalicelib.http.problems import NO_ROUTE_DETAIL
from infra.policies import PLANNED, POLICIES, Access

ROOT = Path(__file__).resolve().parent.parent
API_FUNCTION = "api_handler"
# SQS keeps a message hidden this many times the consumer's timeout, so a
# slow run (and Lambda's own retries of it) never overlaps a redelivery.
VISIBILITY_FACTOR = 6
MAX_RECEIVES = 5
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
# Files the pipeline has finished with: sources and reports, then exports.
LIFECYCLE_DAYS = {"imports/": 30, "reports/": 30, "exports/": 7}

Json = dict[str, Any]


class MissingPolicyError(Exception):
    """A function of the app has no entry in :data:`infra.policies.POLICIES`."""


class UnknownResourceError(Exception):
    """A policy names a table or queue the code does not define (and does not plan)."""


@dataclass(frozen=True)
class Throttle:
    """API Gateway's limits for one stage: steady requests per second and burst."""

    rate: float
    burst: int


THROTTLING = {"dev": Throttle(rate=20, burst=40), "prod": Throttle(rate=200, burst=400)}


@dataclass(frozen=True)
class Function:
    """One Lambda function of the app and the queue that triggers it (if any)."""

    name: str
    queue: str | None
    timeout: int

    @property
    def cfn_name(self) -> str:
        # chalice renames the API's function; the others keep their name.
        return "APIHandler" if self.name == API_FUNCTION else to_cfn_resource_name(self.name)

    @property
    def event_name(self) -> str:
        return to_cfn_resource_name(f"{self.name}-sqs-event-source")


def build(stage: str) -> Json:
    """The merge template for ``stage`` (``dev``, ``prod`` …) of the app in app.py."""
    import app as app_module
    from chalicelib.config import QUEUES, settings
    from chalicelib.tables import ALL_MODELS

    stage_config = _stage_config(stage)
    queue_names = {settings().queue_name(name): name for q in QUEUES for name in (q, f"{q}-dlq")}
    functions = app_functions(app_module.app, queue_names, stage)
    tables = {getattr(model.Meta, "logical_name"): model for model in ALL_MODELS}  # noqa: B009
    return generate(
        stage=stage,
        stage_env=stage_config.get("environment_variables", {}),
        tables=tables,
        queues=QUEUES,
        functions=functions,
        log_groups=bool(_chalice_config(stage, API_FUNCTION).log_retention_in_days),
    )


def app_functions(app: Any, queue_names: dict[str, str], stage: str) -> list[Function]:
    """The API function and every ``@app.on_sqs_message`` handler, with their timeouts."""
    functions = [Function(API_FUNCTION, None, _timeout(stage, API_FUNCTION))]
    for source in app.event_sources:
        queue = getattr(source, "queue", None)
        if queue is None:
            raise UnknownResourceError(
                f"{source.name}: only SQS handlers are deployable (S3 events go through SQS)"
            )
        if queue not in queue_names:
            raise UnknownResourceError(f"{source.name}: queue {queue!r} is not in config.QUEUES")
        functions.append(Function(source.name, queue_names[queue], _timeout(stage, source.name)))
    return functions


def generate(
    *,
    stage: str,
    stage_env: dict[str, str],
    tables: dict[str, Any],
    queues: Iterable[str],
    functions: list[Function],
    log_groups: bool = False,
) -> Json:
    """The merge template from its inputs; see :func:`build`."""
    missing = [f.name for f in functions if f.name not in POLICIES]
    if missing:
        raise MissingPolicyError(
            "no least-privilege policy for "
            + ", ".join(missing)
            + ": add an entry to POLICIES in infra/policies.py"
        )
    queue_names = [name for q in queues for name in (q, f"{q}-dlq")]
    resources: Json = {}
    for logical, model in tables.items():
        resources[_table_id(logical)] = table_resource(model)
    consumers = {f.queue: f for f in functions if f.queue}
    for queue in queues:
        resources.update(queue_resources(queue, consumers))
    resources.update(bucket_resources(stage))
    resources["EmailConfigurationSet"] = {
        "Type": "AWS::SES::ConfigurationSet",
        "Properties": {"Name": f"clean-crm-{stage}"},
    }
    env = resource_environment(tables, queue_names)
    jwt_parameter = stage_env.get("JWT_SECRET_PARAMETER", "")
    if not jwt_parameter:
        raise UnknownResourceError(f"stage {stage!r} sets no JWT_SECRET_PARAMETER")
    for function in functions:
        access = POLICIES[function.name]
        statements = policy_statements(
            function, access, set(tables), set(queue_names), jwt_parameter
        )
        resources[f"{function.cfn_name}Role"] = role_resource(function, statements)
        resources[function.cfn_name] = function_overrides(function, env)
    if log_groups:
        # chalice names the API's log group after the function's old name,
        # which no longer exists once it is renamed APIHandler.
        resources["ApiHandlerLogGroup"] = {
            "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${APIHandler}"}}
        }
    resources["RestAPI"] = {"Properties": {"MethodSettings": [_throttle(stage)]}}
    origins = [o.strip() for o in stage_env.get("CORS_ALLOWED_ORIGINS", "").split(",")]
    resources.update(gateway_responses(next((o for o in origins if o), None)))
    return {
        "Parameters": {
            "EmailSender": {
                "Type": "String",
                "Description": "The verified SES address emails are sent from",
                "AllowedPattern": r"^[^@\s]+@[^@\s]+$",
            }
        },
        "Resources": resources,
        "Outputs": {
            "FilesBucketName": {"Value": {"Ref": "FilesBucket"}},
            "EmailConfigurationSetName": {"Value": {"Ref": "EmailConfigurationSet"}},
        },
    }


def table_resource(model: Any) -> Json:
    """An on-demand table with the model's keys and indexes, PITR, and TTL if it has one."""
    schema = model._get_schema()
    properties: Json = {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": _hash_first(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    for kind, key in (
        ("global_secondary_indexes", "GlobalSecondaryIndexes"),
        ("local_secondary_indexes", "LocalSecondaryIndexes"),
    ):
        if schema.get(kind):
            properties[key] = [_index(index) for index in schema[kind]]
    ttl = model._ttl_attribute()
    if ttl is not None:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
    return {
        "Type": "AWS::DynamoDB::Table",
        # Contacts outlive a mistaken `stack delete`: the table stays.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def _index(index: dict[str, Any]) -> Json:
    projection = index.get("projection", {})
    out: Json = {
        "IndexName": index["index_name"],
        "KeySchema": _hash_first(index["key_schema"]),
        "Projection": {"ProjectionType": projection.get("ProjectionType", "ALL")},
    }
    if projection.get("NonKeyAttributes"):
        out["Projection"]["NonKeyAttributes"] = projection["NonKeyAttributes"]
    return out


def _hash_first(keys: list[Json]) -> list[Json]:
    # CloudFormation wants the partition key first; PynamoDB keeps no order.
    return sorted(keys, key=lambda key: key["KeyType"] != "HASH")


def queue_resources(queue: str, consumers: dict[str, Function]) -> Json:
    """The queue and its dead-letter queue, each hidden 6× its consumer's timeout."""
    dlq = f"{queue}-dlq"
    return {
        _queue_id(dlq): {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
                "VisibilityTimeout": _visibility(consumers.get(dlq)),
                "SqsManagedSseEnabled": True,
            },
        },
        _queue_id(queue): {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": _visibility(consumers.get(queue)),
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [_queue_id(dlq), "Arn"]},
                    "maxReceiveCount": MAX_RECEIVES,
                },
            },
        },
    }


def _visibility(consumer: Function | None) -> int:
    timeout = consumer.timeout if consumer else DEFAULT_LAMBDA_TIMEOUT
    return VISIBILITY_FACTOR * timeout


def bucket_resources(stage: str) -> Json:
    """The files bucket: private, encrypted, TLS only, ``imports/`` drops to the imports queue."""
    # The name is fixed so the queue policy can name the bucket without
    # referring to it (the bucket's notification already refers to the queue).
    name = {"Fn::Sub": f"clean-crm-files-${{AWS::AccountId}}-${{AWS::Region}}-{stage}"}
    arn = {
        "Fn::Sub": f"arn:${{AWS::Partition}}:s3:::clean-crm-files-${{AWS::AccountId}}"
        f"-${{AWS::Region}}-{stage}"
    }
    imports_queue = _queue_id("imports")
    rules: list[Json] = [
        {
            "Id": f"expire-{prefix.strip('/')}",
            "Status": "Enabled",
            "Prefix": prefix,
            "ExpirationInDays": days,
        }
        for prefix, days in LIFECYCLE_DAYS.items()
    ]
    rules.append(
        {
            "Id": "abort-incomplete-uploads",
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    )
    return {
        "ImportsQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": imports_queue}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "FilesBucketNotifications",
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": {"Fn::GetAtt": [imports_queue, "Arn"]},
                            "Condition": {
                                "ArnEquals": {"aws:SourceArn": arn},
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                            },
                        }
                    ],
                },
            },
        },
        "FilesBucket": {
            "Type": "AWS::S3::Bucket",
            "DependsOn": ["ImportsQueuePolicy"],
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": name,
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {"Rules": rules},
                "NotificationConfiguration": {
                    "QueueConfigurations": [
                        {
                            "Event": "s3:ObjectCreated:*",
                            "Queue": {"Fn::GetAtt": [imports_queue, "Arn"]},
                            "Filter": {
                                "S3Key": {"Rules": [{"Name": "prefix", "Value": "imports/"}]}
                            },
                        }
                    ]
                },
            },
        },
        "FilesBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "FilesBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [arn, {"Fn::Sub": ["${Bucket}/*", {"Bucket": arn}]}],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def resource_environment(tables: Iterable[str], queues: Iterable[str]) -> Json:
    """The variables chalicelib.config reads to find each resource."""
    env: Json = {f"{logical.upper()}_TABLE": {"Ref": _table_id(logical)} for logical in tables}
    for queue in queues:
        key = queue.upper().replace("-", "_") + "_QUEUE"
        env[key] = {"Fn::GetAtt": [_queue_id(queue), "QueueName"]}
    env["FILES_BUCKET"] = {"Ref": "FilesBucket"}
    env["SES_CONFIGURATION_SET"] = {"Ref": "EmailConfigurationSet"}
    env["EMAIL_SENDER"] = {"Ref": "EmailSender"}
    return env


def function_overrides(function: Function, env: Json) -> Json:
    """What the template changes on chalice's function: role, variables, queue ARN."""
    properties: Json = {
        "Role": {"Fn::GetAtt": [f"{function.cfn_name}Role", "Arn"]},
        "Environment": {"Variables": env},
    }
    if function.queue:
        properties["Events"] = {
            function.event_name: {
                "Properties": {
                    # A deep merge cannot swap chalice's {"Fn::Sub": <arn by name>}
                    # for a GetAtt, but it can replace the string inside it.
                    "Queue": {"Fn::Sub": f"${{{_queue_id(function.queue)}.Arn}}"},
                    # Handlers return batchItemFailures: only those messages come back.
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                }
            }
        }
    return {"Properties": properties}


def role_resource(function: Function, statements: list[Json]) -> Json:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": f"{function.cfn_name}Access",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }


SES_ARN = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
TABLE_READ = [
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
]
TABLE_WRITE = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
]


def policy_statements(
    function: Function,
    access: Access,
    tables: set[str],
    queues: set[str],
    jwt_parameter: str,
) -> list[Json]:
    """The IAM statements of one function: logs, its queue, and what ``access`` names."""
    statements: list[Json] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                ":log-group:/aws/lambda/${AWS::StackName}-*"
            },
        }
    ]
    if function.queue:
        statements.append(
            {
                "Sid": "ConsumeQueue",
                "Effect": "Allow",
                "Action": [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                ],
                "Resource": {"Fn::GetAtt": [_queue_id(function.queue), "Arn"]},
            }
        )
    read = _existing(function, access.read_tables, tables)
    write = _existing(function, access.write_tables, tables)
    if read or write:
        statements.append(
            _tables_statement("ReadTables", TABLE_READ, sorted(set(read) | set(write)))
        )
    if write:
        statements.append(_tables_statement("WriteTables", TABLE_WRITE, write))
    send = _existing(function, access.send_queues, queues)
    if send:
        statements.append(
            {
                "Sid": "SendToQueues",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
                "Resource": [{"Fn::GetAtt": [_queue_id(q), "Arn"]} for q in send],
            }
        )
    for sid, action, prefixes in (
        ("ReadFiles", "s3:GetObject", access.read_prefixes),
        ("WriteFiles", "s3:PutObject", access.write_prefixes),
    ):
        if prefixes:
            statements.append(
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Action": [action],
                    "Resource": [
                        {"Fn::Sub": f"${{FilesBucket.Arn}}/{prefix}*"} for prefix in prefixes
                    ],
                }
            )
    if access.send_email:
        statements.append(
            {
                "Sid": "SendEmail",
                "Effect": "Allow",
                "Action": ["ses:SendEmail"],
                "Resource": [
                    {"Fn::Sub": f"{SES_ARN}:identity/*"},
                    {"Fn::Sub": f"{SES_ARN}:configuration-set/${{EmailConfigurationSet}}"},
                ],
                # Only from the configured sender, whatever else is verified.
                "Condition": {"StringEquals": {"ses:FromAddress": {"Ref": "EmailSender"}}},
            }
        )
    if access.read_jwt_secret:
        statements.append(
            {
                "Sid": "ReadJwtSecret",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": {
                    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
                    f":parameter/{jwt_parameter.lstrip('/')}"
                },
            }
        )
    return statements


def _existing(function: Function, names: Iterable[str], defined: set[str]) -> list[str]:
    """``names`` the code defines; a name neither defined nor planned is an error."""
    unknown = [n for n in names if n not in defined and n.removesuffix("-dlq") not in PLANNED]
    if unknown:
        raise UnknownResourceError(f"{function.name}: unknown {', '.join(unknown)}")
    return [n for n in names if n in defined]


def _tables_statement(sid: str, actions: list[str], tables: list[str]) -> Json:
    resources: list[Any] = []
    for logical in tables:
        arn = {"Fn::GetAtt": [_table_id(logical), "Arn"]}
        resources.append(arn)
        resources.append({"Fn::Sub": ["${Table}/index/*", {"Table": arn}]})
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _throttle(stage: str) -> Json:
    if stage not in THROTTLING:
        raise UnknownResourceError(f"no API throttling set for stage {stage!r} in THROTTLING")
    limits = THROTTLING[stage]
    return {
        "ResourcePath": "/*",
        "HttpMethod": "*",
        "ThrottlingRateLimit": limits.rate,
        "ThrottlingBurstLimit": limits.burst,
    }


# Errors API Gateway answers before the app runs: the status it uses and the
# code the app uses for the same thing.
GATEWAY_ERRORS = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "Not found"),
    "THROTTLED": (429, "throttled", "Too many requests"),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "Payload too large"),
    "DEFAULT_4XX": (None, "bad_request", "Bad request"),
    "DEFAULT_5XX": (None, "gateway_error", "Gateway error"),
}


def gateway_responses(origin: str | None) -> Json:
    """problem+json (with CORS) for the errors API Gateway produces itself.

    An unknown path is API Gateway's "Missing Authentication Token" 403;
    here it becomes the 404 problem the app would give.
    """
    headers = {
        "gatewayresponse.header.Content-Type": "'application/problem+json'",
        "gatewayresponse.header.X-Content-Type-Options": "'nosniff'",
    }
    if origin:
        headers["gatewayresponse.header.Access-Control-Allow-Origin"] = f"'{origin}'"
        headers["gatewayresponse.header.Vary"] = "'Origin'"
    out: Json = {}
    for kind, (status, code, title) in GATEWAY_ERRORS.items():
        body: Json = {"type": f"/problems/{code}", "title": title, "code": code}
        if status:
            body["status"] = status
        if kind == "MISSING_AUTHENTICATION_TOKEN":
            # API Gateway's own words ("Missing Authentication Token") mislead.
            body["detail"] = NO_ROUTE_DETAIL
            document = json.dumps(body)
        else:
            document = json.dumps(body)[:-1] + ', "detail": $context.error.messageString}'
        properties: Json = {
            "RestApiId": {"Ref": "RestAPI"},
            "ResponseType": kind,
            "ResponseParameters": headers,
            "ResponseTemplates": {"application/json": document},
        }
        if status:
            properties["StatusCode"] = str(status)
        out[f"{to_cfn_resource_name(kind.lower())}GatewayResponse"] = {
            "Type": "AWS::ApiGateway::GatewayResponse",
            "Properties": properties,
        }
    return out


def _stage_config(stage: str) -> Json:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    if stage not in config.get("stages", {}):
        raise UnknownResourceError(f"no stage {stage!r} in .chalice/config.json")
    stage_config: Json = config["stages"][stage]
    return stage_config


def _chalice_config(stage: str, function: str) -> Any:
    from chalice.config import Config

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return Config(chalice_stage=stage, function_name=function, config_from_disk=config)


def _timeout(stage: str, function: str) -> int:
    return int(_chalice_config(stage, function).lambda_timeout or DEFAULT_LAMBDA_TIMEOUT)


def _table_id(logical: str) -> str:
    return to_cfn_resource_name(logical) + "Table"


def _queue_id(logical: str) -> str:
    if logical.endswith("-dlq"):
        return to_cfn_resource_name(logical.removesuffix("-dlq")) + "DeadLetterQueue"
    return to_cfn_resource_name(logical) + "Queue"
