#!/usr/bin/env python3
"""Render the sample knowledge base's Markdown sources into real PDFs.

    python3 -m venv /var/cache/doctalk-examples-venv
    /var/cache/doctalk-examples-venv/bin/pip install -r examples/sample-kb/requirements.txt
    /var/cache/doctalk-examples-venv/bin/python examples/sample-kb/generate.py

Outputs (next to this script):
  员工手册.pdf            from source/handbook.md (Chinese; WenQuanYi Micro Hei embedded as a subset)
  it-security-policy.pdf  from source/it-security-policy.md (English; PDF base-14 fonts, not embedded)

Only the small Markdown subset the sources use is understood: `#` title, `##`/`###` headings, paragraphs,
`- ` bullets, `1. ` numbered items and `|`-tables whose first row is the header (no separator row).

Output is deterministic (reportlab's invariant mode), so re-running without source changes leaves the
committed PDFs byte-identical.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config

# Fixed timestamps and document IDs: the PDFs are committed, so regeneration must not churn them.
rl_config.invariant = 1

from reportlab.lib import colors  # noqa: E402
from reportlab.lib.enums import TA_CENTER, TA_LEFT  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import cm  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    BaseDocTemplate,
    Frame,
    ListFlowable,
    ListItem,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.lib import textsplit as rl_textsplit  # noqa: E402
from reportlab.platypus import paragraph as rl_paragraph  # noqa: E402
from reportlab.platypus.tableofcontents import TableOfContents  # noqa: E402

HERE = Path(__file__).resolve().parent
WQY_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

# reportlab's kinsoku table lacks the full-width punctuation Chinese text uses, so without this a line
# can start with "，" or "；". Both CJK splitters (textsplit.wordSplit for one-style paragraphs,
# paragraph.cjkFragSplit for mixed ones) read their module's global at call time.
_NO_LINE_START = "，；：！？）》」』”’%"
rl_textsplit.ALL_CANNOT_START += _NO_LINE_START
rl_paragraph.ALL_CANNOT_START += _NO_LINE_START


# ---------------------------------------------------------------- Markdown subset


@dataclass
class Block:
    kind: str  # title | h2 | h3 | para | bullets | numbered | table
    text: str = ""
    items: list | None = None


def parse_markdown(src: str) -> list[Block]:
    """Split the source into blocks; consecutive list/table lines form one block."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush_para() -> None:
        if para:
            blocks.append(Block("para", " ".join(para)))
            para.clear()

    for raw in src.splitlines():
        line = raw.rstrip()
        if not line.strip():
            flush_para()
            continue
        kind, text = None, line
        if line.startswith("### "):
            kind, text = "h3", line[4:]
        elif line.startswith("## "):
            kind, text = "h2", line[3:]
        elif line.startswith("# "):
            kind, text = "title", line[2:]
        if kind:
            flush_para()
            blocks.append(Block(kind, text.strip()))
            continue
        m_bullet = re.match(r"^- (.*)$", line)
        m_num = re.match(r"^\d+\. (.*)$", line)
        if line.startswith("|"):
            flush_para()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if blocks and blocks[-1].kind == "table":
                blocks[-1].items.append(cells)
            else:
                blocks.append(Block("table", items=[cells]))
        elif m_bullet or m_num:
            flush_para()
            kind = "bullets" if m_bullet else "numbered"
            item = (m_bullet or m_num).group(1)
            if blocks and blocks[-1].kind == kind:
                blocks[-1].items.append(item)
            else:
                blocks.append(Block(kind, items=[item]))
        else:
            para.append(line.strip())
    flush_para()
    return blocks


def inline(text: str) -> str:
    """Markdown inline → reportlab paragraph markup (only **bold** is used)."""
    out = escape(text)
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)


# ---------------------------------------------------------------- document styling


@dataclass
class Look:
    """Fonts and words that differ between the Chinese and the English document."""

    body_font: str
    head_font: str
    cjk: bool
    toc_title: str
    footer: str  # format with page=, total=
    header: str


def make_styles(look: Look) -> dict[str, ParagraphStyle]:
    wrap = "CJK" if look.cjk else None
    base = dict(fontName=look.body_font, wordWrap=wrap, alignment=TA_LEFT)
    navy = colors.HexColor("#1F3A5F")
    return {
        "title": ParagraphStyle(
            "title", fontName=look.head_font, fontSize=22, leading=30, alignment=TA_CENTER,
            spaceBefore=60, spaceAfter=18, textColor=navy, wordWrap=wrap,
        ),
        "meta": ParagraphStyle(
            "meta", fontName=look.body_font, fontSize=10, leading=16, alignment=TA_CENTER,
            spaceAfter=24, textColor=colors.HexColor("#555555"), wordWrap=wrap,
        ),
        "h2": ParagraphStyle(
            "h2", fontName=look.head_font, fontSize=16, leading=24, spaceBefore=16,
            spaceAfter=8, textColor=navy, keepWithNext=1, wordWrap=wrap,
        ),
        "h3": ParagraphStyle(
            "h3", fontName=look.head_font, fontSize=12.5, leading=19, spaceBefore=10,
            spaceAfter=4, textColor=navy, keepWithNext=1, wordWrap=wrap,
        ),
        "body": ParagraphStyle("body", fontSize=11, leading=19, spaceAfter=6, **base),
        "item": ParagraphStyle("item", fontSize=11, leading=19, spaceAfter=2, **base),
        "cell": ParagraphStyle("cell", fontSize=10, leading=15, **base),
        "cellhead": ParagraphStyle(
            "cellhead", fontSize=10, leading=15, textColor=colors.white, **base
        ),
        "toc1": ParagraphStyle(
            "toc1", fontName=look.body_font, fontSize=11, leading=20, leftIndent=10,
            wordWrap=wrap,
        ),
        "toctitle": ParagraphStyle(
            "toctitle", fontName=look.head_font, fontSize=16, leading=24, spaceAfter=10,
            textColor=navy, wordWrap=wrap,
        ),
    }


def make_table(rows: list[list[str]], styles: dict, width: float) -> Table:
    ncols = max(len(r) for r in rows)
    data = []
    for i, row in enumerate(rows):
        style = styles["cellhead"] if i == 0 else styles["cell"]
        padded = row + [""] * (ncols - len(row))
        data.append([Paragraph(inline(c), style) for c in padded])
    table = Table(data, colWidths=[width / ncols] * ncols, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1F3A5F")),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#8899AA")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def build_story(blocks: list[Block], styles: dict, look: Look, width: float) -> list:
    story: list = []
    it = iter(blocks)
    first = next(it)
    if first.kind != "title":
        raise ValueError("source must start with a '# ' title line")
    story.append(Paragraph(inline(first.text), styles["title"]))
    # The paragraph right after the title is the version line: centred, smaller.
    rest = list(it)
    if rest and rest[0].kind == "para":
        story.append(Paragraph(inline(rest.pop(0).text), styles["meta"]))
    # Intro paragraphs before the first chapter stay on the cover page, then the contents.
    while rest and rest[0].kind == "para":
        story.append(Paragraph(inline(rest.pop(0).text), styles["body"]))
    toc = TableOfContents(levelStyles=[styles["toc1"]], dotsMinLevel=0)
    story += [Spacer(1, 12), Paragraph(escape(look.toc_title), styles["toctitle"]), toc,
              PageBreak()]
    for b in rest:
        if b.kind in ("h2", "h3"):
            story.append(Paragraph(inline(b.text), styles[b.kind]))
        elif b.kind == "para":
            story.append(Paragraph(inline(b.text), styles["body"]))
        elif b.kind in ("bullets", "numbered"):
            items = [ListItem(Paragraph(inline(t), styles["item"])) for t in b.items]
            if b.kind == "bullets":
                story.append(ListFlowable(items, bulletType="bullet", start="•", leftIndent=16,
                                          bulletFontName=look.body_font, bulletFontSize=9))
            else:
                story.append(ListFlowable(items, bulletType="1", leftIndent=18,
                                          bulletFontName=look.body_font, bulletFontSize=10.5,
                                          bulletFormat="%s."))
            story.append(Spacer(1, 4))
        elif b.kind == "table":
            story += [make_table(b.items, styles, width), Spacer(1, 8)]
        else:
            raise ValueError(f"unexpected block {b.kind}")
    return story


class Doc(BaseDocTemplate):
    """Feeds chapter headings to the contents page and to the PDF outline (bookmarks)."""

    def afterFlowable(self, flowable) -> None:
        if not isinstance(flowable, Paragraph):
            return
        name = flowable.style.name
        if name not in ("h2", "h3"):
            return
        text = flowable.getPlainText()
        key = f"h{self.seq.nextf('heading')}"
        self.canv.bookmarkPage(key)
        level = 0 if name == "h2" else 1
        self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
        if level == 0:
            self.notify("TOCEntry", (0, text, self.page, key))


def render(src: Path, out: Path, look: Look, meta: dict) -> int:
    blocks = parse_markdown(src.read_text(encoding="utf-8"))
    styles = make_styles(look)
    margin_x, margin_top, margin_bottom = 2.4 * cm, 2.4 * cm, 2.4 * cm
    width = A4[0] - 2 * margin_x
    frame = Frame(margin_x, margin_bottom, width, A4[1] - margin_top - margin_bottom, id="body")
    total = {"pages": 0}

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(look.body_font, 9)
        canvas.setFillColor(colors.HexColor("#666666"))
        page = canvas.getPageNumber()
        if page > 1:
            canvas.drawString(margin_x, A4[1] - 1.5 * cm, look.header)
            canvas.setStrokeColor(colors.HexColor("#BBBBBB"))
            canvas.line(margin_x, A4[1] - 1.65 * cm, A4[0] - margin_x, A4[1] - 1.65 * cm)
        # The total comes from the previous multiBuild pass; it is exact on the final pass.
        label = look.footer.format(page=page, total=total["pages"] or page)
        canvas.drawCentredString(A4[0] / 2, 1.3 * cm, label)
        canvas.restoreState()

    doc = Doc(
        str(out), pagesize=A4, leftMargin=margin_x, rightMargin=margin_x, topMargin=margin_top,
        bottomMargin=margin_bottom, title=meta["title"], author=meta["author"],
        subject=meta["subject"], keywords=meta["keywords"], creator="DocTalk examples/sample-kb/generate.py",
        lang=meta["lang"],
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])

    # multiBuild reruns the layout until the contents page numbers settle; one more pass after that
    # makes the "of N" footer exact (the total is only known once a pass has finished).
    doc.multiBuild(build_story(blocks, styles, look, width))
    total["pages"] = doc.page
    doc.multiBuild(build_story(blocks, styles, look, width))
    if doc.page != total["pages"]:
        raise RuntimeError("page count changed between passes")
    return doc.page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE.parent / "sample-kb")
    args = parser.parse_args()

    if not WQY_FONT.exists():
        print(f"missing {WQY_FONT}: apt-get install fonts-wqy-microhei", file=sys.stderr)
        return 1
    # subfontIndex 0 is "WenQuanYi Micro Hei" (1 is the Mono face). reportlab embeds only the glyphs
    # used, in subsets of up to 256 glyphs, each with a ToUnicode CMap so text extraction works.
    pdfmetrics.registerFont(TTFont("WQYMicroHei", str(WQY_FONT), subfontIndex=0))

    zh = Look(
        body_font="WQYMicroHei", head_font="WQYMicroHei", cjk=True, toc_title="目录",
        footer="第 {page} 页 共 {total} 页", header="星河科技有限公司员工手册（V3.2）",
    )
    en = Look(
        body_font="Times-Roman", head_font="Helvetica-Bold", cjk=False, toc_title="Contents",
        footer="Page {page} of {total}", header="Xinghe Technology - Information Security Policy (ISP-002 v2.1)",
    )
    jobs = [
        (HERE / "source" / "handbook.md", args.out_dir / "员工手册.pdf", zh, {
            "title": "星河科技有限公司员工手册（V3.2）", "author": "星河科技有限公司人力资源部",
            "subject": "员工手册：入职、考勤休假、商旅出差、报销、用车、信息安全、管理员后台、办公设备、会议室",
            "keywords": "员工手册, 出差制度, 报销, 管理员后台, 滴滴企业版", "lang": "zh-CN",
        }),
        (HERE / "source" / "it-security-policy.md", args.out_dir / "it-security-policy.pdf", en, {
            "title": "Xinghe Technology Information Security Policy (ISP-002 v2.1)",
            "author": "Xinghe Technology Information Security Department",
            "subject": "Passwords, MFA, VPN, device encryption, data classification, incident reporting",
            "keywords": "security policy, password, VPN, encryption, incident", "lang": "en-GB",
        }),
    ]
    for src, out, look, meta in jobs:
        pages = render(src, out, look, meta)
        print(f"{out.name}: {pages} pages, {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
