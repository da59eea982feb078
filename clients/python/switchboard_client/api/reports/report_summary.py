from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.report_summary_format import ReportSummaryFormat
from ...models.report_summary_group_by import ReportSummaryGroupBy
from ...models.summary import Summary
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    group_by: ReportSummaryGroupBy | Unset = "agent",
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    format_: ReportSummaryFormat | Unset = "json",
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_group_by: str | Unset = UNSET
    if not isinstance(group_by, Unset):
        json_group_by = group_by

    params["group_by"] = json_group_by

    json_from_: None | str | Unset
    if isinstance(from_, Unset):
        json_from_ = UNSET
    else:
        json_from_ = from_
    params["from"] = json_from_

    json_to: None | str | Unset
    if isinstance(to, Unset):
        json_to = UNSET
    else:
        json_to = to
    params["to"] = json_to

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_

    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/reports/summary",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Summary | None:
    if response.status_code == 200:
        response_200 = Summary.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Summary]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    group_by: ReportSummaryGroupBy | Unset = "agent",
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    format_: ReportSummaryFormat | Unset = "json",
) -> Response[Error | Summary]:
    """Report Summary

     Per group: conversations opened and resolved, messages in and out, first response, resolution and
    queue
    wait times (median and p90, seconds), SLA attainment (%), CSAT average and responses; from the
    hourly
    rollups, in the account's time zone.

    Args:
        group_by (ReportSummaryGroupBy | Unset):  Default: 'agent'.
        from_ (None | str | Unset): date or date-time
        to (None | str | Unset): date (included) or date-time
        format_ (ReportSummaryFormat | Unset):  Default: 'json'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Summary]
    """

    kwargs = _get_kwargs(
        group_by=group_by,
        from_=from_,
        to=to,
        format_=format_,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    group_by: ReportSummaryGroupBy | Unset = "agent",
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    format_: ReportSummaryFormat | Unset = "json",
) -> Error | Summary | None:
    """Report Summary

     Per group: conversations opened and resolved, messages in and out, first response, resolution and
    queue
    wait times (median and p90, seconds), SLA attainment (%), CSAT average and responses; from the
    hourly
    rollups, in the account's time zone.

    Args:
        group_by (ReportSummaryGroupBy | Unset):  Default: 'agent'.
        from_ (None | str | Unset): date or date-time
        to (None | str | Unset): date (included) or date-time
        format_ (ReportSummaryFormat | Unset):  Default: 'json'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Summary
    """

    return sync_detailed(
        client=client,
        group_by=group_by,
        from_=from_,
        to=to,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    group_by: ReportSummaryGroupBy | Unset = "agent",
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    format_: ReportSummaryFormat | Unset = "json",
) -> Response[Error | Summary]:
    """Report Summary

     Per group: conversations opened and resolved, messages in and out, first response, resolution and
    queue
    wait times (median and p90, seconds), SLA attainment (%), CSAT average and responses; from the
    hourly
    rollups, in the account's time zone.

    Args:
        group_by (ReportSummaryGroupBy | Unset):  Default: 'agent'.
        from_ (None | str | Unset): date or date-time
        to (None | str | Unset): date (included) or date-time
        format_ (ReportSummaryFormat | Unset):  Default: 'json'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Summary]
    """

    kwargs = _get_kwargs(
        group_by=group_by,
        from_=from_,
        to=to,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    group_by: ReportSummaryGroupBy | Unset = "agent",
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    format_: ReportSummaryFormat | Unset = "json",
) -> Error | Summary | None:
    """Report Summary

     Per group: conversations opened and resolved, messages in and out, first response, resolution and
    queue
    wait times (median and p90, seconds), SLA attainment (%), CSAT average and responses; from the
    hourly
    rollups, in the account's time zone.

    Args:
        group_by (ReportSummaryGroupBy | Unset):  Default: 'agent'.
        from_ (None | str | Unset): date or date-time
        to (None | str | Unset): date (included) or date-time
        format_ (ReportSummaryFormat | Unset):  Default: 'json'.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Summary
    """

    return (
        await asyncio_detailed(
            client=client,
            group_by=group_by,
            from_=from_,
            to=to,
            format_=format_,
        )
    ).parsed
