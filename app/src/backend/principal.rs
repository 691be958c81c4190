//! Who is making a request: the user with their role and organisation, loaded once per request.
use super::entities::{organisation, role, user};

#[derive(Clone, Debug)]
pub struct Principal {
    pub user: user::Model,
    pub role: role::Model,
    pub org: organisation::Model,
    /// True when authenticated by a read-only API key.
    pub read_only: bool,
}

impl Principal {
    pub fn is_site_admin(&self) -> bool {
        self.role.perm_site_admin
    }

    pub fn current_user(&self) -> crate::model::CurrentUser {
        crate::model::CurrentUser {
            id: self.user.id,
            email: self.user.email.clone(),
            org_id: self.org.id,
            org_name: self.org.name.clone(),
            role_name: self.role.name.clone(),
            site_admin: self.is_site_admin(),
        }
    }
}
