"""Product pictures: setting one (the old file and its thumbnails go), and the demo shop's drawings.

``product_picture_set`` is the one write; ``demo_picture`` draws a clean illustration of a product's
kind (binoculars, telescope, scope, microscope, accessory) with its name, made by code with Pillow
at ``load_demo`` time, so the demo needs no downloaded image.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from .models import Product, ProductImage

SIZE = (800, 600)
_FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu")]


def file_delete_after_commit(file_name: str, storage) -> None:
    """Remove a picture file and every thumbnail made of it, once the change that dropped it commits."""

    def delete() -> None:
        from sorl.thumbnail import delete as thumbnail_delete
        from sorl.thumbnail.images import ImageFile

        thumbnail_delete(ImageFile(file_name, storage), delete_file=True)

    if file_name:
        transaction.on_commit(delete)


@transaction.atomic
def product_picture_set(*, product: Product, content: bytes, filename: str, alt_text: str, position: int = 0):
    """Set the product's picture at ``position`` (0 = the main one), replacing any picture there."""
    picture = ProductImage.objects.filter(product=product, position=position).first()
    if picture is None:
        picture = ProductImage(product=product, position=position)
    picture.alt_text = alt_text
    # The receiver on ProductImage (shop.signals) removes the replaced file after commit.
    picture.image.save(filename, ContentFile(content), save=False)
    picture.save()
    return picture


# --- the demo drawings ------------------------------------------------------------------------------
#: category slug → (kind of drawing, background colour, ink colour)
KINDS = {
    "binoculars": ("binoculars", (226, 236, 245), (33, 58, 92)),
    "telescopes": ("telescope", (225, 226, 243), (40, 40, 96)),
    "rifle-scopes": ("scope", (232, 237, 226), (52, 70, 38)),
    "spotting-scopes": ("scope", (227, 240, 236), (26, 82, 70)),
    "microscopes": ("microscope", (243, 234, 226), (100, 58, 28)),
    "accessories": ("accessory", (240, 236, 226), (80, 66, 40)),
}


def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size=size)


def _binoculars(draw: ImageDraw.ImageDraw, ink, paper) -> None:
    for x in (250, 470):  # two barrels with objective lenses at the bottom
        draw.rounded_rectangle((x, 120, x + 120, 340), radius=30, fill=ink)
        draw.ellipse((x - 5, 300, x + 125, 400), fill=ink)
        draw.ellipse((x + 15, 315, x + 105, 385), fill=paper, outline=ink, width=6)
        draw.ellipse((x + 35, 333, x + 70, 360), fill=(255, 255, 255))
        draw.rounded_rectangle((x + 25, 80, x + 95, 130), radius=12, fill=ink)  # eyepieces
    draw.rounded_rectangle((365, 170, 475, 230), radius=16, fill=ink)  # bridge
    draw.ellipse((395, 140, 445, 190), fill=paper, outline=ink, width=8)  # focus wheel


def _telescope(draw: ImageDraw.ImageDraw, ink, paper) -> None:
    draw.polygon([(170, 250), (560, 100), (600, 190), (210, 340)], fill=ink)  # tube
    draw.ellipse((555, 90, 625, 200), fill=ink)
    draw.ellipse((570, 105, 612, 185), fill=paper)
    draw.rectangle((150, 265, 200, 330), fill=ink)  # eyepiece
    draw.line([(390, 260), (290, 440)], fill=ink, width=12)  # tripod
    draw.line([(390, 260), (400, 450)], fill=ink, width=12)
    draw.line([(390, 260), (500, 440)], fill=ink, width=12)
    draw.ellipse((370, 235, 410, 275), fill=ink)


def _scope(draw: ImageDraw.ImageDraw, ink, paper) -> None:
    draw.rounded_rectangle((130, 215, 670, 275), radius=26, fill=ink)  # main tube
    draw.polygon([(560, 200), (690, 175), (690, 315), (560, 290)], fill=ink)  # objective bell
    draw.ellipse((665, 175, 715, 315), fill=ink)
    draw.ellipse((675, 195, 705, 295), fill=paper)
    draw.polygon([(130, 205), (80, 190), (80, 300), (130, 285)], fill=ink)  # ocular bell
    draw.rounded_rectangle((360, 165, 420, 215), radius=8, fill=ink)  # turrets
    draw.rounded_rectangle((375, 275, 425, 315), radius=8, fill=ink)
    draw.line([(300, 330), (250, 420)], fill=ink, width=10)  # stand
    draw.line([(300, 330), (350, 420)], fill=ink, width=10)


def _microscope(draw: ImageDraw.ImageDraw, ink, paper) -> None:
    draw.rounded_rectangle((260, 400, 560, 440), radius=12, fill=ink)  # base
    draw.arc((300, 120, 520, 420), start=300, end=80, fill=ink, width=26)  # arm
    draw.polygon([(330, 100), (380, 80), (450, 250), (400, 270)], fill=ink)  # tube
    draw.rounded_rectangle((315, 60, 385, 100), radius=10, fill=ink)  # eyepiece
    draw.rectangle((300, 300, 470, 320), fill=ink)  # stage
    draw.rectangle((345, 288, 425, 300), fill=paper, outline=ink, width=3)  # slide
    draw.ellipse((420, 255, 460, 295), fill=ink)  # objective


def _accessory(draw: ImageDraw.ImageDraw, ink, paper) -> None:
    # an eyepiece standing next to a filter ring
    draw.rounded_rectangle((250, 120, 370, 200), radius=14, fill=ink)
    draw.rectangle((265, 200, 355, 390), fill=ink)
    for y in range(225, 380, 30):
        draw.line([(265, y), (355, y)], fill=paper, width=5)
    draw.ellipse((270, 130, 350, 190), fill=paper, outline=ink, width=6)
    draw.ellipse((430, 180, 610, 360), fill=ink)
    draw.ellipse((455, 205, 585, 335), fill=paper)
    draw.ellipse((470, 220, 570, 320), fill=(180, 200, 230))


_DRAW = {
    "binoculars": _binoculars,
    "telescope": _telescope,
    "scope": _scope,
    "microscope": _microscope,
    "accessory": _accessory,
}


def demo_kind(category_slug: str) -> tuple[str, tuple, tuple]:
    return KINDS.get(category_slug, KINDS["accessories"])


def demo_picture(*, name: str, category_slug: str) -> bytes:
    """A PNG: the illustration of the category's kind of product above the product's name."""
    kind, paper, ink = demo_kind(category_slug)
    image = Image.new("RGB", SIZE, paper)
    draw = ImageDraw.Draw(image)
    _DRAW[kind](draw, ink, paper)
    draw.rectangle((0, 470, SIZE[0], SIZE[1]), fill=ink)
    font = _font(34, bold=True)
    lines = textwrap.wrap(name, width=38)[:2]
    y = 535 - 22 * len(lines)
    for line in lines:
        width = draw.textlength(line, font=font)
        draw.text(((SIZE[0] - width) / 2, y), line, font=font, fill=(255, 255, 255))
        y += 44
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


_ALT = {
    "binoculars": "a pair of binoculars",
    "telescope": "a telescope on a tripod",
    "scope": "a scope",
    "microscope": "a microscope",
    "accessory": "an eyepiece and a filter",
}


def demo_alt_text(*, name: str, category_slug: str) -> str:
    return f"{name}: drawing of {_ALT[demo_kind(category_slug)[0]]}"
