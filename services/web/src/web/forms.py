"""Form posts: the CSRF check every POST route depends on."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from web.security import CSRF_FIELD, CSRF_HEADER, csrf_valid


async def csrf_checked(request: Request) -> None:
    submitted = request.headers.get(CSRF_HEADER, "")
    if not submitted:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else ""
    if not csrf_valid(request, submitted):
        raise HTTPException(status_code=403, detail="The form has expired. Reload and try again.")


CsrfChecked = Annotated[None, Depends(csrf_checked)]


async def form_text(request: Request, name: str, *, limit: int = 4000) -> str:
    value = (await request.form()).get(name)
    return value[:limit] if isinstance(value, str) else ""
