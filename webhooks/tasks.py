"""Thin Celery tasks: they take ids and call webhooks.services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="webhooks.deliver", ignore_result=True, acks_late=True, bind=True)
def deliver_webhook(self, message_id: str) -> None:  # noqa: ANN001 - Celery's bound task
    retry_in = services.deliver(message_id)
    # On a worker, the next attempt is queued with its countdown; run in-process (no broker) the sweeper or
    # "redeliver" sends it. Either way the row says when it is due, so a lost message is sent by the sweeper.
    if retry_in is not None and not self.request.is_eager:
        try:
            deliver_webhook.apply_async(args=[message_id], countdown=retry_in)
        except Exception:  # noqa: BLE001 - the broker is down: the sweeper sends it when due
            return


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep_webhooks() -> int:
    return services.sweep()
