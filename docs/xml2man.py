#!/usr/bin/env python3
"""Write libchatbotkit's section 3 man pages from Doxygen's XML output.

    python3 docs/xml2man.py BUILD_DIR

reads BUILD_DIR/xml (written by `doxygen docs/Doxyfile`) and writes
BUILD_DIR/man/man3: one page per function, type, enum and macro of
chatbotkit.h, a `.so` link per enum value to its enum's page, and
libchatbotkit.3 from the overview page.

Doxygen stays the generator of record (it parses the header and the
overview and checks them); this script only lays the parsed text out as
roff. Doxygen's own man output gives one page for the whole header, with
`.so` links to it per function, so `man cbk_task_wait` would open the whole
header. Python 3 standard library only.
"""

import os
import re
import sys
import xml.etree.ElementTree as ET

HEADER = "chatbotkit.h"
OVERVIEW = "libchatbotkit"


def esc(text, code=False):
    """Escape text for roff. In code, `-` is a minus, so copies work."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\e")
        elif ch == "-" and code:
            out.append("\\-")
        elif ord(ch) > 126:
            # Written as groff escapes, so the page is plain ASCII and renders
            # the same whatever the reader's locale.
            out.append("\\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


# Doxygen writes some characters as elements of their own.
SYMBOLS = {"ndash": "\\(en", "mdash": "\\(em", "nonbreakablespace": "\\ ",
           "copy": "(c)", "sp": " ", "zwj": "", "zwnj": "", "lsquo": "'",
           "rsquo": "'", "ldquo": '"', "rdquo": '"', "hellip": "..."}


class Page:
    """Roff output: macro lines and filled text, kept apart so that no text
    line can start with a control character."""

    def __init__(self, params=(), names=None):
        self.lines = []
        self.text = []
        self.params = set(params)
        self.names = names or {}
        self.refs = set()

    # -- output

    def word(self, s):
        self.text.append(s)

    def flush(self):
        line = re.sub(r"[ \t\n]+", " ", "".join(self.text)).strip()
        self.text = []
        if line:
            if line[0] in ".'":
                line = "\\&" + line
            self.lines.append(line)

    def macro(self, m):
        self.flush()
        self.lines.append(m)

    def raw(self, line):
        """A line of a no-fill block, as it is."""
        self.lines.append(("\\&" + line) if line[:1] in (".", "'") else line)

    def render(self):
        self.flush()
        out, prev = [], None
        for line in self.lines:
            # One paragraph macro where several meet.
            if line in (".PP", ".IP") and prev in (".PP", ".SH", ".SS", ".TP", ".IP"):
                continue
            if line.startswith(".SH") and prev == ".PP":
                out.pop()
            out.append(line)
            prev = line.split(" ")[0] if line.startswith(".") else "text"
        while out and out[-1] == ".PP":
            out.pop()
        return "\n".join(out) + "\n"

    # -- inline

    def inline(self, el, code=False):
        if el.text:
            self.word(esc(el.text, code))
        for child in el:
            self.node(child, code)
            if child.tail:
                self.word(esc(child.tail, code))

    def plain(self, el):
        return re.sub(r"\s+", " ", "".join(el.itertext())).strip()

    def node(self, el, code=False):
        tag = el.tag
        if tag in SYMBOLS:
            self.word(SYMBOLS[tag])
        elif tag == "computeroutput":
            name = self.plain(el)
            font = "\\fI" if name in self.params else "\\fB"
            self.word(font)
            self.inline(el, code=True)
            self.word("\\fP")
        elif tag in ("bold", "emphasis"):
            self.word("\\fB" if tag == "bold" else "\\fI")
            self.inline(el, code)
            self.word("\\fP")
        elif tag == "ref":
            name = self.plain(el).rstrip("()").lstrip(":")
            if name in self.names:
                self.refs.add(name)
                self.word("\\fB%s\\fP(3)" % esc(name, True))
            else:
                self.word("\\fB")
                self.inline(el, True)
                self.word("\\fP")
        elif tag == "ulink":
            url = el.get("url", "")
            self.inline(el, code)
            if self.plain(el) != url:
                self.word(" <%s>" % esc(url))
        elif tag == "linebreak":
            self.macro(".br")
        elif tag == "anchor" or tag == "hruler":
            pass
        elif tag in BLOCKS:
            self.block(el)
        else:
            self.inline(el, code)

    # -- blocks

    def paras(self, el):
        """The children of a description, paragraph by paragraph."""
        if el is None:
            return
        if el.text and el.text.strip():
            self.word(esc(el.text))
        for child in el:
            if child.tag == "para":
                self.macro(".PP")
                self.para(child)
            elif child.tag in ("sect1", "sect2", "sect3", "sect4"):
                self.section(child)
            else:
                self.node(child)
            if child.tail and child.tail.strip():
                self.word(esc(child.tail))

    def para(self, el):
        """One paragraph, whose block children (lists, code) break it."""
        if el.text:
            self.word(esc(el.text))
        for child in el:
            if child.tag in BLOCKS or child.tag in SECTIONS_IN_PARA:
                self.block(child)
            else:
                self.node(child)
            if child.tail:
                self.word(esc(child.tail))
        self.flush()

    def section(self, el):
        title = self.plain(el.find("title")) if el.find("title") is not None else ""
        if el.tag == "sect1":
            self.macro(".SH %s" % esc(title.upper()))
        else:
            self.macro(".SS %s" % esc(title))
        for child in el:
            if child.tag == "title":
                continue
            if child.tag == "para":
                self.macro(".PP")
                self.para(child)
            elif child.tag.startswith("sect"):
                self.section(child)
            else:
                self.node(child)

    def block(self, el):
        tag = el.tag
        if tag in ("itemizedlist", "orderedlist"):
            self.macro(".RS 2" if self.depth else ".PP")
            self.depth += 1
            for n, item in enumerate(el.findall("listitem"), 1):
                mark = "\\(bu" if tag == "itemizedlist" else "%d." % n
                first = True
                for child in item:
                    self.macro(".IP %s 3" % mark if first else ".IP \"\" 3")
                    first = False
                    if child.tag == "para":
                        self.para(child)
                    else:
                        self.node(child)
            self.depth -= 1
            self.macro(".RE" if self.depth else ".PP")
        elif tag in ("programlisting", "verbatim", "preformatted"):
            self.macro(".PP")
            self.macro(".in +4n")
            self.macro(".EX")
            if tag == "programlisting":
                lines = []
                for cl in el.findall("codeline"):
                    lines.append(code_text(cl))
            else:
                lines = "".join(el.itertext()).strip("\n").split("\n")
            for line in lines:
                self.raw(esc(line, True))
            self.macro(".EE")
            self.macro(".in")
            self.macro(".PP")
        elif tag == "table":
            self.table(el)
        elif tag == "simplesect":
            self.sections.append(el)
        elif tag == "parameterlist":
            self.sections.append(el)
        elif tag == "heading":
            self.macro(".SS %s" % esc(self.plain(el)))
        elif tag == "blockquote":
            self.macro(".RS")
            self.paras(el)
            self.macro(".RE")
        elif tag == "parblock":
            self.paras(el)
        else:
            self.inline(el)

    def table(self, el):
        """A table as a tagged list: a terminal has no room for five columns
        of prose. The first cell is the tag; the other cells follow as
        "Header: value." and the last cell as the text."""
        rows = el.findall("row")
        if not rows:
            return
        head = [self.plain(e) for e in rows[0].findall("entry")]
        body = rows[1:] if rows[0].find("entry").get("thead") == "yes" else rows
        for row in body:
            cells = row.findall("entry")
            self.macro(".TP")
            self.cell(cells[0])
            self.flush()
            for h, c in list(zip(head, cells))[1:-1]:
                if self.plain(c):
                    self.word(esc(h) + ": ")
                    self.cell(c)
                    self.word(". ")
            if len(cells) > 1:
                self.cell(cells[-1])
            self.flush()
        self.macro(".PP")

    def cell(self, entry):
        """A cell's text, without the spaces Doxygen pads cells with."""
        outer, self.text = self.text, []
        for i, p in enumerate(entry.findall("para")):
            if i:
                self.word(" ")
            self.inline(p)
        inner, self.text = "".join(self.text).strip(), outer
        self.word(inner)


SECTIONS_IN_PARA = ("simplesect", "parameterlist")
BLOCKS = ("itemizedlist", "orderedlist", "programlisting", "verbatim",
          "preformatted", "table", "simplesect", "parameterlist", "heading",
          "blockquote", "parblock")

Page.depth = 0


def code_text(el):
    out = [el.text or ""]
    for child in el:
        out.append(" " if child.tag == "sp" else code_text(child))
        out.append(child.tail or "")
    return "".join(out)


def flat(el):
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip() if el is not None else ""


def ctype(t):
    """A C type as the header spells it: `char *`, not `char*`."""
    return re.sub(r"\s*\*", " *", t).replace("* *", "**").strip()


def synopsis(m):
    """The declaration, for SYNOPSIS, as roff no-fill lines."""
    kind = m.get("kind")
    name = m.findtext("name")
    if kind == "function":
        ret = ctype(flat(m.find("type")))
        sep = "" if ret.endswith("*") else " "
        params = m.findall("param")
        if not params or (len(params) == 1 and flat(params[0].find("type")) == "void"
                          and params[0].find("declname") is None):
            return ["%s%s\\fB%s\\fP(void);" % (esc(ret, True), sep, esc(name, True))]
        lines = ["%s%s\\fB%s\\fP(" % (esc(ret, True), sep, esc(name, True))]
        for i, p in enumerate(params):
            t = ctype(flat(p.find("type")))
            d = p.findtext("declname") or ""
            gap = "" if t.endswith("*") else " "
            end = ");" if i == len(params) - 1 else ","
            lines.append("    %s%s\\fI%s\\fP%s" % (esc(t, True), gap, esc(d, True), end))
        return lines
    if kind == "define":
        return ["#define \\fB%s\\fP %s" % (esc(name, True), esc(flat(m.find("initializer")), True))]
    if kind == "enum":
        lines = ["typedef enum %s {" % esc(name, True)]
        for v in m.findall("enumvalue"):
            init = flat(v.find("initializer"))
            lines.append("    \\fB%s\\fP %s," % (esc(v.findtext("name"), True), esc(init, True)))
        lines.append("} %s;" % esc(name, True))
        return lines
    # A typedef: of an opaque struct, or of a callback.
    # Doxygen's definition of a function pointer typedef already holds the
    # parameters; its argsstring repeats them.
    definition = flat(m.find("definition"))
    definition = definition.replace("(* ", "(*").replace(") (", ")(")
    if "(" in definition:
        head, args = definition.split("(", 1)[0], definition.split(")(", 1)
        if len(args) == 2:
            start = args[0] + ")("
            params = [a.strip() for a in args[1].rstrip(")").split(",")]
            out = [esc(start, True)]
            for i, a in enumerate(params):
                out.append("    " + esc(a, True) + (");" if i == len(params) - 1 else ","))
            return out
    return [esc(definition, True) + ";"]


def summary(m):
    """The NAME line's text: the description's first sentence, cut short
    where it runs on."""
    for p in m.find("detaileddescription").iter("para"):
        text = flat(p)
        if text:
            break
    else:
        text = ""
    text += " "
    for stop in re.finditer(r"\. ", text):
        # "e.g. " and "i.e. " end no sentence.
        if not text[: stop.start()].endswith(("e.g", "i.e")):
            text = text[: stop.start()]
            break
    text = text.strip().rstrip(".")
    if len(text) > 72:
        for cut in (": ", "; ", " (", ", "):
            if cut in text[:72] and text.index(cut) > 15:
                text = text[: text.index(cut)]
                break
    return text


def th(name, version):
    # No hyphenation (HY too, which .EE restores hyphenation from) and no
    # justification: identifiers stay whole, and lines full of long ones
    # need no stretching, which groff warns about.
    return ('.TH "%s" "3" "" "libchatbotkit %s" "libchatbotkit Manual"\n.nr HY 0\n.hy 0\n.ad l'
            % (name, version))


def member_page(m, names, version):
    name = m.findtext("name")
    params = [p.findtext("declname") for p in m.findall("param") if p.findtext("declname")]
    page = Page(params, names)
    page.sections = []
    page.macro(th(esc(name, True), version))
    page.macro(".SH NAME")
    page.word("%s \\- %s" % (esc(name, True), esc(summary(m))))
    page.macro(".SH SYNOPSIS")
    page.macro(".nf")
    page.raw("\\fB#include <chatbotkit.h>\\fP")
    page.raw("")
    for line in synopsis(m):
        page.raw(line)
    page.macro(".fi")
    page.macro(".SH DESCRIPTION")
    page.paras(m.find("detaileddescription"))
    if m.get("kind") == "enum":
        page.macro(".PP")
        page.word("The values:")
        for v in m.findall("enumvalue"):
            page.macro(".TP")
            page.word("\\fB%s\\fP %s" % (esc(v.findtext("name"), True), esc(flat(v.find("initializer")))))
            page.flush()
            for i, p in enumerate(v.find("detaileddescription").findall("para")):
                if i:
                    page.macro(".IP")
                page.para(p)
    extra = page.sections
    page.sections = []
    for kind in ("param", "return", "par"):
        for sect in extra:
            if sect.tag == "parameterlist" and kind == "param":
                page.macro(".SH PARAMETERS")
                for item in sect.findall("parameteritem"):
                    pn = item.find("parameternamelist/parametername")
                    direction = pn.get("direction")
                    page.macro(".TP")
                    page.word("\\fI%s\\fP" % esc(flat(pn), True))
                    if direction:
                        page.word(" [%s]" % direction)
                    page.flush()
                    desc = item.find("parameterdescription")
                    for i, p in enumerate(desc.findall("para")):
                        if i:
                            page.macro(".IP")
                        page.para(p)
            elif sect.tag == "simplesect" and sect.get("kind") == kind == "return":
                page.macro(".SH RETURN VALUE")
                for p in sect.findall("para"):
                    page.macro(".PP")
                    page.para(p)
            elif sect.tag == "simplesect" and sect.get("kind") == kind == "par":
                page.macro(".SH %s" % esc(flat(sect.find("title")).upper()))
                for p in sect.findall("para"):
                    page.macro(".PP")
                    page.para(p)
    for sect in extra:
        if sect.tag == "simplesect" and sect.get("kind") in ("note", "warning", "attention"):
            page.macro(".SH NOTES")
            for p in sect.findall("para"):
                page.macro(".PP")
                page.para(p)
    see_also(page, name)
    return page.render()


def see_also(page, name):
    refs = sorted(r for r in page.refs if r != name)
    page.macro(".SH SEE ALSO")
    items = ["\\fB%s\\fP(3)" % esc(r, True) for r in refs]
    if name != OVERVIEW:
        items.insert(0, "\\fB%s\\fP(3)" % OVERVIEW)
    page.word(", ".join(items))
    page.flush()


def overview_page(compound, names, version, brief):
    page = Page((), names)
    page.sections = []
    page.macro(th(OVERVIEW, version))
    page.macro(".SH NAME")
    page.word("%s \\- %s" % (OVERVIEW, esc(brief)))
    page.paras(compound.find("detaileddescription"))
    # Every page is listed, not only those the text names: this is the
    # index a reader of man pages has.
    page.refs = set(names)
    see_also(page, OVERVIEW)
    return page.render()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: xml2man.py BUILD_DIR")
    build = sys.argv[1]
    xml_dir = os.path.join(build, "xml")
    out_dir = os.path.join(build, "man", "man3")
    index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
    header = page_of = None
    for c in index.findall("compound"):
        if c.get("kind") == "file" and c.findtext("name") == HEADER:
            header = ET.parse(os.path.join(xml_dir, c.get("refid") + ".xml")).getroot()
        if c.get("kind") == "page" and c.get("refid") == "indexpage":
            page_of = ET.parse(os.path.join(xml_dir, "indexpage.xml")).getroot()
    if header is None or page_of is None:
        sys.exit("xml2man.py: no %s or overview page in %s" % (HEADER, xml_dir))

    members = {}
    for m in header.iter("memberdef"):
        name = m.findtext("name")
        # `typedef enum cbk_status cbk_status` repeats the enum: the enum,
        # which lists the values, is the page.
        if name in members and members[name].get("kind") == "enum":
            continue
        members[name] = m
    defines = {n: m for n, m in members.items() if m.get("kind") == "define"}
    version = ".".join(flat(defines.get("CHATBOTKIT_VERSION_" + p).find("initializer"))
                       for p in ("MAJOR", "MINOR", "PATCH")
                       if defines.get("CHATBOTKIT_VERSION_" + p) is not None)
    brief = flat(header.find("compounddef/briefdescription")).rstrip(".")
    brief = brief.split(": ", 1)[-1]

    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".3"):
            os.remove(os.path.join(out_dir, f))
    names = set(members)
    for name, m in sorted(members.items()):
        with open(os.path.join(out_dir, name + ".3"), "w", encoding="ascii") as f:
            f.write(member_page(m, names, version))
        for v in m.findall("enumvalue"):
            # Searching for a value finds the enum that documents it.
            with open(os.path.join(out_dir, v.findtext("name") + ".3"), "w") as f:
                f.write(".so man3/%s.3\n" % name)
    root = page_of.find("compounddef")
    with open(os.path.join(out_dir, OVERVIEW + ".3"), "w", encoding="ascii") as f:
        f.write(overview_page(root, names, version, brief))


if __name__ == "__main__":
    main()
