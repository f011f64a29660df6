"""The deploy template: what `make package` hands CloudFormation, built offline here.

The template is chalice's own output merged with infra/resources.json,
produced by `python -m infra template` (chalice's packager, empty code zip).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

Template = dict[str, Any]


@pytest.fixture(scope="module", params=["dev", "prod"])
def template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Template:
    out = tmp_path_factory.mktemp(f"template-{request.param}")
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run(
        [sys.executable, "-m", "infra", "template", "--stage", request.param, "--out", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return dict(json.loads(Path(out / "package" / "sam.json").read_text()))


def of_type(template: Template, kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def functions(template: Template) -> dict[str, Any]:
    return of_type(template, "AWS::Serverless::Function")


def test_every_model_has_an_on_demand_table_with_recovery_and_ttl(template: Template) -> None:
    from chalicelib.tables import ALL_MODELS, TTL_MODELS

    tables = of_type(template, "AWS::DynamoDB::Table")
    assert len(tables) == len(ALL_MODELS)
    for model in ALL_MODELS:
        logical = model.Meta.logical_name  # type: ignore[attr-defined]
        table = tables["".join(p.capitalize() for p in logical.split("_")) + "Table"]
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["KeySchema"][0]["KeyType"] == "HASH"
        ttl = props.get("TimeToLiveSpecification")
        if model in TTL_MODELS:
            assert ttl == {"AttributeName": "expires_at", "Enabled": True}
        else:
            assert ttl is None
    contacts = tables["ContactsTable"]["Properties"]
    assert [i["IndexName"] for i in contacts["LocalSecondaryIndexes"]] == ["by_contact_id"]
    directories = tables["DirectoriesTable"]["Properties"]
    assert [i["IndexName"] for i in directories["GlobalSecondaryIndexes"]] == ["by_directory_id"]


def test_every_queue_has_a_dead_letter_queue_and_outlives_its_consumer(template: Template) -> None:
    from chalicelib.config import QUEUES

    queues = of_type(template, "AWS::SQS::Queue")
    assert len(queues) == 2 * len(QUEUES)
    timeouts = {}
    for function in functions(template).values():
        for event in function["Properties"].get("Events", {}).values():
            queue_id = event["Properties"]["Queue"]["Fn::Sub"].removeprefix("${").split(".")[0]
            timeouts[queue_id] = function["Properties"]["Timeout"]
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props["VisibilityTimeout"] >= 6 * timeouts.get(name, 60), name
        if not name.endswith("DeadLetterQueue"):
            dlq = name.removesuffix("Queue") + "DeadLetterQueue"
            assert props["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq, "Arn"]}
            assert props["RedrivePolicy"]["maxReceiveCount"] >= 1
    assert queues["ImportsQueue"]["Properties"]["VisibilityTimeout"] >= 6 * 300


def test_every_sqs_handler_reports_batch_item_failures_from_its_queue(template: Template) -> None:
    import app as app_module

    handlers = {s.name for s in app_module.app.event_sources}
    seen = set()
    for function in functions(template).values():
        handler = function["Properties"]["Handler"].removeprefix("app.")
        for event in function["Properties"].get("Events", {}).values():
            props = event["Properties"]
            assert event["Type"] == "SQS"
            assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            assert set(props["Queue"]) == {"Fn::Sub"}
            assert props["Queue"]["Fn::Sub"].endswith("Queue.Arn}")
            seen.add(handler)
    assert seen == handlers


def test_every_function_has_its_own_least_privilege_role(template: Template) -> None:
    roles = of_type(template, "AWS::IAM::Role")
    for name, function in functions(template).items():
        assert function["Properties"]["Role"] == {"Fn::GetAtt": [f"{name}Role", "Arn"]}
        policy = roles[f"{name}Role"]["Properties"]["Policies"][0]["PolicyDocument"]
        for statement in policy["Statement"]:
            actions = statement["Action"]
            assert all("*" not in action for action in actions), (name, statement)
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                assert resource != "*", (name, statement)
    # The app's default role is not packaged at all.
    assert "DefaultRole" not in roles


def test_workers_touch_only_what_they_need(template: Template) -> None:
    roles = of_type(template, "AWS::IAM::Role")

    def granted(role: str, action: str) -> str:
        statements = roles[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        return json.dumps([s["Resource"] for s in statements if action in s["Action"]])

    assert "ContactsTable" in granted("CleanUpRole", "dynamodb:DeleteItem")
    assert "UsersTable" not in granted("CleanUpRole", "dynamodb:GetItem")
    assert "UsersTable" not in granted("SendNotificationsRole", "dynamodb:PutItem")
    assert "ses:SendEmail" not in json.dumps(roles["ImportContactsRole"])
    assert "ssm:GetParameter" not in json.dumps(roles["ImportContactsRole"])
    assert "/jwt-secret" in granted("APIHandlerRole", "ssm:GetParameter")
    assert "imports/*" in granted("APIHandlerRole", "s3:PutObject")
    assert "imports/*" not in granted("ImportContactsRole", "s3:PutObject")


def test_functions_find_every_resource_through_their_environment(template: Template) -> None:
    from chalicelib.config import QUEUES
    from chalicelib.tables import ALL_MODELS

    for name, function in functions(template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        for model in ALL_MODELS:
            logical = model.Meta.logical_name  # type: ignore[attr-defined]
            assert variables[f"{logical.upper()}_TABLE"] == {
                "Ref": f"{logical.title().replace('_', '')}Table"
            }
        for queue in QUEUES:
            assert f"{queue.upper()}_QUEUE" in variables, name
            assert f"{queue.upper()}_DLQ_QUEUE" in variables, name
        assert variables["FILES_BUCKET"] == {"Ref": "FilesBucket"}
        assert variables["SES_CONFIGURATION_SET"] == {"Ref": "EmailConfigurationSet"}
        assert variables["EMAIL_SENDER"] == {"Ref": "EmailSender"}
        assert variables["JWT_SECRET_PARAMETER"].endswith("/jwt-secret")
        assert "JWT_SECRET" not in variables


def test_files_bucket_is_private_encrypted_and_feeds_the_imports_queue(template: Template) -> None:
    props = template["Resources"]["FilesBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (notification,) = props["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Queue"] == {"Fn::GetAtt": ["ImportsQueue", "Arn"]}
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "imports/"}]
    expiring = {r.get("Prefix") for r in props["LifecycleConfiguration"]["Rules"]}
    assert {"imports/", "reports/", "exports/"} <= expiring
    queue_policy = template["Resources"]["ImportsQueuePolicy"]["Properties"]["PolicyDocument"]
    assert queue_policy["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}


def test_api_is_throttled_per_stage_and_gateway_errors_are_problems(template: Template) -> None:
    api = template["Resources"]["RestAPI"]["Properties"]
    (settings,) = api["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    responses = of_type(template, "AWS::ApiGateway::GatewayResponse")
    kinds = {r["Properties"]["ResponseType"]: r["Properties"] for r in responses.values()}
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED"} <= set(kinds)
    unknown_route = kinds["MISSING_AUTHENTICATION_TOKEN"]
    assert unknown_route["StatusCode"] == "404"
    headers = unknown_route["ResponseParameters"]
    assert headers["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
    assert headers["gatewayresponse.header.Access-Control-Allow-Origin"].startswith("'http")
    for response in kinds.values():
        options = response["ResponseParameters"]["gatewayresponse.header.X-Content-Type-Options"]
        assert options == "'nosniff'"
    problem = json.loads(unknown_route["ResponseTemplates"]["application/json"])
    assert problem == {
        "type": "/problems/not_found",
        "title": "Not found",
        "status": 404,
        "code": "not_found",
        "detail": "No route matches this method and path.",
    }


def test_template_has_the_ses_configuration_set(template: Template) -> None:
    sets = of_type(template, "AWS::SES::ConfigurationSet")
    assert list(sets) == ["EmailConfigurationSet"]


def test_error_on_a_handler_without_a_policy() -> None:
    from infra.template import Function, MissingPolicyError, generate

    with pytest.raises(MissingPolicyError, match="send_postcards"):
        generate(
            stage="dev",
            stage_env={"JWT_SECRET_PARAMETER": "/x"},
            tables={},
            queues=("postcards",),
            functions=[Function("send_postcards", "postcards", 60)],
        )


def test_error_on_a_policy_naming_a_table_the_code_does_not_have() -> None:
    from infra.policies import Access
    from infra.template import Function, UnknownResourceError, policy_statements

    with pytest.raises(UnknownResourceError, match="contatcs"):
        policy_statements(
            Function("clean_up", "cleanup", 60),
            Access(write_tables=("contatcs",)),
            {"contacts"},
            {"cleanup"},
            "/x",
        )


def test_planned_handlers_already_have_policies() -> None:
    from infra.policies import POLICIES

    planned = {
        "export_contacts",
        "fail_dead_exports",
        "fan_out_campaign",
        "send_deliveries",
        "fail_dead_deliveries",
        "fail_dead_campaigns",
    }
    assert planned <= set(POLICIES)
