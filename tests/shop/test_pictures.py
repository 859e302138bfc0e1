"""Product pictures: uploaded in the admin through Django's storage API, thumbnails by sorl-thumbnail on the
catalogue card, the product page's gallery, the cart, the review page and the e-mails (absolute
addresses there); a replaced or deleted picture's file and thumbnails are removed; load_demo draws one."""

import io
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from orders.notifications import order_acknowledgement_queue
from shop.models import Product, ProductImage
from shop.pictures import demo_picture, product_picture_set
from tests.factories import ProductFactory, UserFactory
from tests.orders.checkout_support import contact_data, guest_cart, make_catalogue
from tests.orders.lifecycle_support import isolate_hooks, make_order

pytestmark = pytest.mark.django_db


def png(color="red", size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _fresh_thumbnail_store():
    """sorl-thumbnail remembers made thumbnails in the cache; each test has its own MEDIA_ROOT."""
    cache.clear()
    yield
    cache.clear()


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def pictured(django_capture_on_commit_callbacks):
    product = ProductFactory(name="Sturman 8x42", slug="sturman-8x42")
    with django_capture_on_commit_callbacks(execute=True):
        product_picture_set(product=product, content=png(), filename="front.png", alt_text="Sturman 8x42, front view")
        product_picture_set(
            product=product, content=png("blue"), filename="side.png", alt_text="Sturman 8x42, side view", position=1
        )
    return product


def test_staff_upload_a_picture_with_alt_text_in_the_product_admin(client, settings):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    product = ProductFactory(name="Heritage 130P", slug="heritage-130p")
    url = reverse("admin:shop_product_change", args=[product.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "price_0": "24990.00",
            "price_1": "RUB",
            "payment_methods": product.payment_methods,
            "images-TOTAL_FORMS": "1",
            "images-INITIAL_FORMS": "0",
            "images-0-image": SimpleUploadedFile("tube.png", png(), content_type="image/png"),
            "images-0-alt_text": "Heritage 130P on a garden table",
            "images-0-position": "0",
        }
    )
    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    picture = ProductImage.objects.get(product=product)
    assert picture.alt_text == "Heritage 130P on a garden table"
    assert (Path(settings.MEDIA_ROOT) / picture.image.name).exists()


def test_pictures_on_catalogue_card_product_gallery_and_cart(client, pictured):
    card = client.get(reverse("shop:product_list")).content.decode()
    page = client.get(pictured.get_absolute_url()).content.decode()
    client.post(reverse("shop:cart_add"), {"product_id": pictured.pk, "quantity": "1"})
    cart = client.get(reverse("shop:cart")).content.decode()

    assert 'alt="Sturman 8x42, front view" class="picture card-img"' in card
    assert 'width="400" height="300"' in card
    assert "/media/cache/" in card  # a thumbnail, not the original
    assert (
        'class="picture gallery-img"' in page and 'alt="Sturman 8x42, side view" class="picture gallery-thumb"' in page
    )
    assert 'alt="Sturman 8x42, front view" class="picture line-thumb"' in cart


def test_picture_on_the_review_page_and_absolute_in_the_acknowledgement_email(
    client, pictured, monkeypatch, django_capture_on_commit_callbacks
):
    catalogue = make_catalogue()
    guest_cart(client, [(pictured, 1)])
    client.post(reverse("checkout:start"), contact_data(catalogue.moscow))
    client.post(reverse("checkout:delivery"), {"delivery_method": str(catalogue.airmail.pk)})
    client.post(reverse("checkout:payment"), {"payment_method": "cash_courier"})
    review = client.get(reverse("checkout:review")).content.decode()
    assert 'alt="Sturman 8x42, front view" class="picture line-thumb"' in review

    isolate_hooks(monkeypatch)
    order = make_order(status="processing", payment_method="cash_courier", lines=[("12990.00", 1)])
    order.lines.update(product=pictured)
    with django_capture_on_commit_callbacks(execute=True):
        order_acknowledgement_queue(order=order)
    html = mail.outbox[-1].alternatives[0][0]
    assert 'src="http://testserver/media/cache/' in html
    assert 'alt="Sturman 8x42, front view"' in html


def test_replacing_a_picture_removes_the_old_file_and_its_thumbnails(
    client, pictured, settings, django_capture_on_commit_callbacks
):
    root = Path(settings.MEDIA_ROOT)
    client.get(reverse("shop:product_list"))  # makes the card thumbnail of the main picture
    old = ProductImage.objects.get(product=pictured, position=0).image.name
    thumbnails_before = {name for name in files_under(root) if name.startswith("cache/")}
    assert old in files_under(root) and thumbnails_before

    with django_capture_on_commit_callbacks(execute=True):
        product_picture_set(product=pictured, content=png("green"), filename="front.png", alt_text="New front view")

    after = files_under(root)
    assert old not in after
    assert not thumbnails_before & after
    assert ProductImage.objects.get(product=pictured, position=0).image.name in after
    assert ProductImage.objects.filter(product=pictured).count() == 2


def test_deleting_a_picture_removes_its_file(pictured, settings, django_capture_on_commit_callbacks):
    side = ProductImage.objects.get(product=pictured, position=1)
    path = Path(settings.MEDIA_ROOT) / side.image.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        side.delete()
    assert not path.exists()


def test_demo_picture_is_a_drawing_with_the_products_name_per_category():
    pictures = {slug: demo_picture(name="Sturman 8x42", category_slug=slug) for slug in ("binoculars", "microscopes")}
    for content in pictures.values():
        image = Image.open(io.BytesIO(content))
        assert image.size == (800, 600) and image.format == "PNG"
        assert len(image.getcolors(maxcolors=100_000)) > 10  # a drawing and text, not a flat colour
    assert pictures["binoculars"] != pictures["microscopes"]


def test_load_demo_gives_every_product_a_picture_and_a_rerun_leaves_no_old_files(
    settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=StringIO())
    root = Path(settings.MEDIA_ROOT)
    first = files_under(root)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=StringIO())

    products = Product.objects.count()
    assert ProductImage.objects.filter(position=0).count() == products > 20
    assert len(files_under(root)) == len(first) == products
    assert all(picture.alt_text.startswith(picture.product.name) for picture in ProductImage.objects.all())


@pytest.mark.parametrize("products", [3, 30])
def test_catalogue_with_pictures_query_count_does_not_grow(
    client, django_assert_max_num_queries, django_capture_on_commit_callbacks, products
):
    for number in range(products):
        product = ProductFactory()
        product_picture_set(product=product, content=png(), filename=f"p{number}.png", alt_text=f"Picture {number}")
    client.get(reverse("shop:product_list"))  # makes the thumbnails once (sorl-thumbnail remembers them)

    # Policy, categories, count, products, their pictures: thumbnails known already cost no query.
    with django_assert_max_num_queries(5):
        response = client.get(reverse("shop:product_list"))

    assert response.content.decode().count('class="picture card-img"') == min(products, 12)


@pytest.mark.parametrize("pictures", [1, 8])
def test_product_page_query_count_does_not_grow_with_pictures(client, django_assert_max_num_queries, pictures):
    make_catalogue()
    product = ProductFactory()
    for position in range(pictures):
        product_picture_set(
            product=product, content=png(), filename=f"p{position}.png", alt_text="x", position=position
        )
    client.get(product.get_absolute_url())

    # product, pictures, Policy + closures + delivery method (the promise)
    with django_assert_max_num_queries(5):
        response = client.get(product.get_absolute_url())

    assert response.content.decode().count('class="picture gallery-') == pictures
