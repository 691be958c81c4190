//! Trigger configurations (spec §3). Triggers start a walk and are never executed as nodes;
//! their [`Module::run`] checks the trigger's own conditions on the raw hook data before the walk
//! (only `tag-attached-after-save` has any).

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::data::RoamingData;
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
    TriggerInfo,
};
use crate::php;

/// A trigger: configuration as data plus its pre-walk condition check.
pub struct Trigger {
    config: ModuleConfig,
}

/// "Name = id in title case".
fn title_case(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn overhead_message(what: &str, plural: &str) -> String {
    format!(
        "This trigger is called each time {what} has been saved. This means that when a large quantity of {plural} are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are {plural}."
    )
}

impl Trigger {
    // A private table constructor: one call per row of the trigger table in spec §3.
    #[allow(clippy::too_many_arguments)]
    fn new(
        id: &str,
        scope: &str,
        blocking: bool,
        core: bool,
        overhead: u8,
        icon: &str,
        description: &str,
        message: String,
    ) -> Self {
        let mut c = ModuleConfig::new(id, &title_case(id), ModuleKind::Trigger);
        c.description = description.into();
        c.icon = icon.into();
        c.blocking = blocking;
        c.html_template = Some("trigger".into());
        c.trigger = Some(TriggerInfo {
            scope: scope.into(),
            misp_core_format: core,
            overhead,
            overhead_message: message,
            is_adhoc: false,
        });
        Trigger { config: c }
    }

    /// The trigger of ad-hoc workflow `adhoc_<n>` (spec §6.6).
    pub fn adhoc(n: u64) -> Self {
        let mut t = Trigger::new(
            &format!("adhoc_{n}"),
            "adhoc",
            true,
            true,
            1,
            "hand-pointer",
            "Ad-Hoc trigger to be called manually",
            String::new(),
        );
        t.config.name = format!("Ad-Hoc Trigger {n}");
        if let Some(info) = t.config.trigger.as_mut() {
            info.is_adhoc = true;
        }
        t.config.params = vec![
            ParamDescriptor::new("scope", "Data Input Scope", ParamType::Select)
                .default(json!("passed_filters"))
                .options(json!({
                    "passed_roaming_data": "Passed Roaming Data",
                    "passed_event_ids": "Passed Event IDs",
                    "events": "Events RestSearch"
                })),
            ParamDescriptor::new("filters", "Search Filters", ParamType::Textarea)
                .default(json!("{}"))
                .placeholder("{\n    \"publish_timestamp\": \"24h\"\n}")
                .jinja()
                .display_on(json!({"scope": ["events", "attributes"]})),
        ];
        t
    }
}

/// Every hook trigger of spec §3 (ad-hoc ones come from [`Trigger::adhoc`]).
pub fn all() -> Vec<Trigger> {
    let none = String::new;
    let mut tag = Trigger::new(
        "tag-attached-after-save",
        "tag",
        false,
        true,
        3,
        "tags",
        "This trigger is called just after a Tag has been attached to an Event or an Attribute.",
        "This trigger is called each time a Tag has been attached. This means that when a large quantity of Tags are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Tag attached.".into(),
    );
    tag.config.params = vec![
        ParamDescriptor::new("scope", "Scope", ParamType::Select)
            .default(json!("event"))
            .options(json!({"event": "Event", "attribute": "Attributes", "any": "Any"})),
        ParamDescriptor::new("locality", "Tag Locality", ParamType::Select)
            .default(json!("local"))
            .options(json!({"local": "Local", "global": "Global", "any": "Any"})),
        ParamDescriptor::new("tag", "Tags", ParamType::Input).placeholder("Type a tag"),
    ];
    vec![
        Trigger::new("attribute-after-save", "attribute", false, true, 3, "cube",
            "This trigger is called after an Attribute has been saved in the database",
            overhead_message("an Attribute", "Attributes")),
        Trigger::new("enrichment-before-query", "others", true, true, 1, "asterisk",
            "This trigger is called just before a query against the enrichment service is done", none()),
        Trigger::new("event-after-save", "event", false, true, 3, "envelope",
            "This trigger is called after an Event has been saved in the database",
            "This trigger is called each time an Event or Attribute have been saved. This means that when a large quantity of Attributes are being saved (e.g. Feed pulling or synchronisation), the workflow will be run for as many time as there are Attributes.".into()),
        Trigger::new("event-after-save-new", "event", false, true, 1, "envelope",
            "This trigger is called after a new Event has been saved in the database", none()),
        Trigger::new("event-after-save-new-from-pull", "event", false, true, 1, "envelope",
            "This trigger is called after a new Event has been saved in the database from a PULL operation", none()),
        Trigger::new("event-before-save", "event", true, true, 3, "envelope",
            "This trigger is called before an Event is saved in the database",
            overhead_message("an Event", "Events")),
        Trigger::new("event-publish", "event", true, true, 1, "upload",
            "This trigger is called just before a MISP Event starts the publishing process", none()),
        Trigger::new("event-report-after-save", "event-report", false, true, 1, "file-alt",
            "This trigger is called after an Event Report has been saved in the database", none()),
        Trigger::new("log-after-save", "log", false, false, 3, "file",
            "This trigger is called after a Log event has been saved in the database",
            "This trigger is called each time after Log event has been saved. This means that when a large quantity of Logs are being saved, the workflow will be run for as many time as there are log entries.".into()),
        Trigger::new("object-after-save", "object", false, true, 3, "cubes",
            "This trigger is called after an Object has been saved in the database",
            overhead_message("an Object", "Objects")),
        Trigger::new("post-after-save", "post", false, false, 1, "comment",
            "This trigger is called after a Post has been saved in the database", none()),
        Trigger::new("shadow-attribute-after-save", "shadow-attribute", false, true, 2, "comment",
            "This trigger is called after a Proposal has been saved in the database",
            overhead_message("a Proposal", "Proposals")),
        Trigger::new("shadow-attribute-before-save", "shadow-attribute", true, true, 2, "comment",
            "This trigger is called just before a Proposal is saved in the database",
            overhead_message("a Proposal", "Proposals")),
        Trigger::new("sighting-after-save", "sighting", false, true, 2, "eye",
            "This trigger is called after a Sighting has been saved in the database",
            overhead_message("a Sighting", "Sightings")),
        tag,
        Trigger::new("user-after-save", "user", false, false, 1, "user-edit",
            "This trigger is called after a user has been saved in the database", none()),
        Trigger::new("user-before-save", "user", true, false, 1, "user-plus",
            "This trigger is called just before a user is saved in the database", none()),
        Trigger::new("event-before-delete", "event", true, true, 1, "trash",
            "This trigger is called just before an Event is deleted from the database", none()),
        Trigger::new("analyst-data-after-save", "analyst-data", false, true, 1, "comment-dots",
            "This trigger is called after an Analyst Data has been saved in the database", none()),
    ]
}

#[async_trait]
impl Module for Trigger {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    /// Checks the trigger's conditions on the raw hook data; only the tag trigger has any.
    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        _errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        if self.config.id != "tag-attached-after-save" {
            return Ok(true);
        }
        let raw = data.raw();
        let tag = raw.get("Tag").cloned().unwrap_or(Value::Null);
        let field = |k: &str| tag.get(k).is_some_and(php::truthy);
        let scope = ctx.param_str("scope", raw)?;
        let locality = ctx.param_str("locality", raw)?;
        let wanted = ctx.param_str("tag", raw)?;
        if (scope == "attribute" && !field("attribute_id"))
            || (scope == "event" && field("attribute_id"))
        {
            return Ok(false);
        }
        if (locality == "local" && !field("local")) || (locality == "global" && field("local")) {
            return Ok(false);
        }
        if !wanted.is_empty()
            && !tag
                .get("name")
                .is_some_and(|n| php::loose_eq_str(n, &wanted))
        {
            return Ok(false);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::fixture;
    use crate::modules::testkit::eval;

    #[test]
    fn s3_trigger_config_matches_misp_output() {
        let v = fixture("workflows/workflow-view_event-after-save-new_publish-event.json");
        let expected = &v["Workflow"]["listening_triggers"][0];
        let t = all()
            .into_iter()
            .find(|t| t.config.id == "event-after-save-new")
            .expect("trigger");
        assert_eq!(&t.config.to_misp_config(false), expected);
        let v = fixture("workflows/workflow-data_attribute-after-save_with-frames.json");
        let msg = v["1"]["data"]["trigger_overhead_message"]
            .as_str()
            .unwrap_or("")
            .replace('+', " ");
        let t = all()
            .into_iter()
            .find(|t| t.config.id == "attribute-after-save")
            .expect("trigger");
        assert_eq!(
            t.config
                .trigger
                .as_ref()
                .map(|i| i.overhead_message.clone()),
            Some(msg)
        );
    }

    #[test]
    fn s3_every_trigger_is_listed_once() {
        let ids: Vec<String> = all().iter().map(|t| t.config.id.clone()).collect();
        assert_eq!(ids.len(), 19);
        let mut dedup = ids.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), ids.len());
        let publish = all()
            .into_iter()
            .find(|t| t.config.id == "event-publish")
            .expect("publish");
        assert_eq!(publish.config.name, "Event Publish");
        assert!(publish.config.blocking);
        assert_eq!(
            Trigger::adhoc(3).config.to_misp_config(false)["is_adhoc"],
            json!(true)
        );
    }

    #[test]
    fn s3_tag_trigger_conditions() {
        let t = all()
            .into_iter()
            .find(|t| t.config.id == "tag-attached-after-save")
            .expect("tag");
        let raw = |attr: &str, local: bool| json!({"Tag": {"name": "tlp:red", "event_id": "1", "attribute_id": attr, "local": local}});
        assert!(
            eval(&t, json!({}), raw("", true)),
            "defaults: event scope, local"
        );
        assert!(!eval(&t, json!({}), raw("5", true)));
        assert!(!eval(&t, json!({}), raw("", false)));
        assert!(eval(
            &t,
            json!({"scope": "attribute", "locality": "global"}),
            raw("5", false)
        ));
        assert!(eval(
            &t,
            json!({"scope": "any", "locality": "any", "tag": "tlp:red"}),
            raw("5", false)
        ));
        assert!(!eval(
            &t,
            json!({"scope": "any", "locality": "any", "tag": "tlp:white"}),
            raw("5", false)
        ));
    }
}
