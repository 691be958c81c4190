//! Who is making a request: the user with their role and organisation, loaded once per request.
use super::entities::{organisation, role, user};

#[derive(Clone, Debug)]
pub struct Principal {
    pub user: user::Model,
    pub role: role::Model,
    pub org: organisation::Model,
    /// True when authenticated by a read-only API key.
    pub read_only: bool,
    /// The sharing groups the organisation belongs to or created (what distribution 4 shows).
    pub sharing_groups: Vec<i32>,
    /// How many workflow runs led to this request: 0 for a person or API client, n + 1 for a
    /// module acting inside a run at depth n (the loop guard, issue: triggers).
    pub chain_depth: u8,
}

impl Principal {
    pub fn is_site_admin(&self) -> bool {
        self.role.perm_site_admin
    }

    /// Whether the organisation may see what is shared with sharing group `id`.
    pub fn in_sharing_group(&self, id: i32) -> bool {
        self.is_site_admin() || self.sharing_groups.contains(&id)
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

impl Principal {
    /// MISP's 403 unless this is a site admin.
    pub fn require_site_admin(&self) -> Result<(), crate::error::AppError> {
        if self.is_site_admin() {
            Ok(())
        } else {
            Err(crate::error::AppError::Forbidden(
                "You do not have permission to use this functionality.".into(),
            ))
        }
    }

    /// A site admin whose credentials may change things (not a read-only API key).
    pub fn require_site_admin_writer(&self) -> Result<(), crate::error::AppError> {
        self.require_site_admin()?;
        if self.read_only {
            return Err(crate::error::AppError::Forbidden(
                "This API key is read only.".into(),
            ));
        }
        Ok(())
    }
}
