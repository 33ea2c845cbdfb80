"""A report page parsed into a small tree with the standard library's html.parser, for tests to query."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import attrs

VOID = {"br", "hr", "img", "input", "meta", "link", "col", "wbr"}


@attrs.define
class Element:
    tag: str
    attributes: dict[str, str | None]
    parent: Element | None = None
    children: list[Element | str] = attrs.field(factory=list)

    @property
    def id(self) -> str | None:
        return self.attributes.get("id")

    @property
    def classes(self) -> set[str]:
        return set((self.attributes.get("class") or "").split())

    @property
    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text for child in self.children)

    def all(self, tag: str | None = None, *, cls: str | None = None) -> Iterator[Element]:
        """Every element under this one, in document order, of `tag` and with class `cls` when given."""
        for child in self.children:
            if isinstance(child, Element):
                if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                    yield child
                yield from child.all(tag, cls=cls)

    def first(self, tag: str | None = None, *, cls: str | None = None) -> Element:
        return next(self.all(tag, cls=cls))

    def by_id(self, wanted: str) -> Element:
        return next(element for element in self.all() if element.id == wanted)

    def collapsed(self) -> bool:
        """Hidden until the reader opens it: inside a <details> without `open`, below its summary."""
        element, child = self.parent, self
        while element is not None:
            if element.tag == "details" and "open" not in element.attributes and child.tag != "summary":
                return True
            element, child = element.parent, element
        return False


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attributes), parent=self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        element = self.current
        while element is not None and element.tag != tag:
            element = element.parent
        if element is not None and element.parent is not None:
            self.current = element.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
