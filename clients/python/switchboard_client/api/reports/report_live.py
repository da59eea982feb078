from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.report_live_response_report_live import ReportLiveResponseReportLive
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/reports/live",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | ReportLiveResponseReportLive | None:
    if response.status_code == 200:
        response_200 = ReportLiveResponseReportLive.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | ReportLiveResponseReportLive]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[Error | ReportLiveResponseReportLive]:
    """Report Live

     Queue length and longest wait per inbox and team, agents online and away with their load (also
    pushed
    to owners' and admins' sockets as ``reports.live`` frames when it changes).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ReportLiveResponseReportLive]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> Error | ReportLiveResponseReportLive | None:
    """Report Live

     Queue length and longest wait per inbox and team, agents online and away with their load (also
    pushed
    to owners' and admins' sockets as ``reports.live`` frames when it changes).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ReportLiveResponseReportLive
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[Error | ReportLiveResponseReportLive]:
    """Report Live

     Queue length and longest wait per inbox and team, agents online and away with their load (also
    pushed
    to owners' and admins' sockets as ``reports.live`` frames when it changes).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ReportLiveResponseReportLive]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> Error | ReportLiveResponseReportLive | None:
    """Report Live

     Queue length and longest wait per inbox and team, agents online and away with their load (also
    pushed
    to owners' and admins' sockets as ``reports.live`` frames when it changes).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ReportLiveResponseReportLive
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
