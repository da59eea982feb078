import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.search_out import SearchOut
from ...models.search_status_type_0 import SearchStatusType0
from ...models.search_type import SearchType
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    q: str,
    type_: SearchType | Unset = "all",
    inbox_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    status: None | SearchStatusType0 | Unset = UNSET,
    assignee: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["q"] = q

    json_type_: str | Unset = UNSET
    if not isinstance(type_, Unset):
        json_type_ = type_

    params["type"] = json_type_

    json_inbox_id: None | str | Unset
    if isinstance(inbox_id, Unset):
        json_inbox_id = UNSET
    elif isinstance(inbox_id, UUID):
        json_inbox_id = str(inbox_id)
    else:
        json_inbox_id = inbox_id
    params["inbox_id"] = json_inbox_id

    json_label: None | str | Unset
    if isinstance(label, Unset):
        json_label = UNSET
    else:
        json_label = label
    params["label"] = json_label

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, str):
        json_status = status
    else:
        json_status = status
    params["status"] = json_status

    json_assignee: None | str | Unset
    if isinstance(assignee, Unset):
        json_assignee = UNSET
    else:
        json_assignee = assignee
    params["assignee"] = json_assignee

    json_since: None | str | Unset
    if isinstance(since, Unset):
        json_since = UNSET
    elif isinstance(since, datetime.datetime):
        json_since = since.isoformat()
    else:
        json_since = since
    params["since"] = json_since

    json_until: None | str | Unset
    if isinstance(until, Unset):
        json_until = UNSET
    elif isinstance(until, datetime.datetime):
        json_until = until.isoformat()
    else:
        json_until = until
    params["until"] = json_until

    params["page"] = page

    params["per_page"] = per_page

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/search",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | SearchOut | None:
    if response.status_code == 200:
        response_200 = SearchOut.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | SearchOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    q: str,
    type_: SearchType | Unset = "all",
    inbox_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    status: None | SearchStatusType0 | Unset = UNSET,
    assignee: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
) -> Response[Error | SearchOut]:
    """Search

    Args:
        q (str): words; "a phrase", or, -excluded (web search syntax)
        type_ (SearchType | Unset):  Default: 'all'.
        inbox_id (None | Unset | UUID):
        label (None | str | Unset):
        status (None | SearchStatusType0 | Unset):
        assignee (None | str | Unset): me, unassigned or an agent id
        since (datetime.datetime | None | Unset): messages created at or after
        until (datetime.datetime | None | Unset): messages created before
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SearchOut]
    """

    kwargs = _get_kwargs(
        q=q,
        type_=type_,
        inbox_id=inbox_id,
        label=label,
        status=status,
        assignee=assignee,
        since=since,
        until=until,
        page=page,
        per_page=per_page,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    q: str,
    type_: SearchType | Unset = "all",
    inbox_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    status: None | SearchStatusType0 | Unset = UNSET,
    assignee: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
) -> Error | SearchOut | None:
    """Search

    Args:
        q (str): words; "a phrase", or, -excluded (web search syntax)
        type_ (SearchType | Unset):  Default: 'all'.
        inbox_id (None | Unset | UUID):
        label (None | str | Unset):
        status (None | SearchStatusType0 | Unset):
        assignee (None | str | Unset): me, unassigned or an agent id
        since (datetime.datetime | None | Unset): messages created at or after
        until (datetime.datetime | None | Unset): messages created before
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SearchOut
    """

    return sync_detailed(
        client=client,
        q=q,
        type_=type_,
        inbox_id=inbox_id,
        label=label,
        status=status,
        assignee=assignee,
        since=since,
        until=until,
        page=page,
        per_page=per_page,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    q: str,
    type_: SearchType | Unset = "all",
    inbox_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    status: None | SearchStatusType0 | Unset = UNSET,
    assignee: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
) -> Response[Error | SearchOut]:
    """Search

    Args:
        q (str): words; "a phrase", or, -excluded (web search syntax)
        type_ (SearchType | Unset):  Default: 'all'.
        inbox_id (None | Unset | UUID):
        label (None | str | Unset):
        status (None | SearchStatusType0 | Unset):
        assignee (None | str | Unset): me, unassigned or an agent id
        since (datetime.datetime | None | Unset): messages created at or after
        until (datetime.datetime | None | Unset): messages created before
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | SearchOut]
    """

    kwargs = _get_kwargs(
        q=q,
        type_=type_,
        inbox_id=inbox_id,
        label=label,
        status=status,
        assignee=assignee,
        since=since,
        until=until,
        page=page,
        per_page=per_page,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    q: str,
    type_: SearchType | Unset = "all",
    inbox_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    status: None | SearchStatusType0 | Unset = UNSET,
    assignee: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    page: int | Unset = 1,
    per_page: int | Unset = 20,
) -> Error | SearchOut | None:
    """Search

    Args:
        q (str): words; "a phrase", or, -excluded (web search syntax)
        type_ (SearchType | Unset):  Default: 'all'.
        inbox_id (None | Unset | UUID):
        label (None | str | Unset):
        status (None | SearchStatusType0 | Unset):
        assignee (None | str | Unset): me, unassigned or an agent id
        since (datetime.datetime | None | Unset): messages created at or after
        until (datetime.datetime | None | Unset): messages created before
        page (int | Unset):  Default: 1.
        per_page (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | SearchOut
    """

    return (
        await asyncio_detailed(
            client=client,
            q=q,
            type_=type_,
            inbox_id=inbox_id,
            label=label,
            status=status,
            assignee=assignee,
            since=since,
            until=until,
            page=page,
            per_page=per_page,
        )
    ).parsed
