//! Action modules that reach the outside world (spec §5.2): webhook, MS Teams, Telegram,
//! Splunk HEC against a local sink, push-zmq against a real SUB socket; the outbound rules
//! (arbitrary URLs, allow-list, internal addresses) and every error path as a readable node
//! error.
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use common::{for_each_backend, ok, post, run_module_on, TestApp, ADMIN_KEY};
use serde_json::{json, Value};

/// What the sink saw: method, path, headers, body.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: axum::http::HeaderMap,
    body: String,
}

type Calls = Arc<Mutex<Vec<Seen>>>;

/// A sink: `/auth` answers 401, `/fail` 500 with a body, `/slow` after 3 s, anything else 200.
async fn sink() -> (u16, Calls) {
    let seen: Calls = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |request: Request| {
        let record = record.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let path = parts.uri.path().to_owned();
            record.lock().unwrap().push(Seen {
                method: parts.method.to_string(),
                path: path.clone(),
                headers: parts.headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            match path.as_str() {
                "/auth" => (axum::http::StatusCode::UNAUTHORIZED, "no".to_owned()),
                "/fail" => (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "upstream broke".to_owned(),
                ),
                "/slow" => {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    (axum::http::StatusCode::OK, "late".to_owned())
                }
                _ => (axum::http::StatusCode::OK, "{\"ok\": true}".to_owned()),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, seen)
}

async fn set(app: &TestApp, name: &str, value: Value) -> reqwest::Response {
    post(
        app,
        &format!("/servers/serverSettingsEdit/{name}"),
        ADMIN_KEY,
        json!({"value": value}),
    )
    .await
}

/// Runs a one-action workflow (`module` with `params`) on `data` through executeWorkflow.
async fn run_module(app: &TestApp, module: &str, params: Value, data: Value) -> Value {
    run_module_on(app, "event-publish", module, params, data).await
}

fn event() -> Value {
    json!({"Event": {"id": "1", "uuid": "c5f1e8a2-0000-4000-8000-000000000001", "info": "Outward test",
        "Attribute": [{"uuid": "a1", "type": "ip-dst", "value": "198.51.100.1", "Tag": []},
                      {"uuid": "a2", "type": "domain", "value": "evil.example", "Tag": []}]}})
}

fn errors(run: &Value) -> String {
    run["errors"].to_string()
}

#[tokio::test]
async fn webhook_calls_out_under_the_outbound_rules() {
    for_each_backend(|app| async move {
        let (port, seen) = sink().await;
        let base = format!("http://127.0.0.1:{port}");
        let hook = |path: &str, extra: Value| {
            let mut p = json!({"url": format!("{base}{path}")});
            for (k, v) in extra.as_object().unwrap() {
                p[k] = v.clone();
            }
            p
        };

        // Arbitrary URLs are off by default.
        let run = run_module(&app, "webhook", hook("/hook", json!({})), event()).await;
        assert!(
            errors(&run).contains("rest_client_enable_arbitrary_urls"),
            "{run}"
        );
        ok(set(
            &app,
            "Security.rest_client_enable_arbitrary_urls",
            json!(true),
        )
        .await)
        .await;
        // Loopback is internal: refused until allowed, before any request.
        let run = run_module(&app, "webhook", hook("/hook", json!({})), event()).await;
        assert!(errors(&run).contains("not allowed"), "{run}");
        let run = run_module(
            &app,
            "webhook",
            json!({"url": format!("http://localhost:{port}/hook")}),
            event(),
        )
        .await;
        assert!(
            errors(&run).contains("not allowed"),
            "a name resolving to loopback is refused too: {run}"
        );
        assert!(seen.lock().unwrap().is_empty());
        let bad = set(
            &app,
            "Security.outbound_allowed_hosts",
            json!("127.0.0.1, http://x"),
        )
        .await;
        assert_eq!(bad.status(), 400, "a bad allow-list is refused");
        ok(set(&app, "Security.outbound_allowed_hosts", json!("127.0.0.1")).await).await;
        ok(set(&app, "Plugin.Workflow_outbound_timeout", json!(1)).await).await;

        // The roaming data as JSON, with Jinja in the URL and headers.
        let run = run_module(
            &app,
            "webhook",
            hook(
                "/hook/{{ Event.id }}",
                json!({"headers": "Authorization: Bearer {{ Event.uuid }}\nX-Flow: yes"}),
            ),
            event(),
        )
        .await;
        assert_eq!(run["outcome"], "success", "{run}");
        let call = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(
            (call.method.as_str(), call.path.as_str()),
            ("POST", "/hook/1")
        );
        assert_eq!(
            call.headers["authorization"],
            "Bearer c5f1e8a2-0000-4000-8000-000000000001"
        );
        assert_eq!(call.headers["x-flow"], "yes");
        assert!(call.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("Flowgate/"));
        let body: Value = serde_json::from_str(&call.body).unwrap();
        assert_eq!(body["Event"]["info"], "Outward test");

        // A Jinja payload, as a form, with PUT.
        let run = run_module(
            &app,
            "webhook",
            hook(
                "/form",
                json!({"content_type": "form", "request_method": "put",
            "payload": "{\"info\": \"{{ Event.info }}\", \"n\": 2}"}),
            ),
            event(),
        )
        .await;
        assert_eq!(run["outcome"], "success", "{run}");
        let call = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(call.method, "PUT");
        assert_eq!(
            call.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(call.body, "info=Outward+test&n=2");

        // Error paths: readable node errors, never a panic; a slow sink is cut at the timeout.
        let run = run_module(&app, "webhook", hook("/auth", json!({})), event()).await;
        assert!(errors(&run).contains("Authentication failed."), "{run}");
        let run = run_module(&app, "webhook", hook("/fail", json!({})), event()).await;
        assert!(
            errors(&run).contains("500") && errors(&run).contains("upstream broke"),
            "{run}"
        );
        let started = std::time::Instant::now();
        let run = run_module(&app, "webhook", hook("/slow", json!({})), event()).await;
        assert!(errors(&run).contains("timed out"), "{run}");
        assert!(
            started.elapsed() < Duration::from_millis(2900),
            "the 1 s timeout held"
        );
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let run = run_module(
            &app,
            "webhook",
            json!({"url": format!("http://127.0.0.1:{closed}/")}),
            event(),
        )
        .await;
        assert!(errors(&run).contains("could not be reached"), "{run}");
        let run = run_module(&app, "webhook", json!({"url": "not a url"}), event()).await;
        assert!(errors(&run).contains("Invalid URL"), "{run}");
        let run = run_module(
            &app,
            "webhook",
            hook("/hook", json!({"headers": "broken header"})),
            event(),
        )
        .await;
        assert!(errors(&run).contains("Name: value"), "{run}");
    })
    .await;
}

#[tokio::test]
async fn teams_telegram_and_splunk_send_their_shapes() {
    for_each_backend(|app| async move {
        let (port, seen) = sink().await;
        let base = format!("http://127.0.0.1:{port}");
        ok(set(&app, "Security.rest_client_enable_arbitrary_urls", json!(true)).await).await;
        ok(set(&app, "Security.outbound_allowed_hosts", json!("127.0.0.1")).await).await;
        ok(set(&app, "Plugin.Telegram_api_url", json!(base.clone())).await).await;

        let run = run_module(&app, "ms-teams-webhook", json!({"url": format!("{base}/teams"),
            "data_extraction_path": "Event.Attribute.{n}.value"}), event()).await;
        assert_eq!(run["outcome"], "success", "{run}");
        let call = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(serde_json::from_str::<Value>(&call.body).unwrap(), json!({"text": "198.51.100.1\nevil.example"}));

        let run = run_module(&app, "telegram-send-alert", json!({"bot_token": "123:ABC", "chat_id": "-100",
            "message_body_template": "New event <b>{{ Event.info }}</b>"}), event()).await;
        assert_eq!(run["outcome"], "success", "{run}");
        let call = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(call.path, "/bot123:ABC/sendMessage");
        assert_eq!(serde_json::from_str::<Value>(&call.body).unwrap(),
            json!({"chat_id": "-100", "text": "New event <b>Outward test</b>", "parse_mode": "HTML"}));
        let run = run_module(&app, "telegram-send-alert", json!({"bot_token": "../x", "chat_id": "1", "message_body_template": "m"}), event()).await;
        assert!(errors(&run).contains("not a Telegram bot token"), "{run}");

        // One HEC event per attribute, with the extraction model and the token header.
        let run = run_module(&app, "splunk-hec-export", json!({"url": format!("{base}/services/collector/event"),
            "hec_token": "tok-1", "source_type": "misp:attribute", "event_per_attribute": "1",
            "data_extraction_model": "{\"info\": \"Event.info\", \"value\": \"Event.Attribute.value\"}"}), event()).await;
        assert_eq!(run["outcome"], "success", "{run}");
        let call = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(call.headers["authorization"], "Splunk tok-1");
        let events: Vec<Value> = serde_json::Deserializer::from_str(&call.body).into_iter::<Value>().map(Result::unwrap).collect();
        assert_eq!(events, [
            json!({"event": {"info": "Outward test", "value": "198.51.100.1"}, "sourcetype": "misp:attribute"}),
            json!({"event": {"info": "Outward test", "value": "evil.example"}, "sourcetype": "misp:attribute"}),
        ]);
        let run = run_module(&app, "splunk-hec-export", json!({"url": format!("{base}/auth"), "hec_token": "t"}), event()).await;
        assert!(errors(&run).contains("Authentication failed."), "{run}");
        let run = run_module(&app, "splunk-hec-export", json!({"url": format!("{base}/x"), "hec_token": "t",
            "data_extraction_model": "[1]"}), event()).await;
        assert!(errors(&run).contains("data extraction model"), "{run}");
    })
    .await;
}

#[tokio::test]
async fn push_zmq_publishes_on_the_workflow_topic() {
    use zeromq::{Socket, SocketRecv};
    for_each_backend(|app| async move {
        let run = run_module(&app, "push-zmq", json!({}), event()).await;
        assert!(errors(&run).contains("ZeroMQ is disabled"), "{run}");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        ok(set(&app, "Plugin.ZeroMQ_port", json!(port)).await).await;
        ok(set(&app, "Plugin.ZeroMQ_enable", json!(true)).await).await;
        let mut sub = zeromq::SubSocket::new();
        sub.connect(&format!("tcp://127.0.0.1:{port}"))
            .await
            .unwrap();
        sub.subscribe("misp_json_workflow").await.unwrap();
        let mut frame = None;
        // The subscription reaches the publisher after a moment (slow joiner): push until seen.
        for _ in 0..50 {
            let run = run_module(
                &app,
                "push-zmq",
                json!({"data_extraction_path": "Event.Attribute.{n}.value"}),
                event(),
            )
            .await;
            assert_eq!(run["outcome"], "success", "{run}");
            if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_millis(200), sub.recv()).await {
                frame = Some(String::from_utf8(m.get(0).unwrap().to_vec()).unwrap());
                break;
            }
        }
        assert_eq!(
            frame.expect("a message"),
            "misp_json_workflow [\"198.51.100.1\",\"evil.example\"]"
        );
        ok(set(&app, "Plugin.ZeroMQ_enable", json!(false)).await).await;
    })
    .await;
}

type Mails = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server: accepts every mail and records (recipients, data).
async fn smtp_sink() -> (u16, Mails) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mails: Mails = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let record = mails.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let record = record.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut data, mut in_data) = (Vec::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            record
                                .lock()
                                .unwrap()
                                .push((std::mem::take(&mut rcpt), std::mem::take(&mut data)));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 sink\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, mails)
}

#[tokio::test]
async fn mail_modules_send_one_mail_per_recipient() {
    use app::backend::store::roles::{ROLE_ORG_ADMIN, ROLE_USER};
    for_each_backend(|app| async move {
        let (port, mails) = smtp_sink().await;
        ok(set(&app, "SMTP.port", json!(port)).await).await;
        ok(set(&app, "MISP.email", json!("workflows@flowgate.test")).await).await;
        common::user_key(&app, "analyst@flowgate.test", ROLE_USER, None).await;
        // Another organisation with an admin and a user.
        common::user_key(&app, "boss@other.test", ROLE_ORG_ADMIN, Some("Other Org")).await;
        let boss = app.principal("boss@other.test").await;
        let admin = app.principal(common::ADMIN_EMAIL).await;
        app::backend::services::accounts::add_user(&app.state, &admin, app::backend::services::accounts::UserInput {
            email: "worker@other.test".into(), org_id: boss.org.id, role_id: ROLE_USER,
            password: "a-long-enough-password".into() }).await.unwrap();
        let worker = app.principal("worker@other.test").await;

        let run = run_module(&app, "send-mail", json!({"recipients": ["All admins", "analyst@flowgate.test"],
            "mail_template_subject": "[Flowgate] {{ Event.info }}", "mail_template_body": "Event {{ Event.id }} needs a look."}), event()).await;
        assert_eq!(run["outcome"], "success", "{run}");
        let sent = mails.lock().unwrap().clone();
        let mut to: Vec<String> = sent.iter().flat_map(|(r, _)| r.clone()).collect();
        to.sort();
        assert_eq!(to, [common::ADMIN_EMAIL, "analyst@flowgate.test"], "one mail per user");
        assert!(sent.iter().all(|(r, _)| r.len() == 1));
        assert!(sent[0].1.contains("Subject: [Flowgate] Outward test"), "{}", sent[0].1);
        assert!(sent[0].1.contains("Event 1 needs a look."));
        assert!(sent[0].1.contains("From: workflows@flowgate.test"));

        // send-log-mail: the admins of the organisation of the log's user.
        mails.lock().unwrap().clear();
        let log = json!({"Log": {"id": "9", "model": "Event", "action": "delete", "user_id": worker.user.id.to_string(),
            "title": "Event (3) deleted"}});
        let run = run_module_on(&app, "log-after-save", "send-log-mail", json!({"recipients": ["Org admins"],
            "mail_template_subject": "{{ Log.title }}", "mail_template_body": "By user {{ Log.user_id }}"}), log).await;
        assert_eq!(run["outcome"], "success", "{run}");
        let sent = mails.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, ["boss@other.test"]);

        // Error paths.
        let run = run_module(&app, "send-mail", json!({"recipients": [], "mail_template_body": "x"}), event()).await;
        assert!(errors(&run).contains("No recipient set."), "{run}");
        let run = run_module(&app, "send-mail", json!({"recipients": ["All admins"], "mail_template_body": " "}), event()).await;
        assert!(errors(&run).contains("The mail template is empty."), "{run}");
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        ok(set(&app, "SMTP.port", json!(closed)).await).await;
        let run = run_module(&app, "send-mail", json!({"recipients": ["All admins"], "mail_template_body": "x"}), event()).await;
        assert!(errors(&run).contains("not sent"), "{run}");
        // The password is never listed back.
        ok(set(&app, "SMTP.password", json!("hunter2-secret")).await).await;
        let listed = ok(common::get(&app, "/servers/serverSettings", ADMIN_KEY).await).await;
        assert!(!listed.to_string().contains("hunter2-secret"));
    })
    .await;
}

/// A bare MISP event is run on the bytes it came in (indexed, not parsed into a tree): the
/// webhook receives the same document, and `tag-if` routes the same way, as when the same
/// event comes wrapped in MISP's `{"Workflow": {"data": "<JSON>"}}` (the tree path).
#[tokio::test]
async fn a_bare_event_is_forwarded_from_its_bytes_as_the_tree_path_forwards_it() {
    for_each_backend(|app| async move {
        let (port, seen) = sink().await;
        ok(set(&app, "Security.rest_client_enable_arbitrary_urls", json!(true)).await).await;
        ok(set(&app, "Security.outbound_allowed_hosts", json!("127.0.0.1")).await).await;
        let tag = |name: &str| json!({"id": "4", "name": name, "colour": "#fff", "exportable": true, "inherited": 0});
        let event = json!({"Event": {"id": "12", "uuid": "c5f1e8a2-0000-4000-8000-000000000012",
            "info": "Bytes \"quoted\" \\ é", "distribution": "1", "Org": {"id": "1", "name": "ORG"},
            "Object": [{"id": "5", "name": "file", "Attribute": [
                {"id": "3", "type": "md5", "value": "0123", "Tag": [tag("tlp:white")]}]}],
            "Attribute": [{"id": "1", "type": "ip-dst", "value": "198.51.100.1", "Tag": [tag("tlp:green")]},
                          {"id": "2", "type": "domain", "value": "evil.example"}],
            "Tag": [tag("tlp:amber"), {"name": "ev:second"}]}});
        let graph = common::chain("event-publish", &[
            ("tag-if", "logic", json!({"scope": "attribute", "condition": "in_or", "tags": ["tlp:white"]})),
            ("webhook", "action", common::webhook_to(port)),
        ]);
        let id = common::install_workflow(&app, "event-publish", graph).await;
        ok(post(&app, "/workflows/toggleModule/webhook/1/0", ADMIN_KEY, json!({})).await).await;
        let execute = |body: String| {
            app.api
                .post(app.url(&format!("/workflows/executeWorkflow/{id}")))
                .header("authorization", ADMIN_KEY)
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        // Pretty-printed, so the bytes differ from what the tree path writes.
        let text = serde_json::to_string_pretty(&event).unwrap();
        let run = ok(execute(text.clone()).await.unwrap()).await;
        assert_eq!(run["outcome"], "success", "{run}");
        let wrapped = json!({"Workflow": {"data": text}}).to_string();
        let run = ok(execute(wrapped).await.unwrap()).await;
        assert_eq!(run["outcome"], "success", "{run}");
        let calls = seen.lock().unwrap().clone();
        assert_eq!(calls.len(), 2, "one webhook call per run");
        let normalised = |body: &str| serde_json::from_str::<Value>(body).unwrap().to_string();
        assert_eq!(normalised(&calls[0].body), normalised(&calls[1].body));
        let sent: Value = serde_json::from_str(&calls[0].body).unwrap();
        let flat = sent["Event"]["_AttributeFlattened"].as_array().unwrap();
        assert_eq!(flat.len(), 3);
        assert_eq!(flat[2]["_allTags"], json!([
            {"id": "4", "name": "tlp:amber", "colour": "#fff", "exportable": true, "inherited": true},
            {"name": "ev:second", "inherited": true},
            {"id": "4", "name": "tlp:white", "colour": "#fff", "exportable": true, "inherited": false}]));

        // No tlp:white anywhere: neither path calls out.
        let plain = text.replace("tlp:white", "tlp:clear");
        ok(execute(plain.clone()).await.unwrap()).await;
        ok(execute(json!({"Workflow": {"data": plain}}).to_string()).await.unwrap()).await;
        assert_eq!(seen.lock().unwrap().len(), 2);
        // Malformed bytes are still a MISP 400.
        let bad = execute("{\"Event\": {".into()).await.unwrap();
        assert_eq!(bad.status(), 400);
    })
    .await;
}
