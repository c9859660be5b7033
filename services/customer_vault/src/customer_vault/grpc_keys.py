"""CustomerVaultService RPCs for the physical key register: proto ⇄ domain only."""

from __future__ import annotations

from datetime import UTC, datetime

from customer_vault.components import Components
from customer_vault.grpc_records import SITES_READ, SITES_WRITE, Context, request_id
from customer_vault.records import key_lookup, physical_keys
from customer_vault.records.key_views import KeyView
from customer_vault.visibility import caller
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.timestamps import to_timestamp

#: Handling keys is the office's (they write sites); holding one needs sight of sites.
KEYS_WRITE = SITES_WRITE[:1]
KEYS_HELD = SITES_READ[:1]


def _now() -> datetime:
    return datetime.now(UTC)


def key_message(view: KeyView, now: datetime) -> pb.PhysicalKey:
    row, checkout = view.row, view.checkout
    return pb.PhysicalKey(
        id=row.id,
        site_id=row.site_id,
        kind=row.kind,
        label=view.label,
        status=row.status,
        create_time=to_timestamp(row.created_at),
        holder_user_id=checkout.user_id if checkout else "",
        work_order_id=checkout.work_order_id if checkout else "",
        checked_out_time=to_timestamp(checkout.checked_out_at) if checkout else None,
        due_time=to_timestamp(view.due_at),
        overdue=view.overdue(now),
        lost_time=to_timestamp(row.lost_at),
        checkout_id=checkout.id if checkout else "",
    )


class KeyRpcs:
    _components: Components

    async def RegisterKey(
        self, request: pb.RegisterKeyRequest, context: Context
    ) -> pb.RegisterKeyResponse:
        who = caller(await self._components.callers.principal(context), *KEYS_WRITE)
        now = _now()
        view, tag_code = await physical_keys.register_key(
            self._components,
            who,
            site_id=request.site_id,
            kind=request.kind,
            label=request.label,
            request_id=request_id(context, request.request_id),
            now=now,
        )
        return pb.RegisterKeyResponse(key=key_message(view, now), tag_code=tag_code)

    async def ListSiteKeys(
        self, request: pb.ListSiteKeysRequest, context: Context
    ) -> pb.ListSiteKeysResponse:
        who = caller(await self._components.callers.principal(context), *KEYS_WRITE)
        now = _now()
        views = await physical_keys.list_site_keys(
            self._components, who, site_id=request.site_id, now=now
        )
        return pb.ListSiteKeysResponse(keys=[key_message(view, now) for view in views])

    async def CheckOutKey(
        self, request: pb.CheckOutKeyRequest, context: Context
    ) -> pb.CheckOutKeyResponse:
        who = caller(await self._components.callers.principal(context), *KEYS_WRITE)
        now = _now()
        view = await physical_keys.check_out_key(
            self._components,
            who,
            key_id=request.key_id,
            user_id=request.user_id,
            work_order_id=request.work_order_id,
            request_id=request_id(context, request.request_id),
            now=now,
        )
        return pb.CheckOutKeyResponse(key=key_message(view, now))

    async def CheckInKey(
        self, request: pb.CheckInKeyRequest, context: Context
    ) -> pb.CheckInKeyResponse:
        who = caller(await self._components.callers.principal(context), *KEYS_WRITE, *KEYS_HELD)
        now = _now()
        view = await physical_keys.check_in_key(
            self._components,
            who,
            key_id=request.key_id,
            request_id=request_id(context, request.request_id),
            now=now,
        )
        return pb.CheckInKeyResponse(key=key_message(view, now))

    async def MarkKeyLost(
        self, request: pb.MarkKeyLostRequest, context: Context
    ) -> pb.MarkKeyLostResponse:
        who = caller(await self._components.callers.principal(context), *KEYS_WRITE, *KEYS_HELD)
        now = _now()
        view = await physical_keys.mark_key_lost(
            self._components,
            who,
            key_id=request.key_id,
            request_id=request_id(context, request.request_id),
            now=now,
        )
        return pb.MarkKeyLostResponse(key=key_message(view, now))

    async def FindKeyByTag(
        self, request: pb.FindKeyByTagRequest, context: Context
    ) -> pb.FindKeyByTagResponse:
        # Any person may scan a found tag; who learns the site is decided inside.
        who = caller(await self._components.callers.principal(context))
        now = _now()
        found = await key_lookup.find_key_by_tag(
            self._components,
            who,
            tag_code=request.tag_code,
            request_id=request_id(context, request.request_id),
            now=now,
        )
        return pb.FindKeyByTagResponse(
            key=key_message(found.key, now),
            site_name=found.site_name,
            customer_id=found.customer_id,
        )

    async def ListMyKeys(
        self, request: pb.ListMyKeysRequest, context: Context
    ) -> pb.ListMyKeysResponse:
        who = caller(await self._components.callers.principal(context))
        now = _now()
        views = await key_lookup.list_my_keys(self._components, who, now=now)
        return pb.ListMyKeysResponse(keys=[key_message(view, now) for view in views])
