//! Where a change-log reader has got to. Advanced in the same transaction as the work it
//! derived from the entries it read, so each entry is handled exactly once.

use sea_query::{Expr, OnConflict, Query};

use super::{a, values_err};
use crate::db::Tx;
use crate::error::Result;

/// The last change-log seq `name` has handled (0 when it never ran).
pub async fn get(tx: &mut Tx, name: &str) -> Result<i64> {
    let mut q = Query::select();
    q.from(a("automation_cursors")).column(a("seq")).and_where(Expr::col(a("name")).eq(name));
    if tx.backend() == crate::db::Backend::Postgres {
        // Another process dispatching at the same moment waits here instead of reading
        // the same entries (its duplicate jobs would be refused anyway).
        q.lock(sea_query::LockType::Update);
    }
    match tx.fetch_optional(&q).await? {
        Some(r) => r.i64("seq"),
        None => Ok(0),
    }
}

/// The cursor's value, None when it was never set.
pub async fn find(tx: &mut Tx, name: &str) -> Result<Option<i64>> {
    let mut q = Query::select();
    q.from(a("automation_cursors")).column(a("seq")).and_where(Expr::col(a("name")).eq(name));
    match tx.fetch_optional(&q).await? {
        Some(r) => Ok(Some(r.i64("seq")?)),
        None => Ok(None),
    }
}

pub async fn set(tx: &mut Tx, name: &str, seq: i64) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("automation_cursors"))
        .columns(["name", "seq"].map(a))
        .values(vec![name.into(), seq.into()])
        .map_err(values_err)?
        .on_conflict(OnConflict::column(a("name")).update_column(a("seq")).to_owned());
    tx.execute(&q).await?;
    Ok(())
}
