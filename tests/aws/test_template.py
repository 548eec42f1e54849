"""deploy/aws/template.yaml: cfn-lint clean, and after the SAM transform (aws-sam-translator)
the invariants the runtime relies on hold, checked against the code it deploys."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
import yaml
from cfnlint.api import lint_file
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from clearway.kit.bus.bus import queue_token
from clearway.kit.bus.sns_sqs.provisioning import filter_policy
from clearway.runtime.aws.environment import SWEEP
from clearway.runtime.foundation import Foundation
from clearway.runtime.platform import host_services
from clearway.settings import SERVICES
from tests.conftest import test_settings

TEMPLATE = Path(__file__).parents[2] / "deploy" / "aws" / "template.yaml"
# Services that call another's internal API (orders asks rules, common asks identity for a
# contact): their functions may invoke that one service function too, nothing else may.
CALLERS = {"rules": {"orders", "orders-worker"}, "identity": {"common", "common-worker"}}
SCHEDULER_MINIMUM_SECONDS = 60


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    template: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    return template


@pytest.fixture(scope="module")
def cfn(sam: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes (no AWS call: policies are inline).
    As `sam deploy` does first, the local code directory becomes the uploaded package."""
    sam = {**sam, "Globals": {"Function": {**sam["Globals"]["Function"]}}}
    sam["Globals"]["Function"]["CodeUri"] = "s3://clearway-artifacts/clearway.zip"
    session = boto3.session.Session(region_name="eu-central-1")
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    parameters = {"AWS::Region": "eu-central-1", "AWS::AccountId": "123456789012"}
    result: dict[str, Any] = translator.translate(sam_template=sam, parameter_values=parameters)
    return result


def resources(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == kind}


def name_of(value: Any) -> str:
    """`${AWS::StackName}-x` (a Fn::Sub) → "x"; a plain string stays."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return str(text).replace("${AWS::StackName}-", "")


def function_by_id(cfn: dict[str, Any], reference: Any) -> tuple[str, dict[str, Any]]:
    logical = reference["Ref"] if "Ref" in reference else reference["Fn::GetAtt"][0]
    return logical, cfn["Resources"][logical]


def test_cfn_lint_reports_nothing() -> None:
    """Every rule, errors, warnings and informational ones alike."""
    assert [str(match) for match in lint_file(TEMPLATE)] == []


def test_every_sqs_trigger_reports_partial_batch_failures(cfn: dict[str, Any]) -> None:
    mappings = resources(cfn, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 6  # five service queues and the monitor's batch queue
    for logical, mapping in mappings.items():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], (
            logical
        )


def test_every_queue_has_a_dead_letter_queue(cfn: dict[str, Any]) -> None:
    queues = resources(cfn, "AWS::SQS::Queue")
    targets = set()
    for logical, queue in queues.items():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive is not None:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert target in queues, logical
            targets.add(target)
    work_queues = set(queues) - targets
    assert len(work_queues) == 6 and len(targets) == 6
    for logical in work_queues:
        assert "RedrivePolicy" in queues[logical]["Properties"], f"{logical} has no DLQ"


def test_visibility_timeout_is_at_least_six_times_the_consumers_timeout(
    cfn: dict[str, Any],
) -> None:
    for logical, mapping in resources(cfn, "AWS::Lambda::EventSourceMapping").items():
        properties = mapping["Properties"]
        queue = cfn["Resources"][properties["EventSourceArn"]["Fn::GetAtt"][0]]
        _, function = function_by_id(cfn, properties["FunctionName"])
        timeout = function["Properties"]["Timeout"]
        assert queue["Properties"]["VisibilityTimeout"] >= 6 * timeout, logical


def test_dead_letter_queues_have_alarms_on_their_depth(cfn: dict[str, Any]) -> None:
    queues = resources(cfn, "AWS::SQS::Queue")
    dead = {q for q, v in queues.items() if "RedrivePolicy" not in v["Properties"]}
    watched = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in resources(cfn, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert watched == dead


def invokers(cfn: dict[str, Any]) -> dict[str, set[str]]:
    """For each function name, the functions whose role may invoke it (IAM)."""
    by_role = {
        function["Properties"]["Role"]["Fn::GetAtt"][0]: name_of(
            function["Properties"]["FunctionName"]
        )
        for function in resources(cfn, "AWS::Lambda::Function").values()
    }
    allowed: dict[str, set[str]] = {}
    for logical, role in resources(cfn, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                actions = [actions] if isinstance(actions, str) else actions
                assert "*" not in actions and not any(a.endswith(":*") for a in actions)
                if "lambda:InvokeFunction" not in actions:
                    continue
                targets = statement["Resource"]
                targets = targets if isinstance(targets, list) else [targets]
                for target in targets:
                    allowed.setdefault(invoked(cfn, target), set()).add(
                        by_role.get(logical, logical)
                    )
    return allowed


def invoked(cfn: dict[str, Any], target: Any) -> str:
    """The name of the function an IAM statement's resource points at."""
    if "Fn::GetAtt" in target:  # a role SAM made (the scheduler's): by the function itself
        _, function = function_by_id(cfn, target)
        return name_of(function["Properties"]["FunctionName"])
    arn = target["Fn::Sub"]
    function = re.fullmatch(r".*:function:\$\{AWS::StackName\}-(.+)", arn)
    assert function, f"an unexpected grant to invoke {arn}"
    return function.group(1)


def test_only_the_gateway_may_invoke_the_services(cfn: dict[str, Any]) -> None:
    allowed = invokers(cfn)
    for service in SERVICES:
        assert allowed[service] == {"gateway"} | CALLERS.get(service, set()), service
    # No resource policy opens a service function to anyone: API Gateway reaches the gateway.
    for permission in resources(cfn, "AWS::Lambda::Permission").values():
        _, function = function_by_id(cfn, permission["Properties"]["FunctionName"])
        assert name_of(function["Properties"]["FunctionName"]) == "gateway"
        assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"


def test_only_the_key_service_may_decrypt_with_the_master_key(cfn: dict[str, Any]) -> None:
    key = cfn["Resources"]["MasterKeyV1"]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("RSA_3072", "ENCRYPT_DECRYPT")
    statements = key["KeyPolicy"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow" and "kms:Decrypt" in s["Action"]]
    assert [s["Principal"]["AWS"] for s in allow] == [{"Fn::GetAtt": ["KeysFunctionRole", "Arn"]}]
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Action"] == "kms:Decrypt" and deny["Principal"] == {"AWS": "*"}
    assert deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == {
        "Fn::GetAtt": ["KeysFunctionRole", "Arn"]
    }
    for role in resources(cfn, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert "kms:Decrypt" not in statement["Action"] or statement["Resource"] == {
                    "Fn::GetAtt": ["FilesKey", "Arn"]
                }


@pytest.fixture(scope="module")
def wired(tmp_path_factory: pytest.TempPathFactory) -> Foundation:
    """The platform's jobs and subscriptions, as the code declares them (nothing started)."""
    base = Foundation(test_settings(tmp_path_factory.mktemp("wired")))
    _, hosted = host_services(base)
    for host in hosted.values():
        host.wire()
    return base


def test_every_job_has_a_schedule_on_its_services_worker(
    cfn: dict[str, Any], wired: Foundation
) -> None:
    jobs = wired.jobs._jobs
    wanted = {name for name, job in jobs.items() if not job.every_process}
    wanted |= {f"{service}-{SWEEP}" for service in SERVICES}
    scheduled: dict[str, str] = {}
    for logical, schedule in resources(cfn, "AWS::Scheduler::Schedule").items():
        target = schedule["Properties"]["Target"]
        job = orjson.loads(target["Input"])["job"]
        function = cfn["Resources"][target["Arn"]["Fn::GetAtt"][0]]
        scheduled[job] = name_of(function["Properties"]["FunctionName"])
        expression = schedule["Properties"]["ScheduleExpression"]
        seconds = jobs[job].interval_seconds if job in jobs else 60
        assert expression == rate(max(seconds, SCHEDULER_MINIMUM_SECONDS)), logical
    assert set(scheduled) == wanted
    for job, function in scheduled.items():
        assert function == job.split("-")[0] + "-worker", job


def rate(seconds: float) -> str:
    minutes = int(seconds // 60)
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes % size == 0:
            count = minutes // size
            return f"rate({count} {unit}{'s' if count > 1 else ''})"
    raise AssertionError(seconds)


def test_queues_and_filters_are_the_codes_subscriptions(
    cfn: dict[str, Any], wired: Foundation
) -> None:
    queues = {
        name_of(q["Properties"]["QueueName"]): logical
        for logical, q in resources(cfn, "AWS::SQS::Queue").items()
    }
    subscriptions = {
        s["Properties"]["Endpoint"]["Fn::GetAtt"][0]: s["Properties"]
        for s in resources(cfn, "AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "sqs"
    }
    code = wired.bus._subscriptions  # type: ignore[attr-defined]
    assert len(subscriptions) == len(code)
    for queue, subscription in code.items():
        logical = queues[f"{queue_token(queue)}.fifo"]
        assert f"{queue_token(queue)}-dlq.fifo" in queues
        declared = subscriptions[logical]
        assert declared["RawMessageDelivery"] is True
        assert declared.get("FilterPolicy") == filter_policy(subscription.topics), queue


def test_every_handler_exists_and_each_function_runs_its_part(cfn: dict[str, Any]) -> None:
    for logical, function in resources(cfn, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        module, _, name = properties["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), logical
        part = properties.get("Environment", {}).get("Variables", {}).get("CLEARWAY_LAMBDA_PART")
        function_name = name_of(properties["FunctionName"])
        if name in ("gateway", "service", "worker"):
            assert part == function_name.removesuffix("-worker"), logical
