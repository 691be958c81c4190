use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::backend::entities::{organisation, user};
use crate::model::OrgRow;

pub async fn find_org(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<organisation::Model>, DbErr> {
    organisation::Entity::find_by_id(id).one(db).await
}

pub async fn find_org_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<organisation::Model>, DbErr> {
    organisation::Entity::find()
        .filter(organisation::Column::Name.eq(name))
        .one(db)
        .await
}

pub async fn count_orgs(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    organisation::Entity::find().count(db).await
}

/// All organisations by name, each with its number of users (two queries, no N+1).
pub async fn list_orgs(db: &impl ConnectionTrait) -> Result<Vec<OrgRow>, DbErr> {
    let orgs = organisation::Entity::find()
        .order_by_asc(organisation::Column::Name)
        .all(db)
        .await?;
    let counts: HashMap<i32, i64> = user::Entity::find()
        .select_only()
        .column(user::Column::OrgId)
        .column_as(user::Column::Id.count(), "n")
        .group_by(user::Column::OrgId)
        .into_tuple::<(i32, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(orgs
        .into_iter()
        .map(|o| OrgRow {
            user_count: counts.get(&o.id).copied().unwrap_or(0).max(0) as u64,
            id: o.id,
            uuid: o.uuid,
            name: o.name,
            description: o.description,
            local: o.local,
        })
        .collect())
}

/// What a new organisation needs; the rest takes MISP's defaults.
pub struct NewOrg<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub local: bool,
    pub created_by: i32,
}

pub async fn insert_org(
    db: &impl ConnectionTrait,
    new: NewOrg<'_>,
) -> Result<organisation::Model, DbErr> {
    let now = crate::backend::now();
    organisation::ActiveModel {
        uuid: Set(uuid::Uuid::new_v4().to_string()),
        name: Set(new.name.to_owned()),
        description: Set(new.description.to_owned()),
        r#type: Set(String::new()),
        nationality: Set(String::new()),
        sector: Set(String::new()),
        contacts: Set(String::new()),
        local: Set(new.local),
        created_by: Set(new.created_by),
        date_created: Set(now),
        date_modified: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}
