from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.conversation_out import ConversationOut
from ...models.error import Error
from ...models.list_conversations_assignee_type_0 import (
    ListConversationsAssigneeType0,
)
from ...models.list_conversations_sort import ListConversationsSort
from ...models.list_conversations_status_type_0 import (
    ListConversationsStatusType0,
)
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: ListConversationsStatusType0 | None | Unset = UNSET,
    assignee: ListConversationsAssigneeType0 | None | Unset = UNSET,
    inbox_id: None | Unset | UUID = UNSET,
    contact_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    sort: ListConversationsSort | Unset = "newest",
    limit: int | Unset = 50,
    before: None | Unset | UUID = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

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
    elif isinstance(assignee, str):
        json_assignee = assignee
    else:
        json_assignee = assignee
    params["assignee"] = json_assignee

    json_inbox_id: None | str | Unset
    if isinstance(inbox_id, Unset):
        json_inbox_id = UNSET
    elif isinstance(inbox_id, UUID):
        json_inbox_id = str(inbox_id)
    else:
        json_inbox_id = inbox_id
    params["inbox_id"] = json_inbox_id

    json_contact_id: None | str | Unset
    if isinstance(contact_id, Unset):
        json_contact_id = UNSET
    elif isinstance(contact_id, UUID):
        json_contact_id = str(contact_id)
    else:
        json_contact_id = contact_id
    params["contact_id"] = json_contact_id

    json_label: None | str | Unset
    if isinstance(label, Unset):
        json_label = UNSET
    else:
        json_label = label
    params["label"] = json_label

    json_sort: str | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort

    params["sort"] = json_sort

    params["limit"] = limit

    json_before: None | str | Unset
    if isinstance(before, Unset):
        json_before = UNSET
    elif isinstance(before, UUID):
        json_before = str(before)
    else:
        json_before = before
    params["before"] = json_before

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/conversations",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | list[ConversationOut] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = ConversationOut.from_dict(response_200_item_data)

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
) -> Response[Error | list[ConversationOut]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    status: ListConversationsStatusType0 | None | Unset = UNSET,
    assignee: ListConversationsAssigneeType0 | None | Unset = UNSET,
    inbox_id: None | Unset | UUID = UNSET,
    contact_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    sort: ListConversationsSort | Unset = "newest",
    limit: int | Unset = 50,
    before: None | Unset | UUID = UNSET,
) -> Response[Error | list[ConversationOut]]:
    """List Conversations

    Args:
        status (ListConversationsStatusType0 | None | Unset):
        assignee (ListConversationsAssigneeType0 | None | Unset):
        inbox_id (None | Unset | UUID):
        contact_id (None | Unset | UUID):
        label (None | str | Unset): only conversations carrying this label
        sort (ListConversationsSort | Unset): newest: newest first (pages with `before`);
            needs_answer: waiting in the queue first (longest wait first), then conversations whose
            customer waits for a reply (longest first), then the rest by latest activity Default:
            'newest'.
        limit (int | Unset):  Default: 50.
        before (None | Unset | UUID): cursor: id of the last conversation seen

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | list[ConversationOut]]
    """

    kwargs = _get_kwargs(
        status=status,
        assignee=assignee,
        inbox_id=inbox_id,
        contact_id=contact_id,
        label=label,
        sort=sort,
        limit=limit,
        before=before,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    status: ListConversationsStatusType0 | None | Unset = UNSET,
    assignee: ListConversationsAssigneeType0 | None | Unset = UNSET,
    inbox_id: None | Unset | UUID = UNSET,
    contact_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    sort: ListConversationsSort | Unset = "newest",
    limit: int | Unset = 50,
    before: None | Unset | UUID = UNSET,
) -> Error | list[ConversationOut] | None:
    """List Conversations

    Args:
        status (ListConversationsStatusType0 | None | Unset):
        assignee (ListConversationsAssigneeType0 | None | Unset):
        inbox_id (None | Unset | UUID):
        contact_id (None | Unset | UUID):
        label (None | str | Unset): only conversations carrying this label
        sort (ListConversationsSort | Unset): newest: newest first (pages with `before`);
            needs_answer: waiting in the queue first (longest wait first), then conversations whose
            customer waits for a reply (longest first), then the rest by latest activity Default:
            'newest'.
        limit (int | Unset):  Default: 50.
        before (None | Unset | UUID): cursor: id of the last conversation seen

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | list[ConversationOut]
    """

    return sync_detailed(
        client=client,
        status=status,
        assignee=assignee,
        inbox_id=inbox_id,
        contact_id=contact_id,
        label=label,
        sort=sort,
        limit=limit,
        before=before,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    status: ListConversationsStatusType0 | None | Unset = UNSET,
    assignee: ListConversationsAssigneeType0 | None | Unset = UNSET,
    inbox_id: None | Unset | UUID = UNSET,
    contact_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    sort: ListConversationsSort | Unset = "newest",
    limit: int | Unset = 50,
    before: None | Unset | UUID = UNSET,
) -> Response[Error | list[ConversationOut]]:
    """List Conversations

    Args:
        status (ListConversationsStatusType0 | None | Unset):
        assignee (ListConversationsAssigneeType0 | None | Unset):
        inbox_id (None | Unset | UUID):
        contact_id (None | Unset | UUID):
        label (None | str | Unset): only conversations carrying this label
        sort (ListConversationsSort | Unset): newest: newest first (pages with `before`);
            needs_answer: waiting in the queue first (longest wait first), then conversations whose
            customer waits for a reply (longest first), then the rest by latest activity Default:
            'newest'.
        limit (int | Unset):  Default: 50.
        before (None | Unset | UUID): cursor: id of the last conversation seen

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | list[ConversationOut]]
    """

    kwargs = _get_kwargs(
        status=status,
        assignee=assignee,
        inbox_id=inbox_id,
        contact_id=contact_id,
        label=label,
        sort=sort,
        limit=limit,
        before=before,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    status: ListConversationsStatusType0 | None | Unset = UNSET,
    assignee: ListConversationsAssigneeType0 | None | Unset = UNSET,
    inbox_id: None | Unset | UUID = UNSET,
    contact_id: None | Unset | UUID = UNSET,
    label: None | str | Unset = UNSET,
    sort: ListConversationsSort | Unset = "newest",
    limit: int | Unset = 50,
    before: None | Unset | UUID = UNSET,
) -> Error | list[ConversationOut] | None:
    """List Conversations

    Args:
        status (ListConversationsStatusType0 | None | Unset):
        assignee (ListConversationsAssigneeType0 | None | Unset):
        inbox_id (None | Unset | UUID):
        contact_id (None | Unset | UUID):
        label (None | str | Unset): only conversations carrying this label
        sort (ListConversationsSort | Unset): newest: newest first (pages with `before`);
            needs_answer: waiting in the queue first (longest wait first), then conversations whose
            customer waits for a reply (longest first), then the rest by latest activity Default:
            'newest'.
        limit (int | Unset):  Default: 50.
        before (None | Unset | UUID): cursor: id of the last conversation seen

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | list[ConversationOut]
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            assignee=assignee,
            inbox_id=inbox_id,
            contact_id=contact_id,
            label=label,
            sort=sort,
            limit=limit,
            before=before,
        )
    ).parsed
