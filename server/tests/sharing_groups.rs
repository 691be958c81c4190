//! Sharing groups (distribution 4) over MISP's routes: who manages them, and who then sees
//! events, attributes and reports shared with them (view, index, restSearch).
mod common;

use app::backend::store::roles::{ROLE_ORG_ADMIN, ROLE_USER};
use common::{for_each_backend, get, ok, post, user_key, TestApp, ADMIN_KEY};
use serde_json::json;

async fn org_id(app: &TestApp, key: &str) -> String {
    ok(get(app, "/users/view/me", key).await).await["User"]["org_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn event_ids(app: &TestApp, key: &str) -> Vec<String> {
    let found = ok(post(app, "/events/restSearch", key, json!({})).await).await;
    found["response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Event"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sharing_groups_decide_who_sees_distribution_4() {
    for_each_backend(|app| async move {
        let partner = user_key(&app, "admin@partner.test", ROLE_ORG_ADMIN, Some("Partner")).await;
        let outsider = user_key(&app, "user@outsider.test", ROLE_USER, Some("Outsider")).await;
        let (partner_org, outsider_org) = (org_id(&app, &partner).await, org_id(&app, &outsider).await);

        // A group owned by the host organisation, with the partner as a member.
        let made = ok(post(&app, "/sharing_groups/add", ADMIN_KEY, json!({"SharingGroup": {
            "name": "Trusted circle", "releasability": "partners only", "description": "d"},
            "SharingGroupOrg": [{"org_id": partner_org}]})).await).await;
        let sg = made["SharingGroup"]["id"].as_str().unwrap().to_owned();
        let members: Vec<&str> = made["SharingGroupOrg"].as_array().unwrap().iter()
            .map(|m| m["Organisation"]["name"].as_str().unwrap()).collect();
        assert_eq!(members.len(), 2, "owner and partner: {made}");
        assert!(members.contains(&"Partner"));
        let dup = post(&app, "/sharing_groups/add", ADMIN_KEY, json!({"name": "Trusted circle"})).await;
        assert_eq!(dup.status(), 409);
        // Users without perm_sharing_group create none.
        assert_eq!(post(&app, "/sharing_groups/add", &outsider, json!({"name": "Mine"})).await.status(), 403);

        // distribution 4 needs a group the creator's organisation belongs to.
        for bad in [json!({"info": "x", "distribution": 4}), json!({"info": "x", "distribution": 4, "sharing_group_id": 999})] {
            assert_eq!(post(&app, "/events/add", ADMIN_KEY, bad).await.status(), 400);
        }
        let r = post(&app, "/events/add", &outsider, json!({"info": "x", "distribution": 4, "sharing_group_id": sg})).await;
        assert_eq!(r.status(), 400);

        let shared = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Shared", "distribution": 4, "sharing_group_id": sg})).await).await;
        let shared_id = shared["Event"]["id"].as_str().unwrap().to_owned();
        assert_eq!(shared["Event"]["sharing_group_id"], sg.as_str());
        assert_eq!(shared["Event"]["SharingGroup"]["name"], "Trusted circle");
        assert_eq!(shared["Event"]["SharingGroup"]["SharingGroupOrg"].as_array().unwrap().len(), 2);
        // A community event with one attribute and one report shared with the group only.
        let open = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Open", "distribution": 1,
            "Attribute": [{"type": "ip-dst", "value": "1.1.1.1"},
                          {"type": "ip-dst", "value": "2.2.2.2", "distribution": 4, "sharing_group_id": sg}]})).await).await;
        let open_id = open["Event"]["id"].as_str().unwrap().to_owned();
        ok(post(&app, &format!("/eventReports/add/{open_id}"), ADMIN_KEY,
            json!({"name": "For the circle", "distribution": 4, "sharing_group_id": sg})).await).await;

        // The partner sees the shared event and the shared attribute and report.
        ok(get(&app, &format!("/events/view/{shared_id}"), &partner).await).await;
        assert!(event_ids(&app, &partner).await.contains(&shared_id));
        let seen = ok(get(&app, &format!("/events/view/{open_id}"), &partner).await).await;
        assert_eq!(seen["Event"]["Attribute"].as_array().unwrap().len(), 2);
        assert_eq!(seen["Event"]["EventReport"].as_array().unwrap().len(), 1);
        let attrs = ok(post(&app, "/attributes/restSearch", &partner, json!({"value": "2.2.2.2"})).await).await;
        assert_eq!(attrs["response"]["Attribute"].as_array().unwrap().len(), 1);

        // The outsider sees none of it.
        assert_eq!(get(&app, &format!("/events/view/{shared_id}"), &outsider).await.status(), 404);
        assert!(!event_ids(&app, &outsider).await.contains(&shared_id));
        let index = ok(get(&app, "/events/index", &outsider).await).await;
        assert!(!index.to_string().contains("\"Shared\""), "{index}");
        let seen = ok(get(&app, &format!("/events/view/{open_id}"), &outsider).await).await;
        assert_eq!(seen["Event"]["Attribute"].as_array().unwrap().len(), 1);
        assert!(seen["Event"]["EventReport"].as_array().unwrap().is_empty());
        let attrs = ok(post(&app, "/attributes/restSearch", &outsider, json!({"value": "2.2.2.2"})).await).await;
        assert!(attrs["response"]["Attribute"].as_array().unwrap().is_empty());
        assert!(ok(get(&app, "/sharing_groups/index", &outsider).await).await["response"].as_array().unwrap().is_empty());
        assert_eq!(get(&app, &format!("/sharing_groups/view/{sg}"), &outsider).await.status(), 404);

        // Members without `extend` cannot add organisations; the owner can.
        assert_eq!(post(&app, &format!("/sharing_groups/addOrg/{sg}/{outsider_org}"), &partner, json!({})).await.status(), 403);
        assert_eq!(post(&app, &format!("/sharing_groups/edit/{sg}"), &partner, json!({"name": "Hijacked"})).await.status(), 403);
        let listed = ok(get(&app, "/sharing_groups/index", &partner).await).await;
        assert_eq!(listed["response"][0]["editable"], false);
        ok(post(&app, &format!("/sharing_groups/addOrg/{sg}/{outsider_org}"), ADMIN_KEY, json!({"extend": false})).await).await;
        ok(get(&app, &format!("/events/view/{shared_id}"), &outsider).await).await;
        ok(post(&app, &format!("/sharing_groups/removeOrg/{sg}/{outsider_org}"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(get(&app, &format!("/events/view/{shared_id}"), &outsider).await.status(), 404);
        let owner_org = org_id(&app, ADMIN_KEY).await;
        assert_eq!(post(&app, &format!("/sharing_groups/removeOrg/{sg}/{owner_org}"), ADMIN_KEY, json!({})).await.status(), 400);

        // By uuid too (PyMISP refers to groups by uuid); edits by the owner.
        let uuid = made["SharingGroup"]["uuid"].as_str().unwrap();
        let edited = ok(post(&app, &format!("/sharing_groups/edit/{uuid}"), ADMIN_KEY, json!({"releasability": "TLP:AMBER"})).await).await;
        assert_eq!(edited["SharingGroup"]["releasability"], "TLP:AMBER");

        // A group in use cannot be deleted; once nothing shares with it, it can.
        assert_eq!(post(&app, &format!("/sharing_groups/delete/{sg}"), ADMIN_KEY, json!({})).await.status(), 409);
        for id in [&shared_id, &open_id] {
            ok(post(&app, &format!("/events/delete/{id}"), ADMIN_KEY, json!({})).await).await;
        }
        ok(post(&app, &format!("/sharing_groups/delete/{sg}"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(get(&app, &format!("/sharing_groups/view/{sg}"), ADMIN_KEY).await.status(), 404);
        let logged = ok(post(&app, "/admin/logs/index", ADMIN_KEY, json!({"model": "SharingGroup"})).await).await;
        let actions: Vec<&str> = logged.as_array().unwrap().iter().map(|l| l["Log"]["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["delete", "edit", "removeOrg", "addOrg", "add"]);
    })
    .await;
}
