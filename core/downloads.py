"""CSV downloads, one way everywhere.

A CSV a person opens is read by Excel, which takes a file without a byte-order mark as the local
code page (µL → Âµ, CsPbI₃ → CsPbIâ‚ƒ): every web page's CSV starts with the UTF-8 BOM. The API's
``?format=csv`` is for programs, where a BOM turns the first column name into "\\ufefftarget" for
a reader that expects plain UTF-8: it has none unless asked (``&bom=1``, what the web pages'
export buttons send). ``pandas.read_csv(…, encoding="utf-8-sig")`` reads both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse

UTF8_BOM = "\ufeff"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
_TRUE = {"1", "true", "yes", "on"}


def api_wants_bom(query) -> bool:
    """``bom=1`` on an API CSV request (a QueryDict or a dict of query parameters)."""
    return str(query.get("bom", "")).strip().lower() in _TRUE


def csv_response(content: bytes | str | Iterable[bytes], filename: str, *, bom: bool = True) -> HttpResponse:
    """An attachment ``filename`` holding ``content`` (bytes or text, or an iterable of byte chunks,
    which is streamed), with the UTF-8 BOM first when ``bom``. Content must not carry its own."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    if isinstance(content, bytes):
        response = HttpResponse((UTF8_BOM.encode() if bom else b"") + content, content_type=CSV_CONTENT_TYPE)
    else:
        response = StreamingHttpResponse(_with_bom(content) if bom else content, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _with_bom(chunks: Iterable[bytes]) -> Iterator[bytes]:
    yield UTF8_BOM.encode()
    yield from chunks
