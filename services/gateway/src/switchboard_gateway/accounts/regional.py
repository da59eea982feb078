"""Sign-up in a multi-region installation: the account and its owner's login are entered in the global
directory (switchboard_common.infra.directory) as they are created, so later requests find this region.

The login e-mail is claimed first: a claim held by another region means the address already has an account
there (409 ``email_taken``, as for an address taken here). The account id is claimed inside the transaction
that creates it, so a committed account always has its entry; a failed sign-up releases what it claimed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import Account, User
from switchboard_common.infra.db import atomic
from switchboard_common.infra.directory import Directory, DirectoryUnavailable, TakenElsewhere
from switchboard_common.infra.errors import AppError

from switchboard_gateway.accounts import schemas, service
from switchboard_gateway.accounts.passwords import PasswordHashing


def unavailable() -> AppError:
    return AppError(503, "directory_unavailable", "the region directory is unavailable, retry shortly")


async def claim_login(directory: Directory, email: str) -> tuple[str, bool]:
    """Claims a login e-mail for this region: (its directory key, whether this call created the entry)."""
    key = directory.email_key(email)
    try:
        return key, await directory.claim("email", key)
    except TakenElsewhere:
        raise AppError(409, "email_taken", "an account with this e-mail already exists") from None
    except DirectoryUnavailable:
        raise unavailable() from None


@asynccontextmanager
async def login_claimed(directory: Directory, email: str) -> AsyncIterator[None]:
    """A new login (an agent): its e-mail claimed here before the block, released if the block fails."""
    key, created = await claim_login(directory, email)
    try:
        yield
    except BaseException:
        if created:
            with contextlib.suppress(DirectoryUnavailable):
                await directory.release("email", key)
        raise


async def create_account(
    session: AsyncSession, directory: Directory, passwords: PasswordHashing, body: schemas.SignupRequest
) -> tuple[Account, User]:
    # Hashed before the transaction: no connection is held while the hash waits for or runs in the pool.
    password_hash = await passwords.hash(body.password)
    async with login_claimed(directory, str(body.email)), atomic(session):
        account, user = await service.create_account(
            session, account_name=body.account_name, email=body.email, password_hash=password_hash, name=body.name
        )
        try:
            await directory.claim("account", str(account.id))
        except (DirectoryUnavailable, TakenElsewhere):
            raise unavailable() from None
    return account, user
