//! Curation modules (spec §5.2): `tag_replacement_generic`, `tag_replacement_tlp`,
//! `tag_replacement_pap` normalise tag spellings; `proposal-action` accepts or discards the
//! proposals in the data.
use async_trait::async_trait;
use engine::{
    Module, ModuleConfig, ModuleContext, ModuleError, ParamDescriptor, ParamType, RoamingData,
};
use regex::Regex;
use serde_json::{json, Value};

use super::{matching_attributes, reload, uuid_of, RunContext};
use crate::backend::services::{events, proposals};

/// How a replacement module rewrites a tag name (`None`: leave it).
#[derive(Clone, Copy)]
enum Rule {
    /// No pattern of its own: changes nothing (MISP's base class).
    Generic,
    Tlp,
    Pap,
}

fn tlp_pattern() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)^\s*tlp\s*[:=]\s*(red|amber\s*\+\s*strict|amber|green|white|clear)\s*$")
            .expect("static regex")
    })
}

fn pap_pattern() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)^\s*(?:pap|permissible\s+actions?\s+protocol)\s*[:=]\s*(red|amber|green|white|clear)\s*$")
            .expect("static regex")
    })
}

impl Rule {
    fn replace(self, name: &str) -> Option<String> {
        let normalised = match self {
            Rule::Generic => return None,
            Rule::Tlp => {
                let level = tlp_pattern()
                    .captures(name)?
                    .get(1)?
                    .as_str()
                    .to_lowercase();
                let level: String = level.chars().filter(|c| !c.is_whitespace()).collect();
                format!("tlp:{level}")
            }
            Rule::Pap => {
                let level = pap_pattern()
                    .captures(name)?
                    .get(1)?
                    .as_str()
                    .to_uppercase();
                format!("PAP:{level}")
            }
        };
        (normalised != name).then_some(normalised)
    }
}

pub struct TagReplacement {
    config: ModuleConfig,
    rule: Rule,
}

impl TagReplacement {
    fn with(id: &str, name: &str, description: &str, rule: Rule) -> Self {
        let mut c = super::action_config(id, name, description, true, true);
        c.icon = "tags".into();
        c.params = vec![
            ParamDescriptor::new("scope", "Scope", ParamType::Select)
                .default(json!("event"))
                .options(json!({"event": "Event", "attribute": "Attributes", "all": "All"})),
            ParamDescriptor::new(
                "remove_substituted",
                "Removed substituted tag",
                ParamType::Select,
            )
            .default(json!("1"))
            .options(json!({"0": "No", "1": "Yes"})),
            ParamDescriptor::new("locality", "Tag Locality", ParamType::Select)
                .default(json!("local"))
                .options(json!({"local": "Local", "global": "Global"})),
            ParamDescriptor::new("relationship_type", "Relationship Type", ParamType::Input),
        ];
        Self { config: c, rule }
    }

    pub fn generic() -> Self {
        Self::with(
            "tag_replacement_generic",
            "Tag Replacement Generic",
            "Attach a tag, or substitue a tag by another",
            Rule::Generic,
        )
    }

    pub fn tlp() -> Self {
        Self::with(
            "tag_replacement_tlp",
            "Tag Replacement - TLP",
            "Attach a tag, or substitue a tag by another for the TLP taxonomy",
            Rule::Tlp,
        )
    }

    pub fn pap() -> Self {
        Self::with(
            "tag_replacement_pap",
            "Tag Replacement - PAP",
            "Attach a tag, or substitue a tag by another for the PAP taxonomy",
            Rule::Pap,
        )
    }
}

fn names(tags: Option<&Value>) -> Vec<String> {
    tags.and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl Module for TagReplacement {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = ctx.view(data)?.into_owned();
        let scope = ctx.param_str("scope", &view)?;
        let remove = ctx.param_str("remove_substituted", &view)? == "1";
        let local = ctx.param_str("locality", &view)? != "global";
        // (target uuid, its tag names)
        let mut targets: Vec<(String, Vec<String>)> = Vec::new();
        if scope == "event" || scope == "all" {
            if let Some(uuid) = view.pointer("/Event/uuid").and_then(Value::as_str) {
                targets.push((uuid.to_owned(), names(view.pointer("/Event/Tag"))));
            }
        }
        if scope == "attribute" || scope == "all" {
            for a in matching_attributes(ctx, &view)? {
                if let Some(uuid) = uuid_of(a) {
                    targets.push((uuid.to_owned(), names(a.get("Tag"))));
                }
            }
        }
        let mut changed = 0usize;
        for (uuid, tags) in &targets {
            for old in tags {
                let Some(new) = self.rule.replace(old) else {
                    continue;
                };
                let name = json!(new);
                let attach = events::attach_tag(&run.state, run.actor().await?, uuid, &name, local);
                match run.once(ctx, &format!("attach:{uuid}:{new}"), attach).await {
                    Ok(_) => changed += 1,
                    Err(e) => {
                        errors.push(format!("{new} on {uuid}: {e}"));
                        continue;
                    }
                }
                if remove {
                    let name = json!(old);
                    let detach = events::remove_tag(&run.state, run.actor().await?, uuid, &name);
                    if let Err(e) = run.once(ctx, &format!("detach:{uuid}:{old}"), detach).await {
                        errors.push(format!("removing {old} from {uuid}: {e}"));
                    }
                }
            }
        }
        if changed > 0 {
            reload(run, data).await?;
        }
        Ok(true)
    }
}

/// `proposal-action`: accepts or discards the proposals in the data: new attributes
/// (`Event.ShadowAttribute`), changes to the matching attributes (their `ShadowAttribute`), or
/// both. MISP's default type `all` matches nothing.
pub struct ProposalAction {
    config: ModuleConfig,
}

impl ProposalAction {
    pub fn new() -> Self {
        let mut c = super::action_config(
            "proposal-action",
            "Proposal Action",
            "Accept or discard proposals",
            true,
            true,
        );
        c.version = "0.2".into();
        c.icon = "check".into();
        c.params = vec![
            ParamDescriptor::new("action", "Action", ParamType::Select)
                .default(json!("accept"))
                .options(json!({"accept": "Accept", "remove": "Discard"})),
            ParamDescriptor::new("proposal_type", "Proposal Type", ParamType::Select)
                .default(json!("all"))
                .options(json!({"new": "New attribute", "edit": "Attribute edit", "any": "Any"})),
        ];
        Self { config: c }
    }
}

#[async_trait]
impl Module for ProposalAction {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = ctx.view(data)?.into_owned();
        let accept = ctx.param_str("action", &view)? == "accept";
        let kind = ctx.param_str("proposal_type", &view)?;
        let ids = |list: Option<&Value>| -> Vec<String> {
            list.and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|p| p.get("id").and_then(Value::as_str).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut wanted = Vec::new();
        if kind == "new" || kind == "any" {
            wanted.extend(ids(view.pointer("/Event/ShadowAttribute")));
        }
        if kind == "edit" || kind == "any" {
            for a in matching_attributes(ctx, &view)? {
                wanted.extend(ids(a.get("ShadowAttribute")));
            }
        }
        let mut handled = 0usize;
        for id in wanted {
            let outcome = if accept {
                proposals::accept_proposal(&run.state, run.actor().await?, &id).await
            } else {
                proposals::discard_proposal(&run.state, run.actor().await?, &id).await
            };
            match outcome {
                Ok(_) => handled += 1,
                Err(e) => errors.push(format!("Proposal {id}: {e}")),
            }
        }
        if handled > 0 {
            reload(run, data).await?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_and_pap_spellings_are_normalised() {
        for (given, want) in [
            ("TLP:RED", Some("tlp:red")),
            ("tlp = Amber + Strict", Some("tlp:amber+strict")),
            ("Tlp:clear", Some("tlp:clear")),
            ("tlp:green", None),
            ("tlp:purple", None),
        ] {
            assert_eq!(Rule::Tlp.replace(given).as_deref(), want, "{given}");
        }
        for (given, want) in [
            ("pap:red", Some("PAP:RED")),
            ("PAP=amber", Some("PAP:AMBER")),
            ("permissible actions protocol: green", Some("PAP:GREEN")),
            ("PAP:WHITE", None),
        ] {
            assert_eq!(Rule::Pap.replace(given).as_deref(), want, "{given}");
        }
        assert_eq!(Rule::Generic.replace("TLP:RED"), None);
    }
}
