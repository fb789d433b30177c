//! `doctalk mcp`: the knowledge base for other AI tools over the Model Context Protocol, on stdio.
//!
//! JSON-RPC 2.0, one message per line. Tools: `search` (passages with file and page) and `ask` (a
//! grounded, cited answer). Resources: every indexed document as `doctalk://documents/<id>`, its
//! text with page markers. Nothing but protocol messages is written to stdout (logs go to stderr).

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use doctalk_core::{AnswerRequest, KnowledgeBase};
use doctalk_models::llm::Generator;
use serde_json::{json, Value};

use crate::app::Ctx;
use crate::cli::McpArgs;

const PROTOCOL_VERSION: &str = "2025-06-18";
const RESOURCE_PREFIX: &str = "doctalk://documents/";

pub async fn run(ctx: &Ctx, args: McpArgs) -> anyhow::Result<ExitCode> {
    let kb = ctx.open_kb().await?;
    let generator = ctx.load_generator_or_warn(&args.answer).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    // stdin is read on its own thread: a blocking read must not hold up the runtime.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = rx.recv().await {
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Value>(&line) {
            Ok(message) => handle(&kb, generator.clone(), &message).await,
            Err(e) => Some(error(Value::Null, -32700, &format!("parse error: {e}"))),
        };
        if let Some(reply) = reply {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{reply}")?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One request → its response; notifications (no id) get none.
async fn handle(kb: &KnowledgeBase, generator: Option<Arc<dyn Generator>>, message: &Value) -> Option<Value> {
    let id = message.get("id").cloned()?;
    let method = message["method"].as_str().unwrap_or_default();
    let params = &message["params"];
    let result = match method {
        "initialize" => Ok(json!({
            "protocolVersion": params["protocolVersion"].as_str().unwrap_or(PROTOCOL_VERSION),
            "capabilities": {"tools": {"listChanged": false}, "resources": {"listChanged": false}},
            "serverInfo": {"name": "doctalk", "version": env!("CARGO_PKG_VERSION")},
            "instructions": "Search and ask questions of the user's own documents; answers cite file and page.",
        })),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": tools()})),
        "tools/call" => call_tool(kb, generator, params).await,
        "resources/list" => list_resources(kb).await,
        "resources/read" => read_resource(kb, params).await,
        _ => Err((-32601, format!("method not found: {method}"))),
    };
    Some(match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, msg)) => error(id, code, &msg),
    })
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// Keeps search and answers to some documents.
fn docs_schema() -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": "Only these documents (ids, paths or file names); all when absent"})
}

fn tools() -> Value {
    json!([
        {
            "name": "search",
            "description": "Hybrid search over the user's documents. Returns passages with file, page and score.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for (any language)"},
                    "top_k": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
                    "docs": docs_schema()
                },
                "required": ["query"]
            }
        },
        {
            "name": "ask",
            "description": "Answer a question from the user's documents only, citing sources as [n]; says so when the documents do not contain the answer.",
            "inputSchema": {
                "type": "object",
                "properties": {"question": {"type": "string"}, "docs": docs_schema()},
                "required": ["question"]
            }
        },
        {
            "name": "summarize",
            "description": "Summarise one of the user's documents point by point, each point citing its passage as [n].",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "doc": {"type": "string", "description": "The document: an id, a path or a file name"},
                    "length": {"type": "string", "enum": ["short", "long"], "default": "short"}
                },
                "required": ["doc"]
            }
        }
    ])
}

type RpcResult = Result<Value, (i64, String)>;

async fn call_tool(kb: &KnowledgeBase, generator: Option<Arc<dyn Generator>>, params: &Value) -> RpcResult {
    let args = &params["arguments"];
    let text_arg = |name: &str| {
        args[name]
            .as_str()
            .map(str::to_string)
            .ok_or((-32602, format!("missing string argument {name:?}")))
    };
    let scope = doctalk_core::ScopeRequest {
        docs: args["docs"]
            .as_array()
            .map(|d| d.iter().filter_map(|x| x.as_str().map(String::from)).collect())
            .unwrap_or_default(),
        folders: Vec::new(),
    };
    let scope = match kb.resolve_scope(&scope).await {
        Ok(scope) => scope,
        Err(e) => return Ok(tool_result(e.to_string(), Value::Null, true)),
    };
    match params["name"].as_str().unwrap_or_default() {
        "search" => {
            let query = text_arg("query")?;
            let k = args["top_k"].as_u64().unwrap_or(5).clamp(1, 20) as usize;
            match kb.search_in(&query, k, scope.as_ref()).await {
                Ok(hits) => {
                    let text = hits
                        .iter()
                        .map(|h| {
                            let page = h.page.map_or(String::new(), |p| format!(", page {p}"));
                            format!("[{}] {}{page} ({})\n{}", h.rank, h.title, h.path, h.text)
                        })
                        .collect::<Vec<_>>()
                        .join("\n\n");
                    Ok(tool_result(text, json!({"results": hits}), false))
                }
                Err(e) => Ok(tool_result(e.to_string(), Value::Null, true)),
            }
        }
        "ask" => {
            let mut req = AnswerRequest::new(text_arg("question")?);
            req.generator = generator;
            req.scope = scope;
            match kb.answer(req, Arc::new(|_| {})).await {
                Ok(a) => {
                    let mut text = a.answer.clone();
                    for s in a.sources.iter().filter(|s| a.cited.contains(&s.n)) {
                        text.push_str(&format!("\n[{}] {} — {}", s.n, s.label(a.lang), s.path));
                    }
                    Ok(tool_result(text, json!(a), false))
                }
                Err(e) => Ok(tool_result(e.to_string(), Value::Null, true)),
            }
        }
        "summarize" => {
            let mut req = doctalk_core::summary::SummaryRequest::new(text_arg("doc")?);
            req.length = args["length"]
                .as_str()
                .unwrap_or("short")
                .parse()
                .map_err(|e| (-32602, e))?;
            req.generator = generator;
            match kb.summarize(req, &|_| {}).await {
                Ok(s) => {
                    let mut text = s.summary.clone();
                    for source in s
                        .sources
                        .iter()
                        .filter(|x| s.summary.contains(&format!("[{}]", x.n)))
                    {
                        text.push_str(&format!("\n[{}] {}", source.n, source.label(s.lang)));
                    }
                    Ok(tool_result(text, json!(s), false))
                }
                Err(e) => Ok(tool_result(e.to_string(), Value::Null, true)),
            }
        }
        other => Err((-32602, format!("unknown tool {other:?}"))),
    }
}

fn tool_result(text: String, structured: Value, is_error: bool) -> Value {
    let mut v = json!({"content": [{"type": "text", "text": text}], "isError": is_error});
    if structured.is_object() {
        v["structuredContent"] = structured;
    }
    v
}

async fn list_resources(kb: &KnowledgeBase) -> RpcResult {
    let docs = kb.documents().await.map_err(|e| (-32603, e.to_string()))?;
    let resources: Vec<Value> = docs
        .iter()
        .map(|d| {
            json!({
                "uri": format!("{RESOURCE_PREFIX}{}", d.id),
                "name": d.title,
                "description": format!("{} ({}, {} chunks)", d.path, d.format, d.chunks),
                "mimeType": "text/plain",
            })
        })
        .collect();
    Ok(json!({"resources": resources}))
}

async fn read_resource(kb: &KnowledgeBase, params: &Value) -> RpcResult {
    let uri = params["uri"].as_str().unwrap_or_default();
    let id = uri
        .strip_prefix(RESOURCE_PREFIX)
        .ok_or((-32602, format!("not a DocTalk document URI: {uri}")))?;
    match kb.document_text(id).await.map_err(|e| (-32603, e.to_string()))? {
        Some(text) => Ok(json!({"contents": [{"uri": uri, "mimeType": "text/plain", "text": text}]})),
        None => Err((-32002, format!("resource not found: {uri}"))),
    }
}
