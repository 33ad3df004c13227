"""The [owner] table: whose village it is, their addresses, zone and hours."""

from __future__ import annotations

from villaged.config import allowed_keys
from villaged.domain.village import Owner, WorkingHours
from villaged.schema.typed_table import TypedTable


def read_owner(t: TypedTable) -> Owner:
    t.check_keys(allowed_keys.OWNER)
    name = t.text("name", required=True, nonempty=True, example='name = "Dana Reyes"')
    addresses = t.emails("addresses", example='addresses = ["dana@uni.example"]')
    timezone = t.timezone("timezone")
    working_hours = t.working_hours(
        "working_days",
        "working_hours",
        WorkingHours(),
        days_example='working_days = ["mon", "tue", "wed", "thu", "fri"]',
        hours_example='working_hours = "09:00-17:00"',
    )
    return Owner(name=name, addresses=addresses, timezone=timezone, working_hours=working_hours)
