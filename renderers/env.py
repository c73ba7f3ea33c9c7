"""The one jinja2 Environment of yakkan's renderers, and the filters its templates share.

Templates live in `renderers/templates/` (package data, found through importlib.resources).
HTML templates (`*.html.j2`) autoescape; Markdown templates (`*.md.j2`) do not — HTML
entities inside Markdown code spans would show literally — and instead escape every value
explicitly with the `md` / `mdcode` filters. `StrictUndefined` makes a missing variable an
error, and `fail(...)` lets a template refuse what it does not know (an unknown unit kind is
an error, never blank output).

>>> env = environment()
>>> env.from_string("{{ x }}").render(x="<b>")  # strings autoescape (the safe default)
'&lt;b&gt;'
>>> md_escape("a*b_c <x>")
'a\\\\*b\\\\_c &lt;x&gt;'
>>> md_code("x `y`")
'`` x `y` ``'
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import jinja2
from markupsafe import Markup, escape

from yakkan.renderers.terminal import term_safe

# Markers a labels callback puts around a judgment's label inside expression text (private
# use characters, never in clause text): the `logic` filters turn them into highlights.
JUDGMENT_OPEN = "\ue000"
JUDGMENT_CLOSE = "\ue001"


class RenderError(Exception):
    """A template met something it does not know how to render (a renderer bug)."""


def fail(message: str) -> NoReturn:
    """Called from templates: stop rendering with `message`."""
    raise RenderError(message)


def templates_dir() -> Path:
    return Path(str(resources.files("yakkan.renderers").joinpath("templates")))


# ---- filters ------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def md_escape(value: Any) -> str:
    """Text safe to place in Markdown prose or a table cell: HTML-escaped (`<script>` is
    shown, never run), Markdown punctuation backslash-escaped (`|`, link and emphasis
    syntax), every line break — `\\r\\n`, `\\n` and a lone `\\r`, which Markdown also
    reads as one — as `<br>` (so a value never starts a line: no heading, list, HTML block
    or setext underline), other control characters shown escaped (`\\x1b`)."""
    if value is None:
        return ""
    s = str(value).replace("\r\n", "\n").replace("\r", "\n")
    s = term_safe(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return s.replace("\n", "<br>")


def md_code(value: Any) -> str:
    """An inline code span holding `value` verbatim (a fence longer than any run of
    backticks inside; GitHub shows HTML inside a code span as text)."""
    s = term_safe(str(value).replace("\r\n", " ").replace("\r", " ").replace("\n", " "))
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    if s.startswith("`") or s.endswith("`") or longest:
        s = f" {s} "
    return f"{fence}{s}{fence}"


_TRUTH_CLASS = {"はい": "true", "いいえ": "false", "不明": "unknown", "true": "true",
                "false": "false", "unknown": "unknown"}


def logic_html(text: str | None) -> Markup:
    """Condition text (`jatext.ja_text`, or DSL from `exprtext.to_text`) as HTML: escaped,
    judgments in <mark>, the case's values ［はい］［いいえ］［不明］ (［true］… in DSL) as
    coloured tags, other values as plain tags."""
    s = str(escape(text or ""))
    s = s.replace(JUDGMENT_OPEN, '<mark class="judgment" title="判断事項（当社の判断）">') \
        .replace(JUDGMENT_CLOSE, '<span class="jtag">判断</span></mark>')
    s = re.sub(r"［(はい|いいえ|不明|true|false|unknown)］",
               lambda m: f'<span class="val val-{_TRUTH_CLASS[m.group(1)]}">{m.group(1)}</span>',
               s)
    s = re.sub(r"［([^］<]*)］", r'<span class="val">\1</span>', s)
    return Markup(s)


def logic_md(text: str | None) -> str:
    """Expression text as Markdown: escaped, judgments in bold with （判断）."""
    s = md_escape(text or "")
    # a label that already says so (「…（当社の判断）」) is not marked twice
    s = re.sub(f"{JUDGMENT_OPEN}([^{JUDGMENT_CLOSE}]*?判断）){JUDGMENT_CLOSE}", r"**\1**", s)
    return s.replace(JUDGMENT_OPEN, "**").replace(JUDGMENT_CLOSE, "**（判断）")


def wbr(value: Any) -> Markup:
    """A dotted name escaped, with break opportunities after `.` and `_` (table cells)."""
    s = str(escape(str(value)))
    return Markup(s.replace(".", ".<wbr>").replace("_", "_<wbr>"))


def plain(text: str | None) -> str:
    """Expression text without judgment markers (for titles and alt text)."""
    return (text or "").replace(JUDGMENT_OPEN, "").replace(JUDGMENT_CLOSE, "")


def _version() -> str:
    from yakkan import __version__
    return str(__version__)


@functools.cache
def stylesheet() -> Markup:
    """The pages' CSS (templates/style.css), inlined by `_base.html.j2`: a file of this
    package, never a template (so braces in CSS are never read as Jinja syntax)."""
    css = templates_dir().joinpath("style.css").read_text(encoding="utf-8")
    if "</" in css:
        raise RenderError("style.css must not contain `</` (it is inlined in <style>)")
    return Markup(css)


@functools.cache
def environment() -> jinja2.Environment:
    """The shared Environment (built once)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2", "htm", "xml"),
            disabled_extensions=("md.j2", "md", "txt"),
            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.globals["fail"] = fail
    env.globals["stylesheet"] = stylesheet
    env.globals["yakkan_version"] = _version()
    env.filters["md"] = md_escape
    env.filters["mdcode"] = md_code
    env.filters["logic_html"] = logic_html
    env.filters["logic_md"] = logic_md
    env.filters["plain"] = plain
    env.filters["wbr"] = wbr
    return env


def render(template: str, **context: Any) -> str:
    """Render one template of `renderers/templates/` with `context`."""
    return environment().get_template(template).render(**context)
