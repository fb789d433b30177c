"""Drives `doctalk mcp` with the official MCP Python SDK over stdio: lists and calls the tools,
lists and reads the document resources. argv: the doctalk binary, then the data directory."""
import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main():
    binary, data_dir = sys.argv[1], sys.argv[2]
    params = StdioServerParameters(command=binary, args=["--data-dir", data_dir, "mcp", "--no-llm"], env=None)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.serverInfo.name == "doctalk", init

            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert set(tools) == {"search", "ask", "summarize"}, tools
            assert tools["search"].inputSchema["required"] == ["query"]

            found = await session.call_tool("search", {"query": "VPN 连接多久会断开", "top_k": 3})
            assert not found.isError, found
            assert "12小时" in found.content[0].text and "page" in found.content[0].text, found.content[0].text

            answer = await session.call_tool("ask", {"question": "如何登陆管理员后台"})
            assert not answer.isError, answer
            text = answer.content[0].text
            assert "admin.xinghe-tech.cn" in text and "[1]" in text, text

            # Kept to one document: the English policy does not answer the handbook's question.
            scoped = await session.call_tool("search", {"query": "出差住宿标准", "docs": ["it-security-policy.pdf"]})
            assert not scoped.isError, scoped
            assert all(r["path"].endswith("it-security-policy.pdf") for r in scoped.structuredContent["results"]), scoped
            unknown = await session.call_tool("ask", {"question": "出差", "docs": ["nowhere.pdf"]})
            assert unknown.isError and "nowhere.pdf" in unknown.content[0].text, unknown

            summary = await session.call_tool("summarize", {"doc": "员工手册.pdf"})
            assert not summary.isError, summary
            assert "[1]" in summary.content[0].text and "第" in summary.content[0].text, summary.content[0].text

            missing = await session.call_tool("ask", {"question": "公司健身房几点开门"})
            assert "没有找到" in missing.content[0].text, missing.content[0].text

            resources = (await session.list_resources()).resources
            assert len(resources) == 3, resources
            handbook = next(r for r in resources if "员工手册" in str(r.description))
            body = await session.read_resource(handbook.uri)
            content = body.contents[0].text
            assert "[page 5]" in content and "住宿" in content, content[:300]
            print(json.dumps({"tools": sorted(tools), "resources": len(resources)}, ensure_ascii=False))


asyncio.run(main())
