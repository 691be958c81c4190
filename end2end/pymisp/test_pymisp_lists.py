"""PyMISP, unchanged, on the event blocklist, warninglists, proposals, the audit log, sharing
groups, and an official blueprint gating publication."""
import json
import os
import uuid

from pymisp import (
    MISPAttribute,
    MISPEvent,
    MISPEventBlocklist,
    MISPLog,
    MISPOrganisation,
    MISPShadowAttribute,
    MISPSharingGroup,
)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_event_blocklist(misp):
    blocked = str(uuid.uuid4())
    added = misp.add_event_blocklist(blocked, comment="bad feed", event_info="spam", event_orgc="Feed")
    assert added["result"]["successes"] == [blocked], added
    entries = [e for e in misp.event_blocklists(pythonify=True) if e.event_uuid == blocked]
    assert len(entries) == 1 and isinstance(entries[0], MISPEventBlocklist)
    assert entries[0].comment == "bad feed"

    event = MISPEvent()
    event.uuid = blocked
    event.info = "From the bad feed"
    refused = misp.add_event(event)
    assert refused["errors"][0] == 403
    assert refused["errors"][1]["name"] == "Event blocked by event blocklist."

    entries[0].comment = "reviewed"
    updated = misp.update_event_blocklist(entries[0], pythonify=True)
    assert updated.comment == "reviewed"
    assert "errors" not in misp.delete_event_blocklist(entries[0])
    assert not [e for e in misp.event_blocklists(pythonify=True) if e.event_uuid == blocked]
    added = misp.add_event(event, pythonify=True)
    assert added.uuid == blocked
    assert "errors" not in misp.delete_event(added)


def test_warninglists(misp):
    name = f"Resolvers {uuid.uuid4().hex[:8]}"
    # PyMISP has no method for custom lists; MISP's route through direct_call.
    made = misp.direct_call("warninglists/add", {
        "Warninglist": {
            "name": name, "description": "Public resolvers", "type": "string",
            "category": "known", "entries": "8.8.8.8 # google\n9.9.9.9",
            "matching_attributes": ["ip-dst"],
        }
    })
    list_id = made["Warninglist"]["id"]
    listed = [w for w in misp.warninglists(pythonify=True) if w.name == name]
    assert len(listed) == 1 and listed[0].warninglist_entry_count == "2"

    assert misp.values_in_warninglist(["8.8.8.8"]) == []
    enabled = misp.enable_warninglist(list_id)
    assert enabled == {"saved": True, "success": "1 warninglist(s) enabled"}, enabled
    hits = misp.values_in_warninglist(["8.8.8.8", "1.1.1.1"])
    assert hits == {"8.8.8.8": [{"id": list_id, "name": name, "matched": "8.8.8.8"}]}, hits

    wl = misp.get_warninglist(list_id, pythonify=True)
    assert [e["value"] for e in wl.WarninglistEntry] == ["8.8.8.8", "9.9.9.9"]
    assert misp.disable_warninglist(list_id)["success"] == "1 warninglist(s) disabled"
    assert misp.values_in_warninglist(["8.8.8.8"]) == []


def test_proposals(misp):
    event = MISPEvent()
    event.info = "Proposals through PyMISP"
    event.add_attribute("ip-dst", "1.2.3.4", comment="old")
    event = misp.add_event(event, pythonify=True)
    target = event.attributes[0]

    new = MISPAttribute()
    new.type = "domain"
    new.value = "proposed.example"
    proposal = misp.add_attribute_proposal(event, new, pythonify=True)
    assert isinstance(proposal, MISPShadowAttribute) and proposal.value == "proposed.example"

    change = MISPAttribute()
    change.comment = "new"
    changed = misp.update_attribute_proposal(target, change, pythonify=True)
    assert int(changed.old_id) == int(target.id) and changed.comment == "new"
    assert misp.delete_attribute_proposal(target)["saved"] is True

    pending = misp.attribute_proposals(event, pythonify=True)
    assert len(pending) == 3
    assert misp.get_attribute_proposal(proposal, pythonify=True).value == "proposed.example"

    assert misp.accept_attribute_proposal(proposal)["message"] == "Proposal accepted."
    assert misp.accept_attribute_proposal(changed)["message"] == "Proposed change accepted."
    deletion = [p for p in pending if p.proposal_to_delete][0]
    assert misp.discard_attribute_proposal(deletion)["message"] == "Proposal discarded."

    event = misp.get_event(event, pythonify=True)
    values = sorted(a.value for a in event.attributes)
    assert values == ["1.2.3.4", "proposed.example"]
    assert [a.comment for a in event.attributes if a.value == "1.2.3.4"] == ["new"]
    assert "errors" not in misp.delete_event(event)


def test_search_logs(misp):
    event = MISPEvent()
    event.info = f"Logged {uuid.uuid4().hex[:8]}"
    event = misp.add_event(event, pythonify=True)
    logs = misp.search_logs(model="Event", action="add", title=f"%{event.info}%", pythonify=True)
    assert len(logs) == 1 and isinstance(logs[0], MISPLog)
    assert int(logs[0].model_id) == int(event.id)
    assert logs[0].email == "admin@pymisp.test"
    assert "errors" not in misp.delete_event(event)
    deleted = misp.search_logs(model="Event", action="delete", title=f"%{event.info}%", pythonify=True)
    assert len(deleted) == 1


def test_sharing_groups(misp):
    org = MISPOrganisation()
    org.name = f"Partner {uuid.uuid4().hex[:8]}"
    org = misp.add_organisation(org, pythonify=True)
    sg = MISPSharingGroup()
    sg.name = f"Circle {uuid.uuid4().hex[:8]}"
    sg.releasability = "Partners only"
    sg = misp.add_sharing_group(sg, pythonify=True)
    assert sg.name.startswith("Circle ") and sg.releasability == "Partners only"
    assert misp.sharing_group_exists(sg)
    assert any(s.name == sg.name for s in misp.sharing_groups(pythonify=True))

    assert "errors" not in misp.add_org_to_sharing_group(sg, org, extend=True)
    fetched = misp.get_sharing_group(sg, pythonify=True)
    assert org.name in [o.Organisation.name for o in fetched.SharingGroupOrg]

    event = MISPEvent()
    event.info = "Shared with the circle"
    event.distribution = 4
    event.sharing_group_id = sg.id
    event = misp.add_event(event, pythonify=True)
    assert int(event.sharing_group_id) == int(sg.id)
    assert event.SharingGroup["name"] == sg.name

    # A group in use is kept; once nothing shares with it, it goes.
    assert "errors" in misp.delete_sharing_group(sg)
    assert "errors" not in misp.delete_event(event)
    assert "errors" not in misp.remove_org_from_sharing_group(sg, org)
    assert "errors" not in misp.delete_sharing_group(sg)
    assert not misp.sharing_group_exists(sg)
    assert "errors" not in misp.delete_organisation(org)


def test_official_blueprint_gates_publishing(misp):
    """blueprint_pap_red-and-tlp_red-blocking on event-publish: tlp:red is refused, tlp:green not."""
    path = os.path.join(ROOT, "app", "blueprints", "blueprint_pap_red-and-tlp_red-blocking_1661328258.json")
    with open(path) as f:
        nodes = json.load(f)["WorkflowBlueprint"]["data"]
    opened = misp.direct_call("workflows/editor/event-publish")
    graph = opened["Workflow"]["data"]
    for node in nodes:
        graph[str(node["id"])] = node
    first = min(nodes, key=lambda n: n["pos_x"])
    graph["1"]["outputs"]["output_1"]["connections"] = [{"node": str(first["id"]), "output": "input_1"}]
    graph[str(first["id"])]["inputs"] = {"input_1": {"connections": [{"node": "1", "input": "output_1"}]}}
    saved = misp.direct_call(f"workflows/edit/{opened['Workflow']['id']}", {"Workflow": {"data": graph}})
    assert "errors" not in saved, saved
    for setting in ("Plugin.Workflow_enable", "Plugin.Workflow_triggers_event-publish"):
        assert "errors" not in misp.set_server_setting(setting, True, force=True)
    try:
        red, green = MISPEvent(), MISPEvent()
        red.info, green.info = "Red", "Green"
        red.add_tag("tlp:red")
        green.add_tag("tlp:green")
        red.add_attribute("ip-dst", "192.0.2.80")
        green.add_attribute("ip-dst", "192.0.2.81")
        red, green = misp.add_event(red, pythonify=True), misp.add_event(green, pythonify=True)
        refused = misp.publish(red)
        assert refused["errors"][0] == 400, refused
        assert refused["errors"][1]["message"].startswith("Publishing stopped by a blocking workflow."), refused
        assert misp.get_event(red, pythonify=True).published is False
        assert "errors" not in misp.publish(green)
        assert misp.get_event(green, pythonify=True).published is True
    finally:
        misp.set_server_setting("Plugin.Workflow_triggers_event-publish", False, force=True)
    for e in (red, green):
        misp.delete_event(e)
