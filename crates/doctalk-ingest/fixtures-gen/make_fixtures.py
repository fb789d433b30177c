#!/usr/bin/env python3
"""Generates the binary and legacy-encoded fixtures of doctalk-ingest's tests.

The plain UTF-8 fixtures (Markdown, HTML, JSON, most CSV) are written by hand and committed
as they are; this script makes the ones a text editor cannot: GBK/GB18030/UTF-8-BOM files,
the XLSX workbook and the DOCX document. All content is original, written for these tests
(licence: the project's, MIT OR Apache-2.0).

Usage (openpyxl and python-docx in a throwaway venv):
    python3 -m venv /var/cache/doctalk-fixtures-venv
    /var/cache/doctalk-fixtures-venv/bin/pip install openpyxl python-docx
    /var/cache/doctalk-fixtures-venv/bin/python crates/doctalk-ingest/fixtures-gen/make_fixtures.py

Output is deterministic apart from the timestamps that openpyxl/python-docx put in the
zip metadata, which the tests do not read.
"""

import datetime
import os

from docx import Document
from openpyxl import Workbook

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def out(*parts):
    path = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


# --- FAQ: a Chinese Excel "CSV" export, which is GBK with CRLF line ends -------------------
HR_FAQ_GBK = (
    "分类,标准问题,相似问题,答案,关键词\r\n"
    "休假,年假有几天？,年假多少天|一年有几天年假；带薪年假天数,"
    "\"入职满一年的员工每年享有5天带薪年假，满十年为10天。\",年假\r\n"
    "休假,病假需要什么材料？,请病假要证明吗,"
    "\"请病假需提供二级以上医院开具的诊断证明，\r\n3天以内可由部门负责人审批。\",病假\r\n"
    "报销,出差住宿标准是多少？,,\"一线城市每晚不超过500元，其他城市不超过350元。\",\"差旅,住宿\"\r\n"
    "报销,报销多久能到账？,报销到账时间,审批通过后5个工作日内打入工资卡。,报销\r\n"
)
write_bytes(out("faq", "hr_faq_gbk.csv"), HR_FAQ_GBK.encode("gbk"))

# --- FAQ: an English export saved as "CSV UTF-8" by Excel, i.e. with a BOM ------------------
PRODUCT_FAQ = (
    "Question,Answer,Similar Questions,Category\n"
    "How do I reset my password?,\"Open Settings > Account, choose \"\"Reset password\"\" and "
    "follow the link we email you.\",Forgot password; Can't log in,Account\n"
    "Can I export my data?,\"Yes. Go to Settings > Privacy > Export; you get a ZIP within 24 "
    "hours.\",Download my data|Data export,Privacy\n"
    "Which payment methods do you accept?,\"Visa, Mastercard, PayPal and bank transfer.\",,Billing\n"
)
write_bytes(out("faq", "product_faq_bom.csv"), b"\xef\xbb\xbf" + PRODUCT_FAQ.encode("utf-8"))

# --- Plain text in GB18030 (with 䶮 U+4DAE, outside GBK's two-byte range) ----------------------
POLICY = """员工考勤管理制度

第一章 总则
　　第一条 为规范公司考勤管理，维护正常工作秩序，特制定本制度。
　　第二条 本制度适用于公司全体正式员工及实习生。

第二章 工作时间
一、标准工时
　　公司实行每周五天工作制，每日工作时间为上午九点至下午六点，中午休息一小时。
二、弹性工时
　　研发部门可申请弹性工时，核心工作时间为上午十点至下午四点。
　　经部门负责人刘䶮批准后，弹性工时自次月一日起生效。

第三章 迟到与早退
　　第三条 上班时间开始后三十分钟内到岗的，视为迟到；超过三十分钟的，按旷工半天处理。
　　第四条 每月迟到累计不超过三次且每次不超过十分钟的，不扣薪资。
"""
write_bytes(out("text", "attendance_gb18030.txt"), POLICY.replace("\n", "\r\n").encode("gb18030"))

# --- HTML declared and encoded as GBK -----------------------------------------------------------
LEGACY_HTML = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">
<title>退换货说明</title></head>
<body><h1>退换货说明</h1>
<p>自签收之日起七天内，商品完好可申请无理由退货。</p>
</body></html>
"""
write_bytes(out("html", "returns_gbk.html"), LEGACY_HTML.encode("gbk"))

# --- XLSX: a notes sheet first, then the FAQ sheet with a title row above the header ----------
wb = Workbook()
notes = wb.active
notes.title = "说明"
notes["A1"] = "本文件由客服知识库导出，请勿修改表头。"
notes["A2"] = "导出时间"
notes["B2"] = datetime.date(2024, 5, 20)
faq = wb.create_sheet("FAQ")
faq.append(["客服知识库 2024年5月"])
faq.append(["问题（必填）", "答案（必填）", "相似问法", "分类", "优先级", "更新日期"])
faq.append(["订单多久发货？", "付款后48小时内发货，预售商品以详情页时间为准。",
            "什么时候发货\n几天能发货", "物流", 1, datetime.date(2024, 5, 1)])
faq.append(["可以开发票吗？", "可以。在订单详情页点击“申请开票”，电子发票将发送到您的邮箱。",
            "怎么开发票|发票怎么开", "发票", 2, datetime.date(2024, 4, 18)])
faq.append(["支持哪些快递？", None, None, "物流", 3, None])
faq.append(["How long does shipping take?", "Orders ship within 48 hours of payment.",
            "When will my order ship?", "Logistics", 1.5, None])
wb.save(out("faq", "kb_export.xlsx"))

# --- DOCX: Title, Heading 1/2, body text, a table ------------------------------------------------
doc = Document()
doc.add_paragraph("差旅管理办法", style="Title")
doc.add_paragraph("本办法适用于公司全体员工因公出差的申请、预订与报销。")
doc.add_paragraph("第一章 出差申请", style="Heading 1")
doc.add_paragraph("员工出差前须在OA系统提交出差申请，写明出差事由、地点和天数。")
doc.add_paragraph("第一节 审批流程", style="Heading 2")
doc.add_paragraph("三天以内的出差由部门经理审批；超过三天的，还须经分管副总审批。")
doc.add_paragraph("第二章 住宿标准", style="Heading 1")
doc.add_paragraph("住宿费用按城市等级在下表标准内据实报销。")
table = doc.add_table(rows=1, cols=3)
for cell, text in zip(table.rows[0].cells, ["城市等级", "普通员工", "经理及以上"]):
    cell.text = text
for row in [["一线城市", "500元/晚", "700元/晚"], ["其他城市", "350元/晚", "500元/晚"]]:
    cells = table.add_row().cells
    for cell, text in zip(cells, row):
        cell.text = text
doc.add_paragraph("Travel & Expenses (English summary)", style="Heading 1")
p = doc.add_paragraph("Book hotels through the portal. ")
p.add_run("Receipts are required for every claim.").bold = True
doc.save(out("docx", "travel_policy.docx"))

# A DOCX that is not a zip at all: the first bytes of a real one, then garbage.
with open(out("docx", "travel_policy.docx"), "rb") as f:
    head = f.read(200)
write_bytes(out("docx", "corrupt.docx"), head + b"\x00garbage" * 20)

print("fixtures written under", os.path.normpath(ROOT))
