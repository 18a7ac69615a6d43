from rest_framework import serializers

from core.access import restrict


class RestrictedSlugRelatedField(serializers.SlugRelatedField):
    """A related record named by label (or code) and looked up only among what the requesting user
    may see — a label from another project reads as "does not exist", never leaks it."""

    def get_queryset(self):
        request = self.context.get("request")
        return restrict(super().get_queryset(), getattr(request, "user", None))


class RestrictedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        return restrict(super().get_queryset(), getattr(request, "user", None))
