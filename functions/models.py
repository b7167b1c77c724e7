"""Request and response models of the four functions (the edge of the data path).

Limits are constants so the OpenAPI document, the README and the tests can name them. Request models
forbid unknown top-level fields (422). Cohort members are kept loose on purpose: their e-mail and
status are checked by the database so that one bad row lands in ``error_rows`` instead of
rejecting the whole delivery.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from functions.database_types import PublicCohortSyncStatus

#: Body size limits (bytes), checked on Content-Length and on the bytes actually read. Sized so
#: that any body within the field limits below fits even when every character is sent
#: \u-escaped (up to 12 bytes per character): 100k characters of markdown < 2 MiB, 500 events
#: with 4 KiB of metadata each < 8 MiB; cohort-sync fits 100k members of ~300 bytes.
MAX_PUBLISH_BODY_BYTES = 2 * 1024 * 1024
MAX_USAGE_BODY_BYTES = 8 * 1024 * 1024
MAX_COHORT_SYNC_BODY_BYTES = 32 * 1024 * 1024

#: Characters (code points, as Postgres char_length counts), the database's own limits.
MAX_MARKDOWN_CHARS = 100_000
MAX_CHANGELOG_CHARS = 2_000
MIN_EVENTS = 1
MAX_EVENTS = 500
MAX_METADATA_BYTES = 4 * 1024
#: occurred_at may be at most this far in the future (client clock skew) ...
MAX_OCCURRED_AT_SKEW = timedelta(minutes=5)
#: ... and at most this old (late offline batches).
MAX_OCCURRED_AT_AGE = timedelta(days=30)
MAX_MEMBERS = 100_000
MAX_COHORT_ID_LENGTH = 200
#: Deepest nesting accepted inside free-form JSON (usage metadata).
MAX_JSON_DEPTH = 32

Action = Literal["view", "copy", "favorite", "unfavorite"]
Mode = Literal["snapshot", "delta"]
PublishStatus = Literal["draft", "published", "archived"]
AccessReason = Literal[
    "admin", "active_cohort_member", "not_a_member", "membership_inactive", "feature_disabled"
]
#: Derived from the database's enum public.cohort_sync_status (the generated types).
RunStatus = PublicCohortSyncStatus


def _storable(value: Any) -> Any:
    """Reject what Postgres cannot store: NUL characters, lone UTF-16 surrogates (from JSON
    ``\\ud800`` escapes), nesting deeper than MAX_JSON_DEPTH, and numbers beyond a double
    (``1e400`` parses as infinity, which would be stored as null)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite and at most about 1.8e308 in magnitude")
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("must not contain NUL (\\u0000) characters")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("must not contain unpaired surrogates") from None
        elif isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise ValueError(f"must not be nested deeper than {MAX_JSON_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return value


def _not_blank(value: str) -> str:
    """Reject empty or whitespace-only strings."""
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _must_be_string(value: Any) -> Any:
    """Accept only JSON strings (no numbers read as Unix times)."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time string")
    return value


MarkdownBody = Annotated[
    str, Field(max_length=MAX_MARKDOWN_CHARS), AfterValidator(_not_blank), AfterValidator(_storable)
]
Changelog = Annotated[str, Field(max_length=MAX_CHANGELOG_CHARS), AfterValidator(_storable)]
OccurredAt = Annotated[AwareDatetime, BeforeValidator(_must_be_string)]


class _Request(BaseModel):
    """Base of the request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class RpcRequest(_Request):
    """A request body that is the named arguments of one RPC."""

    def rpc_params(self) -> dict[str, Any]:
        """The RPC's named arguments (absent ones take their SQL defaults)."""
        return self.model_dump(mode="json", exclude_none=True)


class PublishPromptRequest(RpcRequest):
    """POST publish-prompt: publish an existing version, or create the next one and publish it."""

    prompt_id: uuid.UUID
    version_id: uuid.UUID | None = None
    markdown_body: MarkdownBody | None = None
    changelog: Changelog | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> PublishPromptRequest:
        """Exactly one of version_id / markdown_body; changelog only with markdown_body."""
        if (self.version_id is None) == (self.markdown_body is None):
            raise ValueError("give exactly one of version_id or markdown_body")
        if self.changelog is not None and self.markdown_body is None:
            raise ValueError("changelog is only accepted together with markdown_body")
        return self


class UsageEvent(_Request):
    """One usage event of the calling user."""

    prompt_id: uuid.UUID
    action: Action
    occurred_at: OccurredAt | None = None
    metadata: dict[str, Any] | None = None

    @field_validator("occurred_at")
    @classmethod
    def _recent(cls, value: datetime | None) -> datetime | None:
        """Not more than 5 minutes in the future nor older than 30 days; sent in UTC, since
        Postgres refuses offsets beyond +-15:59 that RFC 3339 allows (up to +-23:59)."""
        if value is None:
            return value
        value = value.astimezone(UTC)
        now = datetime.now(UTC)
        if value > now + MAX_OCCURRED_AT_SKEW:
            raise ValueError("must not be more than 5 minutes in the future")
        if value < now - MAX_OCCURRED_AT_AGE:
            raise ValueError("must not be older than 30 days")
        return value

    @field_validator("metadata")
    @classmethod
    def _small_object(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """At most 4 KiB as Postgres prints jsonb (``", "`` and ``": "`` separators), storable."""
        if value is None:
            return value
        _storable(value)
        size = len(json.dumps(value, separators=(", ", ": "), ensure_ascii=False).encode("utf-8"))
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON, got {size}")
        return value


class UsageEventsRequest(RpcRequest):
    """POST usage-events: a batch of 1-500 events."""

    events: list[UsageEvent] = Field(min_length=MIN_EVENTS, max_length=MAX_EVENTS)


#: One member row, passed to the database as sent. Its e-mail, status and field lengths are
#: checked there, row by row: a bad row (even one that is not an object) lands in ``error_rows``
#: and the valid rows are applied. Only what Postgres cannot store at all is refused here (422).
CohortMember = Annotated[
    Any,
    AfterValidator(_storable),
    WithJsonSchema({
        "type": "object",
        "required": ["email"],
        "properties": {
            "email": {"type": "string"},
            "first_name": {"type": ["string", "null"]},
            "last_name": {"type": ["string", "null"]},
            "circle_member_id": {"type": ["string", "null"]},
            "status": {"type": ["string", "null"], "enum": ["active", "inactive", "revoked", None]},
        },
    }),
]


class CohortSyncRequest(_Request):
    """POST cohort-sync: one webhook delivery (a snapshot of the cohort, or a delta)."""

    cohort_id: Annotated[
        str,
        Field(min_length=1, max_length=MAX_COHORT_ID_LENGTH),
        AfterValidator(_not_blank),
        AfterValidator(_storable),
    ]
    mode: Mode
    members: list[CohortMember] = Field(max_length=MAX_MEMBERS)
    allow_mass_deactivation: StrictBool = False

    def rpc_payload(self) -> dict[str, Any]:
        """The payload argument of sync_cohort_members (members keep only the fields sent)."""
        return {
            "cohort_id": self.cohort_id,
            "mode": self.mode,
            "members": self.members,
            "allow_mass_deactivation": self.allow_mass_deactivation,
        }


class _Response(BaseModel):
    """Base of the response bodies: extra keys the RPC may add are dropped."""

    model_config = ConfigDict(extra="ignore")


class PublishPromptResponse(_Response):
    """200 from publish-prompt."""

    prompt_id: uuid.UUID
    current_version_id: uuid.UUID
    version_number: int
    status: PublishStatus
    published_at: datetime


class UsageEventsResponse(_Response):
    """202 from usage-events."""

    accepted: int
    anonymized: int
    dropped: int


class AccessCheckResponse(_Response):
    """200 from access-check."""

    has_access: bool
    reason: AccessReason
    cohort_ids: list[str]


class CohortSyncResponse(_Response):
    """200 from cohort-sync: the run summary (the first one again for a replayed delivery)."""

    run_id: uuid.UUID
    status: RunStatus
    total_rows: int
    inserted_count: int
    updated_count: int
    unchanged_count: int
    deactivated_count: int
    error_rows: list[dict[str, Any]]


class ErrorDetail(BaseModel):
    """One failing field of a 422."""

    field: str
    message: str


class ErrorInfo(BaseModel):
    """The ``error`` member of every error body."""

    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorResponse(BaseModel):
    """Every non-2xx body: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorInfo
