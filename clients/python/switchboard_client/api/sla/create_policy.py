from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.policy_create_type_0 import PolicyCreateType0
from ...models.policy_create_type_1 import PolicyCreateType1
from ...models.policy_create_type_2 import PolicyCreateType2
from ...models.policy_out import PolicyOut
from ...types import Response


def _get_kwargs(
    *,
    body: PolicyCreateType0 | PolicyCreateType1 | PolicyCreateType2,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/sla-policies",
    }

    if isinstance(body, PolicyCreateType0):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, PolicyCreateType1):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | PolicyOut | None:
    if response.status_code == 201:
        response_201 = PolicyOut.from_dict(response.json())

        return response_201

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

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | PolicyOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: PolicyCreateType0 | PolicyCreateType1 | PolicyCreateType2,
) -> Response[Error | PolicyOut]:
    """Create Policy

    Args:
        body (PolicyCreateType0 | PolicyCreateType1 | PolicyCreateType2): At least one of the
            three targets (the schema's anyOf; the validator below checks it).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | PolicyOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: PolicyCreateType0 | PolicyCreateType1 | PolicyCreateType2,
) -> Error | PolicyOut | None:
    """Create Policy

    Args:
        body (PolicyCreateType0 | PolicyCreateType1 | PolicyCreateType2): At least one of the
            three targets (the schema's anyOf; the validator below checks it).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | PolicyOut
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: PolicyCreateType0 | PolicyCreateType1 | PolicyCreateType2,
) -> Response[Error | PolicyOut]:
    """Create Policy

    Args:
        body (PolicyCreateType0 | PolicyCreateType1 | PolicyCreateType2): At least one of the
            three targets (the schema's anyOf; the validator below checks it).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | PolicyOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: PolicyCreateType0 | PolicyCreateType1 | PolicyCreateType2,
) -> Error | PolicyOut | None:
    """Create Policy

    Args:
        body (PolicyCreateType0 | PolicyCreateType1 | PolicyCreateType2): At least one of the
            three targets (the schema's anyOf; the validator below checks it).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | PolicyOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
