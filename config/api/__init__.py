"""The REST kit every app\x27s API builds on: base serializers and viewsets, permissions, pagination, schema."""
