//! The scale-out path: one DocTalk's language model used by another over the OpenAI-compatible
//! API, admission to a busy model, and an index shared on S3-compatible storage (moto's server,
//! from PyPI, on loopback: a real S3 HTTP API, not a mock inside our process).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{indexed_sample, sample_kb, stderr, BoundedOutput, Doctalk};
use crate::serve::{http, start, test_python};

#[test]
fn a_second_doctalk_answers_with_this_servers_language_model() {
    // The "GPU box": serves its model; its own knowledge base is empty.
    let model_host = Doctalk::new();
    let server = start(&model_host, &[]);
    let url = format!("http://{}/v1", server.addr);

    // The "laptop": retrieval over its own documents, generation remote. No --model: the first
    // model the endpoint lists that is not a knowledge base.
    let laptop = indexed_sample();
    let a = laptop.json(&["ask", "出差的话一天餐补给多少", "--json", "--llm-url", &url]);
    assert_eq!(a["mode"], "llm", "{a}");
    let model = a["model"].as_str().unwrap();
    assert!(model.starts_with("remote:") && model.ends_with(&url), "{a}");
    let text = a["answer"].as_str().unwrap();
    assert!(text.contains("120"), "{a}");
    assert!(!a["cited"].as_array().unwrap().is_empty(), "{a}");
    assert!(a["timings"]["first_token_ms"].as_f64().is_some(), "{a}");
}

#[test]
fn an_unreachable_remote_model_falls_back_to_extractive_answers() {
    let laptop = indexed_sample();
    // Nothing listens on the discard port: model discovery fails before answering.
    let out = laptop.run(&[
        "ask",
        "如何下载滴滴APP",
        "--json",
        "--llm-url",
        "http://127.0.0.1:9/v1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("remote language model cannot be used"),
        "{}",
        stderr(&out)
    );
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["mode"], "extractive", "{a}");

    // With a model name the endpoint is first contacted by the answer itself, which falls back and
    // says why.
    let a = laptop.json(&[
        "ask",
        "出差的话一天餐补给多少",
        "--json",
        "--llm-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "qwen",
    ]);
    assert_eq!(a["mode"], "extractive", "{a}");
    let reason = a["fallback_reason"].as_str().unwrap();
    assert!(
        reason.contains("127.0.0.1:9") && reason.contains("cannot connect"),
        "{a}"
    );
    assert!(a["answer"].as_str().unwrap().contains("120"), "{a}");
}

#[test]
fn a_busy_model_answers_extra_questions_extractively_and_refuses_extra_completions() {
    let server = start(indexed_sample(), &["--max-waiting", "0"]);
    let a = server.addr.as_str();
    let models = http(a, "GET", "/v1/models", None, b"").json();
    let llm = models["data"][1]["id"]
        .as_str()
        .expect("the language model is listed")
        .to_string();
    let long = serde_json::json!({
        "model": llm, "stream": true, "max_tokens": 400,
        "messages": [{"role": "user", "content": "Count from 1 to 500, separated by commas."}],
    })
    .to_string();

    // A long streamed completion takes the only place; its first event proves it is admitted.
    let mut busy = TcpStream::connect(a).unwrap();
    write!(
        busy,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {a}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{long}",
        long.len()
    )
    .unwrap();
    let mut reader = BufReader::new(busy.try_clone().unwrap());
    let mut line = String::new();
    while !line.starts_with("data:") {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream closed early");
    }

    let refused = http(
        a,
        "POST",
        "/v1/chat/completions",
        None,
        long.replace("\"stream\":true", "\"stream\":false").as_bytes(),
    );
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.json()["error"]["code"], "model_busy", "{}", refused.body);

    let ask = http(
        a,
        "POST",
        "/api/ask",
        None,
        r#"{"question": "出差的话一天餐补给多少"}"#.as_bytes(),
    )
    .json();
    assert_eq!(ask["mode"], "extractive", "{ask}");
    assert!(ask["fallback_reason"].as_str().unwrap().contains("busy"), "{ask}");
    assert!(ask["answer"].as_str().unwrap().contains("120"), "{ask}");

    // Hanging up stops the generation at its next token and frees the model.
    drop(reader);
    drop(busy);
    let short = serde_json::json!({
        "model": llm, "max_tokens": 4, "messages": [{"role": "user", "content": "Say hi."}],
    })
    .to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = http(a, "POST", "/v1/chat/completions", None, short.as_bytes());
        if reply.status == 200 {
            assert!(
                reply.json()["usage"]["completion_tokens"].as_u64().unwrap() > 0,
                "{}",
                reply.body
            );
            break;
        }
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert!(
            Instant::now() < deadline,
            "the model stayed busy after the client hung up"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// moto's S3-compatible server on a free loopback port, killed when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_s3() -> S3Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(test_python())
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("moto server: {e} (run scripts/setup.sh)"));
    let server = S3Server {
        child,
        endpoint: format!("127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(&server.endpoint).is_err() {
        assert!(Instant::now() < deadline, "moto server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// `doctalk` against the S3 server, as a machine with its own data directory.
fn on_s3(dt: &Doctalk, s3: &S3Server, args: &[&str]) -> std::process::Output {
    dt.command()
        .args(["--store-uri", "s3://doctalk-team/kbs"])
        .args(args)
        .env("AWS_ENDPOINT", format!("http://{}", s3.endpoint))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .bounded_output()
        .expect("run doctalk")
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn two_machines_share_one_index_on_s3_compatible_storage() {
    let s3 = start_s3();
    let created = http(&s3.endpoint, "PUT", "/doctalk-team", None, b"");
    assert_eq!(created.status, 200, "create bucket: {}", created.body);

    let (alice, bob) = (Doctalk::new(), Doctalk::new());
    let faq = sample_kb().join("faq.csv");
    let out = on_s3(&alice, &s3, &["ingest", faq.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"indexed\""),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Bob never ingested anything, yet searches Alice's documents.
    let hits = json_of(&on_s3(&bob, &s3, &["search", "如何下载滴滴APP", "--json"]));
    assert!(hits[0]["path"].as_str().unwrap().ends_with("faq.csv"), "{hits}");
    let status = json_of(&on_s3(&bob, &s3, &["status", "--json"]));
    assert_eq!(status["index"], "s3://doctalk-team/kbs/default", "{status}");
    assert_eq!(status["documents"], 1, "{status}");

    // The tables are objects in the bucket, not files on either machine.
    let listing = http(
        &s3.endpoint,
        "GET",
        "/doctalk-team?list-type=2&prefix=kbs/default/",
        None,
        b"",
    );
    assert!(
        listing.body.contains("documents.lance") && listing.body.contains("chunks.lance"),
        "{}",
        listing.body
    );
    assert!(!alice.data.path().join("kb/default/documents.lance").exists());
    assert!(!Path::new(&bob.data.path().join("kb/default/chunks.lance")).exists());

    // Bob removes the document; Alice sees it gone.
    let out = on_s3(&bob, &s3, &["remove", faq.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = json_of(&on_s3(&alice, &s3, &["status", "--json"]));
    assert_eq!(status["documents"], 0, "{status}");
}

#[test]
fn a_missing_bucket_is_a_clear_error() {
    let s3 = start_s3();
    let dt = Doctalk::new();
    let out = dt
        .command()
        .args(["--store-uri", "s3://no-such-bucket/kbs", "status"])
        .env("AWS_ENDPOINT", format!("http://{}", s3.endpoint))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("OBJECT_STORE_CLIENT_MAX_RETRIES", "0")
        .bounded_output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("s3://no-such-bucket/kbs/default") && !err.contains("panicked"),
        "{err}"
    );
}
