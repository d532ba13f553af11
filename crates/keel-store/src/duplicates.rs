//! Duplicate candidates by blocking keys. For one record, each block is one indexed
//! self-join probe (`b.key = a.key`, partial indexes from migration 0014), capped per
//! block, so a record's candidates cost a few index lookups however large the table is.
//! Scoring the candidates is the domain's (`keel_domain::duplicates`).

use keel_domain::FieldType;
use keel_domain::schema::EntityDef;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, JoinType, Query};
use uuid::Uuid;

use crate::db::{Backend, Tx};
use crate::error::{Result, StoreError};

/// Most candidates one block returns for one record.
const PER_BLOCK: u64 = 50;

/// Characters dropped from company names, then those turned into spaces, then the legal
/// forms removed. Fewer than the domain's normaliser knows: each is one nested `replace()`,
/// and SQLite's parser (3.40, as Debian's `sqlite3` shell has it) overflows past about 26
/// levels, which would make the schema unreadable there. The prefix block catches the rest.
const DROPPED: [&str; 2] = [".", "''"];
const SPACED: [&str; 6] = [",", "-", "&", "(", ")", "/"];
const LEGAL_FORMS: [&str; 10] =
    ["inc", "incorporated", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "company"];

/// The SQL of the company name key for column `c` (see migration 0014; the index and the
/// query must spell it the same). The domain's `normalize_company_name` is the precise
/// version used for scoring; this one only has to put likely duplicates in one block.
pub fn name_key_sql(c: &str) -> String {
    let mut x = format!("' ' || lower({c}) || ' '");
    for p in DROPPED {
        x = format!("replace({x}, '{p}', '')");
    }
    for p in SPACED {
        x = format!("replace({x}, '{p}', ' ')");
    }
    for t in LEGAL_FORMS {
        x = format!("replace({x}, ' {t} ', ' ')");
    }
    format!("replace({x}, ' ', '')")
}

/// The SQL of the domain key for column `c`: the domain without a leading `www.`.
pub fn domain_key_sql(c: &str) -> String {
    format!("CASE WHEN {c} LIKE 'www.%' THEN substr({c}, 5) ELSE {c} END")
}

/// The join conditions (between rows `a` and `b`) that put two records in one block.
fn blocks(entity: &str) -> Vec<String> {
    match entity {
        "contacts" => vec![
            "b.company_id = a.company_id AND lower(b.last_name) = lower(a.last_name)".into(),
            "b.company_id = a.company_id AND lower(b.first_name) = lower(a.first_name)".into(),
            "b.phone = a.phone".into(),
            "b.phone = a.mobile".into(),
            "b.mobile = a.mobile".into(),
            "b.mobile = a.phone".into(),
        ],
        "companies" => vec![
            format!("{} = {}", domain_key_sql("b.domain"), domain_key_sql("a.domain")),
            format!("{} = {}", name_key_sql("b.name"), name_key_sql("a.name")),
            format!("substr({}, 1, 5) = substr({}, 1, 5)", name_key_sql("b.name"), name_key_sql("a.name")),
        ],
        _ => Vec::new(),
    }
}

/// Ids of live records sharing a blocking key with record `id` (not `id` itself). With
/// `after_only`, only ids greater than `id`, so walking records in id order yields each
/// pair once.
pub async fn candidates(tx: &mut Tx, entity: &EntityDef, id: Uuid, after_only: bool) -> Result<Vec<Uuid>> {
    let t = Alias::new(entity.name.as_str());
    let (a, b) = (Alias::new("a"), Alias::new("b"));
    let id_value = tx.encode(FieldType::Id, &Value::Uuid(id));
    let mut out: Vec<Uuid> = Vec::new();
    for on in blocks(&entity.name) {
        let mut q = Query::select();
        q.column((b.clone(), Alias::new("id")))
            .from_as(t.clone(), a.clone())
            .join_as(JoinType::InnerJoin, t.clone(), b.clone(), Expr::cust(on))
            .and_where(Expr::col((a.clone(), Alias::new("id"))).eq(id_value.clone()))
            .and_where(Expr::col((b.clone(), Alias::new("deleted_at"))).is_null())
            .limit(PER_BLOCK);
        // On SQLite `+b.id` keeps the id out of index selection: without statistics the
        // planner would otherwise walk (company_id, id) past every contact of the company
        // instead of probing the blocking key's index.
        let b_id = match tx.backend() {
            Backend::Sqlite => Expr::expr(Expr::cust("+\"b\".\"id\"")),
            Backend::Postgres => Expr::col((b.clone(), Alias::new("id"))),
        };
        if after_only {
            q.and_where(b_id.gt(id_value.clone()));
        } else {
            q.and_where(b_id.ne(id_value.clone()));
        }
        for row in tx.fetch_all(&q).await? {
            let cid = row.uuid("id")?.ok_or_else(|| StoreError::Corrupt(format!("{} row without id", entity.name)))?;
            if !out.contains(&cid) {
                out.push(cid);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migration_indexes_the_keys_the_queries_use() {
        for sql in [
            include_str!("../migrations/sqlite/0014_merges.sql"),
            include_str!("../migrations/postgres/0014_merges.sql"),
        ] {
            assert!(sql.contains(&format!("(({}))", name_key_sql("name"))));
            assert!(sql.contains(&format!("((substr({}, 1, 5)))", name_key_sql("name"))));
            assert!(sql.contains(&format!("(({}))", domain_key_sql("domain"))));
        }
    }
}
