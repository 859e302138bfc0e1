"""Storefront views: catalogue, cart and accounts. Thin: they read through selectors and write through
the cart services (shop/cart.py); bad input is reported with a message and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import cart as cart_services
from . import selectors
from .accounts import (
    address_delete,
    address_make_default,
    address_save,
    customer_activate,
    customer_register,
    profile_update,
)
from .catalogue_cache import cached_page
from .delivery import customer_region, delivery_promise
from .forms import AddressForm, ProfileForm, RegisterForm
from .models import Address, CustomerProfile, Policy

PRODUCTS_PER_PAGE = 12


def _with_stock_status(products):
    for product in products:
        product.stock_css, product.stock_text = selectors.stock_status(product)
    return products


@cached_page
def product_list(request: HttpRequest) -> HttpResponse:
    """The catalogue: search, filters and sort from the query string (shop.filters), 12 a page."""
    catalogue = selectors.product_catalogue(params=request.GET)
    if "category" in catalogue.errors:
        raise Http404("No such category.")
    page = Paginator(catalogue.qs, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    _with_stock_status(page.object_list)
    query = catalogue.form.cleaned_data.get("q", "")
    return render(
        request,
        "shop/product_list.html",
        {
            "categories": catalogue.categories,
            "category": catalogue.chosen_category,
            "query": query,
            "filter_form": catalogue.form,
            "page": page,
            "products": page.object_list,
        },
    )


@cached_page
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = selectors.product_get(slug=slug)
    _with_stock_status([product])
    return render(request, "shop/product_detail.html", {"product": product, **_promise(request)})


def _promise(request: HttpRequest) -> dict:
    """The delivery promise, and the Policy it read (the page's ``policy``: read once, not twice)."""
    policy = Policy.load()
    return {
        "promise": delivery_promise(now=timezone.now(), region=customer_region(request), policy=policy),
        "policy": policy,
    }


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the page the form came from (a safe ``next``), else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def cart_detail(request: HttpRequest) -> HttpResponse:
    # Read once: the header's cart summary (context processor) reuses these lines.
    lines = cart_services.request_cart_lines(request, with_pictures=True)
    rows = []
    for line in lines:
        css, text = selectors.stock_status(line.product)
        rows.append(
            {
                "line": line,
                "product": line.product,
                "subtotal": line.product.price * line.quantity,
                "stock_css": css,
                "stock_text": text,
                "problem": _line_problem(line),
            }
        )
    return render(
        request,
        "shop/cart.html",
        {
            "rows": rows,
            "total": cart_services.lines_total(lines),
            "count": sum(line.quantity for line in lines),
            "has_problem": any(row["problem"] for row in rows),
            **(_promise(request) if rows else {}),
        },
    )


def _line_problem(line) -> str:
    product = line.product
    if not product.is_active:
        return "This product is no longer sold; please remove it."
    if product.stock <= 0:
        return "Out of stock; please remove it."
    if line.quantity > product.stock:
        return f"Only {product.stock} left; please lower the quantity."
    return ""


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    try:
        line = cart_services.cart_add(
            request=request, product_id=request.POST.get("product_id"), quantity=request.POST.get("quantity", "1")
        )
    except cart_services.CartError as error:
        messages.error(request, _("Not added: %(error)s") % {"error": error})
        return _back(request, reverse("shop:cart"))
    messages.success(
        request,
        _("“%(name)s” is in your cart (quantity %(quantity)s).")
        % {"name": line.product.name, "quantity": line.quantity},
    )
    return _back(request, reverse("shop:cart"))


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    try:
        line = cart_services.cart_set_quantity(
            request=request, product_id=request.POST.get("product_id"), quantity=request.POST.get("quantity")
        )
    except cart_services.CartError as error:
        messages.error(request, _("Not updated: %(error)s") % {"error": error})
    else:
        messages.success(
            request,
            _("Quantity of “%(name)s” is now %(quantity)s.") % {"name": line.product.name, "quantity": line.quantity},
        )
    return redirect("shop:cart")


@require_POST
def cart_remove(request: HttpRequest) -> HttpResponse:
    try:
        cart_services.cart_remove(request=request, product_id=request.POST.get("product_id"))
    except cart_services.CartError as error:
        messages.error(request, _("Not removed: %(error)s") % {"error": error})
    else:
        messages.success(request, _("Removed from your cart."))
    return redirect("shop:cart")


# --- accounts -----------------------------------------------------------------------------------
def register(request: HttpRequest) -> HttpResponse:
    """The same answer whether or not the username or e-mail has an account: "check your e-mail"."""
    if request.user.is_authenticated:
        return redirect("account")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        customer_register(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        return redirect("register_sent")
    return render(request, "registration/register.html", {"form": form})


def register_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/register_sent.html")


def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link from the registration e-mail: activates the account and logs it in (once)."""
    user = customer_activate(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "registration/activate_invalid.html", status=400)
    # login() keeps the session's cart; the user_logged_in receiver ties it to the new account.
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Welcome, %(name)s! Your account is ready.") % {"name": user.username})
    return redirect("account")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    profile = CustomerProfile.objects.filter(user=request.user).first()
    addresses = list(Address.objects.filter(user=request.user).select_related("region"))
    return render(
        request, "shop/account.html", {"account_user": request.user, "profile": profile, "addresses": addresses}
    )


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    """Name and phone; bad input is shown next to the field and nothing is saved."""
    profile = CustomerProfile.objects.filter(user=request.user).first()
    initial = {
        "first_name": request.user.first_name,
        "last_name": request.user.last_name,
        "phone": profile.phone if profile else "",
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your name and phone are saved."))
        return redirect("account")
    return render(request, "shop/profile_form.html", {"form": form})


@login_required
def address_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add an address (``pk`` None) or change one of the customer's own."""
    instance = get_object_or_404(Address, pk=pk, user=request.user) if pk is not None else None
    form = AddressForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        address = address_save(
            user=request.user,
            data=form.address_data(),
            address_id=pk,
            make_default=form.cleaned_data["make_default"],
        )
        values = {"address": address.address, "city": address.city}
        if address.is_default:
            messages.success(
                request, _("Address “%(address)s, %(city)s” is saved. It is your default address.") % values
            )
        else:
            messages.success(request, _("Address “%(address)s, %(city)s” is saved.") % values)
        return redirect("account")
    return render(request, "shop/address_form.html", {"form": form, "address": instance})


@login_required
@require_POST
def address_default(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        address = address_make_default(user=request.user, address_id=pk)
    except Address.DoesNotExist:
        raise Http404("No such address.")
    messages.success(
        request,
        _("“%(address)s, %(city)s” is now your default address.") % {"address": address.address, "city": address.city},
    )
    return redirect("account")


@login_required
@require_POST
def address_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        address_delete(user=request.user, address_id=pk)
    except Address.DoesNotExist:
        raise Http404("No such address.")
    messages.success(request, _("The address is removed from your address book."))
    return redirect("account")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by e-mail, signed with the shop's name.

    The message is sent directly, not through the outbox: the outbox is readable in the admin and
    a reset link is a credential that nobody but the account holder should see.
    """

    def form_valid(self, form):
        self.extra_email_context = {"site_name": Policy.load().shop_name}
        return super().form_valid(form)


# --- error pages and the favicon ------------------------------------------------------------------
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """The shop's own 404 page: where to go from here."""
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The shop's own 500 page. Rendered without the context processors' database reads (the
    database may be what failed), so it needs only the template."""
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever a page links: the shop's icon in static files."""
    return redirect(static("favicon.ico"), permanent=False)
