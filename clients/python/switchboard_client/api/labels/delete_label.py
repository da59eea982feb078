from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...types import Response


def _get_kwargs(
    label_id: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v1/labels/{label_id}".format(
            label_id=quote(str(label_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Error | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    label_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[Any | Error]:
    """Delete Label

     Removes the label from every conversation too; the unresolved ones announce their labels now
    (``conversation.labels_changed``: a label SLA policy stops applying to them).

    Args:
        label_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
    """

    kwargs = _get_kwargs(
        label_id=label_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    label_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Any | Error | None:
    """Delete Label

     Removes the label from every conversation too; the unresolved ones announce their labels now
    (``conversation.labels_changed``: a label SLA policy stops applying to them).

    Args:
        label_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return sync_detailed(
        label_id=label_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    label_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[Any | Error]:
    """Delete Label

     Removes the label from every conversation too; the unresolved ones announce their labels now
    (``conversation.labels_changed``: a label SLA policy stops applying to them).

    Args:
        label_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
    """

    kwargs = _get_kwargs(
        label_id=label_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    label_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Any | Error | None:
    """Delete Label

     Removes the label from every conversation too; the unresolved ones announce their labels now
    (``conversation.labels_changed``: a label SLA policy stops applying to them).

    Args:
        label_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return (
        await asyncio_detailed(
            label_id=label_id,
            client=client,
        )
    ).parsed
