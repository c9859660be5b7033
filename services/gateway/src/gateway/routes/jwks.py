"""Identity's public keys, for anyone who verifies fieldvault tokens themselves."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.dependencies import IdentityPeer
from gateway.for_caller import IDENTITY

router = APIRouter(tags=["authentication"])

#: Short enough that a withdrawn key stops being trusted soon; identity publishes a
#: new key well before signing with it, so a cached copy never misses one in use.
MAX_AGE_SECONDS = 60


@router.get(
    "/.well-known/jwks.json",
    summary="Public keys that verify fieldvault tokens (JWK Set, RFC 7517)",
    response_class=Response,
    responses={200: {"content": {"application/jwk-set+json": {}}}},
)
async def jwks(peer: IdentityPeer) -> Response:
    stub = IDENTITY.stub(peer)
    result = await peer.call(stub.GetJwks, pb.GetJwksRequest())
    # Re-serialised from the parsed document: only well-formed JSON leaves here.
    return Response(
        content=json.dumps(json.loads(result.jwks_json)),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": f"public, max-age={MAX_AGE_SECONDS}"},
    )
