"""Orders' HTTP API: thin handlers over the directory, orders and clearances."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Header, Query, Request, Response
from starlette.responses import HTMLResponse, JSONResponse

from clearway.kit.caller import Admin, AnyCaller, SignedIn
from clearway.kit.problems import Problem
from clearway.services.orders import domain
from clearway.services.orders.attachments import Attachments
from clearway.services.orders.clearances import Clearances, PublicClearance
from clearway.services.orders.domain import Action
from clearway.services.orders.messages import Messages
from clearway.services.orders.orders import OrderRequest, Orders, QuoteTerms
from clearway.services.orders.providers import Directory, ProfileFields
from clearway.services.orders.reports import ReportRequest, Reports
from clearway.services.orders.scanning import ALLOWED
from clearway.services.orders.schemas import (
    AttachmentJson,
    AttachmentOut,
    ClearanceOut,
    ClearanceRequest,
    ClearanceStatus,
    Jwks,
    MessageIn,
    MessageOut,
    OrderCreate,
    OrderOut,
    ProfileChanges,
    ProviderAdd,
    ProviderOut,
    ProviderSearch,
    ReportIn,
    ReportOut,
    TransitionIn,
    Verification,
    VerifyRequest,
    WithdrawIn,
)
from clearway.services.orders.uploads import read_upload

PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="A retried request with the same key returns the same order.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def _customer(caller: Any) -> None:
    if caller.role != "customer":
        raise Problem(403, detail="Only customers may do this.")


def profile_fields(body: ProfileChanges, exclude: set[str] | None = None) -> ProfileFields:
    """The fields a profile change sent (checked against the schema); the rest stay as they are."""
    return cast(ProfileFields, body.model_dump(exclude_unset=True, exclude=exclude, mode="json"))


def build_router(
    *,
    directory: Directory,
    orders: Orders,
    messages: Messages,
    attachments: Attachments,
    reports: Reports,
    clearances: Clearances,
) -> APIRouter:
    router = APIRouter()

    # --- provider directory ----------------------------------------------------------------

    @router.get("/api/orders/providers", response_model=ProviderSearch, tags=["orders"])
    async def search_providers(
        caller: SignedIn,
        checklist_id: Annotated[str | None, Query(max_length=64)] = None,
        market: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2,8}$")] = None,
        requirement: Annotated[list[str] | None, Query(max_length=200)] = None,
        status: Annotated[str | None, Query(pattern=r"^(pending|listed|suspended)$")] = None,
        limit: Limit = 20,
    ) -> Any:
        """Listed providers; for a checklist, those covering its requirements, best first
        (coverage, then the market, then turnaround). Administrators may filter by status."""
        hits, checklist = await directory.search(
            caller,
            checklist_id=checklist_id,
            market=market.upper() if market else None,
            codes=requirement or [],
            status=status,
            limit=limit,
        )
        return {
            "checklist_id": checklist.id if checklist else None,
            "market": checklist.market if checklist else (market.upper() if market else None),
            "items": [{"provider": asdict(p), "match": asdict(m) if m else None} for p, m in hits],
        }

    @router.post("/api/orders/providers", status_code=201, response_model=ProviderOut)
    async def add_provider(body: ProviderAdd, admin: Admin) -> Any:
        """Add a provider's profile; it is listed once its account is verified."""
        profile = profile_fields(body, exclude={"user_id"})
        return asdict(await directory.add(admin, body.user_id, profile))

    @router.get("/api/orders/providers/me", response_model=ProviderOut)
    async def my_profile(caller: SignedIn) -> Any:
        assert caller.user_id is not None
        return asdict(await directory.get(caller, caller.user_id))

    @router.put("/api/orders/providers/me", response_model=ProviderOut)
    async def update_my_profile(body: ProfileChanges, caller: SignedIn) -> Any:
        """A provider publishes what it covers: requirement types, markets, accreditations."""
        assert caller.user_id is not None
        changes = profile_fields(body)
        return asdict(await directory.update(caller, caller.user_id, changes))

    @router.get("/api/orders/providers/{provider_id}", response_model=ProviderOut)
    async def get_provider(provider_id: str, caller: SignedIn) -> Any:
        return asdict(await directory.get(caller, provider_id))

    @router.patch("/api/orders/providers/{provider_id}", response_model=ProviderOut)
    async def edit_provider(provider_id: str, body: ProfileChanges, admin: Admin) -> Any:
        changes = profile_fields(body)
        return asdict(await directory.update(admin, provider_id, changes))

    @router.post("/api/orders/providers/{provider_id}/suspend", response_model=ProviderOut)
    async def suspend_provider(provider_id: str, admin: Admin) -> Any:
        """Take a provider out of the directory (its running orders go on)."""
        return asdict(await directory.set_suspended(admin, provider_id, True))

    @router.post("/api/orders/providers/{provider_id}/reinstate", response_model=ProviderOut)
    async def reinstate_provider(provider_id: str, admin: Admin) -> Any:
        return asdict(await directory.set_suspended(admin, provider_id, False))

    # --- orders ----------------------------------------------------------------------------

    @router.post("/api/orders/orders", status_code=201, response_model=OrderOut)
    async def create_order(
        body: OrderCreate, caller: SignedIn, response: Response, key: IdempotencyKey
    ) -> Any:
        """Place an order with a provider for (some of) a checklist's requirements. The
        Idempotency-Key header is required, so a retry cannot order twice."""
        _customer(caller)
        order, replayed = await orders.place(caller, OrderRequest(**body.model_dump()), key)
        if replayed:
            response.status_code = 200
            response.headers["idempotent-replayed"] = "true"
        response.headers["location"] = f"/api/orders/orders/{order.id}"
        return order

    @router.get("/api/orders/orders", response_model=list[OrderOut])
    async def list_orders(
        caller: SignedIn,
        state: Annotated[domain.State | None, Query()] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Any:
        """Your orders (a customer's, a provider's); all of them for administrators."""
        return await orders.find(caller, state, limit, offset)

    @router.get("/api/orders/orders/{order_id}", response_model=OrderOut)
    async def get_order(order_id: str, caller: SignedIn) -> Any:
        return await orders.get(caller, order_id)

    @router.post("/api/orders/orders/{order_id}/transitions", response_model=OrderOut)
    async def transition(order_id: str, body: TransitionIn, caller: SignedIn) -> Any:
        """Move the order on. Who may do what, from which state, is in `domain.TRANSITIONS`;
        a conflicting change made at the same time answers 409."""
        return await orders.transition(
            caller,
            order_id,
            Action(body.action),
            reason=body.reason,
            expected_version=body.version,
            quote=QuoteTerms(**body.quote.model_dump()) if body.quote else None,
        )

    @router.get("/api/orders/orders/{order_id}/messages", response_model=list[MessageOut])
    async def list_messages(order_id: str, caller: SignedIn) -> Any:
        return await messages.list(caller, order_id)

    @router.post(
        "/api/orders/orders/{order_id}/messages", status_code=201, response_model=MessageOut
    )
    async def post_message(order_id: str, body: MessageIn, caller: SignedIn) -> Any:
        return await messages.post(caller, order_id, body.body)

    @router.get("/api/orders/orders/{order_id}/attachments", response_model=list[AttachmentOut])
    async def list_attachments(order_id: str, caller: SignedIn) -> Any:
        return await attachments.list(caller, order_id)

    @router.post(
        "/api/orders/orders/{order_id}/attachments",
        status_code=201,
        response_model=AttachmentOut,
        openapi_extra={
            "requestBody": {
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                            "required": ["file"],
                        }
                    },
                    "application/json": {"schema": AttachmentJson.model_json_schema()},
                }
            }
        },
    )
    async def upload(order_id: str, request: Request, caller: SignedIn) -> Any:
        """Attach a document (multipart field `file`, or JSON with base64 content). PDF, PNG,
        JPEG, text, CSV, DOCX and XLSX; the content must be what the type says; scanned. Within
        the per-file limit and the order's and the uploader's storage quotas (413, with the
        figures); a closed order takes none (409)."""
        filename, content_type, content = await read_upload(request, attachments.max_bytes)
        return await attachments.add(caller, order_id, filename, content_type, content)

    @router.get(
        "/api/orders/orders/{order_id}/attachments/{attachment_id}",
        response_class=Response,
        responses={
            200: {
                "description": "The document, in the type it was stored as.",
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in sorted(ALLOWED)
                },
            }
        },
    )
    async def download(order_id: str, attachment_id: str, caller: SignedIn) -> Response:
        """Download an attachment (410 once erased with the account of one of the users)."""
        meta, content = await attachments.download(caller, order_id, attachment_id)
        return Response(
            content,
            media_type=meta.content_type,
            headers={
                "content-disposition": "attachment; filename*=UTF-8''"
                + quote(meta.filename, safe=""),
                "x-content-type-options": "nosniff",
            },
        )

    # --- reports ---------------------------------------------------------------------------

    @router.get("/api/orders/orders/{order_id}/reports", response_model=list[ReportOut])
    async def order_reports(order_id: str, caller: SignedIn) -> Any:
        return await reports.find(caller, order_id, 100, 0)

    @router.post("/api/orders/orders/{order_id}/reports", status_code=201, response_model=ReportOut)
    async def issue_report(order_id: str, body: ReportIn, caller: SignedIn) -> Any:
        """The order's provider delivers a report covering some of its requirements."""
        return await reports.issue(caller, order_id, ReportRequest(**body.model_dump()))

    @router.get("/api/orders/reports", response_model=list[ReportOut])
    async def list_reports(caller: SignedIn, limit: Limit = 20, offset: Offset = 0) -> Any:
        """Reports you received (customer) or issued (provider)."""
        return await reports.find(caller, None, limit, offset)

    @router.get("/api/orders/reports/{report_id}", response_model=ReportOut)
    async def get_report(report_id: str, caller: SignedIn) -> Any:
        return await reports.get(caller, report_id)

    @router.post("/api/orders/reports/{report_id}/withdraw", response_model=ReportOut)
    async def withdraw_report(report_id: str, body: WithdrawIn, caller: SignedIn) -> Any:
        """Withdraw a report you issued; clearances relying on it are revoked."""
        return await reports.withdraw(caller, report_id, body.reason)

    # --- clearances ------------------------------------------------------------------------

    @router.get("/api/orders/clearance-keys", tags=["orders"], response_model=Jwks)
    async def clearance_keys() -> JSONResponse:
        """The public keys that verify clearance certificates (JWKS)."""
        return JSONResponse(
            clearances.signer.jwks(), headers={"cache-control": "public, max-age=300"}
        )

    @router.post("/api/orders/clearances", status_code=201, response_model=ClearanceOut)
    async def request_clearance(body: ClearanceRequest, caller: SignedIn) -> Any:
        """Ask for a shipment clearance: issued if every requirement that applies (from the
        checklist's answers) is covered by a valid report of a delivered order; else 422 with
        what is missing. A product or market the rule base does not cover cannot be cleared."""
        _customer(caller)
        return await clearances.request(caller, body.checklist_id, list(body.report_ids))

    @router.get("/api/orders/clearances", response_model=list[ClearanceOut])
    async def list_clearances(caller: SignedIn, limit: Limit = 20, offset: Offset = 0) -> Any:
        return await clearances.find(caller, limit, offset)

    @router.post("/api/orders/clearances/verify", response_model=Verification)
    async def verify_certificate(body: VerifyRequest) -> Any:
        """Verify a presented certificate: signature first, then whether it still stands."""
        return await clearances.verify(body.certificate)

    @router.get("/api/orders/clearances/{clearance_id}", response_model=ClearanceOut)
    async def get_clearance(clearance_id: str, caller: SignedIn) -> Any:
        return await clearances.get(caller, clearance_id)

    @router.get("/api/orders/clearances/{clearance_id}/verify", response_model=ClearanceStatus)
    async def clearance_status(clearance_id: str, _: AnyCaller) -> Any:
        """For anyone: whether the certificate with this id stands, and if not why."""
        return await clearances.status(clearance_id)

    @router.get(
        "/verify/{clearance_id}",
        response_class=HTMLResponse,
        responses={
            200: {
                "description": "A page saying whether the certificate stands, and if not why.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            },
            404: {
                "description": "A page saying there is no such certificate.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            },
        },
    )
    async def verify_page(clearance_id: str, _: AnyCaller) -> HTMLResponse:
        """For anyone, in a browser: whether the certificate with this id stands."""
        try:
            view: PublicClearance | None = await clearances.status(clearance_id)
        except domain.NotFound:
            view = None
        html = PAGES.get_template("verify.html").render(clearance_id=clearance_id, view=view)
        return HTMLResponse(
            html,
            status_code=200 if view else 404,
            headers={"content-security-policy": PAGE_CSP},
        )

    return router
