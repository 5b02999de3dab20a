"""Demo data for the embedded run: users of every role, and each context's demo data.

Idempotent: running it again finds what exists and creates only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice.identity import service as identity
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    name: str
    role: Role
    business: str | None = None


DEMO_USERS = (
    DemoUser("admin@boxoffice.local", "admin-pass-1234", "Demo Admin", Role.ADMIN),
    DemoUser(
        "seller@boxoffice.local", "seller-pass-1234", "Demo Seller", Role.SELLER, "Demo Live Co."
    ),
    DemoUser("staff@boxoffice.local", "staff-pass-1234", "Demo Staff", Role.STAFF),
    DemoUser("fan@boxoffice.local", "fan-pass-1234", "Demo Fan", Role.CUSTOMER),
)


async def seed(runtime: Runtime) -> list[tuple[DemoUser, bool]]:
    """Create the demo users; returns each with whether it was created now."""
    if runtime.settings.is_production:
        raise RuntimeError("demo data is not seeded in production")
    results = []
    for demo in DEMO_USERS:
        _, created = await _ensure_user(runtime, demo)
        results.append((demo, created))
    await _seed_catalog(runtime)
    return results


async def _ensure_user(runtime: Runtime, demo: DemoUser) -> tuple[str, bool]:
    """The demo user's id, created unless it exists (in a unit of work of its own), and
    whether it was created now."""
    async with runtime.uow() as uow:
        user, created = await identity.ensure_user(
            uow,
            runtime,
            email=demo.email,
            password=demo.password,
            name=demo.name,
            role=demo.role,
            seller_business=demo.business,
        )
        return user.id, created  # read before the unit of work closes (and expires) the row


async def _seed_catalog(runtime: Runtime) -> None:
    """The demo arena (~2,000 seats, 4 grades) and a published event with two shows."""
    from boxoffice.catalog.demo import ensure_demo_catalog

    seller = next(d for d in DEMO_USERS if d.role is Role.SELLER)
    seller_id, _ = await _ensure_user(runtime, seller)
    demo_catalog = await ensure_demo_catalog(runtime, seller_id)
    await _seed_merch(runtime, seller_id, demo_catalog.event_id)
    await _seed_storefront(runtime, seller_id)


async def _seed_storefront(runtime: Runtime, seller_id: str) -> None:
    """More events for the shop to show: a musical, a festival opening in a few minutes and
    a sold-out concert (docs/web.md)."""
    from boxoffice.web.demo import ensure_storefront

    await ensure_storefront(runtime, seller_id)


async def _seed_merch(runtime: Runtime, seller_id: str, event_id: str) -> None:
    """A light stick and a T-shirt in four sizes for the demo event."""
    from boxoffice.merch.demo import ensure_demo_goods

    await ensure_demo_goods(runtime, seller_id, event_id)


def describe(results: list[tuple[DemoUser, bool]]) -> str:
    lines = ["Demo accounts (development only):"]
    for demo, created in results:
        state = "created" if created else "exists"
        lines.append(f"  {demo.role.value:<9} {demo.email:<26} {demo.password:<18} ({state})")
    return "\n".join(lines)
