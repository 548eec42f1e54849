"""The route table: every external route, the service behind it and who may call it.

Read top to bottom, this file is the whole external surface of Clearway. A path that is not
here does not exist from the outside, whatever a service implements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from clearway.kit.caller import Role

# Who may call: everyone, any signed-in user, or the listed roles.
PUBLIC: frozenset[Role] = frozenset({"anonymous", "customer", "provider", "admin"})
SIGNED_IN: frozenset[Role] = frozenset({"customer", "provider", "admin"})
ADMIN: frozenset[Role] = frozenset({"admin"})
CUSTOMER: frozenset[Role] = frozenset({"customer"})
PROVIDER: frozenset[Role] = frozenset({"provider"})

# Limit classes: "auth" routes (credentials, resets) get a much smaller rate bucket; "upload"
# routes (documents) take a larger request body than the rest.
LimitClass = Literal["default", "auth", "upload"]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    service: str
    allow: frozenset[Role]
    limit: LimitClass = "default"
    pattern: re.Pattern[str] | None = field(default=None, compare=False)


def route(
    method: str, path: str, service: str, allow: frozenset[Role], limit: LimitClass = "default"
) -> Route:
    pattern = None
    if "{" in path:
        parts = ("[^/]+" if p.startswith("{") else re.escape(p) for p in path.split("/"))
        pattern = re.compile("^" + "/".join(parts) + "$")
    return Route(method, path, service, allow, limit, pattern)


ROUTES: tuple[Route, ...] = (
    # identity: accounts, sessions, password reset, administration of users
    route("GET", "/.well-known/jwks.json", "identity", PUBLIC),
    route("POST", "/api/identity/register", "identity", PUBLIC, "auth"),
    route("POST", "/api/identity/login", "identity", PUBLIC, "auth"),
    route("POST", "/api/identity/refresh", "identity", PUBLIC, "auth"),
    route("POST", "/api/identity/logout", "identity", PUBLIC, "auth"),
    route("POST", "/api/identity/password/forgot", "identity", PUBLIC, "auth"),
    route("POST", "/api/identity/password/reset", "identity", PUBLIC, "auth"),
    route("POST", "/api/identity/password/change", "identity", SIGNED_IN, "auth"),
    route("GET", "/api/identity/mfa", "identity", SIGNED_IN),
    route("POST", "/api/identity/mfa/enrol", "identity", SIGNED_IN, "auth"),
    route("POST", "/api/identity/mfa/confirm", "identity", SIGNED_IN, "auth"),
    route("POST", "/api/identity/mfa/recovery-codes", "identity", SIGNED_IN, "auth"),
    route("POST", "/api/identity/mfa/disable", "identity", SIGNED_IN, "auth"),
    route("GET", "/api/identity/me", "identity", SIGNED_IN),
    route("PATCH", "/api/identity/me", "identity", SIGNED_IN),
    route("GET", "/api/identity/users", "identity", ADMIN),
    route("GET", "/api/identity/users/{user_id}", "identity", ADMIN),
    route("POST", "/api/identity/users/{user_id}/verify", "identity", ADMIN),
    route("POST", "/api/identity/users/{user_id}/suspend", "identity", ADMIN),
    route("POST", "/api/identity/users/{user_id}/reinstate", "identity", ADMIN),
    route("DELETE", "/api/identity/users/{user_id}", "identity", ADMIN),
    route("DELETE", "/api/identity/users/{user_id}/second-factor", "identity", ADMIN),
    # common: mailbox, key service, dead letters
    route("GET", "/api/common/mailbox", "common", ADMIN),
    route("GET", "/api/common/mailbox/{message_id}", "common", ADMIN),
    route("POST", "/api/common/keys/rotate", "common", ADMIN),
    route("GET", "/api/common/keys", "common", ADMIN),
    route("GET", "/api/common/dead-letters", "common", ADMIN),
    route("POST", "/api/common/dead-letters/replay", "common", ADMIN),
    # common: in-app notifications, each user's own
    route("GET", "/api/common/notifications", "common", SIGNED_IN),
    route("POST", "/api/common/notifications/read", "common", SIGNED_IN),
    route("POST", "/api/common/notifications/{notification_id}/read", "common", SIGNED_IN),
    # orders: provider directory, orders, messages, attachments, reports, clearances
    route("GET", "/api/orders/providers", "orders", SIGNED_IN),
    route("POST", "/api/orders/providers", "orders", ADMIN),
    route("GET", "/api/orders/providers/me", "orders", PROVIDER),
    route("PUT", "/api/orders/providers/me", "orders", PROVIDER),
    route("GET", "/api/orders/providers/{provider_id}", "orders", SIGNED_IN),
    route("PATCH", "/api/orders/providers/{provider_id}", "orders", ADMIN),
    route("POST", "/api/orders/providers/{provider_id}/suspend", "orders", ADMIN),
    route("POST", "/api/orders/providers/{provider_id}/reinstate", "orders", ADMIN),
    route("POST", "/api/orders/orders", "orders", CUSTOMER),
    route("GET", "/api/orders/orders", "orders", SIGNED_IN),
    route("GET", "/api/orders/orders/{order_id}", "orders", SIGNED_IN),
    route("POST", "/api/orders/orders/{order_id}/transitions", "orders", SIGNED_IN),
    route("GET", "/api/orders/orders/{order_id}/messages", "orders", SIGNED_IN),
    route("POST", "/api/orders/orders/{order_id}/messages", "orders", SIGNED_IN),
    route("GET", "/api/orders/orders/{order_id}/attachments", "orders", SIGNED_IN),
    route("POST", "/api/orders/orders/{order_id}/attachments", "orders", SIGNED_IN, "upload"),
    route("GET", "/api/orders/orders/{order_id}/attachments/{attachment_id}", "orders", SIGNED_IN),
    route("GET", "/api/orders/orders/{order_id}/reports", "orders", SIGNED_IN),
    route("POST", "/api/orders/orders/{order_id}/reports", "orders", PROVIDER),
    route("GET", "/api/orders/reports", "orders", SIGNED_IN),
    route("GET", "/api/orders/reports/{report_id}", "orders", SIGNED_IN),
    route("POST", "/api/orders/reports/{report_id}/withdraw", "orders", PROVIDER),
    route("POST", "/api/orders/clearances", "orders", CUSTOMER),
    route("GET", "/api/orders/clearances", "orders", SIGNED_IN),
    route("GET", "/api/orders/clearances/{clearance_id}", "orders", SIGNED_IN),
    # anyone: verify a clearance certificate (by id, by presenting it, or on a web page)
    route("GET", "/api/orders/clearance-keys", "orders", PUBLIC),
    route("GET", "/api/orders/clearances/{clearance_id}/verify", "orders", PUBLIC),
    route("POST", "/api/orders/clearances/verify", "orders", PUBLIC),
    route("GET", "/verify/{clearance_id}", "orders", PUBLIC),
    # monitor: statistics, activity and the audit trail (metrics are internal only)
    route("GET", "/api/monitor/requests/stats", "monitor", ADMIN),
    route("GET", "/api/monitor/searches/top", "monitor", ADMIN),
    route("GET", "/api/monitor/users/active", "monitor", ADMIN),
    route("GET", "/api/monitor/orders/funnel", "monitor", ADMIN),
    route("GET", "/api/monitor/activity", "monitor", ADMIN),
    route("GET", "/api/monitor/audit", "monitor", ADMIN),
    route("GET", "/api/monitor/audit/verify", "monitor", ADMIN),
    # rules: search and self-check for everyone, checklists for their owners, administration
    route("GET", "/api/rules/search", "rules", PUBLIC),
    route("GET", "/api/rules/self-check", "rules", PUBLIC),
    route("GET", "/api/rules/coverage", "rules", PUBLIC),
    route("GET", "/api/rules/markets", "rules", PUBLIC),
    route("GET", "/api/rules/categories", "rules", PUBLIC),
    route("GET", "/api/rules/questions", "rules", PUBLIC),
    route("GET", "/api/rules/hs", "rules", PUBLIC),
    route("GET", "/api/rules/hs/{code}", "rules", PUBLIC),
    route("POST", "/api/rules/checklists", "rules", SIGNED_IN),
    route("GET", "/api/rules/checklists", "rules", SIGNED_IN),
    route("GET", "/api/rules/checklists/{checklist_id}", "rules", SIGNED_IN),
    route("PUT", "/api/rules/checklists/{checklist_id}/answers", "rules", SIGNED_IN),
    route("DELETE", "/api/rules/checklists/{checklist_id}", "rules", SIGNED_IN),
    route("GET", "/api/rules/checklists/{checklist_id}/export", "rules", SIGNED_IN),
    route("GET", "/api/rules/admin/rules", "rules", ADMIN),
    route("POST", "/api/rules/admin/rules", "rules", ADMIN),
    route("GET", "/api/rules/admin/rules/{code}", "rules", ADMIN),
    route("PATCH", "/api/rules/admin/rules/{code}", "rules", ADMIN),
    route("POST", "/api/rules/admin/rules/{code}/publish", "rules", ADMIN),
    route("POST", "/api/rules/admin/rules/{code}/retire", "rules", ADMIN),
    route("GET", "/api/rules/admin/rules/{code}/history", "rules", ADMIN),
    route("PUT", "/api/rules/admin/questions/{question_id}", "rules", ADMIN),
    route("POST", "/api/rules/admin/import", "rules", ADMIN),
    route("GET", "/api/rules/admin/export", "rules", ADMIN),
)


class RouteTable:
    """Finds the route for a method and path: a dict for fixed paths, patterns for the rest."""

    def __init__(self, routes: tuple[Route, ...] = ROUTES) -> None:
        self.routes = routes
        self._fixed: dict[tuple[str, str], Route] = {}
        self._templated: list[Route] = []
        for r in routes:
            if r.pattern is None:
                self._fixed[(r.method, r.path)] = r
            else:
                self._templated.append(r)

    def match(self, method: str, path: str) -> Route | None:
        """The route serving `method` on `path`, if any (`methods_for` tells 405 from 404)."""
        found = self._fixed.get((method, path))
        if found is not None:
            return found
        for r in self._templated:
            if r.method == method and r.pattern is not None and r.pattern.match(path):
                return r
        return None

    def methods_for(self, path: str) -> list[str]:
        """The methods some route serves on `path` (none: the path does not exist)."""
        return sorted(
            {
                r.method
                for r in self.routes
                if r.path == path or (r.pattern and r.pattern.match(path))
            }
        )
