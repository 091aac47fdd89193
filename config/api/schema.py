"""OpenAPI generation: every operation documents the errors the API really returns.

400 is an object of field → messages (or `detail`); 401, 403, 404 and 409 carry a `detail` message.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="中文说明")


VALIDATION_ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description="输入不符合要求：字段名 → 中文错误信息列表，或 detail")
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
            # Amounts are returned as exact strings ("3659800.00") and accepted as strings or JSON numbers.
            number = {"type": "number", **{k: schema[k] for k in ("minimum", "maximum") if k in schema}}
            string = {k: v for k, v in schema.items() if k not in ("minimum", "maximum", "description")}
            documented = {"oneOf": [string, number]}
            if "description" in schema:
                documented["description"] = schema["description"]
            return documented
        return schema

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
