"""Bodies of the template endpoints beyond the listing: a template's checks."""

from __future__ import annotations

from hive.api.bodies import _Body
from hive.provisioning.requests.templates import TemplateValidation
from hive.provisioning.template_checks import Check


class CheckOut(_Body):
    name: str
    """`git`, `cells-root`, `command:<name>`, `file:<path>`, `env:<NAME>`, `port:<service>`
    or `agent`."""
    ok: bool
    message: str
    """What was found; when not ok, what to do about it."""

    @classmethod
    def of(cls, check: Check) -> CheckOut:
        return cls(name=check.name, ok=check.ok, message=check.message)


class TemplateValidationOut(_Body):
    """Whether a cell of the template can be made here, now, with its options' defaults
    (a create runs the same checks first, unless `force`)."""

    template_id: str
    ok: bool
    checks: list[CheckOut]

    @classmethod
    def of(cls, validation: TemplateValidation) -> TemplateValidationOut:
        return cls(
            template_id=validation.template_id,
            ok=validation.ok,
            checks=[CheckOut.of(check) for check in validation.checks],
        )
