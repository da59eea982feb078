from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.csat_settings import CsatSettings
from ...models.csat_settings_out import CsatSettingsOut
from ...models.error import Error
from ...types import Response


def _get_kwargs(
    inbox_id: UUID,
    *,
    body: CsatSettings,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/inboxes/{inbox_id}/csat".format(
            inbox_id=quote(str(inbox_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CsatSettingsOut | Error | None:
    if response.status_code == 200:
        response_200 = CsatSettingsOut.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CsatSettingsOut | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    inbox_id: UUID,
    *,
    client: AuthenticatedClient,
    body: CsatSettings,
) -> Response[CsatSettingsOut | Error]:
    """Put Csat Settings

    Args:
        inbox_id (UUID):
        body (CsatSettings):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CsatSettingsOut | Error]
    """

    kwargs = _get_kwargs(
        inbox_id=inbox_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    inbox_id: UUID,
    *,
    client: AuthenticatedClient,
    body: CsatSettings,
) -> CsatSettingsOut | Error | None:
    """Put Csat Settings

    Args:
        inbox_id (UUID):
        body (CsatSettings):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CsatSettingsOut | Error
    """

    return sync_detailed(
        inbox_id=inbox_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    inbox_id: UUID,
    *,
    client: AuthenticatedClient,
    body: CsatSettings,
) -> Response[CsatSettingsOut | Error]:
    """Put Csat Settings

    Args:
        inbox_id (UUID):
        body (CsatSettings):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CsatSettingsOut | Error]
    """

    kwargs = _get_kwargs(
        inbox_id=inbox_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    inbox_id: UUID,
    *,
    client: AuthenticatedClient,
    body: CsatSettings,
) -> CsatSettingsOut | Error | None:
    """Put Csat Settings

    Args:
        inbox_id (UUID):
        body (CsatSettings):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CsatSettingsOut | Error
    """

    return (
        await asyncio_detailed(
            inbox_id=inbox_id,
            client=client,
            body=body,
        )
    ).parsed
