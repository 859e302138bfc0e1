"""PDFs the shop renders (invoice, packing slips, Act of Discrepancy): one WeasyPrint path.

A template under templates/pdf/ is rendered to HTML and written as PDF with one ``FontConfiguration``
shared by the process: a new one per render grew a worker's memory without levelling off (NOTES.md).
WeasyPrint is imported here, where a PDF is rendered, never at module top (it costs ~0.6 s).
"""

from __future__ import annotations

import functools

from django.template.loader import render_to_string


@functools.cache
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_pdf(template: str, context: dict) -> bytes:
    """``template`` (e.g. ``"pdf/invoice.html"``) rendered with ``context``, as PDF bytes."""
    return html_to_pdf(render_to_string(template, context))


def html_to_pdf(html: str) -> bytes:
    """An HTML document written as PDF with the process's one font configuration."""
    import weasyprint  # slow to import (~0.6 s): only where a PDF is rendered

    return weasyprint.HTML(string=html).write_pdf(font_config=_font_config())
