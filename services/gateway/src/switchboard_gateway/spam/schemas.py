"""Request and response bodies of the spam API."""

from __future__ import annotations

from switchboard_common.infra.inputs import Bool
from switchboard_common.infra.schemas import Strict


class SpamVerdict(Strict):
    spam: Bool = True
