"""OpenAPI generation: every operation documents the errors the API really returns.

400 is an object of field → messages (or `detail`); 401, 403, 404 and 409 carry a `detail` message.
"""

from decimal import Decimal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="中文说明")


VALIDATION_ERROR = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="输入不符合要求：字段名 → 中文错误信息列表，或 detail。引用的记录 id（外键）不存在或不在您的管辖范围内时，"
    "该字段也返回 400（不是 404）。",
)
ERRORS = {
    "400": VALIDATION_ERROR,
    "401": OpenApiResponse(ErrorSerializer, description="未登录或令牌无效"),
    "403": OpenApiResponse(ErrorSerializer, description="没有该操作的权限"),
    "404": OpenApiResponse(ErrorSerializer, description="没有该记录或页码，或无权查看"),
}
CONFLICT = OpenApiResponse(ErrorSerializer, description="版本已过期：记录已被他人修改")


class DocumentedErrorsSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            # Amounts are returned as exact strings ("3659800.00") and accepted as strings or JSON numbers, within
            # the column's digits (max_digits, decimal_places) and the field's own bounds.
            number = {"type": "number", **{k: schema[k] for k in ("minimum", "maximum") if k in schema}}
            if field.max_digits is not None and field.decimal_places is not None:
                largest = 10 ** (field.max_digits - field.decimal_places) - Decimal(1).scaleb(-field.decimal_places)
                number["maximum"] = min(number.get("maximum", largest), largest)
                number.setdefault("minimum", -largest)
                number["multipleOf"] = float(Decimal(1).scaleb(-field.decimal_places))
            string = {k: v for k, v in schema.items() if k not in ("minimum", "maximum", "description")}
            documented = {"oneOf": [string, number]}
            if "description" in schema:
                documented["description"] = schema["description"]
            return documented
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return operation
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "query":
                continue
            name = parameter["name"]
            if name == "page":
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif name == "page_size":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self._page_size_limit()}
            elif name == "ordering":
                allowed = self._ordering_fields()
                if allowed:  # an unknown field is a 400 (config.api.filters.StrictOrderingFilter)
                    parameter["schema"] = {"type": "string", "enum": [f"{sign}{f}" for f in allowed for sign in ("", "-")]}
        return operation

    def _page_size_limit(self) -> int:
        paginator = getattr(self.view, "pagination_class", None)
        return getattr(paginator, "max_page_size", None) or 200

    def _ordering_fields(self) -> list[str]:
        from .filters import StrictOrderingFilter

        if not any(issubclass(b, StrictOrderingFilter) for b in getattr(self.view, "filter_backends", [])):
            return []
        try:
            queryset = self.view.get_queryset()
        except Exception:
            queryset = getattr(self.view, "queryset", None)
        fields = StrictOrderingFilter().get_valid_fields(queryset, self.view, {"request": None})
        return sorted(name for name, _label in fields)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = dict(ERRORS)
        if self.method in ("PUT", "PATCH"):
            errors["409"] = CONFLICT
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses


def require_version_on_updates(result, generator, request, public):
    """Postprocessing hook: `version` is required in every PUT and PATCH body (the server answers 400 without it).

    drf-spectacular shares one request component between POST and PUT, so PUT gets its own copy
    (`…UpdateRequest`); PATCH's `Patched…Request` is used by PATCH only and is marked in place.
    """
    schemas = result.get("components", {}).get("schemas", {})
    for item in result.get("paths", {}).values():
        for method in ("put", "patch"):
            for media in item.get(method, {}).get("requestBody", {}).get("content", {}).values():
                name = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                component = schemas.get(name)
                if component is None or "version" not in component.get("properties", {}):
                    continue
                required = [*component.get("required", [])]
                if "version" not in required:
                    required.append("version")
                if method == "put":
                    update = f"{name.removesuffix('Request')}UpdateRequest"
                    schemas[update] = {**component, "required": required}
                    media["schema"] = {"$ref": f"#/components/schemas/{update}"}
                else:
                    component["required"] = required
    return result
