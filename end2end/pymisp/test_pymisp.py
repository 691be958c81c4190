"""The real PyMISP client, unchanged, against Flowgate (issue: MISP core objects)."""
import uuid

from pymisp import (
    MISPAttribute,
    MISPEvent,
    MISPEventReport,
    MISPObject,
    MISPOrganisation,
    MISPSighting,
    MISPUser,
)


def test_connects_and_knows_its_user(misp):
    assert misp.misp_instance_version["version"]
    me = misp.get_user("me", pythonify=True)
    assert me.email == "admin@pymisp.test"
    assert "ip-dst" in misp.describe_types["types"]


def test_organisation_and_user_lifecycle(misp):
    org = MISPOrganisation()
    org.name = f"CERT {uuid.uuid4().hex[:8]}"
    org.description = "created by PyMISP"
    org = misp.add_organisation(org, pythonify=True)
    assert org.id and org.name.startswith("CERT ")

    user = MISPUser()
    user.email = f"analyst-{uuid.uuid4().hex[:8]}@cert.example"
    user.org_id = org.id
    user.role_id = 3
    user = misp.add_user(user, pythonify=True)
    assert user.id and user.org_id == org.id
    assert any(u.email == user.email for u in misp.users(pythonify=True))
    fetched = misp.get_user(user.id, pythonify=True)
    assert fetched.email == user.email

    assert "errors" not in misp.delete_user(user)
    assert "errors" not in misp.delete_organisation(org)
    assert "errors" in misp.get_organisation(org.id)


def make_event() -> MISPEvent:
    event = MISPEvent()
    event.info = "PyMISP phishing event"
    event.distribution = 1
    event.threat_level_id = 2
    event.analysis = 1
    event.add_tag("tlp:green")
    event.add_attribute("ip-dst", "8.8.8.8", to_ids=True, comment="C2", Tag=[{"name": "PAP:AMBER"}])
    event.add_attribute("domain", "evil.example")
    obj = MISPObject("domain-ip")
    obj.add_attribute("domain", value="login.evil.example")
    obj.add_attribute("ip", value="10.0.0.1")
    event.add_object(obj)
    return event


def test_event_lifecycle(misp):
    event = misp.add_event(make_event(), pythonify=True)
    assert event.id and event.info == "PyMISP phishing event"
    assert int(event.threat_level_id) == 2
    assert [a.value for a in event.attributes] == ["8.8.8.8", "evil.example"]
    assert event.attributes[0].to_ids is True
    assert [t.name for t in event.attributes[0].tags] == ["PAP:AMBER"]
    assert [t.name for t in event.tags] == ["tlp:green"]
    assert len(event.objects) == 1 and event.objects[0].name == "domain-ip"
    assert sorted(a.value for a in event.objects[0].attributes) == ["10.0.0.1", "login.evil.example"]

    # Edit: the event's info and an attribute's comment, sent back whole as PyMISP does.
    event.info = "PyMISP phishing event (reviewed)"
    event.attributes[1].comment = "typosquat"
    edited = misp.update_event(event, pythonify=True)
    assert edited.info == "PyMISP phishing event (reviewed)"
    assert edited.attributes[1].comment == "typosquat"
    assert len(edited.attributes) == 2

    # Tag and untag the event and an attribute.
    assert "errors" not in misp.tag(event, "tlp:amber")
    assert "errors" not in misp.tag(event.attributes[0], "kill-chain:delivery", local=True)
    fetched = misp.get_event(event.id, pythonify=True)
    assert {"tlp:green", "tlp:amber"} <= {t.name for t in fetched.tags}
    assert "kill-chain:delivery" in {t.name for t in fetched.attributes[0].tags}
    assert "errors" not in misp.untag(event, "tlp:amber")
    fetched = misp.get_event(event.id, pythonify=True)
    assert "tlp:amber" not in {t.name for t in fetched.tags}

    # Attributes and objects added to the stored event.
    attribute = MISPAttribute()
    attribute.type = "url"
    attribute.value = "https://evil.example/login"
    added = misp.add_attribute(event, attribute, pythonify=True)
    assert added.id and added.category == "Network activity"
    obj = MISPObject("domain-ip")
    obj.add_attribute("domain", value="cdn.evil.example")
    added_obj = misp.add_object(event, obj, pythonify=True)
    assert added_obj.id and added_obj.attributes[0].value == "cdn.evil.example"
    attribute.comment = "landing page"
    updated = misp.update_attribute(attribute, added.id, pythonify=True)
    assert updated.comment == "landing page"
    assert "errors" not in misp.delete_attribute(added.id)

    # A sighting and a report.
    sighting = MISPSighting()
    sighting.source = "pymisp-sensor"
    made = misp.add_sighting(sighting, event.attributes[0], pythonify=True)
    assert int(made.attribute_id) == int(event.attributes[0].id) and made.source == "pymisp-sensor"
    by_value = MISPSighting()
    by_value.value = "8.8.8.8"
    assert "errors" not in misp.add_sighting(by_value)
    report = MISPEventReport()
    report.name = "Analysis"
    report.content = "# Findings"
    report = misp.add_event_report(event, report, pythonify=True)
    assert report.id and report.name == "Analysis"
    assert misp.get_event_report(report.id, pythonify=True).content == "# Findings"
    assert [r.name for r in misp.get_event(event.id, pythonify=True).event_reports] == ["Analysis"]

    # Publish, then delete.
    assert "errors" not in misp.publish(event)
    assert misp.get_event(event.id, pythonify=True).published is True
    assert "errors" not in misp.delete_event(event)
    assert "errors" in misp.get_event(event.id)


def test_bad_input_is_refused(misp):
    event = MISPEvent()
    event.info = "bad"
    bad = MISPAttribute()
    bad.from_dict(type="ip-dst", value="not-an-ip")
    event.attributes.append(bad)
    response = misp.add_event(event)
    assert "errors" in response
    status, body = response["errors"]
    assert status == 400 and "IP address" in body["message"]
    assert not [e for e in misp.events(pythonify=True) if e.info == "bad"]


def test_search(misp):
    event = make_event()
    event.info = "PyMISP search event"
    event = misp.add_event(event, pythonify=True)
    try:
        found = misp.search(controller="events", value="8.8.8.8", pythonify=True)
        assert event.uuid in {e.uuid for e in found}
        found = misp.search(controller="events", tags=["tlp:green"], eventinfo="search event", pythonify=True)
        assert [e.uuid for e in found] == [event.uuid]
        found = misp.search(controller="events", tags=["!tlp:green"], eventinfo="search event", pythonify=True)
        assert found == []
        attributes = misp.search(controller="attributes", type_attribute="domain", value="evil.example", pythonify=True)
        assert [a.value for a in attributes] == ["evil.example"]
        assert misp.search(controller="attributes", value="no-such-value", pythonify=True) == []
    finally:
        misp.delete_event(event)
