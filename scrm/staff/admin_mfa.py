"""The admin's sign-in with a second factor: password, then code; enrolment for the privileged.

1. /admin/login/: the password (Django's form, behind django-axes). An account with a
   confirmed authenticator is not signed in yet: the session remembers who passed the password
   (for TICKET_SECONDS) and the browser goes to step 2.
2. /admin/mfa/verify/: a TOTP code or a recovery code. Right: signed in and marked verified
   (django-otp). Wrong: counted by axes against the username, like a wrong password.
3. /admin/mfa/enrol/: a privileged account (scrm.staff.mfa.is_privileged) without an
   authenticator is sent here and can do nothing else until it confirms one: QR code (inline
   SVG, segno), the secret spelled out, then ten recovery codes shown once.
"""

import time

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, login
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, resolve_url
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login

from scrm.staff import mfa
from scrm.staff.lockout import locked_out, lockout_response, record_failed_step
from scrm.staff.models import Staff

PENDING = "scrm_mfa_pending"
TICKET_SECONDS = 300


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        help_text=gettext_lazy("The 6-digit code of your authenticator app, or a recovery code."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class PasswordStepView(LoginView):
    """Django's admin login; an enrolled account continues to the code step."""

    def form_valid(self, form):
        user = form.get_user()
        if not mfa.is_enrolled(user):
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "uid": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("admin:mfa_verify")


def _pending(request) -> tuple[Staff, dict] | tuple[None, None]:
    """Who is half-way through: passed the password in this session (not expired), or is
    signed in but not verified (a session from before their enrolment)."""
    data = request.session.get(PENDING)
    if data and time.time() - data["at"] < TICKET_SECONDS:
        user = Staff.objects.filter(pk=data["uid"], is_active=True).first()
        return (user, data) if user else (None, None)
    if request.user.is_authenticated:
        backend = request.session.get(BACKEND_SESSION_KEY, "")
        return request.user, {"backend": backend, "next": reverse("admin:index")}
    return None, None


def verify_view(request, site):
    user, data = _pending(request)
    if user is None:
        request.session.pop(PENDING, None)
        messages.warning(request, _("Sign in again: the sign-in took too long."))
        return redirect("admin:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if locked_out(request, username=user.username):
            return lockout_response(request)
        device = mfa.verify_second_factor(user=user, code=form.cleaned_data["code"])
        if device is not None:
            request.session.pop(PENDING, None)
            if not request.user.is_authenticated:
                login(request, user, backend=data["backend"])
            otp_login(request, device)
            if device.name == mfa.RECOVERY_NAME:
                left = mfa.recovery_codes_left(user)
                messages.warning(
                    request, _("A recovery code was used; %(left)d left.") % {"left": left}
                )
            return redirect(data.get("next") or "admin:index")
        record_failed_step(request, user.username)
        if locked_out(request, username=user.username):
            return lockout_response(request)
        form.add_error("code", _("The code is wrong or was already used."))
    context = {
        **site.each_context(request),
        "title": _("Two-factor verification"),
        "form": form,
        "username": user.username,
    }
    return TemplateResponse(request, "admin/mfa/verify.html", context)


def enrol_view(request, site):
    user = request.user
    if mfa.is_enrolled(user):
        return redirect("admin:index")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.confirm_totp_enrolment(actor=user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc.message_dict.get("code", exc.messages))
        else:
            device = mfa.confirmed_authenticator(user)
            otp_login(request, device)
            context = {
                **site.each_context(request),
                "title": _("Your recovery codes"),
                "codes": codes,
            }
            return TemplateResponse(request, "admin/mfa/recovery_codes.html", context)
    pending = mfa.pending_enrolment(actor=user) or mfa.start_totp_enrolment(actor=user)
    qr = segno.make(pending.otpauth_uri, error="m")
    context = {
        **site.each_context(request),
        "title": _("Set up two-factor authentication"),
        "form": form,
        "qr_svg": qr.svg_inline(scale=5, dark="#1f2937"),
        "secret": " ".join(pending.secret[i : i + 4] for i in range(0, len(pending.secret), 4)),
        "required": mfa.is_privileged(user),
    }
    return TemplateResponse(request, "admin/mfa/enrol.html", context)


class SecondFactorMiddleware:
    """In the admin: an enrolled account must be verified, a privileged one must be enrolled.
    Anything else under /admin/ redirects to the code step or the enrolment page; the pages
    needed to get there (and to sign out) stay open."""

    OPEN = ("admin:login", "admin:logout", "admin:mfa_verify", "admin:mfa_enrol", "admin:jsi18n")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        try:
            admin_root = reverse("admin:index")
        except NoReverseMatch:  # a URLconf without the admin (some tests): nothing to guard
            return None
        if not request.path.startswith(admin_root) or not request.user.is_authenticated:
            return None
        open_paths = {reverse(name) for name in self.OPEN}
        if request.path in open_paths or request.user.is_verified():
            return None
        if mfa.is_enrolled(request.user):
            return redirect(resolve_url("admin:mfa_verify"))
        if mfa.is_privileged(request.user):
            return redirect(resolve_url("admin:mfa_enrol"))
        return None
