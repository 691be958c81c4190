//! `/events` (the event index, with the form to add an event) and `/events/<id>` (an event
//! with its attributes, objects, tags, reports, proposals and discussion, and the forms to
//! change it). Every form is a plain form before hydration; errors from the server are shown
//! next to the form that caused them.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::format::unix_time;
use crate::components::messages::{ActionResult, ErrorPanel};
use crate::error::AppError;
use crate::model::{AttributeRow, EventDetail, EventList, ObjectView, TagChip};

#[server(endpoint = "events/list")]
pub async fn list_events(
    page: u64,
    tag: String,
    org: String,
    published: String,
) -> Result<EventList, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::event_pages::list(
                &state, &principal, page, &tag, &org, &published,
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "events/detail")]
pub async fn load_event(id: String) -> Result<EventDetail, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::event_pages::detail(&state, &principal, &id).await
        }
        .await,
    )
}

/// Adds an event; answers its id.
#[server(endpoint = "events/create")]
pub async fn create_event(
    info: String,
    date: String,
    distribution: String,
    threat_level_id: String,
    analysis: String,
) -> Result<String, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            let mut body = serde_json::json!({"info": info, "distribution": distribution,
                "threat_level_id": threat_level_id, "analysis": analysis});
            if !date.trim().is_empty() {
                body["date"] = serde_json::json!(date.trim());
            }
            let added =
                crate::backend::services::events::add_event(&state, &principal, body).await?;
            Ok(added["Event"]["id"].as_str().unwrap_or_default().to_owned())
        }
        .await,
    )
}

#[server(endpoint = "events/attribute/add")]
pub async fn add_attribute(
    event_id: String,
    attribute_type: String,
    category: String,
    value: String,
    to_ids: Option<String>,
    comment: String,
) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            let mut body = serde_json::json!({"type": attribute_type, "value": value,
                "to_ids": to_ids.is_some(), "comment": comment});
            if !category.is_empty() {
                body["category"] = serde_json::json!(category);
            }
            crate::backend::services::events::add_attributes(&state, &principal, &event_id, body)
                .await
                .map(|_| ())
        }
        .await,
    )
}

#[server(endpoint = "events/attribute/edit")]
pub async fn edit_attribute(
    attribute_id: String,
    category: String,
    value: String,
    to_ids: Option<String>,
    comment: String,
) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            let body = serde_json::json!({"category": category, "value": value,
                "to_ids": to_ids.is_some(), "comment": comment});
            crate::backend::services::events::edit_attribute(
                &state,
                &principal,
                &attribute_id,
                body,
            )
            .await
            .map(|_| ())
        }
        .await,
    )
}

#[server(endpoint = "events/attribute/delete")]
pub async fn delete_attribute(attribute_id: String) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::events::delete_attribute(
                &state,
                &principal,
                &attribute_id,
                false,
            )
            .await
        }
        .await,
    )
}

/// Attaches `tag` to the event or attribute with `uuid`.
#[server(endpoint = "events/tag/attach")]
pub async fn attach_tag(uuid: String, tag: String, local: Option<String>) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            let tag = tag.trim().to_owned();
            if tag.is_empty() {
                return Err(AppError::Invalid("Name the tag to attach.".into()));
            }
            crate::backend::services::events::attach_tag(
                &state,
                &principal,
                &uuid,
                &serde_json::json!(tag),
                local.is_some(),
            )
            .await
            .map(|_| ())
        }
        .await,
    )
}

#[server(endpoint = "events/tag/detach")]
pub async fn detach_tag(uuid: String, tag: String) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::events::remove_tag(
                &state,
                &principal,
                &uuid,
                &serde_json::json!(tag),
            )
            .await
            .map(|_| ())
        }
        .await,
    )
}

/// Publishes (`publish` = "1") or unpublishes the event; a blocking `event-publish` workflow
/// may refuse, and its message is the error shown.
#[server(endpoint = "events/publish")]
pub async fn set_published(event_id: String, publish: String) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::events::set_published(
                &state,
                &principal,
                &event_id,
                publish == "1",
            )
            .await
            .map(|_| ())
        }
        .await,
    )
}

/// Black or white text, whichever reads better on `colour` (`#rrggbb`).
fn text_colour(colour: &str) -> &'static str {
    let hex = colour.trim_start_matches('#');
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, f64::from)
    };
    let luminance = 0.299 * channel(0) + 0.587 * channel(2) + 0.114 * channel(4);
    if hex.len() == 6 && luminance > 150.0 {
        "#000000"
    } else {
        "#ffffff"
    }
}

#[component]
fn Tag(tag: TagChip) -> impl IntoView {
    let style = format!(
        "background:{};color:{}",
        if tag.colour.is_empty() {
            "#5a6478"
        } else {
            tag.colour.as_str()
        },
        text_colour(&tag.colour)
    );
    view! {
        <span class="tag" style=style title=if tag.local { "local tag" } else { "global tag" }>
            {tag.name}
            {tag.local.then(|| view! { <span class="tag-local">" (local)"</span> })}
        </span>
    }
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateEvent>::new();
    let q = move |key: &str| query.with(|m| m.get(key).unwrap_or_default());
    let list = Resource::new(
        move || {
            (
                q("page").parse::<u64>().unwrap_or(1),
                q("tag"),
                q("org"),
                q("published"),
                create.version().get(),
            )
        },
        |(page, tag, org, published, _)| list_events(page, tag, org, published),
    );
    view! {
        <Title text="Events" />
        <section class="panel" data-testid="events-index">
            <h1>"Events"</h1>
            <form method="get" action="/events" class="inline-form" data-testid="event-filters">
                <label>"Tag" <input type="text" name="tag" value=move || q("tag") /></label>
                <label>"Organisation" <input type="text" name="org" value=move || q("org") /></label>
                <label>"Published"
                    <select name="published" aria-label="Published">
                        <option value="" selected=move || q("published").is_empty()>"Any"</option>
                        <option value="1" selected=move || q("published") == "1">"Published"</option>
                        <option value="0" selected=move || q("published") == "0">"Not published"</option>
                    </select>
                </label>
                <button type="submit">"Filter"</button>
            </form>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => view! { <EventTable list query=query.get_untracked() /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="panel">
            <h2>"Add an event"</h2>
            {move || match create.value().get() {
                Some(Ok(id)) => view! {
                    <p class="flash success" role="status">
                        "Event added: " <a href=format!("/events/{id}") data-testid="new-event-link">{format!("open event {id}")}</a>
                    </p>
                }.into_any(),
                Some(Err(err)) => view! { <p class="flash error" role="alert">{err.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <ActionForm action=create attr:class="inline-form" attr:data-testid="add-event-form">
                <label>"Info" <input type="text" name="info" required maxlength="65535" /></label>
                <label>"Date" <input type="date" name="date" /></label>
                <label>"Distribution" <DistributionSelect name="distribution" label="Distribution" selected="0" inherit=false /></label>
                <label>"Threat level"
                    <select name="threat_level_id" aria-label="Threat level">
                        <option value="1">"High"</option>
                        <option value="2">"Medium"</option>
                        <option value="3">"Low"</option>
                        <option value="4" selected>"Undefined"</option>
                    </select>
                </label>
                <label>"Analysis"
                    <select name="analysis" aria-label="Analysis">
                        <option value="0" selected>"Initial"</option>
                        <option value="1">"Ongoing"</option>
                        <option value="2">"Completed"</option>
                    </select>
                </label>
                <button type="submit" class="primary">"Add event"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn DistributionSelect(
    name: &'static str,
    label: &'static str,
    selected: &'static str,
    inherit: bool,
) -> impl IntoView {
    let levels = [
        ("0", "Your organisation only"),
        ("1", "This community only"),
        ("2", "Connected communities"),
        ("3", "All communities"),
        ("5", "Inherit event"),
    ];
    view! {
        <select name=name aria-label=label>
            {levels
                .into_iter()
                .filter(|(v, _)| inherit || *v != "5")
                .map(|(v, label)| view! { <option value=v selected=v == selected>{label}</option> })
                .collect_view()}
        </select>
    }
}

/// The index URL for `page` with the current filters.
fn page_href(query: &leptos_router::params::ParamsMap, page: u64) -> String {
    let mut parts = vec![format!("page={page}")];
    for key in ["tag", "org", "published"] {
        if let Some(v) = query.get(key).filter(|v| !v.is_empty()) {
            parts.push(format!("{key}={}", urlencode(&v)));
        }
    }
    format!("/events?{}", parts.join("&"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn EventTable(list: EventList, query: leptos_router::params::ParamsMap) -> impl IntoView {
    let EventList { rows, page, more } = list;
    if rows.is_empty() {
        return view! { <p class="empty">"No events match."</p> }.into_any();
    }
    let prev = (page > 1).then(|| page_href(&query, page - 1));
    let next = more.then(|| page_href(&query, page + 1));
    view! {
        <table class="grid" data-testid="event-table">
            <thead>
                <tr>
                    <th scope="col">"Id"</th>
                    <th scope="col">"Published"</th>
                    <th scope="col">"Creator org"</th>
                    <th scope="col">"Tags"</th>
                    <th scope="col">"Attributes"</th>
                    <th scope="col">"Date"</th>
                    <th scope="col">"Info"</th>
                    <th scope="col">"Distribution"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|e| view! {
                    <tr>
                        <td><a href=format!("/events/{}", e.id)>{e.id.clone()}</a></td>
                        <td>{if e.published { "yes" } else { "no" }}</td>
                        <td>{e.org}</td>
                        <td class="tags">{e.tags.into_iter().map(|tag| view! { <Tag tag /> }).collect_view()}</td>
                        <td>{e.attribute_count}</td>
                        <td>{e.date}</td>
                        <td><a href=format!("/events/{}", e.id)>{e.info}</a></td>
                        <td>{e.distribution}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
            <span class="muted">{format!("Page {page}")}</span>
            {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
        </nav>
    }
    .into_any()
}

/// The actions of the event page, shared by its parts.
#[derive(Clone, Copy)]
struct EventActions {
    add_attribute: ServerAction<AddAttribute>,
    edit_attribute: ServerAction<EditAttribute>,
    delete_attribute: ServerAction<DeleteAttribute>,
    attach: ServerAction<AttachTag>,
    detach: ServerAction<DetachTag>,
    publish: ServerAction<SetPublished>,
}

#[component]
pub fn EventPage() -> impl IntoView {
    let params = use_params_map();
    let actions = EventActions {
        add_attribute: ServerAction::new(),
        edit_attribute: ServerAction::new(),
        delete_attribute: ServerAction::new(),
        attach: ServerAction::new(),
        detach: ServerAction::new(),
        publish: ServerAction::new(),
    };
    let event = Resource::new(
        move || {
            (
                params.with(|p| p.get("id").unwrap_or_default()),
                actions.add_attribute.version().get(),
                actions.edit_attribute.version().get(),
                actions.delete_attribute.version().get(),
                actions.attach.version().get(),
                actions.detach.version().get(),
                actions.publish.version().get(),
            )
        },
        |(id, ..)| load_event(id),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(detail) => view! { <EventView detail actions /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventView(detail: EventDetail, actions: EventActions) -> impl IntoView {
    let EventDetail {
        id,
        uuid,
        info,
        date,
        org,
        orgc,
        published,
        publish_timestamp,
        timestamp,
        distribution,
        threat_level,
        analysis,
        tags,
        attributes,
        objects,
        reports,
        proposals,
        posts,
        can_edit,
        types,
        categories,
    } = detail;
    let title = format!("Event {id}: {info}");
    let (publish_id, attribute_event_id) = (id.clone(), id.clone());
    view! {
        <Title text=title />
        <section class="panel" data-testid="event-view">
            <p><a href="/events">"← Events"</a></p>
            <h1>{info.clone()}</h1>
            <table class="facts">
                <tbody>
                    <tr><th scope="row">"Id"</th><td>{id.clone()}</td></tr>
                    <tr><th scope="row">"UUID"</th><td><code>{uuid.clone()}</code></td></tr>
                    <tr><th scope="row">"Creator org"</th><td>{orgc}</td></tr>
                    <tr><th scope="row">"Owner org"</th><td>{org}</td></tr>
                    <tr><th scope="row">"Date"</th><td>{date}</td></tr>
                    <tr><th scope="row">"Threat level"</th><td>{threat_level}</td></tr>
                    <tr><th scope="row">"Analysis"</th><td>{analysis}</td></tr>
                    <tr><th scope="row">"Distribution"</th><td>{distribution}</td></tr>
                    <tr><th scope="row">"Last change"</th><td>{unix_time(timestamp)}</td></tr>
                    <tr>
                        <th scope="row">"Published"</th>
                        <td data-testid="published-state">
                            {if published { format!("yes, {}", unix_time(publish_timestamp)) } else { "no".to_owned() }}
                        </td>
                    </tr>
                </tbody>
            </table>
            {can_edit.then(|| view! {
                <ActionResult value=actions.publish.value() success="Publication state saved." />
                <ActionForm action=actions.publish attr:class="inline-form" attr:data-testid="publish-form">
                    <input type="hidden" name="event_id" value=publish_id />
                    <input type="hidden" name="publish" value=if published { "0" } else { "1" } />
                    <button type="submit" class=if published { "" } else { "primary" }>
                        {if published { "Unpublish" } else { "Publish" }}
                    </button>
                </ActionForm>
            })}
            <h2>"Tags"</h2>
            <TagList tags target=uuid can_edit actions />
        </section>
        <section class="panel" data-testid="attributes">
            <h2>"Attributes"</h2>
            <ActionResult value=actions.edit_attribute.value() success="Attribute saved." />
            <ActionResult value=actions.delete_attribute.value() success="Attribute deleted." />
            <AttributeTable attributes can_edit categories=categories.clone() actions />
            {can_edit.then(|| view! {
                <h3>"Add an attribute"</h3>
                <ActionResult value=actions.add_attribute.value() success="Attribute added." />
                <ActionForm action=actions.add_attribute attr:class="inline-form" attr:data-testid="add-attribute-form">
                    <input type="hidden" name="event_id" value=attribute_event_id />
                    <label>"Type"
                        <select name="attribute_type" required aria-label="Type">
                            {types.into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Category"
                        <select name="category" aria-label="Category">
                            <option value="">"(type's default)"</option>
                            {categories.iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Value" <input type="text" name="value" required /></label>
                    <label>"Comment" <input type="text" name="comment" /></label>
                    <label class="check"><input type="checkbox" name="to_ids" />"IDS"</label>
                    <button type="submit" class="primary">"Add attribute"</button>
                </ActionForm>
            })}
        </section>
        {(!objects.is_empty()).then(|| view! {
            <section class="panel" data-testid="objects">
                <h2>"Objects"</h2>
                {objects.into_iter().map(|o| view! { <ObjectBlock object=o /> }).collect_view()}
            </section>
        })}
        {(!reports.is_empty()).then(|| view! {
            <section class="panel" data-testid="reports">
                <h2>"Reports"</h2>
                {reports.into_iter().map(|r| view! {
                    <article class="report">
                        <h3>{r.name}</h3>
                        <pre class="report-body">{r.content}</pre>
                    </article>
                }).collect_view()}
            </section>
        })}
        {(!proposals.is_empty()).then(|| view! {
            <section class="panel" data-testid="proposals">
                <h2>"Proposals"</h2>
                <table class="grid">
                    <thead><tr>
                        <th scope="col">"For"</th><th scope="col">"Type"</th><th scope="col">"Category"</th>
                        <th scope="col">"Value"</th><th scope="col">"Comment"</th><th scope="col">"From"</th>
                    </tr></thead>
                    <tbody>
                        {proposals.into_iter().map(|p| view! {
                            <tr>
                                <td>{if p.attribute_id.is_empty() { "new attribute".to_owned() } else { format!("attribute {}", p.attribute_id) }}</td>
                                <td>{p.kind}</td><td>{p.category}</td><td><code>{p.value}</code></td>
                                <td>{p.comment}</td><td>{p.org}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })}
        <section class="panel" data-testid="discussion">
            <h2>"Discussion"</h2>
            {if posts.is_empty() {
                view! { <p class="empty">"No posts yet."</p> }.into_any()
            } else {
                posts.into_iter().map(|p| view! {
                    <article class="post">
                        <p class="muted">{p.author} " · " {p.date}</p>
                        <p class="post-body">{p.contents}</p>
                    </article>
                }).collect_view().into_any()
            }}
        </section>
    }
}

#[component]
fn TagList(
    tags: Vec<TagChip>,
    target: String,
    can_edit: bool,
    actions: EventActions,
) -> impl IntoView {
    let empty = tags.is_empty();
    let chips = tags
        .into_iter()
        .map(|tag| {
            let name = tag.name.clone();
            let target = target.clone();
            view! {
                <span class="tag-item">
                    <Tag tag />
                    {can_edit.then(|| view! {
                        <ActionForm action=actions.detach attr:class="tag-remove">
                            <input type="hidden" name="uuid" value=target />
                            <input type="hidden" name="tag" value=name.clone() />
                            <button type="submit" class="link" aria-label=format!("Remove tag {name}")>"×"</button>
                        </ActionForm>
                    })}
                </span>
            }
        })
        .collect_view();
    view! {
        <div class="tags" data-testid="tag-list">
            {chips}
            {empty.then(|| view! { <span class="empty">"No tags."</span> })}
        </div>
        {can_edit.then(|| view! {
            <ActionResult value=actions.detach.value() success="Tag removed." />
            <ActionResult value=actions.attach.value() success="Tag attached." />
            <ActionForm action=actions.attach attr:class="inline-form tag-form">
                <input type="hidden" name="uuid" value=target.clone() />
                <label>"Tag" <input type="text" name="tag" required placeholder="tlp:green" /></label>
                <label class="check"><input type="checkbox" name="local" />"Local"</label>
                <button type="submit">"Attach tag"</button>
            </ActionForm>
        })}
    }
}

#[component]
fn AttributeTable(
    attributes: Vec<AttributeRow>,
    can_edit: bool,
    categories: Vec<String>,
    actions: EventActions,
) -> impl IntoView {
    if attributes.is_empty() {
        return view! { <p class="empty">"No attributes."</p> }.into_any();
    }
    view! {
        <table class="grid" data-testid="attribute-table">
            <thead>
                <tr>
                    <th scope="col">"Category"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col">"Value"</th>
                    <th scope="col">"Tags"</th>
                    <th scope="col">"Comment"</th>
                    <th scope="col">"IDS"</th>
                    <th scope="col">"Distribution"</th>
                    {can_edit.then(|| view! { <th scope="col"><span class="sr-only">"Actions"</span></th> })}
                </tr>
            </thead>
            <tbody>
                {attributes.into_iter().map(|a| {
                    let categories = categories.clone();
                    let testid = format!("attribute-{}", a.value);
                    view! {
                        <tr data-testid=testid>
                            <td>{a.category.clone()}</td>
                            <td>{a.kind.clone()}</td>
                            <td><code>{a.value.clone()}</code></td>
                            <td class="tags">
                                {a.tags.iter().cloned().map(|tag| view! { <Tag tag /> }).collect_view()}
                            </td>
                            <td>{a.comment.clone()}</td>
                            <td>{if a.to_ids { "yes" } else { "no" }}</td>
                            <td>{a.distribution.clone()}</td>
                            {can_edit.then(|| view! { <td><AttributeActions attribute=a categories actions /></td> })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn AttributeActions(
    attribute: AttributeRow,
    categories: Vec<String>,
    actions: EventActions,
) -> impl IntoView {
    let a = attribute;
    let (edit_id, delete_id, uuid) = (a.id.clone(), a.id.clone(), a.uuid.clone());
    let removals = a
        .tags
        .iter()
        .map(|t| {
            let name = t.name.clone();
            let uuid = uuid.clone();
            view! {
                <ActionForm action=actions.detach attr:class="inline-form">
                    <input type="hidden" name="uuid" value=uuid />
                    <input type="hidden" name="tag" value=name.clone() />
                    <button type="submit" class="link">{format!("Remove {name}")}</button>
                </ActionForm>
            }
        })
        .collect_view();
    view! {
        <details>
            <summary>"Edit"</summary>
            <ActionForm action=actions.edit_attribute attr:class="stack">
                <input type="hidden" name="attribute_id" value=edit_id />
                <label>"Category"
                    <select name="category" aria-label="Category">
                        {categories.into_iter().map(|c| {
                            let selected = c == a.category;
                            view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Value" <input type="text" name="value" value=a.value.clone() required /></label>
                <label>"Comment" <input type="text" name="comment" value=a.comment.clone() /></label>
                <label class="check"><input type="checkbox" name="to_ids" checked=a.to_ids />"IDS"</label>
                <button type="submit" class="primary">"Save"</button>
            </ActionForm>
            <ActionForm action=actions.attach attr:class="stack">
                <input type="hidden" name="uuid" value=uuid.clone() />
                <label>"Tag" <input type="text" name="tag" required /></label>
                <label class="check"><input type="checkbox" name="local" />"Local"</label>
                <button type="submit">"Attach tag"</button>
            </ActionForm>
            {removals}
            <ActionForm action=actions.delete_attribute>
                <input type="hidden" name="attribute_id" value=delete_id />
                <button type="submit" class="danger">"Delete"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn ObjectBlock(object: ObjectView) -> impl IntoView {
    view! {
        <article class="object">
            <h3>{object.name} <span class="muted">{format!(" · {} · object {}", object.meta_category, object.id)}</span></h3>
            <table class="grid">
                <thead><tr>
                    <th scope="col">"Category"</th><th scope="col">"Type"</th>
                    <th scope="col">"Value"</th><th scope="col">"Tags"</th><th scope="col">"IDS"</th>
                </tr></thead>
                <tbody>
                    {object.attributes.into_iter().map(|a| view! {
                        <tr>
                            <td>{a.category}</td><td>{a.kind}</td><td><code>{a.value}</code></td>
                            <td class="tags">{a.tags.into_iter().map(|tag| view! { <Tag tag /> }).collect_view()}</td>
                            <td>{if a.to_ids { "yes" } else { "no" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_text_stays_readable() {
        assert_eq!(text_colour("#ffffff"), "#000000");
        assert_eq!(text_colour("#CC0033"), "#ffffff");
        assert_eq!(text_colour(""), "#ffffff");
    }

    #[test]
    fn filter_values_are_encoded_in_page_links() {
        assert_eq!(
            urlencode("misp-galaxy:x=\"a b\""),
            "misp-galaxy%3Ax%3D%22a%20b%22"
        );
    }
}
