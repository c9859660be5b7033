"""Composition root of the notification service."""

from __future__ import annotations

from functools import partial

import httpx

from fieldvault.notification.v1 import notification_pb2_grpc
from fieldvault_platform.auth.callers import Callers
from fieldvault_platform.auth.wiring import ServiceTokens, token_verification
from fieldvault_platform.events import ensure_stream
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.polling import Poller
from fieldvault_platform.retention_events import retention_policy_consumer
from fieldvault_platform.runtime import ServiceRuntime
from fieldvault_platform.service import open_plumbing, run_service
from notification.backlog import delivery_probe
from notification.channels import SmsGateway, mailer
from notification.components import Components
from notification.consumers import Handlers, consumers
from notification.grpc_api import SERVICE_NAME, NotificationServicer
from notification.identity_client import Directory
from notification.sender import MessageSender
from notification.settings import Settings
from notification.share_channels import ShareChannels
from notification.webhooks.delivery import WebhookSender
from notification.webhooks.pinned import pinned_client
from notification.webhooks.secret_box import SecretBox

SERVICE = "notification"
#: The services whose events notification consumes (their streams are ensured
#: here too, so notification may start first).
SOURCES = ("identity", "work_order", "customer_vault")


def _secret_box(settings: Settings) -> SecretBox:
    key = settings.webhook_secret_key
    if key is None or not key.get_secret_value():
        raise RuntimeError("FIELDVAULT_NOTIFICATION_WEBHOOK_SECRET_KEY is not set")
    return SecretBox(key.get_secret_value())


async def build_runtime(settings: Settings) -> ServiceRuntime:
    box = _secret_box(settings)
    plumbing = await open_plumbing(SERVICE, settings)
    jetstream = plumbing.backbone.jetstream
    for source in SOURCES:
        await ensure_stream(jetstream, source, replicas=plumbing.backbone.replicas)
    identity_channel = open_channel(settings.identity_addr)
    verification = token_verification(
        audience=SERVICE,
        issuer=settings.token_issuer,
        identity_channel=identity_channel,
        jetstream=jetstream,
    )
    tokens = ServiceTokens(
        service=SERVICE, secret=settings.service_account_secret_value, channel=identity_channel
    )
    directory = Directory(tokens, identity_channel)
    customer_vault_channel = open_channel(settings.customer_vault_addr)
    share_channels = ShareChannels(tokens, customer_vault_channel)
    # Receivers and the SMS gateway are outside: no proxy settings from the environment.
    http = httpx.AsyncClient(trust_env=False)
    sms = SmsGateway(settings, http) if settings.sms_gateway_url is not None else None
    components = Components(
        settings=settings,
        database=plumbing.database,
        callers=Callers(
            verifier=verification.verifier,
            revocations_current=verification.listener.caught_up,
            catch_up_timeout=settings.revocations_catch_up_seconds,
        ),
        box=box,
        sms_available=sms is not None,
    )
    messages = MessageSender(
        plumbing.database, settings, directory, mailer(settings), sms, share_channels
    )
    webhook_http = pinned_client()
    webhooks = WebhookSender(plumbing.database, settings, box, webhook_http)
    runtime = plumbing.runtime(
        settings,
        registrars=[
            partial(
                notification_pb2_grpc.add_NotificationServiceServicer_to_server,
                NotificationServicer(components),
            )
        ],
        service_names=[SERVICE_NAME],
    )
    handlers = Handlers(directory, sms_available=sms is not None)
    plumbing.backlog.add(delivery_probe)
    runtime.background_jobs.extend(
        [
            verification.listener.run,
            *(
                c.run
                for c in consumers(
                    plumbing.database,
                    jetstream,
                    handlers,
                    max_deliver=settings.consumer_max_deliver,
                )
            ),
            retention_policy_consumer(plumbing.database, jetstream, service=SERVICE).run,
            Poller("messages", messages.send_due, settings.delivery_poll_seconds).run,
            Poller("webhooks", webhooks.deliver_due, settings.delivery_poll_seconds).run,
        ]
    )
    runtime.cleanups.extend(
        [identity_channel.close, customer_vault_channel.close, http.aclose, webhook_http.aclose]
    )
    return runtime


async def run(settings: Settings) -> None:
    await run_service(SERVICE, settings, lambda: build_runtime(settings))
