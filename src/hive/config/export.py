"""The JSON Schema of `hive.config.json`, for editors and `$schema` references."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from hive.config.schema import HiveConfig

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "hive.config.schema.json"


class _EditorSchema(GenerateJsonSchema):
    """Describes the file as written, not the Python types behind it.

    Optional keys are simply absent in the file, so `null` is not offered and
    `"default": null` is not shown; property titles would only repeat the key.
    """

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if "default" in schema and schema["default"] is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that `hive.config.json` files are validated by."""
    schema = HiveConfig.model_json_schema(by_alias=True, schema_generator=_EditorSchema)
    return {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, **schema, "title": "HiveConfig"}
