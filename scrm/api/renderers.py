"""The browsable API, made safe to render for any signed-in caller.

DRF's BrowsableAPIRenderer builds HTML forms from the view's serializer and filterset: a
foreign-key field or filter becomes a <select> listing every row of the related model, read
outside the caller's scope and recorded nowhere (a rep would see every customer's name). This
renderer draws none of them: no filter form, no HTML forms for POST/PUT/PATCH, and a raw-data
form only for POST, whose content is the serializer's empty defaults (it lists nothing). The
DELETE / OPTIONS buttons stay: they carry no data. Sign-in and sign-out go through the admin's
own pages (templates/rest_framework/api.html), so the second factor and the lockout apply.
"""

from rest_framework.renderers import BrowsableAPIRenderer


class SafeBrowsableAPIRenderer(BrowsableAPIRenderer):
    def get_filter_form(self, data, view, request):
        return None

    def get_rendered_html_form(self, data, view, method, request):
        if method in ("DELETE", "OPTIONS"):
            return super().get_rendered_html_form(data, view, method, request)
        return None

    def get_raw_data_form(self, data, view, method, request):
        # PUT/PATCH would serialize the object a second time (a second read): POST only.
        if method != "POST":
            return None
        return super().get_raw_data_form(data, view, method, request)
