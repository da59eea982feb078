from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from switchboard_common.domain.accounts.models import Account, User, UserTotp
from switchboard_common.domain.accounts.tenancy import cross_tenant, scope_session
from switchboard_common.infra.errors import AppError


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


@dataclass(frozen=True)
class LoginCandidate:
    """What a login needs to know about the user an e-mail names, read in one statement before the slow
    password check: the user, the account's standing and whether a second factor is on."""

    user_id: uuid.UUID
    account_id: uuid.UUID
    password_hash: str
    deleted: bool
    role: str
    token_version: int
    account_status: str
    suspension_reason: str | None
    second_factor: bool


# (id, account_id, password_hash, deleted, role, token_version, account status, suspension reason, 2FA on)
def _find_login_statement() -> Select[uuid.UUID, uuid.UUID, str, bool, str, int, str, str | None, bool]:
    """The lookup that finds the account (by e-mail, across accounts): user, account and TOTP state in one
    statement; its joins pair rows of the user's own account."""
    return cross_tenant(
        select(
            User.id,
            User.account_id,
            User.password_hash,
            User.deleted_at.is_not(None).label("deleted"),
            User.role,
            User.token_version,
            Account.status,
            Account.suspension_reason,
            UserTotp.confirmed_at.is_not(None).label("second_factor"),
        )
        .join(Account, Account.id == User.account_id)
        .outerjoin(UserTotp, (UserTotp.user_id == User.id) & (UserTotp.account_id == User.account_id))
        .where(func.lower(User.email) == bindparam("email"))
    )


_FIND_LOGIN = _find_login_statement()


async def find_login(engine: AsyncEngine, email: str) -> LoginCandidate | None:
    """The user ``email`` names, or None. One round trip on an autocommit connection (no BEGIN/ROLLBACK), and no
    connection held while the slow hash runs afterwards."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        row = (await autocommit.execute(_FIND_LOGIN, {"email": normalize_email(email)})).first()
    return None if row is None else LoginCandidate(*row)


def refuse_inactive_account(candidate: LoginCandidate) -> None:
    """403 for a suspended or closed account: checked after the password, so it tells nothing to a guesser."""
    if candidate.account_status != "active":
        reason = f" ({candidate.suspension_reason})" if candidate.suspension_reason else ""
        raise AppError(403, "account_suspended", f"account is {candidate.account_status}{reason}")


async def load_verified_user(session: AsyncSession, candidate: LoginCandidate, new_hash: str | None = None) -> User:
    """The user whose password was just verified, read again in the session (scoped to its account) for a login
    that needs more than the one-statement path: a second factor, a hash to replace, or a user or account that
    changed while the password was being checked."""
    scope_session(session, candidate.account_id)
    user = await session.get(User, candidate.user_id)
    if user is None or user.deleted_at is not None:
        raise AppError(401, "invalid_credentials", "e-mail or password is wrong")
    if new_hash is not None:
        # Compare-and-set in the database: a password changed meanwhile (even one committed after the read
        # above) is never overwritten with a hash of the old password.
        await session.execute(
            update(User)
            .where(User.id == user.id, User.password_hash == candidate.password_hash)
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
