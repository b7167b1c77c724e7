"""functions/openapi.yaml describes what is implemented: routes, methods, statuses, limits and
the request/response schemas of the pydantic models."""

from __future__ import annotations

import json
import jsonschema_rs
import pytest
import yaml

from functions import main, models
from tests.functions.helpers import ROOT, TARGETS

DOC_PATH = ROOT / "functions" / "openapi.yaml"
ENDPOINTS = {"publish_prompt": main.PUBLISH_PROMPT, "usage_events": main.USAGE_EVENTS,
             "access_check": main.ACCESS_CHECK, "cohort_sync": main.COHORT_SYNC}
SUCCESS = {"publish_prompt": "200", "usage_events": "202", "access_check": "200", "cohort_sync": "200"}
#: Statuses only the database decides, per function (the rest follow from the endpoint's shape).
DOMAIN = {"publish_prompt": {"403", "404", "409"}, "usage_events": {"409"}, "access_check": set(),
          "cohort_sync": {"409"}}
MODELS = {
    "PublishPromptRequest": models.PublishPromptRequest,
    "PublishPromptResponse": models.PublishPromptResponse,
    "UsageEventsRequest": models.UsageEventsRequest,
    "UsageEventsResponse": models.UsageEventsResponse,
    "AccessCheckResponse": models.AccessCheckResponse,
    "CohortSyncRequest": models.CohortSyncRequest,
    "CohortSyncResponse": models.CohortSyncResponse,
    "UsageEvent": models.UsageEvent,
    "Error": models.ErrorResponse,
}


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(DOC_PATH.read_text())


def _path(target: str) -> str:
    return f"/functions/v1/{TARGETS[target]}"


def _deref(doc: dict, node: dict) -> dict:
    """Follow local $refs."""
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_document_is_openapi_3_1_and_schemathesis_loads_it(doc):
    import schemathesis

    assert doc["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_path(str(DOC_PATH))
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert ("POST", "/functions/v1/cohort-sync") in operations


def test_embedded_schemas_are_valid_json_schema(doc):
    for name, schema in doc["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_paths_are_exactly_the_four_functions(doc):
    assert set(doc["paths"]) == {_path(t) for t in TARGETS}


@pytest.mark.parametrize("target", TARGETS)
def test_documented_methods_are_the_implemented_ones(doc, target):
    endpoint = ENDPOINTS[target]
    documented = {m.upper() for m in doc["paths"][_path(target)]}
    assert documented == set(endpoint.allow)


@pytest.mark.parametrize("target", TARGETS)
def test_documented_statuses_are_those_the_function_can_answer(doc, target):
    endpoint = ENDPOINTS[target]
    (method,) = endpoint.methods
    operation = doc["paths"][_path(target)][method.lower()]
    expected = {SUCCESS[target], "401", "405", "500", "502", "503"} | DOMAIN[target]
    if endpoint.max_body_bytes is not None:
        expected |= {"400", "413", "422"}
    assert set(operation["responses"]) == expected
    assert operation.get("x-max-body-bytes") == endpoint.max_body_bytes


@pytest.mark.parametrize("target", TARGETS)
def test_errors_are_documented_with_the_error_schema(doc, target):
    (method,) = ENDPOINTS[target].methods
    for status, response in doc["paths"][_path(target)][method.lower()]["responses"].items():
        if status.startswith(("4", "5")):
            body = _deref(doc, response)["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, (target, status)


def test_405_documents_the_allow_header(doc):
    assert "Allow" in doc["components"]["responses"]["MethodNotAllowed"]["headers"]


def test_security_matches_the_authentication(doc):
    paths = doc["paths"]
    for target in ("publish_prompt", "usage_events"):
        assert paths[_path(target)]["post"]["security"] == [{"userJWT": []}]
    assert paths[_path("access_check")]["get"]["security"] == [{"userJWT": []}]
    assert paths[_path("cohort_sync")]["post"]["security"] == [
        {"webhookId": [], "webhookTimestamp": [], "webhookSignature": []}]
    headers = {s["name"] for s in doc["components"]["securitySchemes"].values() if s["type"] == "apiKey"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}


@pytest.mark.parametrize("name", MODELS)
def test_doc_and_pydantic_agree_on_fields_and_required_fields(doc, name):
    documented = doc["components"]["schemas"][name]
    generated = MODELS[name].model_json_schema()
    assert set(documented["properties"]) == set(generated["properties"]), name
    assert set(documented.get("required", [])) == set(generated.get("required", [])), name
    if generated.get("additionalProperties") is False:
        assert documented.get("additionalProperties") is False, name


def test_doc_limits_are_the_implemented_limits(doc):
    schemas = doc["components"]["schemas"]
    events = schemas["UsageEventsRequest"]["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (models.MIN_EVENTS, models.MAX_EVENTS)
    assert schemas["CohortSyncRequest"]["properties"]["members"]["maxItems"] == models.MAX_MEMBERS
    assert schemas["CohortSyncRequest"]["properties"]["cohort_id"]["maxLength"] == models.MAX_COHORT_ID_LENGTH
    publish = schemas["PublishPromptRequest"]["properties"]
    assert publish["markdown_body"]["maxLength"] == models.MAX_MARKDOWN_CHARS
    assert publish["changelog"]["maxLength"] == models.MAX_CHANGELOG_CHARS
    assert str(models.MAX_METADATA_BYTES) in schemas["UsageEvent"]["properties"]["metadata"]["description"]


@pytest.mark.parametrize("enum_field, literal", [
    (("UsageEvent", "action"), models.Action),
    (("CohortSyncRequest", "mode"), models.Mode),
    (("AccessCheckResponse", "reason"), models.AccessReason),
    (("CohortSyncResponse", "status"), models.RunStatus),
    (("PublishPromptResponse", "status"), models.PublishStatus),
])
def test_doc_enums_are_the_model_literals(doc, enum_field, literal):
    schema, field = enum_field
    assert doc["components"]["schemas"][schema]["properties"][field]["enum"] == list(literal.__args__)


def _inline(doc: dict, node):
    """The schema with every local $ref replaced by its target (for a standalone validator)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(doc, _deref(doc, node))
        return {k: _inline(doc, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(doc, v) for v in node]
    return node


def test_request_examples_fit_the_doc_and_the_models(doc):
    request_models = {"PublishPromptRequest": models.PublishPromptRequest,
                      "UsageEventsRequest": models.UsageEventsRequest,
                      "CohortSyncRequest": models.CohortSyncRequest}
    checked = 0
    for path in doc["paths"].values():
        for operation in path.values():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if not content:
                continue
            name = content["schema"]["$ref"].rsplit("/", 1)[-1]
            validator = jsonschema_rs.validator_for(_inline(doc, content["schema"]))
            for example in content["examples"].values():
                validator.validate(example["value"])
                request_models[name].model_validate(json.loads(json.dumps(example["value"])))
                checked += 1
    assert checked == 4


def test_publish_request_doc_needs_exactly_one_source(doc):
    validator = jsonschema_rs.validator_for(_inline(doc, doc["components"]["schemas"]["PublishPromptRequest"]))
    prompt = "30000000-0000-4000-a000-000000000004"
    version = "7b0c6a7e-5f2e-4a49-9d0e-2d6b5f6a1c3d"
    assert validator.is_valid({"prompt_id": prompt, "version_id": version})
    assert validator.is_valid({"prompt_id": prompt, "markdown_body": "# x", "changelog": "c"})
    assert not validator.is_valid({"prompt_id": prompt})
    assert not validator.is_valid({"prompt_id": prompt, "version_id": version, "markdown_body": "# x"})
    assert not validator.is_valid({"prompt_id": prompt, "version_id": version, "changelog": "c"})
