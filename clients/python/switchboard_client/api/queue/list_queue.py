from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.queue_entry import QueueEntry
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    inbox_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_inbox_id: None | str | Unset
    if isinstance(inbox_id, Unset):
        json_inbox_id = UNSET
    elif isinstance(inbox_id, UUID):
        json_inbox_id = str(inbox_id)
    else:
        json_inbox_id = inbox_id
    params["inbox_id"] = json_inbox_id

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/queue",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | list[QueueEntry] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = QueueEntry.from_dict(response_200_item_data)

            response_200.append(response_200_item)

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | list[QueueEntry]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    inbox_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 100,
) -> Response[Error | list[QueueEntry]]:
    """List Queue

    Args:
        inbox_id (None | Unset | UUID):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | list[QueueEntry]]
    """

    kwargs = _get_kwargs(
        inbox_id=inbox_id,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    inbox_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 100,
) -> Error | list[QueueEntry] | None:
    """List Queue

    Args:
        inbox_id (None | Unset | UUID):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | list[QueueEntry]
    """

    return sync_detailed(
        client=client,
        inbox_id=inbox_id,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    inbox_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 100,
) -> Response[Error | list[QueueEntry]]:
    """List Queue

    Args:
        inbox_id (None | Unset | UUID):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | list[QueueEntry]]
    """

    kwargs = _get_kwargs(
        inbox_id=inbox_id,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    inbox_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 100,
) -> Error | list[QueueEntry] | None:
    """List Queue

    Args:
        inbox_id (None | Unset | UUID):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | list[QueueEntry]
    """

    return (
        await asyncio_detailed(
            client=client,
            inbox_id=inbox_id,
            limit=limit,
        )
    ).parsed
