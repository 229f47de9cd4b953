"""The base classes of API bodies: camelCase on the wire, requests strict about keys."""

from __future__ import annotations

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class _Request(_Body):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def _unicode(value: object) -> object:
    try:
        if isinstance(value, str):
            value.encode()
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "unicode_text", "must be Unicode text, without lone surrogates (\\ud800-\\udfff)"
        ) from None
    return value


#: JSON can escape lone surrogates ("\ud800"), which are not text: the database could not
#: store them, a response could not carry them. Placed after a field's length limits,
#: so that those keep their own messages.
_UNICODE = BeforeValidator(_unicode)
