"""The text/html part: a small, responsive layout that common mail clients render alike.

Mail clients are not browsers: Gmail drops ``<style>`` blocks in some views, Outlook
for Windows renders with Word and ignores ``max-width``, many strip scripts, forms and
external CSS. So the layout is the one that survives everywhere: nested tables, inline
``style`` attributes, a 600 px column (fixed for Outlook by a conditional comment,
``max-width`` for everyone else), system fonts, no images.

Nothing from the message is ever markup: every text goes through :func:`html.escape`
(quotes included, so attribute values are safe too), line breaks become ``<br>``, and
only http(s) links become buttons (``_content.web_link``). Long text is wrapped onto
several source lines at spaces, which HTML renders exactly like one line; that keeps
the part within SMTP's 998-octet line limit, so it can travel as readable 8bit.
"""

from __future__ import annotations

from html import escape

from ._content import Content, footer_facts

FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
TEXT_COLOR = "#1D1C1D"
MUTED_COLOR = "#616061"
PAGE_COLOR = "#F4F5F7"
BORDER_COLOR = "#E1E4E8"
BUTTON_COLORS = {"primary": "#1264A3", "danger": "#E01E5A", "default": "#4A5560"}
#: Source lines are wrapped near this width (HTML treats the break as a space).
WRAP = 100


def _text(text: str) -> list[str]:
    """Escaped ``text`` as source lines: ``<br>`` for its line breaks, wrapped at spaces."""
    out: list[str] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        wrapped = _wrap(escape(line, quote=True))
        if i < len(lines) - 1:
            wrapped[-1] += "<br>"
        out += wrapped
    return out


def _wrap(escaped: str) -> list[str]:
    out: list[str] = []
    current = ""
    for word in escaped.split(" "):
        if current and len(current) + 1 + len(word) > WRAP:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    return out


def _style(**rules: str) -> str:
    return ";".join(f"{k.replace('_', '-')}:{v}" for k, v in rules.items())


def _table(width: str = "100%", style: str = "") -> str:
    """A layout table: no spacing, no border, ignored by screen readers."""
    attrs = f'role="presentation" width="{width}" cellpadding="0" cellspacing="0" border="0"'
    return f'<table {attrs} style="{style}">' if style else f"<table {attrs}>"


def _cell(**rules: str) -> str:
    """The opening of a content row, padded like every other."""
    return f'<tr><td style="{_style(padding="0 24px", font_family=FONT, **rules)}">'


def render_html(item: Content) -> str:
    """The HTML part of ``item``."""
    band = _style(
        height="6px",
        line_height="6px",
        font_size="0",
        background_color=item.color,
        border_radius="6px 6px 0 0",
    )
    rows: list[str] = [
        f'<tr><td style="{band}">&nbsp;</td></tr>',  # the severity band
        _cell(
            padding_top="20px",
            font_size="12px",
            line_height="16px",
            font_weight="bold",
            letter_spacing="1px",
            color=MUTED_COLOR,
        ),
        f'<span style="color:{item.color}">&#9679;</span> {escape(item.label)}',
        "</td></tr>",
        _cell(
            padding_top="6px",
            font_size="20px",
            line_height="28px",
            font_weight="bold",
            color=TEXT_COLOR,
        ),
        *_text(item.title),
        "</td></tr>",
    ]
    if item.body:
        text = _cell(padding_top="12px", font_size="15px", line_height="22px", color=TEXT_COLOR)
        rows += [text, *_text(item.body), "</td></tr>"]
    if item.fields:
        rows += [_cell(padding_top="16px"), *_fields(item), "</td></tr>"]
    if item.links:
        rows += [_cell(padding_top="20px"), *_buttons(item), "</td></tr>"]
    rows += [
        _cell(
            padding_top="24px",
            padding_bottom="20px",
            font_size="12px",
            line_height="18px",
            color=MUTED_COLOR,
        ),
        *_text("Sent by notify · " + " · ".join(footer_facts(item))),
        "</td></tr>",
    ]
    card = _style(
        max_width="600px",
        background_color="#FFFFFF",
        border=f"1px solid {BORDER_COLOR}",
        border_radius="6px",
    )
    # the inbox preview line; hidden in the message itself
    preheader = escape(item.body.replace("\n", " ")[:120], quote=True)
    hidden = "display:none;max-height:0;overflow:hidden;mso-hide:all"
    page = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light">',
        "<title>",
        *_text(item.subject),
        "</title>",
        "</head>",
        f'<body style="margin:0;padding:0;background-color:{PAGE_COLOR}">',
        f'<div style="{hidden}">',
        *_wrap(preheader),
        "</div>",
        _table(style=f"background-color:{PAGE_COLOR}"),
        '<tr><td align="center" style="padding:24px 12px">',
        # Outlook for Windows ignores max-width: a fixed 600 px table for it alone
        f"<!--[if mso]>{_table('600')}<tr><td><![endif]-->",
        _table(style=card),
        *rows,
        "</table>",
        "<!--[if mso]></td></tr></table><![endif]-->",
        "</td></tr>",
        "</table>",
        "</body>",
        "</html>",
    ]
    return "\n".join(page) + "\n"


def _fields(item: Content) -> list[str]:
    name_style = _style(
        padding="6px 12px 6px 0",
        font_family=FONT,
        font_size="14px",
        line_height="20px",
        font_weight="bold",
        color=MUTED_COLOR,
        vertical_align="top",
        width="35%",
        border_top=f"1px solid {BORDER_COLOR}",
    )
    value_style = _style(
        padding="6px 0",
        font_family=FONT,
        font_size="14px",
        line_height="20px",
        color=TEXT_COLOR,
        vertical_align="top",
        border_top=f"1px solid {BORDER_COLOR}",
    )
    out = [_table()]
    for name, value in item.fields:
        out += [
            f'<tr><td style="{name_style}">',
            *_text(name),
            f'</td><td style="{value_style}">',
            *_text(value),
            "</td></tr>",
        ]
    if item.fields_dropped:
        out += [
            f'<tr><td colspan="2" style="{value_style};color:{MUTED_COLOR}">',
            f"… and {item.fields_dropped} more fields",
            "</td></tr>",
        ]
    out.append("</table>")
    return out


def _buttons(item: Content) -> list[str]:
    out = []
    for link in item.links:
        color = BUTTON_COLORS.get(link.style, BUTTON_COLORS["default"])
        style = _style(
            display="inline-block",
            margin="0 8px 8px 0",
            padding="10px 18px",
            background_color=color,
            border_radius="4px",
            color="#FFFFFF",
            font_family=FONT,
            font_size="14px",
            line_height="20px",
            font_weight="bold",
            text_decoration="none",
        )
        out += [
            f'<a href="{escape(link.url, quote=True)}" style="{style}">',
            *_text(link.label),
            "</a>",
        ]
    return out
