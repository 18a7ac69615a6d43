"""The API tokens page: one's own tokens, and (for staff) the instrument accounts' tokens.

A new key is rendered once, in the response to the POST that made it (``no-store``), and never
again: the database keeps only its digest."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.models import ApiToken
from core.tokens import can_manage_instruments, can_manage_tokens_of, instrument_accounts, token_create, token_revoke, tokens_of


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where it is used, e.g. “J-L-V rig PC” or “my notebook”.")
    owner = forms.ChoiceField(label="For", required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", f"me ({actor.get_username()})")]
        if can_manage_instruments(actor):
            choices += [(u.username, f"instrument {u.username}") for u in instrument_accounts()]
        self.fields["owner"].choices = choices
        self.actor = actor

    def owner_user(self):
        username = self.cleaned_data.get("owner")
        if not username:
            return self.actor
        return get_user_model().objects.get(username=username)


def _context(request, form, new=None):
    instruments = []
    if can_manage_instruments(request.user):
        instruments = [(account, list(tokens_of(account))) for account in instrument_accounts()]
    return {"form": form, "tokens": list(tokens_of(request.user)), "instruments": instruments, "new": new}


@login_required
def token_list(request):
    if request.method == "POST":
        form = TokenCreateForm(request.POST, actor=request.user)
        if form.is_valid():
            owner = form.owner_user()
            if not can_manage_tokens_of(request.user, owner):
                raise Http404
            token, key = token_create(user=owner, name=form.cleaned_data["name"], created_by=request.user)
            response = render(request, "core/tokens.html",
                              _context(request, TokenCreateForm(actor=request.user), new={"token": token, "key": key}))
            response["Cache-Control"] = "no-store"  # the key must not stay in any cache
            return response
    else:
        form = TokenCreateForm(actor=request.user)
    return render(request, "core/tokens.html", _context(request, form))


@login_required
@require_POST
def token_revoke_view(request, pk: int):
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    if not can_manage_tokens_of(request.user, token.user):
        raise Http404  # someone else's token: as if it did not exist
    if token_revoke(token, by=request.user):
        messages.success(request, f"Token “{token.name}” ({token.prefix}…) of {token.user.get_username()} revoked: "
                                  "requests with it now get 401.")
    return redirect("api-tokens")
