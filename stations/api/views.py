from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.throttling import TokenRateThrottle
from stations.models import StationRules


class MyRulesView(APIView):
    """The upload agent's rules for the account of this token (``ledger watch DIR`` without
    ``--rule`` reads them). Set by the lab manager in the admin (Station rules)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [TokenRateThrottle]

    @extend_schema(responses=inline_serializer("StationRules", {
        "account": serializers.CharField(), "rules_toml": serializers.CharField(),
        "updated_at": serializers.DateTimeField()}))
    def get(self, request):
        rules = StationRules.objects.filter(account=request.user).first()
        if rules is None:
            raise NotFound(f"No station rules for {request.user.username}: a lab manager adds them in the admin "
                           "(Station rules), or give the agent --rule RULES.toml.")
        return Response({"account": request.user.username, "rules_toml": rules.rules_toml,
                         "updated_at": rules.updated_at})
