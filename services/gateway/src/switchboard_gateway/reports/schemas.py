"""Response bodies of the reports API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from switchboard_common.infra.schemas import Strict

from switchboard_gateway.inboxes.schemas import Timezone


class Quantiles(BaseModel):
    median: float | None
    p90: float | None


class SummaryGroup(BaseModel):
    key: str | None
    label: str
    conversations_opened: int
    conversations_resolved: int
    messages_in: int
    messages_out: int
    first_response_seconds: Quantiles
    resolution_seconds: Quantiles
    queue_wait_seconds: Quantiles
    # Percent of resolved conversations with an SLA policy that met every target.
    sla_attainment: float | None
    csat_average: float | None
    csat_responses: int


class Summary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    group_by: str
    groups: list[SummaryGroup]


class TimeZoneSetting(Strict):
    timezone: Timezone = Field(description="an IANA time zone, e.g. Europe/Athens")
