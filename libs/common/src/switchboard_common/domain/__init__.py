"""Shared domain rules, one package per domain, each with its tables (``models``).

Imports infrastructure, never a service. Importing any domain module registers every domain's tables with
the one metadata (below): foreign keys cross domains (a conversation names its inbox, contact, assignee and
team), and SQLAlchemy resolves them only when the referenced table is registered, in every process,
whichever tables that process itself uses; and it installs the tenant scoping of sessions (``accounts.tenancy``).
"""

from switchboard_common.domain.accounts import models as accounts_models  # noqa: F401
from switchboard_common.domain.accounts import tenancy  # noqa: F401 - the sessions' tenant scoping hook
from switchboard_common.domain.canned_responses import models as canned_responses_models  # noqa: F401
from switchboard_common.domain.contacts import models as contacts_models  # noqa: F401
from switchboard_common.domain.conversations import models as conversations_models  # noqa: F401
from switchboard_common.domain.csat import models as csat_models  # noqa: F401
from switchboard_common.domain.encryption import models as encryption_models  # noqa: F401
from switchboard_common.domain.inboxes import models as inboxes_models  # noqa: F401
from switchboard_common.domain.labels import models as labels_models  # noqa: F401
from switchboard_common.domain.privacy import models as privacy_models  # noqa: F401
from switchboard_common.domain.reports import models as reports_models  # noqa: F401
from switchboard_common.domain.sla import models as sla_models  # noqa: F401
from switchboard_common.domain.spam import models as spam_models  # noqa: F401
from switchboard_common.domain.subscriptions import models as subscriptions_models  # noqa: F401
