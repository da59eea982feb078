"""The tenancy helpers scope queries by account and hide other accounts' rows as 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from switchboard_common.domain.accounts.models import SecurityEvent
from switchboard_common.domain.accounts.tenancy import scoped
from switchboard_common.domain.inboxes.models import Inbox


@dataclass
class Principal:
    account_id: uuid.UUID


def test_scoped_adds_the_account_condition() -> None:
    account = uuid.uuid4()
    statement = scoped(select(Inbox).where(Inbox.name == "x"), Principal(account))
    sql = str(statement.compile(compile_kwargs={"literal_binds": False}))
    assert "inboxes.account_id = " in sql and "inboxes.name = " in sql
    assert "security_events.account_id" in str(scoped(select(SecurityEvent), Principal(account)))


def test_scoped_refuses_tables_without_an_account() -> None:
    from switchboard_common.domain.accounts.models import Account

    with pytest.raises(TypeError):
        scoped(select(Account), Principal(uuid.uuid4()))
