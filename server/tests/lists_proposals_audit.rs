//! MISP core objects, third part, over MISP's routes: the audit log, the event blocklist, custom
//! warninglists, proposals (shadow attributes) and discussion threads.
mod common;

use app::backend::store::roles::{ROLE_ORG_ADMIN, ROLE_READ_ONLY, ROLE_USER};
use common::{for_each_backend, get, ok, post, user_key, TestApp, ADMIN_KEY};
use serde_json::{json, Value};

async fn log_rows(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    app::backend::entities::log::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

async fn add_event(app: &TestApp, key: &str, body: Value) -> Value {
    ok(post(app, "/events/add", key, body).await).await["Event"].clone()
}

/// Every change writes one audit row in its own transaction; auditors search them as PyMISP's
/// `search_logs` does; a refused request leaves no row.
#[tokio::test]
async fn the_audit_log_records_changes() {
    for_each_backend(|app| async move {
        let ev = add_event(
            &app,
            ADMIN_KEY,
            json!({"info": "Audited", "Attribute": [{"type": "ip-dst", "value": "1.2.3.4"}]}),
        )
        .await;
        let id = ev["id"].as_str().unwrap().to_owned();
        ok(post(
            &app,
            &format!("/events/edit/{id}"),
            ADMIN_KEY,
            json!({"info": "Audited twice"}),
        )
        .await)
        .await;
        ok(post(&app, &format!("/events/publish/{id}"), ADMIN_KEY, json!({})).await).await;

        // PyMISP's search_logs: POST admin/logs/index with the filters it was given.
        let rows = ok(post(
            &app,
            "/admin/logs/index",
            ADMIN_KEY,
            json!({"model": "Event", "limit": 10}),
        )
        .await)
        .await;
        let rows = rows.as_array().unwrap();
        let actions: Vec<&str> = rows
            .iter()
            .map(|r| r["Log"]["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["publish", "edit", "add"], "newest first");
        let edit = &rows[1]["Log"];
        assert_eq!(edit["model_id"], id.as_str());
        assert_eq!(edit["title"], format!("Event ({id}): Audited twice"));
        assert!(
            edit["change"]
                .as_str()
                .unwrap()
                .contains("info (Audited) => (Audited twice)"),
            "{edit}"
        );
        assert_eq!(edit["email"], common::ADMIN_EMAIL);
        assert!(edit["created"].as_str().unwrap().len() == 19, "Y-m-d H:i:s");

        // `%` makes a substring match; without it the match is exact; lists are ORed.
        let like = ok(post(
            &app,
            "/admin/logs/index",
            ADMIN_KEY,
            json!({"title": "%audited TWICE%"}),
        )
        .await)
        .await;
        assert_eq!(
            like.as_array().unwrap().len(),
            2,
            "edit and publish carry the new info"
        );
        let exact = ok(post(
            &app,
            "/admin/logs/index",
            ADMIN_KEY,
            json!({"title": "audited"}),
        )
        .await)
        .await;
        assert!(exact.as_array().unwrap().is_empty());
        let attr = ok(post(
            &app,
            "/admin/logs/index",
            ADMIN_KEY,
            json!({"model": ["Attribute", "Nothing"]}),
        )
        .await)
        .await;
        assert!(
            attr.as_array().unwrap().is_empty(),
            "attributes of a new event are counted in its row"
        );
        let paged = ok(post(
            &app,
            "/admin/logs/index",
            ADMIN_KEY,
            json!({"model": "Event", "limit": 1, "page": 2}),
        )
        .await)
        .await;
        assert_eq!(paged[0]["Log"]["action"], "edit");
        let since = ok(post(
            &app,
            "/admin/logs/index",
            ADMIN_KEY,
            json!({"model": "Event", "created": "1h"}),
        )
        .await)
        .await;
        assert_eq!(since.as_array().unwrap().len(), 3);

        // Unknown filters are refused rather than ignored.
        let r = post(
            &app,
            "/admin/logs/index",
            ADMIN_KEY,
            json!({"modle": "Event"}),
        )
        .await;
        assert_eq!(r.status(), 400);

        // A refused write leaves no trace.
        let before = log_rows(&app).await;
        let r = post(
            &app,
            "/events/add",
            ADMIN_KEY,
            json!({"info": "x", "Attribute": [{"type": "ip-dst", "value": "not an ip"}]}),
        )
        .await;
        assert_eq!(r.status(), 400);
        assert_eq!(log_rows(&app).await, before);

        // Auditors who are not site admins: users read their own rows, org admins their
        // organisation's.
        let user = user_key(&app, "user@audit.test", ROLE_USER, None).await;
        add_event(&app, &user, json!({"info": "Mine"})).await;
        let mine = ok(post(&app, "/admin/logs/index", &user, json!({})).await).await;
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
        assert_eq!(mine[0]["Log"]["email"], "user@audit.test");
        let other_admin = user_key(
            &app,
            "orgadmin@other.test",
            ROLE_ORG_ADMIN,
            Some("Other org"),
        )
        .await;
        let theirs = ok(post(
            &app,
            "/admin/logs/index",
            &other_admin,
            json!({"model": "Event"}),
        )
        .await)
        .await;
        assert!(theirs.as_array().unwrap().is_empty(), "{theirs}");
    })
    .await;
}

/// eventBlocklists: PyMISP's add/index/edit/delete shapes; a listed uuid cannot be added.
#[tokio::test]
async fn the_event_blocklist_refuses_listed_events() {
    for_each_backend(|app| async move {
        let blocked = "3a0b5c4e-1d2f-4e6a-8b9c-0d1e2f3a4b5c";
        let added = ok(post(&app, "/eventBlocklists/add", ADMIN_KEY,
            json!({"uuids": [blocked, "not-a-uuid"], "comment": "known bad feed", "event_orgc": "Feed"})).await).await;
        assert_eq!(added["result"]["successes"], json!([blocked]));
        assert_eq!(added["result"]["fails"], json!(["not-a-uuid"]));
        assert_eq!(added["message"], "Done. Added 1 new entries to the blocklist. 1 entries could not be saved.");
        let again = ok(post(&app, "/eventBlocklists/add", ADMIN_KEY, json!({"uuids": blocked})).await).await;
        assert_eq!(again["result"]["fails"], json!([blocked]), "already listed");

        let list = ok(get(&app, "/eventBlocklists/index", ADMIN_KEY).await).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["event_uuid"], blocked);
        assert_eq!(list[0]["comment"], "known bad feed");
        let none = ok(get(&app, "/eventBlocklists/index/searchall:nothing", ADMIN_KEY).await).await;
        assert!(none.as_array().unwrap().is_empty());

        let (events_before, logs_before) = (count_events(&app).await, log_rows(&app).await);
        let r = post(&app, "/events/add", ADMIN_KEY, json!({"uuid": blocked, "info": "from the bad feed"})).await;
        assert_eq!(r.status(), 403);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["name"], "Event blocked by event blocklist.");
        assert_eq!((count_events(&app).await, log_rows(&app).await), (events_before, logs_before));

        let edited = ok(post(&app, &format!("/eventBlocklists/edit/{blocked}"), ADMIN_KEY, json!({"comment": "reviewed"})).await).await;
        assert_eq!(edited["EventBlocklist"]["comment"], "reviewed");

        // Only site admins and host-organisation users who may add events manage it.
        let outsider = user_key(&app, "user@outside.test", ROLE_USER, Some("Outside")).await;
        assert_eq!(get(&app, "/eventBlocklists/index", &outsider).await.status(), 403);
        assert_eq!(post(&app, &format!("/eventBlocklists/delete/{blocked}"), &outsider, json!({})).await.status(), 403);

        let removed = ok(post(&app, &format!("/eventBlocklists/delete/{blocked}"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(removed["message"], "Blocklist entry removed");
        assert_eq!(post(&app, &format!("/eventBlocklists/delete/{blocked}"), ADMIN_KEY, json!({})).await.status(), 404);
        add_event(&app, ADMIN_KEY, json!({"uuid": blocked, "info": "now allowed"})).await;
    })
    .await;
}

async fn count_events(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    app::backend::entities::event::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

/// Custom warninglists: add with MISP's free-text entries, view, enable, check values, edit,
/// delete; bad lists are refused whole.
#[tokio::test]
async fn custom_warninglists_match_values_once_enabled() {
    for_each_backend(|app| async move {
        let added = ok(post(&app, "/warninglists/add", ADMIN_KEY, json!({"Warninglist": {
            "name": "Internal ranges", "description": "RFC 1918", "type": "cidr", "category": "known",
            "entries": "10.0.0.0/8 # office\n192.168.0.0/16\n\n", "matching_attributes": ["ip-src", "ip-dst"]}})).await).await;
        let id = added["Warninglist"]["id"].as_str().unwrap().to_owned();
        assert_eq!(added["Warninglist"]["enabled"], false);
        assert_eq!(added["Warninglist"]["default"], false);

        // Refused whole: a bad CIDR entry, an unknown type, an unknown attribute type, a taken name.
        for bad in [
            json!({"name": "Bad", "description": "d", "type": "cidr", "entries": "10.0.0.0/80"}),
            json!({"name": "Bad", "description": "d", "type": "glob", "entries": "x"}),
            json!({"name": "Bad", "description": "d", "type": "string", "entries": "x", "matching_attributes": ["ip-dest"]}),
            json!({"name": "Bad", "description": "d", "type": "string", "entries": ""}),
        ] {
            let r = post(&app, "/warninglists/add", ADMIN_KEY, bad.clone()).await;
            assert_eq!(r.status(), 400, "{bad}");
        }
        let dup = post(&app, "/warninglists/add", ADMIN_KEY, json!({"name": "Internal ranges", "description": "d", "type": "string", "entries": "x"})).await;
        assert_eq!(dup.status(), 409);

        let index = ok(get(&app, "/warninglists/index", ADMIN_KEY).await).await;
        let lists = index["Warninglists"].as_array().unwrap();
        assert_eq!(lists.len(), 1, "nothing half-written by the refused adds");
        assert_eq!(lists[0]["Warninglist"]["warninglist_entry_count"], "2");
        assert_eq!(lists[0]["Warninglist"]["valid_attributes"], "ip-src, ip-dst");

        let view = ok(get(&app, &format!("/warninglists/view/{id}"), ADMIN_KEY).await).await;
        let entries = view["Warninglist"]["WarninglistEntry"].as_array().unwrap();
        assert_eq!(entries[0]["value"], "10.0.0.0/8");
        assert_eq!(entries[0]["comment"], "office");
        assert_eq!(view["Warninglist"]["WarninglistType"][1]["type"], "ip-dst");
        assert_eq!(get(&app, "/warninglists/view/abc", ADMIN_KEY).await.status(), 404);

        // Disabled lists match nothing.
        let none = ok(post(&app, "/warninglists/checkValue", ADMIN_KEY, json!(["10.1.2.3"])).await).await;
        assert_eq!(none, json!([]));
        let on = ok(post(&app, "/warninglists/toggleEnable", ADMIN_KEY, json!({"id": [id.clone()], "enabled": true})).await).await;
        assert_eq!(on, json!({"saved": true, "success": "1 warninglist(s) enabled"}));
        let hits = ok(post(&app, "/warninglists/checkValue", ADMIN_KEY, json!(["10.1.2.3", "8.8.8.8"])).await).await;
        assert_eq!(hits, json!({"10.1.2.3": [{"id": id, "name": "Internal ranges", "matched": "10.0.0.0/8"}]}));
        let missing = ok(post(&app, "/warninglists/toggleEnable", ADMIN_KEY, json!({"name": ["%nothing%"]})).await).await;
        assert_eq!(missing["saved"], false);

        let edited = ok(post(&app, &format!("/warninglists/edit/{id}"), ADMIN_KEY, json!({"entries": ["172.16.0.0/12"]})).await).await;
        assert_eq!(edited["Warninglist"]["version"], "2");
        let hits = ok(post(&app, "/warninglists/checkValue", ADMIN_KEY, json!({"Warninglist": ["10.1.2.3", "172.16.5.5"]})).await).await;
        assert!(hits.get("10.1.2.3").is_none() && hits.get("172.16.5.5").is_some(), "{hits}");
        let r = post(&app, &format!("/warninglists/edit/{id}"), ADMIN_KEY, json!({"type": "cidr", "entries": "nope"})).await;
        assert_eq!(r.status(), 400);

        // Toggling by name pattern without `enabled` flips the state.
        let off = ok(post(&app, "/warninglists/toggleEnable", ADMIN_KEY, json!({"name": "%internal%"})).await).await;
        assert_eq!(off["success"], "1 warninglist(s) disabled");

        // Editing needs perm_warninglist: plain users and read-only keys are refused.
        let user = user_key(&app, "user@lists.test", ROLE_USER, None).await;
        assert_eq!(post(&app, "/warninglists/add", &user, json!({"name": "x"})).await.status(), 403);
        let reader = user_key(&app, "ro@lists.test", ROLE_READ_ONLY, None).await;
        assert_eq!(post(&app, &format!("/warninglists/delete/{id}"), &reader, json!({})).await.status(), 403);
        ok(get(&app, "/warninglists/index", &user).await).await;

        ok(post(&app, &format!("/warninglists/delete/{id}"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(get(&app, &format!("/warninglists/view/{id}"), ADMIN_KEY).await.status(), 404);
    })
    .await;
}

/// Proposals: another organisation proposes a new attribute, a change and a deletion; they
/// show in events/view; the event's editors accept or discard them, the author may discard.
#[tokio::test]
async fn proposals_are_made_shown_accepted_and_discarded() {
    for_each_backend(|app| async move {
        let ev = add_event(&app, ADMIN_KEY, json!({"info": "Proposals", "distribution": 1, "published": true,
            "Attribute": [{"type": "ip-dst", "value": "1.2.3.4", "comment": "old"},
                          {"type": "domain", "value": "gone.example"}]})).await;
        let ev_id = ev["id"].as_str().unwrap().to_owned();
        let (a1, a2) = (ev["Attribute"][0]["id"].as_str().unwrap().to_owned(), ev["Attribute"][1]["id"].as_str().unwrap().to_owned());
        let outsider = user_key(&app, "analyst@partner.test", ROLE_USER, Some("Partner")).await;

        // The outsider cannot edit, so PyMISP falls back to proposals on this exact message.
        let r = post(&app, &format!("/attributes/add/{ev_id}"), &outsider, json!({"type": "ip-dst", "value": "5.6.7.8"})).await;
        assert_eq!(r.status(), 403);
        assert_eq!(r.json::<Value>().await.unwrap()["message"], "You do not have permission to do that.");

        let new = ok(post(&app, &format!("/shadowAttributes/add/{ev_id}"), &outsider,
            json!({"ShadowAttribute": {"type": "ip-dst", "value": "5.6.7.8", "comment": "seen too"}})).await).await;
        let new = &new["ShadowAttribute"];
        assert_eq!((new["old_id"].as_str(), new["category"].as_str()), (Some("0"), Some("Network activity")));
        assert_eq!(new["email"], "analyst@partner.test");
        let change = ok(post(&app, &format!("/shadowAttributes/edit/{a1}"), &outsider, json!({"comment": "new"})).await).await;
        let change = &change["ShadowAttribute"];
        assert_eq!((change["old_id"].as_str(), change["value"].as_str(), change["comment"].as_str()), (Some(a1.as_str()), Some("1.2.3.4"), Some("new")));
        assert_eq!(change["uuid"], ev["Attribute"][0]["uuid"], "a change carries its attribute's uuid");
        let del = ok(post(&app, &format!("/shadowAttributes/delete/{a2}"), &outsider, json!({})).await).await;
        assert_eq!(del, json!({"saved": true, "success": "The proposal to delete the attribute has been saved"}));

        // Bad proposals are refused with nothing stored.
        let r = post(&app, &format!("/shadowAttributes/add/{ev_id}"), &outsider, json!({"type": "ip-dst", "value": "nope"})).await;
        assert_eq!(r.status(), 400);
        assert_eq!(post(&app, &format!("/shadowAttributes/edit/{a1}"), &outsider, json!({"unrelated": 1})).await.status(), 400);
        assert_eq!(post(&app, "/shadowAttributes/add/999999", &outsider, json!({"type": "ip-dst", "value": "5.6.7.8"})).await.status(), 404);

        // events/view: new proposals on the event, changes inside their attribute.
        let view = ok(get(&app, &format!("/events/view/{ev_id}"), ADMIN_KEY).await).await;
        assert_eq!(view["Event"]["ShadowAttribute"].as_array().unwrap().len(), 1);
        assert_eq!(view["Event"]["Attribute"][0]["ShadowAttribute"][0]["comment"], "new");
        assert_eq!(view["Event"]["Attribute"][1]["ShadowAttribute"][0]["proposal_to_delete"], true);
        let listed = ok(get(&app, &format!("/shadowAttributes/index/{ev_id}"), ADMIN_KEY).await).await;
        assert_eq!(listed.as_array().unwrap().len(), 3);
        assert_eq!(listed[0]["ShadowAttribute"]["Org"]["name"], "Partner");

        // Only the event's editors accept.
        let new_id = new["id"].as_str().unwrap();
        let r = post(&app, &format!("/shadowAttributes/accept/{new_id}"), &outsider, json!({})).await;
        assert_eq!(r.status(), 403);
        let accepted = ok(post(&app, &format!("/shadowAttributes/accept/{new_id}"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(accepted["message"], "Proposal accepted.");
        let change_id = change["id"].as_str().unwrap();
        let accepted = ok(post(&app, &format!("/shadowAttributes/accept/{change_id}"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(accepted["message"], "Proposed change accepted.");
        assert_eq!(post(&app, &format!("/shadowAttributes/accept/{change_id}"), ADMIN_KEY, json!({})).await.status(), 404, "handled once");

        // The author discards their own deletion proposal.
        let pending = ok(get(&app, &format!("/shadowAttributes/index/{ev_id}?deleted=0"), &outsider).await).await;
        assert_eq!(pending.as_array().unwrap().len(), 1);
        let del_id = pending[0]["ShadowAttribute"]["id"].as_str().unwrap().to_owned();
        let discarded = ok(post(&app, &format!("/shadowAttributes/discard/{del_id}"), &outsider, json!({})).await).await;
        assert_eq!(discarded["message"], "Proposal discarded.");
        assert_eq!(get(&app, &format!("/shadowAttributes/view/{del_id}"), ADMIN_KEY).await.status(), 404);

        let view = ok(get(&app, &format!("/events/view/{ev_id}"), ADMIN_KEY).await).await;
        let e = &view["Event"];
        assert_eq!(e["published"], false, "accepting unpublishes");
        assert_eq!(e["attribute_count"], "3");
        assert_eq!(e["Attribute"][0]["comment"], "new");
        assert_eq!(e["Attribute"][1]["value"], "gone.example", "the discarded deletion did nothing");
        assert_eq!(e["Attribute"][2]["value"], "5.6.7.8");
        assert_eq!(e["ShadowAttribute"], json!([]));
        assert_eq!(e["Attribute"][0]["ShadowAttribute"], json!([]));
        let all = ok(get(&app, "/shadowAttributes/index", ADMIN_KEY).await).await;
        assert!(all.as_array().unwrap().iter().all(|p| p["ShadowAttribute"]["deleted"] == true), "MISP lists handled ones");

        // Read-only keys propose nothing; an organisation-only event is invisible to outsiders.
        let reader = user_key(&app, "ro@partner.test", ROLE_READ_ONLY, None).await;
        assert_eq!(post(&app, &format!("/shadowAttributes/add/{ev_id}"), &reader, json!({"type": "ip-dst", "value": "9.9.9.9"})).await.status(), 403);
        let private = add_event(&app, ADMIN_KEY, json!({"info": "Private", "distribution": 0})).await;
        let r = post(&app, &format!("/shadowAttributes/add/{}", private["id"].as_str().unwrap()), &outsider, json!({"type": "ip-dst", "value": "9.9.9.9"})).await;
        assert_eq!(r.status(), 404);
    })
    .await;
}

/// Discussion: an event's thread is created with its first post and follows the event's
/// visibility; free-standing threads need a title; posters' e-mails stay in their organisation.
#[tokio::test]
async fn discussion_threads_and_posts() {
    for_each_backend(|app| async move {
        let ev = add_event(
            &app,
            ADMIN_KEY,
            json!({"info": "Talk about me", "distribution": 1}),
        )
        .await;
        let ev_id = ev["id"].as_str().unwrap().to_owned();
        let partner = user_key(&app, "analyst@talk.test", ROLE_USER, Some("Talkers")).await;

        let thread = ok(post(
            &app,
            &format!("/posts/add/event/{ev_id}"),
            ADMIN_KEY,
            json!({"Post": {"message": "First"}}),
        )
        .await)
        .await;
        let t = &thread["Thread"];
        assert_eq!(
            t["title"],
            format!("Discussion about Event #{ev_id} (Talk about me)")
        );
        assert_eq!(
            (t["post_count"].as_str(), t["event_id"].as_str()),
            (Some("1"), Some(ev_id.as_str()))
        );
        let first_post = t["Post"][0]["id"].as_str().unwrap().to_owned();
        ok(post(
            &app,
            &format!("/posts/add/post/{first_post}"),
            &partner,
            json!({"Post": {"message": "A reply"}}),
        )
        .await)
        .await;

        let seen = ok(get(&app, &format!("/threads/viewEvent/{ev_id}"), &partner).await).await;
        let posts = seen["Thread"]["Post"].as_array().unwrap();
        assert_eq!(posts.len(), 2);
        assert_eq!(posts[1]["post_id"], first_post.as_str());
        assert_eq!(posts[1]["org_name"], "Talkers");
        assert!(
            posts[0].get("user_email").is_none(),
            "another organisation's poster"
        );
        assert_eq!(posts[1]["user_email"], "analyst@talk.test");
        let admin_view = ok(get(
            &app,
            &format!("/threads/view/{}", t["id"].as_str().unwrap()),
            ADMIN_KEY,
        )
        .await)
        .await;
        assert_eq!(admin_view["Thread"]["post_count"], "2");

        // Free-standing threads: a title is required; distribution 0 stays in the organisation.
        assert_eq!(
            post(
                &app,
                "/posts/add",
                ADMIN_KEY,
                json!({"Post": {"message": "no title"}})
            )
            .await
            .status(),
            400
        );
        assert_eq!(
            post(
                &app,
                "/posts/add",
                ADMIN_KEY,
                json!({"Post": {"title": "t", "message": "  "}})
            )
            .await
            .status(),
            400
        );
        let internal = ok(post(
            &app,
            "/posts/add",
            ADMIN_KEY,
            json!({"Post": {"title": "Internal", "message": "hi", "distribution": 0}}),
        )
        .await)
        .await;
        let internal_id = internal["Thread"]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            get(&app, &format!("/threads/view/{internal_id}"), &partner)
                .await
                .status(),
            404
        );
        assert_eq!(
            post(
                &app,
                &format!("/posts/add/thread/{internal_id}"),
                &partner,
                json!({"Post": {"message": "let me in"}})
            )
            .await
            .status(),
            404
        );
        let index = ok(get(&app, "/threads/index", &partner).await).await;
        assert_eq!(index.as_array().unwrap().len(), 1, "{index}");
        let index = ok(get(&app, "/threads/index", ADMIN_KEY).await).await;
        assert_eq!(index.as_array().unwrap().len(), 2);

        // An event without discussion answers 404 (MISP: 500); unknown targets 404.
        let quiet = add_event(&app, ADMIN_KEY, json!({"info": "Quiet"})).await;
        assert_eq!(
            get(
                &app,
                &format!("/threads/viewEvent/{}", quiet["id"].as_str().unwrap()),
                ADMIN_KEY
            )
            .await
            .status(),
            404
        );
        assert_eq!(
            post(
                &app,
                "/posts/add/nothing/1",
                ADMIN_KEY,
                json!({"Post": {"message": "x"}})
            )
            .await
            .status(),
            404
        );
        let reader = user_key(&app, "ro@talk.test", ROLE_READ_ONLY, None).await;
        assert_eq!(
            post(
                &app,
                &format!("/posts/add/event/{ev_id}"),
                &reader,
                json!({"Post": {"message": "x"}})
            )
            .await
            .status(),
            403
        );
    })
    .await;
}
