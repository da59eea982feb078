from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.widget_config import WidgetConfig
from ...types import UNSET, Response


def _get_kwargs(
    *,
    widget_token: str,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["widget_token"] = widget_token

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/widget/config",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | WidgetConfig | None:
    if response.status_code == 200:
        response_200 = WidgetConfig.from_dict(response.json())

        return response_200

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
) -> Response[Error | WidgetConfig]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    widget_token: str,
) -> Response[Error | WidgetConfig]:
    """Widget Config

     What the widget shows before a session exists: language, greeting and consent text (no secrets).

    Args:
        widget_token (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | WidgetConfig]
    """

    kwargs = _get_kwargs(
        widget_token=widget_token,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    widget_token: str,
) -> Error | WidgetConfig | None:
    """Widget Config

     What the widget shows before a session exists: language, greeting and consent text (no secrets).

    Args:
        widget_token (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | WidgetConfig
    """

    return sync_detailed(
        client=client,
        widget_token=widget_token,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    widget_token: str,
) -> Response[Error | WidgetConfig]:
    """Widget Config

     What the widget shows before a session exists: language, greeting and consent text (no secrets).

    Args:
        widget_token (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | WidgetConfig]
    """

    kwargs = _get_kwargs(
        widget_token=widget_token,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    widget_token: str,
) -> Error | WidgetConfig | None:
    """Widget Config

     What the widget shows before a session exists: language, greeting and consent text (no secrets).

    Args:
        widget_token (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | WidgetConfig
    """

    return (
        await asyncio_detailed(
            client=client,
            widget_token=widget_token,
        )
    ).parsed
