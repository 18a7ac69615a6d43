from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from core.pagination import bounded_count


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=``; a cap so one request cannot pull the whole table (use the export).

    ``count`` is exact up to ``core.pagination.EXACT_COUNT_LIMIT`` rows and the planner's estimate
    past it on PostgreSQL, with ``count_estimated: true`` saying which."""

    default_limit = 50
    max_limit = 500
    count_estimated = False

    def get_count(self, queryset):
        count, self.count_estimated = bounded_count(queryset)
        return count

    def get_paginated_response(self, data):
        return Response({"count": self.count, "count_estimated": self.count_estimated,
                         "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"] = {"count": schema["properties"]["count"],
                                "count_estimated": {"type": "boolean", "description": (
                                    "true when count is PostgreSQL's estimate (past 10,000 rows)")},
                                **{k: v for k, v in schema["properties"].items() if k != "count"}}
        schema.setdefault("required", ["count", "results"])
        if "count_estimated" not in schema["required"]:
            schema["required"].append("count_estimated")
        return schema
