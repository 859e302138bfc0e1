"""``python manage.py load_demo``: a small, realistic optics shop to click through.

Idempotent: every row is found by its slug, SKU, code or username and updated, so running it
twice creates nothing twice.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from djmoney.money import Money

from shop.models import (
    Category,
    Closure,
    DeliveryMethod,
    DeliveryRate,
    PaymentMethod,
    Policy,
    Product,
    Region,
)
from shop.pictures import demo_alt_text, demo_picture, product_picture_set

ALL = [m.value for m in PaymentMethod]
DEMO_PARTNER_EMAIL = "fulfilment-partner@example.com"
PREPAID_ONLY = [PaymentMethod.PAYPAL.value, PaymentMethod.CARD_ONLINE.value, PaymentMethod.BANK_TRANSFER.value]
NO_PAYPAL = [m for m in ALL if m != PaymentMethod.PAYPAL.value]

CATEGORIES = [
    ("binoculars", "Binoculars", "Porro and roof prism binoculars for birding, hunting, travel and the sea."),
    ("telescopes", "Telescopes", "Refractors, reflectors and catadioptric telescopes for the night sky."),
    ("rifle-scopes", "Rifle scopes", "Hunting and sport riflescopes with illuminated reticles."),
    ("spotting-scopes", "Spotting scopes", "Compact high-power scopes for nature watching and the range."),
    ("microscopes", "Microscopes", "Biological and stereo microscopes for school, lab and hobby."),
    ("accessories", "Accessories", "Eyepieces, filters, tripods, cases and cleaning kits."),
]

# (category, name, sku, price RUB, stock, warranty months or None, payment methods, description)
PRODUCTS = [
    (
        "binoculars",
        "Sturman 8x42 Roof Prism Binocular",
        "BN-STU-0842",
        "12990",
        14,
        24,
        ALL,
        "Waterproof, nitrogen-filled roof prism binocular with BaK-4 prisms and fully multi-coated optics. "
        "A 7.1° field of view makes it a good all-rounder for birding and travel.",
    ),
    (
        "binoculars",
        "Sturman 10x50 Porro Binocular",
        "BN-STU-1050",
        "8490",
        22,
        12,
        ALL,
        "Classic porro prism design with a bright 50 mm objective for dusk and marine use. Rubber armour, "
        "central focus and tripod adapter thread.",
    ),
    (
        "binoculars",
        "Yukon Pocket 8x25 Compact",
        "BN-YUK-0825",
        "3990",
        40,
        12,
        ALL,
        "Folding pocket binocular weighing 290 g, with a soft case and a neck strap. For concerts, hiking and sports.",
    ),
    (
        "binoculars",
        "Veber Classic 12x50 BGA",
        "BN-VEB-1250",
        "16990",
        4,
        24,
        ALL,
        "High-power binocular with phase-corrected roof prisms and long eye relief for spectacle wearers.",
    ),
    (
        "binoculars",
        "Nikon Monarch M7 10x42",
        "BN-NIK-M710",
        "54990",
        6,
        36,
        PREPAID_ONLY,
        "ED glass and dielectric-coated prisms give a sharp, colour-true image; locking dioptre; 668 g.",
    ),
    (
        "binoculars",
        "Marine 7x50 Binocular with Compass",
        "BN-MAR-0750",
        "21490",
        9,
        24,
        ALL,
        "Floating, waterproof marine binocular with an illuminated compass and a rangefinder reticle.",
    ),
    (
        "binoculars",
        "Stabilised 12x36 Image-Stabiliser Binocular",
        "BN-IS-1236",
        "74990",
        3,
        36,
        PREPAID_ONLY,
        "Optical image stabilisation steadies the view at the press of a button. Runs 12 h on two AA batteries.",
    ),
    (
        "telescopes",
        "Sky-Watcher Heritage 130P Tabletop Dobsonian",
        "TS-SKW-130P",
        "24990",
        7,
        24,
        ALL,
        "A 130 mm reflector on a collapsible tabletop mount: the Moon, planets and bright deep-sky objects "
        "from a balcony or a garden table.",
    ),
    (
        "telescopes",
        "Levenhuk Skyline PLUS 80S Refractor",
        "TS-LEV-80S",
        "17990",
        12,
        24,
        ALL,
        "An 80 mm achromatic refractor on an equatorial mount with slow-motion controls, two eyepieces "
        "and a finder scope.",
    ),
    (
        "telescopes",
        "Celestron NexStar 6SE GoTo",
        "TS-CEL-6SE",
        "139990",
        2,
        24,
        PREPAID_ONLY,
        "A 150 mm Schmidt-Cassegrain on a computerised GoTo mount that finds more than 40,000 objects. "
        "Delivered in two boxes; the mount runs on eight AA batteries or an external supply.",
    ),
    (
        "telescopes",
        "Sky-Watcher Skyliner 200P Dobsonian",
        "TS-SKW-200P",
        "59990",
        3,
        24,
        NO_PAYPAL,
        "An 8-inch Newtonian on a Dobsonian base: a big aperture at a fair price for visual observers.",
    ),
    (
        "telescopes",
        "Bresser Messier AR-102 Refractor OTA",
        "TS-BRE-AR102",
        "32990",
        5,
        24,
        ALL,
        "A 102 mm f/6.5 achromatic refractor tube with a 2-inch Crayford focuser. Mount not included.",
    ),
    (
        "telescopes",
        "Levenhuk LabZZ T2 Kids Telescope",
        "TS-LEV-LZT2",
        "6490",
        25,
        None,
        ALL,
        "A first telescope for children aged 7 and up: a 50 mm refractor with a tabletop tripod and star map.",
    ),
    (
        "rifle-scopes",
        "Vector Optics Matiz 3-9x40 Riflescope",
        "RS-VEC-M394",
        "7490",
        18,
        36,
        PREPAID_ONLY,
        "A one-inch tube riflescope with a duplex reticle and capped turrets; shockproof and fog-proof.",
    ),
    (
        "rifle-scopes",
        "Hawke Vantage 4-12x50 AO",
        "RS-HAW-V412",
        "18990",
        8,
        36,
        PREPAID_ONLY,
        "Adjustable objective from 10 m to infinity, mil-dot reticle, 1/4 MOA clicks.",
    ),
    (
        "rifle-scopes",
        "Leupold VX-Freedom 3-9x40 Duplex",
        "RS-LEU-VXF39",
        "42990",
        5,
        36,
        PREPAID_ONLY,
        "A light, bright hunting scope with Twilight Light Management; guaranteed for life by the maker.",
    ),
    (
        "rifle-scopes",
        "Red Dot Sight 1x30 with Weaver Mount",
        "RS-RD-130",
        "4590",
        30,
        12,
        PREPAID_ONLY,
        "A parallax-free red dot with 11 brightness levels and a 50,000-hour battery life.",
    ),
    (
        "spotting-scopes",
        "Veber Snipe 20-60x80 Spotting Scope",
        "SS-VEB-2060",
        "27990",
        6,
        24,
        ALL,
        "An angled spotting scope with a zoom eyepiece, a sunshade and a table tripod for the range and birding.",
    ),
    (
        "spotting-scopes",
        "Celestron Regal M2 65ED",
        "SS-CEL-M265",
        "64990",
        2,
        36,
        PREPAID_ONLY,
        "Compact ED spotting scope with a dual focus and a T-adapter thread for digiscoping.",
    ),
    (
        "spotting-scopes",
        "Yukon 6-100x100 Spotting Scope",
        "SS-YUK-6100",
        "23490",
        0,
        24,
        ALL,
        "A very high-power spotting scope with a 100 mm objective and a sturdy tripod. Temporarily out of stock.",
    ),
    (
        "microscopes",
        "Levenhuk Rainbow 2L Biological Microscope",
        "MS-LEV-R2L",
        "9990",
        15,
        24,
        ALL,
        "Magnification 40x to 400x, upper and lower LED lighting, a set of prepared slides in the box.",
    ),
    (
        "microscopes",
        "Bresser Biolux NV 20-1280x with USB Camera",
        "MS-BRE-NV",
        "14990",
        9,
        24,
        ALL,
        "A monocular microscope with a HD USB camera to show samples on a computer screen.",
    ),
    (
        "microscopes",
        "Micromed MS-2 Stereo Microscope",
        "MS-MIC-MS2",
        "22990",
        4,
        24,
        NO_PAYPAL,
        "A binocular stereo microscope for coins, electronics and insects; 20x and 40x.",
    ),
    (
        "microscopes",
        "Digital Handheld Microscope 1000x",
        "MS-DIG-1000",
        "2490",
        35,
        12,
        ALL,
        "A pocket USB microscope with eight LEDs and a stand; works with Windows, macOS and Android.",
    ),
    (
        "accessories",
        'Celestron Plossl Eyepiece 25 mm (1.25")',
        "AC-CEL-PL25",
        "2990",
        20,
        12,
        ALL,
        "A four-element eyepiece with a 52° apparent field and fully multi-coated optics.",
    ),
    (
        "accessories",
        'Baader Moon & Skyglow Filter (1.25")',
        "AC-BAA-MSF",
        "4190",
        11,
        None,
        ALL,
        "Cuts glare from the Moon and light pollution; improves contrast on planets.",
    ),
    (
        "accessories",
        "Aluminium Photo and Binocular Tripod 160 cm",
        "AC-TRI-160",
        "5490",
        16,
        12,
        ALL,
        "A three-section tripod with a pan-and-tilt head, quick release plate and a carrying bag.",
    ),
    (
        "accessories",
        "Binocular Harness Strap",
        "AC-STR-HRN",
        "1290",
        50,
        None,
        ALL,
        "Spreads the weight of heavy binoculars over both shoulders and keeps them steady while walking.",
    ),
    (
        "accessories",
        "Optics Cleaning Kit",
        "AC-CLN-KIT",
        "890",
        60,
        None,
        ALL,
        "A lens pen, a blower, a microfibre cloth and cleaning fluid in a zip case.",
    ),
    (
        "accessories",
        "Smartphone Adapter for Eyepieces",
        "AC-PHN-ADP",
        "1990",
        3,
        12,
        ALL,
        "Holds a smartphone over a telescope, spotting scope or microscope eyepiece (25–48 mm).",
    ),
]

# (code, name, in delivery territory)
REGIONS = [
    ("MOW", "Moscow", True),
    ("MOS", "Moscow Oblast", True),
    ("SPE", "Saint Petersburg", True),
    ("LEN", "Leningrad Oblast", True),
    ("SVE", "Sverdlovsk Oblast", True),
    ("NVS", "Novosibirsk Oblast", True),
    ("TA", "Republic of Tatarstan", True),
    ("KDA", "Krasnodar Krai", True),
    ("KGD", "Kaliningrad Oblast", True),
    ("CHU", "Chukotka Autonomous Okrug", False),
]

# code: (name, carrier, default, days min, days max, tracking, tracking URL pattern, position, base price RUB)
METHODS = {
    "airmail": ("Russian Post parcel", "Russian Post", True, 7, 14, False, "", 0, Decimal("350")),
    "dhl": (
        "DHL Express courier",
        "DHL Express",
        False,
        2,
        5,
        True,
        "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={number}",
        1,
        Decimal("1490"),
    ),
    "ups": (
        "UPS Express courier",
        "UPS",
        False,
        2,
        6,
        True,
        "https://www.ups.com/track?tracknum={number}",
        2,
        Decimal("1390"),
    ),
    "courier": ("Shop courier", "Shop courier service", False, 1, 3, False, "", 3, Decimal("590")),
}
#: Carriers that take cash or a card at the door; the express services do not (DeliveryMethod.collects_payment).
COLLECTS_AT_DOOR = {"airmail", "courier"}
# The Russian catalogue (django-modeltranslation's *_ru fields); the English above is the *_en.
RUSSIAN_CATEGORIES = {
    "binoculars": ("Бинокли", "Бинокли с призмами Порро и roof для наблюдения за птицами, охоты, путешествий и моря."),
    "telescopes": ("Телескопы", "Рефракторы, рефлекторы и зеркально-линзовые телескопы для ночного неба."),
    "rifle-scopes": ("Оптические прицелы", "Охотничьи и спортивные прицелы с подсвеченной сеткой."),
    "spotting-scopes": ("Зрительные трубы", "Компактные трубы с большим увеличением для природы и стрельбища."),
    "microscopes": ("Микроскопы", "Биологические и стереомикроскопы для школы, лаборатории и хобби."),
    "accessories": ("Аксессуары", "Окуляры, фильтры, штативы, чехлы и наборы для чистки."),
}
RUSSIAN_PRODUCT_NAMES = {
    "BN-STU-0842": "Бинокль Sturman 8x42 с призмами roof",
    "BN-STU-1050": "Бинокль Sturman 10x50 Porro",
    "BN-YUK-0825": "Компактный бинокль Yukon Pocket 8x25",
    "BN-VEB-1250": "Бинокль Veber Classic 12x50 BGA",
    "BN-NIK-M710": "Бинокль Nikon Monarch M7 10x42",
    "BN-MAR-0750": "Морской бинокль 7x50 с компасом",
    "BN-IS-1236": "Бинокль 12x36 со стабилизатором изображения",
    "TS-SKW-130P": "Настольный телескоп Sky-Watcher Heritage 130P Dobsonian",
    "TS-LEV-80S": "Телескоп-рефрактор Levenhuk Skyline PLUS 80S",
    "TS-CEL-6SE": "Телескоп Celestron NexStar 6SE GoTo",
    "TS-SKW-200P": "Телескоп Sky-Watcher Skyliner 200P Dobsonian",
    "TS-BRE-AR102": "Оптическая труба рефрактора Bresser Messier AR-102",
    "TS-LEV-LZT2": "Детский телескоп Levenhuk LabZZ T2",
    "RS-VEC-M394": "Оптический прицел Vector Optics Matiz 3-9x40",
    "RS-HAW-V412": "Оптический прицел Hawke Vantage 4-12x50 AO",
    "RS-LEU-VXF39": "Оптический прицел Leupold VX-Freedom 3-9x40 Duplex",
    "RS-RD-130": "Коллиматорный прицел 1x30 с креплением Weaver",
    "SS-VEB-2060": "Зрительная труба Veber Snipe 20-60x80",
    "SS-CEL-M265": "Зрительная труба Celestron Regal M2 65ED",
    "SS-YUK-6100": "Зрительная труба Yukon 6-100x100",
    "MS-LEV-R2L": "Биологический микроскоп Levenhuk Rainbow 2L",
    "MS-BRE-NV": "Микроскоп Bresser Biolux NV 20-1280x с USB-камерой",
    "MS-MIC-MS2": "Стереомикроскоп Микромед МС-2",
    "MS-DIG-1000": "Цифровой ручной микроскоп 1000x",
    "AC-CEL-PL25": 'Окуляр Celestron Plossl 25 мм (1,25")',
    "AC-BAA-MSF": 'Фильтр Baader Moon & Skyglow (1,25")',
    "AC-TRI-160": "Алюминиевый штатив для фотоаппарата и бинокля, 160 см",
    "AC-STR-HRN": "Разгрузочный ремень для бинокля",
    "AC-CLN-KIT": "Набор для чистки оптики",
    "AC-PHN-ADP": "Адаптер смартфона для окуляра",
}
RUSSIAN_REGIONS = {
    "MOW": "Москва",
    "MOS": "Московская область",
    "SPE": "Санкт-Петербург",
    "LEN": "Ленинградская область",
    "SVE": "Свердловская область",
    "NVS": "Новосибирская область",
    "TA": "Республика Татарстан",
    "KDA": "Краснодарский край",
    "KGD": "Калининградская область",
    "CHU": "Чукотский автономный округ",
}
RUSSIAN_METHODS = {
    "airmail": ("Посылка Почтой России", "Почта России"),
    "dhl": ("Курьер DHL Express", "DHL Express"),
    "ups": ("Курьер UPS Express", "UPS"),
    "courier": ("Курьер магазина", "Курьерская служба магазина"),
}
# Distance from Moscow, in the price: SHIP-COST-BY-REGION (region and method only).
REGION_FACTOR = {
    "MOW": Decimal("1.0"),
    "MOS": Decimal("1.2"),
    "SPE": Decimal("1.3"),
    "LEN": Decimal("1.4"),
    "SVE": Decimal("1.6"),
    "TA": Decimal("1.5"),
    "KDA": Decimal("1.6"),
    "KGD": Decimal("1.8"),
    "NVS": Decimal("2.0"),
}


class Command(BaseCommand):
    help = "Load a demo optics shop (idempotent): policy, catalogue, regions, delivery, staff and customer."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="load even with DEBUG=false (a production install): needs --staff-password, creates no demo customer",
        )
        parser.add_argument("--staff-password", default="", help="the demo staff user's password")

    @transaction.atomic
    def handle(self, *args, force: bool = False, staff_password: str = "", **options):
        staff_password = staff_password or os.environ.get("DEMO_STAFF_PASSWORD", "")
        production = not settings.DEBUG
        if production and not force:
            # A production install must never get a superuser whose password is printed in the README.
            raise CommandError(
                "Refusing to load demo data with DEBUG=false: it creates a superuser. "
                "Use --force with --staff-password (or DEMO_STAFF_PASSWORD) if you really mean it."
            )
        if production and not staff_password:
            raise CommandError("With DEBUG=false the demo staff user needs --staff-password (or DEMO_STAFF_PASSWORD).")
        staff_password = staff_password or "staff-demo-2026"
        Policy.load()
        categories = self._categories()
        self._products(categories)
        regions = self._regions()
        methods = self._methods()
        self._rates(regions, methods)
        self._closures()
        self._partner()
        self._user("staff", "staff@example.com", staff_password, staff=True, first_name="Shop", last_name="Staff")
        if not production:
            self._user("customer", "customer@example.com", "customer-demo-2026", first_name="Anna", last_name="Petrova")
        self.stdout.write(
            f"Demo shop ready: {Category.objects.count()} categories, {Product.objects.count()} products, "
            f"{Region.objects.count()} regions, {DeliveryMethod.objects.count()} delivery methods, "
            f"{DeliveryRate.objects.count()} delivery rates."
        )
        if production:
            self.stdout.write("Staff user 'staff' has the password you gave.")
            return
        self.stdout.write(
            "Customer login: http://127.0.0.1:8000/accounts/login/  user: customer  password: customer-demo-2026"
        )
        self.stdout.write(f"Staff login: http://127.0.0.1:8000/admin/  user: staff  password: {staff_password}")

    def _categories(self) -> dict[str, Category]:
        result = {}
        for position, (slug, name, description) in enumerate(CATEGORIES):
            result[slug], _ = Category.objects.update_or_create(
                slug=slug,
                defaults={
                    "name_en": name,
                    "description_en": description,
                    "name_ru": RUSSIAN_CATEGORIES[slug][0],
                    "description_ru": RUSSIAN_CATEGORIES[slug][1],
                    "position": position,
                },
            )
        return result

    def _products(self, categories: dict[str, Category]) -> None:
        for category, name, sku, price, stock, warranty, methods, description in PRODUCTS:
            product, _ = Product.objects.update_or_create(
                sku=sku,
                defaults={
                    "category": categories[category],
                    "name_en": name,
                    "name_ru": RUSSIAN_PRODUCT_NAMES[sku],
                    "slug": slugify(name),
                    "description_en": description,
                    "price": Money(Decimal(price), "RUB"),
                    "stock": stock,
                    "is_active": True,
                    "warranty_months": warranty,
                    "payment_methods": list(methods),
                },
            )
            # A picture drawn by code (no downloads), unless this product already has its drawing.
            alt_text = demo_alt_text(name=name, category_slug=category)
            main = product.images.filter(position=0).first()
            if main is None or main.alt_text != alt_text or not main.image.storage.exists(main.image.name):
                product_picture_set(
                    product=product,
                    content=demo_picture(name=name, category_slug=category),
                    filename=f"{product.slug}.png",
                    alt_text=alt_text,
                )

    def _regions(self) -> dict[str, Region]:
        result = {}
        for code, name, in_territory in REGIONS:
            result[code], _ = Region.objects.update_or_create(
                code=code, defaults={"name_en": name, "name_ru": RUSSIAN_REGIONS[code], "in_territory": in_territory}
            )
        return result

    def _methods(self) -> dict[str, tuple[DeliveryMethod, Decimal]]:
        result = {}
        for code, (name, carrier, default, days_min, days_max, tracking, url, position, base) in METHODS.items():
            method, _ = DeliveryMethod.objects.update_or_create(
                code=code,
                defaults={
                    "name_en": name,
                    "carrier_en": carrier,
                    "name_ru": RUSSIAN_METHODS[code][0],
                    "carrier_ru": RUSSIAN_METHODS[code][1],
                    "is_default": default,
                    "is_active": True,
                    "delivery_days_min": days_min,
                    "delivery_days_max": days_max,
                    "requires_tracking": tracking,
                    "collects_payment": code in COLLECTS_AT_DOOR,
                    "tracking_url_pattern": url,
                    "position": position,
                },
            )
            result[code] = (method, base)
        return result

    def _rates(self, regions: dict[str, Region], methods: dict[str, tuple[DeliveryMethod, Decimal]]) -> None:
        for code, region in regions.items():
            if not region.in_territory:
                continue
            for method, base in methods.values():
                price = (base * REGION_FACTOR.get(code, Decimal("2.0"))).quantize(Decimal("10"))
                DeliveryRate.objects.update_or_create(
                    region=region, method=method, defaults={"price": Money(price, "RUB")}
                )

    def _closures(self) -> None:
        today = timezone.localdate()
        if Closure.objects.filter(date__gte=today, reason="Annual stocktaking").exists():
            return
        # Annual stocktaking: the first Monday at least 30 days from now, and the day after.
        day = today + timedelta(days=30)
        while day.weekday() != 0:
            day += timedelta(days=1)
        for date in (day, day + timedelta(days=1)):
            Closure.objects.get_or_create(date=date, defaults={"reason": "Annual stocktaking"})

    def _partner(self) -> None:
        """SHIP-SUBCONTRACTOR: a default fulfilment partner (e-mail only), unless staff chose another default."""
        # By label: shop imports no higher app (the model lives in shipping).
        Partner = apps.get_model("shipping", "FulfilmentPartner")
        partner, _ = Partner.objects.update_or_create(
            email=DEMO_PARTNER_EMAIL, defaults={"name": "Demo courier partner", "is_active": True}
        )
        if not Partner.objects.filter(is_default=True).exclude(pk=partner.pk).exists():
            Partner.objects.filter(pk=partner.pk).update(is_default=True)

    def _user(self, username, email, password, *, staff=False, first_name="", last_name=""):
        user, created = get_user_model().objects.update_or_create(
            username=username,
            defaults={
                "email": email,
                "first_name": first_name,
                "last_name": last_name,
                "is_staff": staff,
                "is_superuser": staff,
                "is_active": True,
            },
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        return user
