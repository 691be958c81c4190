use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: i32,
    pub role_id: i32,
    pub email: String,
    pub password: String,
    pub disabled: bool,
    pub change_pw: bool,
    pub termsaccepted: bool,
    pub autoalert: bool,
    pub contactalert: bool,
    pub invited_by: i32,
    pub gpgkey: String,
    pub nids_sid: i32,
    pub expiration: Option<i64>,
    pub current_login: i64,
    pub last_login: i64,
    pub last_api_access: i64,
    pub last_pw_change: i64,
    pub force_logout: bool,
    pub date_created: i64,
    pub date_modified: i64,
}

// Written by hand so that the password hash never reaches a log line.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("org_id", &self.org_id)
            .field("role_id", &self.role_id)
            .field("disabled", &self.disabled)
            .field("password", &"[redacted]")
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
