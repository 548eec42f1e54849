"""Identity's HTTP API: thin handlers over the use cases."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import TypeAdapter
from starlette.responses import JSONResponse

from clearway.contracts.identity import (
    CONTACT_ROUTE,
    JWKS_ROUTE,
    REVOCATIONS_ROUTE,
    Contact,
    Revocations,
)
from clearway.kit.caller import Admin, AnyCaller, SignedIn
from clearway.kit.problems import Problem
from clearway.services.identity import domain
from clearway.services.identity.browser import BrowserSessions, is_web
from clearway.services.identity.passwords import Passwords
from clearway.services.identity.profiles import Profiles
from clearway.services.identity.records import Profile
from clearway.services.identity.registration import Registrations
from clearway.services.identity.schemas import (
    Accepted,
    ChangePassword,
    CodeConfirmation,
    Credentials,
    ForgotPassword,
    KeySet,
    LogoutRequest,
    ProfileChanges,
    ProfileOut,
    RecoveryCodes,
    RefreshRequest,
    Registration,
    ResetPassword,
    SecondFactorEnrolment,
    SecondFactorRemoval,
    SecondFactorStatus,
    SignInProblem,
    Tokens,
    UserPage,
)
from clearway.services.identity.second_factor import SecondFactors
from clearway.services.identity.sessions import Sessions, TokenPair
from clearway.services.identity.tokens import TokenIssuer
from clearway.services.identity.users import Users

PROFILE_JSON = TypeAdapter(Profile)
REGISTERED = "Registration received. Check your mailbox for the next step."
RESET_SENT = "If an account uses this address, a reset link is on its way."
NO_REFRESH_TOKEN = domain.Unauthorized(
    "invalid-refresh-token", "No refresh token: send it in the body or sign in again."
)
ClientHeader = Annotated[
    str | None,
    Header(
        alias="x-clearway-client",
        description="`web`: the browser app. The refresh token travels as the HttpOnly cookie "
        "`clearway_refresh` (the body's `refresh_token` is null), and a request that uses the "
        "cookie must carry this header.",
    ),
]


@dataclass(frozen=True)
class UseCases:
    """What the routes call: one object per aggregate."""

    issuer: TokenIssuer
    registration: Registrations
    sessions: Sessions
    passwords: Passwords
    second_factors: SecondFactors
    profiles: Profiles
    users: Users


def profile_out(profile: Profile) -> ProfileOut:
    return ProfileOut(**asdict(profile))


def build_router(cases: UseCases, browser: BrowserSessions) -> APIRouter:
    router = APIRouter()

    def answer(pair: TokenPair, client: str | None, response: Response) -> Tokens:
        """The token pair, with the refresh token moved into the cookie for the browser app."""
        if not is_web(client):
            return Tokens(**asdict(pair))
        browser.keep(response, pair.refresh_token)
        return Tokens(access_token=pair.access_token, expires_in=pair.expires_in)

    @router.get(
        JWKS_ROUTE,
        tags=["identity"],
        summary="Public keys of access tokens",
        response_model=KeySet,
    )
    async def jwks() -> JSONResponse:
        return JSONResponse(cases.issuer.jwks(), headers={"cache-control": "public, max-age=300"})

    @router.post("/api/identity/register", status_code=201, response_model=Accepted)
    async def register(body: Registration) -> Accepted:
        """Create an account. A provider stays `pending` until an administrator verifies it."""
        await cases.registration.register(
            email=str(body.email),
            password=body.password,
            role=domain.Role(body.role),
            name=body.name,
            company=body.company,
            phone=body.phone,
            country=body.country,
        )
        return Accepted(detail=REGISTERED)

    @router.post(
        "/api/identity/login",
        response_model=Tokens,
        responses={
            401: {
                "description": "Wrong e-mail or password, or a second factor is needed.",
                "content": {
                    "application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/SignInProblem"}
                    }
                },
                "model": SignInProblem,
            }
        },
    )
    async def login(
        body: Credentials, request: Request, response: Response, client: ClientHeader = None
    ) -> Tokens:
        """Exchange e-mail and password for an access token (15 min) and a refresh token."""
        address = request.client.host if request.client else "unknown"
        pair = await cases.sessions.login(str(body.email), body.password, address, body.otp)
        return answer(pair, client, response)

    @router.post("/api/identity/refresh", response_model=Tokens)
    async def refresh(
        request: Request,
        response: Response,
        client: ClientHeader = None,
        body: RefreshRequest | None = None,
    ) -> Tokens:
        """Rotate the refresh token, from the body or (browser app) the cookie. Presenting a
        used one ends the whole session."""
        presented = body.refresh_token if body else None
        presented = presented or browser.cookie_token(request, client)
        if presented is None:
            raise NO_REFRESH_TOKEN
        return answer(await cases.sessions.refresh(presented), client, response)

    @router.post("/api/identity/logout", status_code=204)
    async def logout(
        caller: AnyCaller,
        request: Request,
        client: ClientHeader = None,
        body: LogoutRequest | None = None,
    ) -> Response:
        """End the session of the refresh token (body or cookie) and/or of the access token."""
        presented = body.refresh_token if body else None
        presented = presented or browser.cookie_token(request, client)
        await cases.sessions.logout(presented, caller)
        response = Response(status_code=204)
        if is_web(client):
            browser.clear(response)
        return response

    @router.post("/api/identity/password/forgot", status_code=202, response_model=Accepted)
    async def forgot(body: ForgotPassword) -> Accepted:
        """Mail a single-use reset link; the answer is the same whether the account exists."""
        await cases.passwords.forgot(str(body.email))
        return Accepted(detail=RESET_SENT)

    @router.post("/api/identity/password/reset", status_code=204)
    async def reset(body: ResetPassword) -> Response:
        await cases.passwords.reset(body.token, body.new_password)
        return Response(status_code=204)

    @router.post("/api/identity/password/change", status_code=204)
    async def change(body: ChangePassword, caller: SignedIn) -> Response:
        """Change the password; every other session of the account ends."""
        await cases.passwords.change(caller, body.current_password, body.new_password)
        return Response(status_code=204)

    @router.get("/api/identity/mfa", response_model=SecondFactorStatus)
    async def second_factor(caller: SignedIn) -> SecondFactorStatus:
        """Whether the caller's account has a second factor, and recovery codes left."""
        assert caller.user_id is not None
        status = await cases.second_factors.status(caller.user_id)
        return SecondFactorStatus(**asdict(status))

    @router.post("/api/identity/mfa/enrol", response_model=SecondFactorEnrolment)
    async def enrol(caller: SignedIn) -> SecondFactorEnrolment:
        """Step 1 of turning TOTP on: a new secret for the authenticator app."""
        assert caller.user_id is not None
        return SecondFactorEnrolment(**asdict(await cases.second_factors.enrol(caller.user_id)))

    @router.post("/api/identity/mfa/confirm", response_model=RecoveryCodes)
    async def confirm(body: CodeConfirmation, caller: SignedIn) -> RecoveryCodes:
        """Step 2: a code from the app turns the second factor on; answers recovery codes."""
        assert caller.user_id is not None
        codes = await cases.second_factors.confirm(caller.user_id, body.code)
        return RecoveryCodes(recovery_codes=codes)

    @router.post("/api/identity/mfa/recovery-codes", response_model=RecoveryCodes)
    async def renew_codes(body: CodeConfirmation, caller: SignedIn) -> RecoveryCodes:
        """New recovery codes (the old ones stop working), for a current code."""
        assert caller.user_id is not None
        codes = await cases.second_factors.renew_codes(caller.user_id, body.code)
        return RecoveryCodes(recovery_codes=codes)

    @router.post("/api/identity/mfa/disable", status_code=204)
    async def disable(body: SecondFactorRemoval, caller: SignedIn) -> Response:
        """Turn the second factor off: the password and a code (or recovery code) prove it."""
        assert caller.user_id is not None
        await cases.second_factors.disable(caller.user_id, body.password, body.code)
        return Response(status_code=204)

    @router.get("/api/identity/me", response_model=ProfileOut)
    async def me(caller: SignedIn) -> Response:
        """The caller's profile. The hottest route: serialized straight from the dataclass."""
        assert caller.user_id is not None
        profile = await cases.profiles.me(caller.user_id)
        return Response(PROFILE_JSON.dump_json(profile), media_type="application/json")

    @router.patch("/api/identity/me", response_model=ProfileOut)
    async def update_me(body: ProfileChanges, caller: SignedIn) -> ProfileOut:
        assert caller.user_id is not None
        edit = domain.ProfileEdit(**body.model_dump(exclude_unset=True))  # absent: kept
        return profile_out(await cases.profiles.update(caller.user_id, edit))

    @router.get("/api/identity/users", response_model=UserPage)
    async def list_users(
        _: Admin,
        role: Literal["customer", "provider", "admin"] | None = None,
        status: Literal["active", "pending", "suspended"] | None = None,
        email: Annotated[str | None, Query(max_length=254)] = None,
        country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> UserPage:
        """Search accounts. E-mail matches exactly (it is stored encrypted, found by index)."""
        items, total = await cases.users.search(
            role=domain.Role(role) if role else None,
            status=domain.Status(status) if status else None,
            email=email,
            country=country.upper() if country else None,
            limit=limit,
            offset=offset,
        )
        return UserPage(
            items=[profile_out(p) for p in items], total=total, limit=limit, offset=offset
        )

    @router.get("/api/identity/users/{user_id}", response_model=ProfileOut)
    async def get_user(user_id: str, _: Admin) -> ProfileOut:
        return profile_out(await cases.users.get(user_id))

    @router.post("/api/identity/users/{user_id}/verify", response_model=ProfileOut)
    async def verify(user_id: str, admin: Admin) -> ProfileOut:
        """Verify a pending provider: it can sign in and is listed in the directory."""
        return profile_out(await cases.users.verify(admin, user_id))

    @router.post("/api/identity/users/{user_id}/suspend", response_model=ProfileOut)
    async def suspend(user_id: str, admin: Admin) -> ProfileOut:
        """Suspend an account; its sessions end at once."""
        return profile_out(await cases.users.suspend(admin, user_id))

    @router.post("/api/identity/users/{user_id}/reinstate", response_model=ProfileOut)
    async def reinstate(user_id: str, admin: Admin) -> ProfileOut:
        return profile_out(await cases.users.reinstate(admin, user_id))

    @router.delete("/api/identity/users/{user_id}/second-factor", status_code=204)
    async def reset_second_factor(user_id: str, admin: Admin) -> Response:
        """Remove the second factor of a user who lost it: their sessions end, they sign in
        with the password alone and are told so. Not for the caller's own account."""
        await cases.users.reset_second_factor(admin, user_id)
        return Response(status_code=204)

    @router.delete("/api/identity/users/{user_id}", status_code=204)
    async def delete(user_id: str, admin: Admin) -> Response:
        """Delete an account and crypto-shred its personal data."""
        await cases.users.delete(admin, user_id)
        return Response(status_code=204)

    @router.get(CONTACT_ROUTE, response_model=Contact)
    async def contact(user_id: str, caller: AnyCaller) -> Contact:
        """For other services (mail): whom to write to. Never routed from outside."""
        if caller.role != "service":
            raise Problem(403, detail="Only platform services may read contacts.")
        profile = await cases.profiles.me(user_id)
        return Contact(email=profile.email, name=profile.name, role=profile.role)

    @router.get(REVOCATIONS_ROUTE, response_model=Revocations)
    async def revoked(after: Annotated[int, Query(ge=0)] = 0) -> Revocations:
        """For the gateway: sessions ended early whose access tokens may still be presented."""
        return await cases.sessions.revocations_after(after)

    return router
