"""IdentityService RPCs for signing in and tokens: proto ⇄ domain only."""

from __future__ import annotations

from identity.components import Components


class AuthRpcs:
    _components: Components
