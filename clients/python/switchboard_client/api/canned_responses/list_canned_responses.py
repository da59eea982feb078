from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.canned_response_out import CannedResponseOut
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    q: None | str | Unset = UNSET,
    conversation_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_q: None | str | Unset
    if isinstance(q, Unset):
        json_q = UNSET
    else:
        json_q = q
    params["q"] = json_q

    json_conversation_id: None | str | Unset
    if isinstance(conversation_id, Unset):
        json_conversation_id = UNSET
    elif isinstance(conversation_id, UUID):
        json_conversation_id = str(conversation_id)
    else:
        json_conversation_id = conversation_id
    params["conversation_id"] = json_conversation_id

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/canned-responses",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | list[CannedResponseOut] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = CannedResponseOut.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | list[CannedResponseOut]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    conversation_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 20,
) -> Response[Error | list[CannedResponseOut]]:
    """List Canned Responses

     Short codes starting with ``q`` first, then those whose content contains it.

    Args:
        q (None | str | Unset): short code prefix, or words of the content
        conversation_id (None | Unset | UUID): fill in {{contact.name}} and {{agent.name}} for
            this conversation (`rendered`)
        limit (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | list[CannedResponseOut]]
    """

    kwargs = _get_kwargs(
        q=q,
        conversation_id=conversation_id,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    conversation_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 20,
) -> Error | list[CannedResponseOut] | None:
    """List Canned Responses

     Short codes starting with ``q`` first, then those whose content contains it.

    Args:
        q (None | str | Unset): short code prefix, or words of the content
        conversation_id (None | Unset | UUID): fill in {{contact.name}} and {{agent.name}} for
            this conversation (`rendered`)
        limit (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | list[CannedResponseOut]
    """

    return sync_detailed(
        client=client,
        q=q,
        conversation_id=conversation_id,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    conversation_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 20,
) -> Response[Error | list[CannedResponseOut]]:
    """List Canned Responses

     Short codes starting with ``q`` first, then those whose content contains it.

    Args:
        q (None | str | Unset): short code prefix, or words of the content
        conversation_id (None | Unset | UUID): fill in {{contact.name}} and {{agent.name}} for
            this conversation (`rendered`)
        limit (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | list[CannedResponseOut]]
    """

    kwargs = _get_kwargs(
        q=q,
        conversation_id=conversation_id,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    conversation_id: None | Unset | UUID = UNSET,
    limit: int | Unset = 20,
) -> Error | list[CannedResponseOut] | None:
    """List Canned Responses

     Short codes starting with ``q`` first, then those whose content contains it.

    Args:
        q (None | str | Unset): short code prefix, or words of the content
        conversation_id (None | Unset | UUID): fill in {{contact.name}} and {{agent.name}} for
            this conversation (`rendered`)
        limit (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | list[CannedResponseOut]
    """

    return (
        await asyncio_detailed(
            client=client,
            q=q,
            conversation_id=conversation_id,
            limit=limit,
        )
    ).parsed
