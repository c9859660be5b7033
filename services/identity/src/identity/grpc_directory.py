"""IdentityService RPCs for tenants, organisations, areas, users, invitations, API clients."""

from __future__ import annotations

from identity.components import Components


class DirectoryRpcs:
    _components: Components
