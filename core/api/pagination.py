from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=``; a cap so one request cannot pull the whole table (use the export)."""

    default_limit = 50
    max_limit = 500
