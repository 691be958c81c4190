//! Plain data shared by the pages and the server: what server functions send to the browser.
//!
//! Nothing here carries a secret; password and key hashes stay in `backend`.
use serde::{Deserialize, Serialize};

/// The logged-in user as the page shell needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i32,
    pub email: String,
    pub org_id: i32,
    pub org_name: String,
    pub role_name: String,
    pub site_admin: bool,
}

/// A row of the Administration page's user list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i32,
    pub email: String,
    pub org_id: i32,
    pub org_name: String,
    pub role_id: i32,
    pub role_name: String,
    pub disabled: bool,
    /// Unix seconds; 0 = never.
    pub last_login: i64,
    pub date_created: i64,
}

/// A row of the Administration page's organisation list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRow {
    pub id: i32,
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub local: bool,
    pub user_count: u64,
}

/// A role a user can be given (MISP's default roles).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    pub id: i32,
    pub name: String,
    pub site_admin: bool,
}

/// An API key as listed: never the key itself, only its first and last four characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthKeyRow {
    pub id: i32,
    pub uuid: String,
    pub authkey_start: String,
    pub authkey_end: String,
    pub comment: String,
    pub read_only: bool,
    pub created: i64,
    /// Unix seconds; 0 = never expires.
    pub expiration: i64,
    /// Unix seconds; 0 = never used.
    pub last_used: i64,
}

/// A key just created: the only moment its full value is known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuthKey {
    pub row: AuthKeyRow,
    pub authkey: String,
}

/// Everything the Administration page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    pub users: Vec<UserRow>,
    pub orgs: Vec<OrgRow>,
    pub roles: Vec<RoleRow>,
}
