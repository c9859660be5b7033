"""IdentityService RPCs for tenants, organisations, areas, users, invitations, API clients.

Proto ⇄ domain only: each RPC authenticates the caller, opens one unit of
work, calls a use case and converts the result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

import grpc

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.auth import PrincipalKind
from fieldvault_platform.errors import PermissionDenied
from fieldvault_platform.timestamps import to_timestamp
from identity.auth.tokens import user_area_ids
from identity.components import Components
from identity.directory import (
    api_clients,
    areas,
    audit_log,
    invitations,
    organizations,
    people,
    retention,
    tenants,
)
from identity.directory.access import authorize
from identity.keyed_hash import keyed_hash
from identity.messages import (
    api_client_message,
    area_message,
    audit_record_message,
    organization_message,
    retention_policy_message,
    tenant_message,
    user_message,
)

Context: TypeAlias = grpc.aio.ServicerContext


def _now() -> datetime:
    return datetime.now(UTC)


class DirectoryRpcs:
    _components: Components

    # --- tenants -----------------------------------------------------------------

    async def CreateTenant(
        self, request: pb.CreateTenantRequest, context: Context
    ) -> pb.CreateTenantResponse:
        self._components.callers.require_operator(context)
        created = await tenants.create_tenant(
            self._components,
            slug=request.slug,
            name=request.name,
            admin_email=request.admin_email,
            admin_name=request.admin_name,
            now=_now(),
        )
        return pb.CreateTenantResponse(
            tenant=tenant_message(created.tenant),
            admin_user=user_message(created.admin, []),
            admin_invitation_url=created.invitation_url,
        )

    async def GetTenant(
        self, request: pb.GetTenantRequest, context: Context
    ) -> pb.GetTenantResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="tenant:manage")
            return pb.GetTenantResponse(
                tenant=tenant_message(await tenants.get_tenant(session, caller))
            )

    async def UpdateTenantPolicy(
        self, request: pb.UpdateTenantPolicyRequest, context: Context
    ) -> pb.UpdateTenantPolicyResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="tenant:manage")
            tenant = await tenants.update_policy(
                session,
                caller,
                mfa_required_roles=list(request.mfa_required_roles),
                break_glass_step_up_required=(
                    request.break_glass_step_up_required
                    if request.HasField("break_glass_step_up_required")
                    else None
                ),
                etag=request.etag,
                now=_now(),
            )
            return pb.UpdateTenantPolicyResponse(tenant=tenant_message(tenant))

    # --- areas -------------------------------------------------------------------

    async def CreateArea(
        self, request: pb.CreateAreaRequest, context: Context
    ) -> pb.CreateAreaResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="areas:manage")
            area = await areas.create_area(session, caller, name=request.name, now=_now())
            return pb.CreateAreaResponse(area=area_message(area))

    async def ListAreas(
        self, request: pb.ListAreasRequest, context: Context
    ) -> pb.ListAreasResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="areas:read", service_may_read=True)
            rows, token = await areas.list_areas(
                session, caller, requested_size=request.page_size, page_token=request.page_token
            )
            return pb.ListAreasResponse(
                areas=[area_message(row) for row in rows], next_page_token=token
            )

    # --- organisations -----------------------------------------------------------

    async def CreateOrganization(
        self, request: pb.CreateOrganizationRequest, context: Context
    ) -> pb.CreateOrganizationResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="organizations:manage")
            organization = await organizations.create_organization(
                session,
                caller,
                name=request.name,
                subcontractor=request.kind == pb.ORGANIZATION_KIND_SUBCONTRACTOR,
                dpa_signed_on=request.dpa_signed_on,
                dpa_expires_on=request.dpa_expires_on,
                now=_now(),
            )
            response = pb.CreateOrganizationResponse(
                organization=organization_message(organization)
            )
        self._components.wake_relay()
        return response

    async def GetOrganization(
        self, request: pb.GetOrganizationRequest, context: Context
    ) -> pb.GetOrganizationResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(
                session, principal, scope="organizations:read", service_may_read=True
            )
            organization = await organizations.get_organization(
                session, caller, organization_id=request.id
            )
            return pb.GetOrganizationResponse(organization=organization_message(organization))

    async def ListOrganizations(
        self, request: pb.ListOrganizationsRequest, context: Context
    ) -> pb.ListOrganizationsResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(
                session, principal, scope="organizations:read", service_may_read=True
            )
            rows, token = await organizations.list_organizations(
                session, caller, requested_size=request.page_size, page_token=request.page_token
            )
            return pb.ListOrganizationsResponse(
                organizations=[organization_message(row) for row in rows], next_page_token=token
            )

    async def UpdateOrganization(
        self, request: pb.UpdateOrganizationRequest, context: Context
    ) -> pb.UpdateOrganizationResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="organizations:manage")
            organization = await organizations.update_organization(
                session,
                caller,
                organization_id=request.id,
                mask=list(request.update_mask),
                name=request.name,
                dpa_signed_on=request.dpa_signed_on,
                dpa_expires_on=request.dpa_expires_on,
                dpa_document_id=request.dpa_document_id,
                etag=request.etag,
                now=_now(),
            )
            response = pb.UpdateOrganizationResponse(
                organization=organization_message(organization)
            )
        self._components.wake_relay()
        return response

    # --- users -------------------------------------------------------------------

    async def CreateUser(
        self, request: pb.CreateUserRequest, context: Context
    ) -> pb.CreateUserResponse:
        principal = await self._components.callers.principal(context)
        now = _now()
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="users:manage")
            user = await people.create_user(
                session,
                caller,
                email=request.email,
                name=request.name,
                roles=list(request.roles),
                organization_id=request.organization_id,
                area_ids=list(request.area_ids),
                now=now,
            )
            invitation = await invitations.create_invitation(
                session, self._components, user=user, now=now
            )
            response = pb.CreateUserResponse(
                user=user_message(user, await user_area_ids(session, user.id)),
                invitation_id=invitation.id,
            )
        self._components.wake_relay()
        return response

    async def GetUser(self, request: pb.GetUserRequest, context: Context) -> pb.GetUserResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="users:read", service_may_read=True)
            user = await people.get_user(session, caller, user_id=request.id)
            return pb.GetUserResponse(
                user=user_message(user, await user_area_ids(session, user.id))
            )

    async def ListUsers(
        self, request: pb.ListUsersRequest, context: Context
    ) -> pb.ListUsersResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="users:read", service_may_read=True)
            rows, token = await people.list_users(
                session,
                caller,
                requested_size=request.page_size,
                page_token=request.page_token,
                role=request.role,
                organization_id=request.organization_id,
                active_only=request.active_only,
            )
            return pb.ListUsersResponse(
                users=[user_message(row, await user_area_ids(session, row.id)) for row in rows],
                next_page_token=token,
            )

    async def UpdateUser(
        self, request: pb.UpdateUserRequest, context: Context
    ) -> pb.UpdateUserResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="users:manage")
            user, _ = await people.update_user(
                session,
                caller,
                user_id=request.id,
                mask=list(request.update_mask),
                name=request.name,
                roles=list(request.roles),
                organization_id=request.organization_id,
                area_ids=list(request.area_ids),
                etag=request.etag,
                now=_now(),
            )
            response = pb.UpdateUserResponse(
                user=user_message(user, await user_area_ids(session, user.id))
            )
        self._components.wake_relay()
        return response

    async def DeactivateUser(
        self, request: pb.DeactivateUserRequest, context: Context
    ) -> pb.DeactivateUserResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="users:manage")
            user, _ = await people.deactivate_user(session, caller, user_id=request.id, now=_now())
            response = pb.DeactivateUserResponse(
                user=user_message(user, await user_area_ids(session, user.id))
            )
        # Revocations must reach every service within a second: publish now.
        self._components.wake_relay()
        return response

    # --- invitations -------------------------------------------------------------

    async def AcceptInvitation(
        self, request: pb.AcceptInvitationRequest, context: Context
    ) -> pb.AcceptInvitationResponse:
        user, area_ids = await invitations.accept(
            self._components, token=request.token, password=request.password, now=_now()
        )
        return pb.AcceptInvitationResponse(user=user_message(user, area_ids))

    async def GetInvitationLink(
        self, request: pb.GetInvitationLinkRequest, context: Context
    ) -> pb.GetInvitationLinkResponse:
        principal = await self._components.callers.principal(context)
        if principal.kind is not PrincipalKind.SERVICE:
            raise PermissionDenied("only the delivering service may fetch invitation links")
        principal.require_scope("invitations:deliver")
        principal.require_tenant(request.tenant_id)
        url, invitation = await invitations.invitation_link(
            self._components,
            tenant_id=request.tenant_id,
            invitation_id=request.invitation_id,
            now=_now(),
        )
        return pb.GetInvitationLinkResponse(
            url=url, user_id=invitation.user_id, expire_time=to_timestamp(invitation.expires_at)
        )

    # --- API clients -------------------------------------------------------------

    async def CreateApiClient(
        self, request: pb.CreateApiClientRequest, context: Context
    ) -> pb.CreateApiClientResponse:
        principal = await self._components.callers.principal(context)
        # Checked again with the user below; first so no other caller reaches Vault.
        principal.require_scope("api_clients:manage")
        scopes = api_clients.check_scopes(list(request.scopes))
        client_id, secret = api_clients.new_credentials()
        secret_hash = await keyed_hash(self._components.vault, "api_client_secret", secret)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="api_clients:manage")
            client = await api_clients.create_api_client(
                session,
                caller,
                name=request.name,
                scopes=scopes,
                client_id=client_id,
                secret_hash=secret_hash,
                now=_now(),
            )
            return pb.CreateApiClientResponse(
                api_client=api_client_message(client), client_secret=secret
            )

    async def ListApiClients(
        self, request: pb.ListApiClientsRequest, context: Context
    ) -> pb.ListApiClientsResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="api_clients:manage")
            rows, token = await api_clients.list_api_clients(
                session, caller, requested_size=request.page_size, page_token=request.page_token
            )
            return pb.ListApiClientsResponse(
                api_clients=[api_client_message(row) for row in rows], next_page_token=token
            )

    async def DeleteApiClient(
        self, request: pb.DeleteApiClientRequest, context: Context
    ) -> pb.DeleteApiClientResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="api_clients:manage")
            await api_clients.delete_api_client(
                session, caller, client_row_id=request.id, now=_now()
            )
        # The client's tokens must be refused everywhere within a second: publish now.
        self._components.wake_relay()
        return pb.DeleteApiClientResponse()

    # --- audit -------------------------------------------------------------------

    async def ListAuditRecords(
        self, request: pb.ListAuditRecordsRequest, context: Context
    ) -> pb.ListAuditRecordsResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="identity_audit:read")
            rows, token = await audit_log.list_audit_records(
                session, caller, requested_size=request.page_size, page_token=request.page_token
            )
            return pb.ListAuditRecordsResponse(
                records=[audit_record_message(row) for row in rows], next_page_token=token
            )

    # --- retention -----------------------------------------------------------------

    async def GetRetentionPolicy(
        self, request: pb.GetRetentionPolicyRequest, context: Context
    ) -> pb.GetRetentionPolicyResponse:
        principal = await self._components.callers.principal(context)
        # Admins set it; auditors and DPOs read it (both hold audit:read).
        scope = "tenant:manage" if principal.has_scope("tenant:manage") else "audit:read"
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope=scope)
            policy = await retention.get_policy(session, caller)
            return pb.GetRetentionPolicyResponse(policy=retention_policy_message(policy))

    async def UpdateRetentionPolicy(
        self, request: pb.UpdateRetentionPolicyRequest, context: Context
    ) -> pb.UpdateRetentionPolicyResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="tenant:manage")
            policy = await retention.update_policy(
                session, caller, days=dict(request.days), etag=request.etag, now=_now()
            )
        self._components.wake_relay()
        return pb.UpdateRetentionPolicyResponse(policy=retention_policy_message(policy))
