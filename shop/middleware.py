"""Response headers the shop adds to every page (the Content-Security-Policy is django-csp's)."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """``Permissions-Policy``: camera, microphone, geolocation, payment … are off for every page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
