from __future__ import annotations

import contextlib
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import Account, User
from switchboard_common.domain.accounts.tenancy import cross_tenant, scope_session
from switchboard_common.infra.errors import AppError

from switchboard_gateway.accounts.passwords import PasswordHashing


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def create_account(
    session: AsyncSession, *, account_name: str, email: str, password_hash: str, name: str | None
) -> tuple[Account, User]:
    account = Account(id=uuid.uuid4(), name=account_name, status="active", default_max_conversations=5, settings={})
    user = User(
        id=uuid.uuid4(),
        account_id=account.id,
        email=normalize_email(email),
        name=name or email.split("@")[0],
        password_hash=password_hash,
        role="owner",
    )
    session.add(account)
    await session.flush()
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise AppError(409, "email_taken", "an account with this e-mail already exists") from None
    return account, user


async def create_agent(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    email: str,
    name: str,
    password_hash: str,
    role: str,
    max_conversations: int | None,
) -> User:
    user = User(
        id=uuid.uuid4(),
        account_id=account_id,
        email=normalize_email(email),
        name=name,
        password_hash=password_hash,
        role=role,
        max_conversations=max_conversations,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise AppError(409, "email_taken", "a user with this e-mail already exists") from None
    return user


async def authenticate(session: AsyncSession, passwords: PasswordHashing, email: str, password: str) -> User:
    # The lookup that finds the account (by e-mail, across accounts); then the session reads that account only.
    found = (
        await session.execute(
            cross_tenant(
                select(User.id, User.account_id, User.password_hash, User.deleted_at).where(
                    func.lower(User.email) == normalize_email(email)
                )
            )
        )
    ).first()
    # The read ends before the slow hash: a login flood must not hold database connections while it waits.
    await session.rollback()
    verification = await passwords.verify(found.password_hash if found else None, password)
    if not verification.matches or found is None or found.deleted_at:
        raise AppError(401, "invalid_credentials", "e-mail or password is wrong")
    # A hash made with older parameters is replaced now, while the password is at hand (committed with the
    # login's session); a full pool keeps the old hash until a later login.
    new_hash = None
    if verification.needs_rehash:
        with contextlib.suppress(AppError):
            new_hash = await passwords.hash(password)
    scope_session(session, found.account_id)
    user = await session.get(User, found.id)
    if user is None or user.deleted_at is not None:
        raise AppError(401, "invalid_credentials", "e-mail or password is wrong")
    if new_hash is not None:
        # Compare-and-set in the database: a password changed meanwhile (even one committed after the read
        # above) is never overwritten with a hash of the old password.
        await session.execute(
            update(User)
            .where(User.id == user.id, User.password_hash == found.password_hash)
            .values(password_hash=new_hash)
        )
    account = await session.get(Account, user.account_id)
    if account is None or account.status != "active":
        reason = f" ({account.suspension_reason})" if account is not None and account.suspension_reason else ""
        raise AppError(403, "account_suspended", f"account is {account.status if account else 'gone'}{reason}")
    return user


async def get_agent(session: AsyncSession, agent_id: uuid.UUID) -> User:
    # The session is the caller's account's: another account's id is a 404, never data.
    user = await session.scalar(select(User).where(User.id == agent_id, User.deleted_at.is_(None)))
    if user is None:
        raise AppError(404, "not_found", "agent not found")
    return user
