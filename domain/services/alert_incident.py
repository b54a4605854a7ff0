"""AlertIncident: an email to every ALERT_EMAILS address when detection opens or resolves an incident,
through the notifier (delivery is off the detection path and never raises)."""

from __future__ import annotations

from domain.incidents import Incident, alert_email
from ports.notifications import Notifier


class AlertIncident:
    def __init__(self, notifier: Notifier, recipients: tuple[str, ...]) -> None:
        self._notifier = notifier
        self._recipients = recipients

    async def __call__(self, event: str, incident: Incident) -> None:
        for to in self._recipients:
            await self._notifier.send(alert_email(to, event, incident))
