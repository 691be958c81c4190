use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use crate::backend::entities::login_attempt;

/// Counts one attempt for `key` in one atomic statement and returns the attempts in the current
/// window, this one included. A window older than `window_start_min` starts over at 1.
///
/// Counting happens before the password is checked, so parallel attempts cannot all slip
/// through between a check and a separate update.
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    key: &str,
    now: i64,
    window_start_min: i64,
) -> Result<i32, DbErr> {
    // In ON CONFLICT DO UPDATE, table-qualified columns are the row already stored.
    let stored = |col: login_attempt::Column| Expr::col((login_attempt::Entity, col));
    let in_window = stored(login_attempt::Column::WindowStart).gt(window_start_min);
    let table = login_attempt::Entity;
    let insert = Query::insert()
        .into_table(table)
        .columns([
            login_attempt::Column::Key,
            login_attempt::Column::Failures,
            login_attempt::Column::WindowStart,
        ])
        .values_panic([key.into(), 1.into(), now.into()])
        .on_conflict(
            OnConflict::column(login_attempt::Column::Key)
                .value(
                    login_attempt::Column::Failures,
                    Expr::case(
                        in_window.clone(),
                        stored(login_attempt::Column::Failures).add(1),
                    )
                    .finally(1),
                )
                .value(
                    login_attempt::Column::WindowStart,
                    Expr::case(in_window, stored(login_attempt::Column::WindowStart)).finally(now),
                )
                .to_owned(),
        )
        .returning_col(login_attempt::Column::Failures)
        .to_owned();
    let row = db
        .query_one(&insert)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("login attempt".into()))?;
    row.try_get::<i32>("", "failures")
}

/// Forgets the attempts of `key` (after a successful login).
pub async fn delete_attempts(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    login_attempt::Entity::delete_by_id(key.to_owned())
        .exec(db)
        .await?;
    Ok(())
}
