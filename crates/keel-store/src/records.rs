//! Generic record storage driven by entity metadata: one implementation of insert,
//! update, get, list (filters, search, keyset pagination, counts), trash and purge for
//! every entity, built-in or custom.

use keel_domain::policy::{Restriction, RowScope};
use keel_domain::query::{Cursor, Filter, ListQuery, Op, Operand, encode_cursor};
use keel_domain::schema::{EntityDef, FieldType};
use keel_domain::value::{Record, Value};
use sea_query::{
    Alias, Asterisk, BinOper, CaseStatement, Cond, Condition, Expr, Func, LikeExpr, NullOrdering, Order, Query,
    SelectStatement, SimpleExpr, WindowStatement,
};
use uuid::Uuid;

use crate::db::{Backend, Built, Row, Tx};
use crate::error::{Result, StoreError};
use crate::search;

fn col(name: &str) -> Alias {
    Alias::new(name)
}

fn table(entity: &EntityDef) -> Alias {
    Alias::new(entity.name.as_str())
}

fn decode(entity: &EntityDef, row: &Row) -> Result<Record> {
    let mut r = Record::new();
    for f in &entity.fields {
        r.set(f.name.clone(), row.value(&f.name, f.ty)?);
    }
    Ok(r)
}

fn select_all(entity: &EntityDef) -> SelectStatement {
    let mut q = Query::select();
    q.from(table(entity)).columns(entity.fields.iter().map(|f| col(&f.name)));
    q
}

fn id_value(tx: &Tx, id: Uuid) -> sea_query::Value {
    tx.encode(FieldType::Id, &Value::Uuid(id))
}

pub async fn insert(tx: &mut Tx, entity: &EntityDef, record: &Record) -> Result<()> {
    insert_many(tx, entity, std::slice::from_ref(record)).await
}

/// Multi-row insert (the bulk loader sends a few hundred rows per statement).
pub async fn insert_many<R: std::borrow::Borrow<Record>>(tx: &mut Tx, entity: &EntityDef, records: &[R]) -> Result<()> {
    if let Some(stmt) = insert_many_statement(tx.backend(), entity, records)? {
        tx.run(stmt).await?;
    }
    Ok(())
}

/// `insert_many`'s statement, built ahead (None for no records).
pub fn insert_many_statement<R: std::borrow::Borrow<Record>>(
    backend: Backend,
    entity: &EntityDef,
    records: &[R],
) -> Result<Option<Built>> {
    if records.is_empty() {
        return Ok(None);
    }
    let mut q = Query::insert();
    q.into_table(table(entity)).columns(entity.fields.iter().map(|f| col(&f.name)));
    for r in records {
        let r: &Record = r.borrow();
        let values: Vec<SimpleExpr> =
            entity.fields.iter().map(|f| crate::db::encode(backend, f.ty, r.get(&f.name)).into()).collect();
        q.values(values).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    Ok(Some(crate::db::build(backend, &q)))
}

/// Refresh the planner's statistics for `entity`'s table (PostgreSQL's ANALYZE; SQLite
/// plans from its indexes alone, so nothing to do there). A bulk write that grows a table
/// many times over calls it as it goes: PostgreSQL otherwise keeps planning the batch's
/// lookups for the table's old size (a scan of a partial index that once held a few rows
/// instead of the unique index), until autovacuum, if it runs at all, catches up. ANALYZE
/// samples a fixed number of rows and blocks no reader or writer.
pub async fn refresh_statistics(tx: &mut Tx, entity: &EntityDef) -> Result<()> {
    if tx.backend() == Backend::Postgres {
        let name = &entity.name;
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(StoreError::Corrupt(format!("`{name}` is not a table name")));
        }
        tx.execute_sql(&format!("ANALYZE \"{name}\"")).await?;
    }
    Ok(())
}

/// Write `changes` to record `id` if its version is still `expected_version`.
/// Returns false when the version moved on (or the row is gone).
pub async fn update(
    tx: &mut Tx,
    entity: &EntityDef,
    id: Uuid,
    expected_version: i64,
    changes: &[(String, Value)],
) -> Result<bool> {
    if changes.is_empty() {
        return Ok(true);
    }
    let mut values = Vec::with_capacity(changes.len());
    for (name, v) in changes {
        let f = entity.field(name).ok_or_else(|| StoreError::Corrupt(format!("unknown field {name}")))?;
        values.push((col(name), SimpleExpr::from(tx.encode(f.ty, v))));
    }
    let mut q = Query::update();
    q.table(table(entity))
        .values(values)
        .and_where(Expr::col(col("id")).eq(id_value(tx, id)))
        .and_where(Expr::col(col("version")).eq(expected_version));
    Ok(tx.execute(&q).await? == 1)
}

/// The record with this id, trashed or not; `None` if absent or outside `scope`.
pub async fn get(tx: &mut Tx, entity: &EntityDef, id: Uuid, scope: &RowScope) -> Result<Option<Record>> {
    let mut q = select_all(entity);
    q.and_where(Expr::col(col("id")).eq(id_value(tx, id)));
    q.cond_where(scope_condition(tx, entity, scope, Reach::Page));
    match tx.fetch_optional(&q).await? {
        Some(row) => Ok(Some(decode(entity, &row)?)),
        None => Ok(None),
    }
}

/// Remove a row for good.
pub async fn purge(tx: &mut Tx, entity: &EntityDef, id: Uuid) -> Result<bool> {
    let mut q = Query::delete();
    q.from_table(table(entity)).and_where(Expr::col(col("id")).eq(id_value(tx, id)));
    Ok(tx.execute(&q).await? == 1)
}

/// Id of a live record whose `field` equals `value` case-insensitively, other than `except`.
pub async fn find_duplicate(
    tx: &mut Tx,
    entity: &EntityDef,
    field: &str,
    value: &str,
    except: Option<Uuid>,
) -> Result<Option<Uuid>> {
    // lower() = lower() uses the unique expression index; SQLite's lower() folds ASCII
    // only, so non-ASCII values are compared with a case-folding GLOB instead.
    let same = if tx.backend() == Backend::Sqlite && !value.is_ascii() {
        Expr::col(col(field)).binary(BinOper::Custom("GLOB"), glob_case_insensitive(value))
    } else {
        Expr::expr(Func::lower(Expr::col(col(field)))).eq(Func::lower(Expr::val(value.to_string())))
    };
    let mut q = Query::select();
    // `field IS NOT NULL` adds nothing to the match but lets SQLite use the partial unique
    // index (`… WHERE deleted_at IS NULL AND email IS NOT NULL`): it cannot infer it from
    // `lower(email) = …`, and without it every check scanned the whole table.
    q.from(table(entity))
        .column(col("id"))
        .and_where(same)
        .and_where(Expr::col(col(field)).is_not_null())
        .and_where(Expr::col(col("deleted_at")).is_null())
        .limit(1);
    if let Some(id) = except {
        q.and_where(Expr::col(col("id")).ne(id_value(tx, id)));
    }
    match tx.fetch_optional(&q).await? {
        Some(row) => row.uuid("id"),
        None => Ok(None),
    }
}

/// Most values one `IN (…)` list carries: well under SQLite's and PostgreSQL's
/// bind-parameter limits, and a handful of statements for an import batch.
const IN_CHUNK: usize = 500;

/// Live records within `scope` whose `field` equals one of `values` case-insensitively
/// (CSV imports match keys and company names this way, a batch at a time).
pub async fn live_matching(
    tx: &mut Tx,
    entity: &EntityDef,
    field: &str,
    values: &[String],
    scope: &RowScope,
) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    // SQLite's lower() folds ASCII only: other values each get the case-folding GLOB
    // `find_duplicate` uses. PostgreSQL's lower() folds all of them.
    let (folded, globbed): (Vec<&String>, Vec<&String>) =
        values.iter().partition(|v| v.is_ascii() || tx.backend() == Backend::Postgres);
    for chunk in folded.chunks(IN_CHUNK) {
        let lowered: Vec<String> = chunk.iter().map(|v| v.to_lowercase()).collect();
        let mut q = select_all(entity);
        // `IS NOT NULL`: see `find_duplicate` (it makes the partial unique index usable).
        q.and_where(Expr::expr(Func::lower(Expr::col(col(field)))).is_in(lowered))
            .and_where(Expr::col(col(field)).is_not_null())
            .and_where(Expr::col(col("deleted_at")).is_null())
            .cond_where(scope_condition(tx, entity, scope, Reach::Full));
        for row in tx.fetch_all(&q).await? {
            out.push(decode(entity, &row)?);
        }
    }
    for value in globbed {
        let mut q = select_all(entity);
        q.and_where(Expr::col(col(field)).binary(BinOper::Custom("GLOB"), glob_case_insensitive(value)))
            .and_where(Expr::col(col(field)).is_not_null())
            .and_where(Expr::col(col("deleted_at")).is_null())
            .cond_where(scope_condition(tx, entity, scope, Reach::Full));
        for row in tx.fetch_all(&q).await? {
            out.push(decode(entity, &row)?);
        }
    }
    Ok(out)
}

/// Live records within `scope` among `ids`.
pub async fn live_by_ids(tx: &mut Tx, entity: &EntityDef, ids: &[Uuid], scope: &RowScope) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let values: Vec<sea_query::Value> = chunk.iter().map(|id| id_value(tx, *id)).collect();
        let mut q = select_all(entity);
        q.and_where(Expr::col(col("id")).is_in(values))
            .and_where(Expr::col(col("deleted_at")).is_null())
            .cond_where(scope_condition(tx, entity, scope, Reach::Full));
        for row in tx.fetch_all(&q).await? {
            out.push(decode(entity, &row)?);
        }
    }
    Ok(out)
}

/// Records among `ids`, trashed or not, whatever their owner: for system readers of the
/// change log (webhook payloads), which carry the policy of their own surface.
pub async fn by_ids(tx: &mut Tx, entity: &EntityDef, ids: &[Uuid]) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let values: Vec<sea_query::Value> = chunk.iter().map(|id| id_value(tx, *id)).collect();
        let mut q = select_all(entity);
        q.and_where(Expr::col(col("id")).is_in(values));
        for row in tx.fetch_all(&q).await? {
            out.push(decode(entity, &row)?);
        }
    }
    Ok(out)
}

/// Records within `scope` among `ids`, trashed or not (what `get` returns, for many ids
/// in one statement per `IN_CHUNK` ids). The scope is checked per row (`Reach::Page`):
/// a handful of ids should not list every visible parent.
pub async fn scoped_by_ids(tx: &mut Tx, entity: &EntityDef, ids: &[Uuid], scope: &RowScope) -> Result<Vec<Record>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        let values: Vec<sea_query::Value> = chunk.iter().map(|id| id_value(tx, *id)).collect();
        let mut q = select_all(entity);
        q.and_where(Expr::col(col("id")).is_in(values)).cond_where(scope_condition(tx, entity, scope, Reach::Page));
        for row in tx.fetch_all(&q).await? {
            out.push(decode(entity, &row)?);
        }
    }
    Ok(out)
}

/// The first `query.limit` records (in the query's sort order) that reference each of
/// `parents` through `field`, all parents in one statement per `IN_CHUNK` parents: a
/// window function (`ROW_NUMBER() OVER (PARTITION BY field …)`) cuts each parent's
/// list, so nested lists (GraphQL's `company { contacts }`) cost one query per level,
/// not one per parent. Filters, search, trash and scope are the list's; the cursor is
/// ignored. Rows come back grouped by parent, each group in sort order.
pub async fn list_by_parents(
    tx: &mut Tx,
    entity: &EntityDef,
    field: &str,
    parents: &[Uuid],
    query: &ListQuery,
    scope: &RowScope,
    extra: &[Filter],
) -> Result<Vec<Record>> {
    if entity.field(field).is_none_or(|f| f.ty != FieldType::Reference) {
        return Err(StoreError::Corrupt(format!("{}.{field} is not a reference", entity.name)));
    }
    let mut out = Vec::new();
    let Some(cond) = where_clause(tx, entity, query, scope, extra, Reach::Page)? else {
        return Ok(out);
    };
    let order = if query.sort.desc { Order::Desc } else { Order::Asc };
    for chunk in parents.chunks(IN_CHUNK) {
        let values: Vec<sea_query::Value> = chunk.iter().map(|id| id_value(tx, *id)).collect();
        let mut window = WindowStatement::partition_by(col(field));
        if query.sort.field != "id" {
            window.order_by_with_nulls(col(&query.sort.field), order.clone(), NullOrdering::Last);
        }
        window.order_by(col("id"), order.clone());
        let mut inner = select_all(entity);
        inner
            .expr_window_as(Func::cust(col("ROW_NUMBER")), window, col("keel_rn"))
            .cond_where(cond.clone())
            .and_where(Expr::col(col(field)).is_in(values));
        let mut q = Query::select();
        q.columns(entity.fields.iter().map(|f| col(&f.name)))
            .from_subquery(inner, col("ranked"))
            .and_where(Expr::col(col("keel_rn")).lte(i64::from(query.limit)))
            .order_by(col(field), Order::Asc)
            .order_by(col("keel_rn"), Order::Asc);
        for row in tx.fetch_all(&q).await? {
            out.push(decode(entity, &row)?);
        }
    }
    Ok(out)
}

/// Live rows of `entity` within `scope`, for a query that joins `entity`'s table by its
/// own name (the assistant's semantic retrieval walks its vectors joined to the rows the
/// asking user may see). Each row checks its parents with a correlated lookup, as a page does.
pub fn visible_condition(tx: &Tx, entity: &EntityDef, scope: &RowScope) -> Condition {
    Cond::all().add(Expr::col((table(entity), col("deleted_at"))).is_null()).add(scope_condition(
        tx,
        entity,
        scope,
        Reach::Page,
    ))
}

/// Does a live (not trashed) record with this id exist?
pub async fn exists_live(tx: &mut Tx, entity: &EntityDef, id: Uuid) -> Result<bool> {
    let mut q = Query::select();
    q.from(table(entity))
        .column(col("id"))
        .and_where(Expr::col(col("id")).eq(id_value(tx, id)))
        .and_where(Expr::col(col("deleted_at")).is_null());
    Ok(tx.fetch_optional(&q).await?.is_some())
}

/// Ids of records whose reference `field` points at `target` (live ones only if `live`).
pub async fn referencing_ids(
    tx: &mut Tx,
    entity: &EntityDef,
    field: &str,
    target: Uuid,
    live: bool,
) -> Result<Vec<Uuid>> {
    let mut q = Query::select();
    q.from(table(entity)).column(col("id")).and_where(Expr::col(col(field)).eq(id_value(tx, target)));
    if live {
        q.and_where(Expr::col(col("deleted_at")).is_null());
    }
    let rows = tx.fetch_all(&q).await?;
    let mut ids = Vec::with_capacity(rows.len());
    for r in &rows {
        ids.push(r.uuid("id")?.ok_or_else(|| StoreError::Corrupt(format!("{} row without id", entity.name)))?);
    }
    Ok(ids)
}

/// Records whose reference `field` points at `target`, whole (for the change log).
pub async fn referencing(tx: &mut Tx, entity: &EntityDef, field: &str, target: Uuid) -> Result<Vec<Record>> {
    let mut q = select_all(entity);
    q.and_where(Expr::col(col(field)).eq(id_value(tx, target)));
    let rows = tx.fetch_all(&q).await?;
    rows.iter().map(|r| decode(entity, r)).collect()
}

/// Total number of live rows in an entity's table (used by first-run checks).
pub async fn count_all(tx: &mut Tx, entity: &EntityDef) -> Result<i64> {
    let mut q = Query::select();
    q.from(table(entity)).expr_as(Func::count(Expr::col(Asterisk)), col("n"));
    let row = tx.fetch_optional(&q).await?;
    row.map_or(Ok(0), |r| r.i64("n"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub records: Vec<Record>,
    pub next_cursor: Option<String>,
    pub total: Option<i64>,
}

/// How a scope's parent terms are written. A page stops after a few rows, so each row
/// checks its parent with a correlated EXISTS (an index lookup); a count or a sum visits
/// every row, so the visible parents are listed once (`IN (SELECT …)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Page,
    Full,
}

fn scope_condition(tx: &Tx, entity: &EntityDef, scope: &RowScope, reach: Reach) -> Condition {
    match scope {
        RowScope::All => Cond::all(),
        RowScope::Restricted(r) => restriction_at(tx, &entity.name, r, Some(reach)),
    }
}

/// Rows the restriction lets through: owned by the user (or a teammate), shared with the
/// user or their team, or hanging off a visible parent. Subqueries use the owner, share
/// and reference indexes, so the page and its count stay in SQL.
/// A column in a row-scope term. On SQLite the list query's own terms are written
/// `+column`, which keeps them out of index selection: otherwise SQLite unions the
/// owner-index lookups (MULTI-INDEX OR) and sorts every visible row (a whole team's
/// half-million contacts) to return a page, instead of walking the sort index and
/// stopping after one page. Subqueries (parents' scopes) want the full set and keep
/// their indexes.
fn scoped(tx: &Tx, field: &str, top: bool) -> Expr {
    if top && tx.backend() == Backend::Sqlite {
        Expr::expr(Expr::cust(format!("+\"{field}\"")))
    } else {
        Expr::col(col(field))
    }
}

/// `reach` is `Some` for the queried table itself, `None` inside a parent's subquery.
fn restriction_at(tx: &Tx, table_name: &str, r: &Restriction, reach: Option<Reach>) -> Condition {
    let top = reach.is_some();
    let user = id_value(tx, r.user);
    let mut any = Cond::any();
    let teams: Vec<sea_query::Value> = r.teams.iter().map(|t| id_value(tx, *t)).collect();
    for field in &r.owner_fields {
        any = any.add(scoped(tx, field, top).eq(user.clone()));
        if !teams.is_empty() {
            let mut members = Query::select();
            members.from(col("users")).column(col("id")).and_where(Expr::col(col("team_id")).is_in(teams.clone()));
            any = any.add(scoped(tx, field, top).in_subquery(members));
        }
    }
    if r.shares {
        let mut grantee = Cond::any().add(Expr::col(col("user_id")).eq(user.clone()));
        if let Some(team) = r.member_team {
            grantee = grantee.add(Expr::col(col("team_id")).eq(id_value(tx, team)));
        }
        let mut shared = Query::select();
        shared
            .from(col("record_shares"))
            .column(col("record_id"))
            .and_where(Expr::col(col("entity")).eq(table_name))
            .cond_where(grantee);
        any = any.add(scoped(tx, "id", top).in_subquery(shared));
    }
    for (field, parent) in &r.parents {
        let parent_restriction = Restriction {
            owner_fields: vec!["owner_id"],
            shares: keel_domain::policy::shareable(parent),
            parents: Vec::new(),
            ..r.clone()
        };
        let inner = restriction_at(tx, parent, &parent_restriction, None);
        if reach == Some(Reach::Page) {
            let mut exists = Query::select();
            exists
                .expr(Expr::val(1))
                .from_as(col(parent), col("p"))
                .and_where(Expr::col((col("p"), col("id"))).equals((col(table_name), col(field))))
                .cond_where(inner);
            any = any.add(Expr::exists(exists));
        } else {
            let mut visible = Query::select();
            visible.from(col(parent)).column(col("id")).cond_where(inner);
            any = any.add(scoped(tx, field, top).in_subquery(visible));
        }
    }
    any
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A GLOB pattern matching text that contains `s` in any letter case. SQLite's `lower()`
/// and `LIKE` fold ASCII only ("Ä" stays "Ä"), so each cased character becomes a class
/// of its case variants (`[äÄ]`) and GLOB, which is case-sensitive, does the rest.
fn glob_contains(s: &str) -> String {
    format!("*{}*", glob_case_insensitive(s))
}

/// A GLOB pattern matching exactly `s` in any letter case (see `glob_contains`).
fn glob_case_insensitive(s: &str) -> String {
    // Case mappings to several characters (ß → SS) cannot be a class member: skipped.
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }
    let mut out = String::with_capacity(s.len() * 3 + 2);
    for c in s.chars() {
        let mut variants = vec![c];
        for v in [single(c.to_lowercase()), single(c.to_uppercase())].into_iter().flatten() {
            if !variants.contains(&v) {
                variants.push(v);
            }
        }
        if variants.len() > 1 {
            out.push('[');
            out.extend(variants);
            out.push(']');
        } else if matches!(c, '*' | '?' | '[' | ']') {
            // A one-character class is the only escape GLOB has; `[]]` matches "]".
            out.push('[');
            out.push(c);
            out.push(']');
        } else {
            out.push(c);
        }
    }
    out
}

fn filter_condition(tx: &Tx, entity: &EntityDef, f: &Filter) -> Result<SimpleExpr> {
    let field = entity.field(&f.field).ok_or_else(|| StoreError::Corrupt(format!("unknown field {}", f.field)))?;
    let c = || Expr::col(col(&f.field));
    let enc = |v: &Value| -> sea_query::Value { tx.encode(field.ty, v) };
    Ok(match (&f.op, &f.operand) {
        (Op::IsNull, Operand::Flag(true)) => c().is_null(),
        (Op::IsNull, Operand::Flag(false)) => c().is_not_null(),
        (Op::In, Operand::Many(vs)) => c().is_in(vs.iter().map(enc)),
        (Op::Contains, Operand::One(Value::Text(s))) => match tx.backend() {
            // LIKE folds ASCII case and is much faster than GLOB with case classes, so it
            // serves ASCII needles; others need the case-folding GLOB.
            Backend::Sqlite if s.is_ascii() => c().like(LikeExpr::new(escape_like(s)).escape('\\')),
            Backend::Sqlite => c().binary(BinOper::Custom("GLOB"), glob_contains(s)),
            Backend::Postgres => Expr::expr(Func::lower(c())).like(LikeExpr::new(escape_like(s)).escape('\\')),
        },
        (Op::Eq, Operand::One(Value::Null)) => c().is_null(),
        (Op::Ne, Operand::One(Value::Null)) => c().is_not_null(),
        (Op::Eq, Operand::One(v)) => c().eq(enc(v)),
        // "is not X" includes records where the field is empty, as CRM users expect.
        (Op::Ne, Operand::One(v)) => Cond::any().add(c().ne(enc(v))).add(c().is_null()).into(),
        (Op::Lt, Operand::One(v)) => c().lt(enc(v)),
        (Op::Lte, Operand::One(v)) => c().lte(enc(v)),
        (Op::Gt, Operand::One(v)) => c().gt(enc(v)),
        (Op::Gte, Operand::One(v)) => c().gte(enc(v)),
        _ => {
            return Err(StoreError::Corrupt(format!("filter {:?} does not fit its operand", f.op)));
        }
    })
}

/// Rows after `cursor` in (sort, id) order; NULL sort values come last in both directions.
fn keyset_condition(tx: &Tx, entity: &EntityDef, query: &ListQuery, cursor: &Cursor) -> Result<Condition> {
    let sort = &query.sort;
    let field = entity.field(&sort.field).ok_or_else(|| StoreError::Corrupt(format!("unknown sort {}", sort.field)))?;
    let id = || Expr::col(col("id"));
    let c = || Expr::col(col(&sort.field));
    let cid = id_value(tx, cursor.id);
    let after_id = if sort.desc { id().lt(cid) } else { id().gt(cid) };
    if sort.field == "id" {
        return Ok(Cond::all().add(after_id));
    }
    if cursor.value.is_null() {
        return Ok(Cond::all().add(c().is_null()).add(after_id));
    }
    let v = tx.encode(field.ty, &cursor.value);
    let beyond = if sort.desc { c().lt(v.clone()) } else { c().gt(v.clone()) };
    let mut any = Cond::any().add(beyond).add(Cond::all().add(c().eq(v)).add(after_id));
    if sort.nullable {
        any = any.add(c().is_null());
    }
    Ok(any)
}

/// The WHERE clause shared by a page and its count: trash, scope, filters, search.
fn where_clause(
    tx: &Tx,
    entity: &EntityDef,
    query: &ListQuery,
    scope: &RowScope,
    extra: &[Filter],
    reach: Reach,
) -> Result<Option<Condition>> {
    let mut cond = Cond::all();
    cond = if query.trashed {
        cond.add(Expr::col(col("deleted_at")).is_not_null())
    } else {
        cond.add(Expr::col(col("deleted_at")).is_null())
    };
    cond = cond.add(scope_condition(tx, entity, scope, reach));
    for f in query.filters.iter().chain(extra) {
        cond = cond.add(filter_condition(tx, entity, f)?);
    }
    if let Some(q) = &query.q {
        match search::condition(tx.backend(), &entity.name, q) {
            Some(s) => cond = cond.add(s),
            None => return Ok(None),
        }
    }
    Ok(Some(cond))
}

/// One page of records plus, on request, the total matching the same conditions.
pub async fn list(
    tx: &mut Tx,
    entity: &EntityDef,
    query: &ListQuery,
    scope: &RowScope,
    extra: &[Filter],
) -> Result<Page> {
    let Some(cond) = where_clause(tx, entity, query, scope, extra, Reach::Page)? else {
        return Ok(Page { records: Vec::new(), next_cursor: None, total: query.count.then_some(0) });
    };

    let mut q = select_all(entity);
    q.cond_where(cond.clone());
    if let Some(cursor) = &query.cursor {
        q.cond_where(keyset_condition(tx, entity, query, cursor)?);
    }
    let order = if query.sort.desc { Order::Desc } else { Order::Asc };
    if query.sort.field != "id" {
        if query.sort.nullable {
            q.order_by_with_nulls(col(&query.sort.field), order.clone(), NullOrdering::Last);
        } else {
            q.order_by(col(&query.sort.field), order.clone());
        }
    }
    q.order_by(col("id"), order).limit(u64::from(query.limit) + 1);

    let rows = tx.fetch_all(&q).await?;
    let mut records = rows.iter().map(|r| decode(entity, r)).collect::<Result<Vec<_>>>()?;
    let next_cursor = if records.len() > query.limit as usize {
        records.truncate(query.limit as usize);
        records.last().and_then(|last| last.id().map(|id| encode_cursor(last.get(&query.sort.field), id)))
    } else {
        None
    };

    let total = if query.count {
        let mut c = Query::select();
        let full = where_clause(tx, entity, query, scope, extra, Reach::Full)?.unwrap_or(cond);
        c.from(table(entity)).expr_as(Func::count(Expr::col(Asterisk)), col("n")).cond_where(full);
        let row = tx.fetch_optional(&c).await?;
        Some(row.map_or(Ok(0), |r| r.i64("n"))?)
    } else {
        None
    };
    Ok(Page { records, next_cursor, total })
}

#[cfg(test)]
mod tests {
    use super::glob_contains;

    #[test]
    fn glob_patterns_fold_case_and_escape_wildcards() {
        assert_eq!(glob_contains("Äb1"), "*[Ää][bB]1*");
        assert_eq!(glob_contains("*?[]%_"), "*[*][?][[][]]%_*");
        assert_eq!(glob_contains("ß"), "*ß*", "no one-character upper case");
    }
}

/// How a summed field is summed for this reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SumRule {
    /// Over every matching row.
    All,
    /// Only over rows owned by this user (the field is hidden elsewhere).
    OwnedBy(Uuid),
    /// Over no row: the field is hidden everywhere, so the sum is 0.
    Hidden,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's value of the `group_by` field (`Value::Null` for the no-value group,
    /// or for the single group when there is no `group_by`).
    pub key: Value,
    pub count: i64,
    /// Per summed field: the sum (0 when no row contributes).
    pub sums: Vec<(String, i64)>,
    /// `sum(amount × probability) / 100` where the entity has both (deals' weighted value).
    pub weighted: Option<i64>,
}

/// Counts and sums over the rows a list query would return (same scope, filters and
/// search), optionally grouped by one field — computed in SQL, never by loading rows.
pub async fn aggregate(
    tx: &mut Tx,
    entity: &EntityDef,
    query: &ListQuery,
    scope: &RowScope,
    extra: &[Filter],
    group_by: Option<&str>,
    sums: &[(String, SumRule)],
) -> Result<Vec<Group>> {
    grouped(tx, entity, query, scope, extra, group_by, sums, None).await
}

/// Which groups `aggregate_top` keeps, and in what order.
#[derive(Debug, Clone, Copy)]
pub struct TopBy<'a> {
    /// The sum to rank by (an index into `sums`), largest first.
    pub sum: usize,
    /// Ties go by this text field of the record the group key references (the group field
    /// must be a reference), as far as `scope` lets the reader see that record: a record
    /// they may not see, or one in the trash, sorts after the visible ones. Then by the key.
    pub tie_label: Option<(&'a str, &'a RowScope)>,
    /// At most this many groups.
    pub limit: u64,
}

/// The `top.limit` largest groups of an aggregate (a leaderboard: deals won per company),
/// ranked, cut and tie-broken in SQL so only those groups leave the database.
#[allow(clippy::too_many_arguments)]
pub async fn aggregate_top(
    tx: &mut Tx,
    entity: &EntityDef,
    query: &ListQuery,
    scope: &RowScope,
    extra: &[Filter],
    group_by: &str,
    sums: &[(String, SumRule)],
    top: TopBy<'_>,
) -> Result<Vec<Group>> {
    grouped(tx, entity, query, scope, extra, Some(group_by), sums, Some(top)).await
}

#[allow(clippy::too_many_arguments)]
async fn grouped(
    tx: &mut Tx,
    entity: &EntityDef,
    query: &ListQuery,
    scope: &RowScope,
    extra: &[Filter],
    group_by: Option<&str>,
    sums: &[(String, SumRule)],
    top: Option<TopBy<'_>>,
) -> Result<Vec<Group>> {
    let Some(cond) = where_clause(tx, entity, query, scope, extra, Reach::Full)? else {
        return Ok(Vec::new());
    };
    let summed = |field: &str, rule: &SumRule| -> SimpleExpr {
        let value: SimpleExpr = match rule {
            SumRule::All => Expr::col(col(field)).into(),
            SumRule::OwnedBy(user) => CaseStatement::new()
                .case(Expr::col(col("owner_id")).eq(id_value(tx, *user)), Expr::col(col(field)))
                .finally(Expr::val(sea_query::Value::BigInt(None)))
                .into(),
            SumRule::Hidden => Expr::val(0i64).into(),
        };
        // SUM(bigint) is numeric on PostgreSQL; cast back so both backends return i64.
        Func::cast_as(Func::coalesce([Func::sum(value).into(), Expr::val(0i64).into()]), col("BIGINT")).into()
    };
    let mut q = Query::select();
    q.from(table(entity)).expr_as(Func::count(Expr::col(Asterisk)), col("n")).cond_where(cond);
    for (i, (field, rule)) in sums.iter().enumerate() {
        q.expr_as(summed(field, rule), col(&format!("s{i}")));
    }
    let weighted_rule = sums.iter().find(|(f, _)| f == "amount").map(|(_, r)| r.clone());
    let has_weight = entity.field("probability").is_some() && weighted_rule.is_some();
    if let (true, Some(rule)) = (has_weight, weighted_rule) {
        let product: SimpleExpr = Expr::col(col("amount")).mul(Expr::col(col("probability")));
        let value: SimpleExpr = match rule {
            SumRule::All => product,
            SumRule::OwnedBy(user) => CaseStatement::new()
                .case(Expr::col(col("owner_id")).eq(id_value(tx, user)), product)
                .finally(Expr::val(sea_query::Value::BigInt(None)))
                .into(),
            SumRule::Hidden => Expr::val(0i64).into(),
        };
        let sum: SimpleExpr =
            Func::cast_as(Func::coalesce([Func::sum(value).into(), Expr::val(0i64).into()]), col("BIGINT")).into();
        q.expr_as(sum, col("w"));
    }
    let group_field = match group_by {
        Some(g) => Some(entity.field(g).ok_or_else(|| StoreError::Corrupt(format!("unknown group field {g}")))?),
        None => None,
    };
    if let Some(f) = group_field {
        q.expr_as(Expr::col(col(&f.name)), col("k")).group_by_col(col(&f.name));
        match top {
            None => {
                q.order_by(col("k"), Order::Asc);
            }
            Some(top) => {
                // Rank every group by the sum (tied groups share a rank), keep the ranks
                // within the limit — so every group tied at the cut — and only then order
                // by the label: it is looked up for about `limit` groups, not all of them.
                let (field, rule) =
                    sums.get(top.sum).ok_or_else(|| StoreError::Corrupt(format!("no sum {} to rank by", top.sum)))?;
                let mut window = WindowStatement::new();
                window.order_by_expr(summed(field, rule), Order::Desc);
                q.expr_window_as(Func::cust(col("RANK")), window, col("r"));
                let g = || col("g");
                let mut ranked = Query::select();
                ranked
                    .column(Asterisk)
                    .from_subquery(std::mem::replace(&mut q, Query::select()), g())
                    .and_where(Expr::col((g(), col("r"))).lte(i64::try_from(top.limit).unwrap_or(i64::MAX)))
                    .order_by((g(), col(&format!("s{}", top.sum))), Order::Desc);
                if let Some((label, label_scope)) = top.tie_label {
                    let parent = f.reference.as_deref().ok_or_else(|| {
                        StoreError::Corrupt(format!("{} is not a reference; its groups have no label", f.name))
                    })?;
                    let mut name = Query::select();
                    name.column((col("p"), col(label)))
                        .from_as(col(parent), col("p"))
                        .and_where(Expr::col((col("p"), col("id"))).equals((g(), col("k"))))
                        .and_where(Expr::col((col("p"), col("deleted_at"))).is_null());
                    if let RowScope::Restricted(r) = label_scope {
                        name.cond_where(restriction_at(tx, parent, r, None));
                    }
                    let name = SimpleExpr::SubQuery(None, Box::new(name.into_sub_query_statement()));
                    ranked.order_by_expr_with_nulls(name, Order::Asc, NullOrdering::Last);
                }
                ranked.order_by((g(), col("k")), Order::Asc).limit(top.limit);
                q = ranked;
            }
        }
    }
    let rows = tx.fetch_all(&q).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let key = match group_field {
            Some(f) => r.value("k", f.ty)?,
            None => Value::Null,
        };
        let mut values = Vec::with_capacity(sums.len());
        for (i, (field, _)) in sums.iter().enumerate() {
            values.push((field.clone(), r.i64(&format!("s{i}"))?));
        }
        let weighted = if has_weight { Some(r.i64("w")? / 100) } else { None };
        out.push(Group { key, count: r.i64("n")?, sums: values, weighted });
    }
    Ok(out)
}

/// Live records within `scope` in id order, after `after` (duplicate detection walks
/// records this way, a page at a time).
pub async fn live_after(
    tx: &mut Tx,
    entity: &EntityDef,
    after: Option<Uuid>,
    limit: u64,
    scope: &RowScope,
) -> Result<Vec<Record>> {
    let mut q = select_all(entity);
    q.and_where(Expr::col(col("deleted_at")).is_null()).cond_where(scope_condition(tx, entity, scope, Reach::Page));
    if let Some(id) = after {
        q.and_where(Expr::col(col("id")).gt(id_value(tx, id)));
    }
    q.order_by(col("id"), Order::Asc).limit(limit);
    let rows = tx.fetch_all(&q).await?;
    rows.iter().map(|r| decode(entity, r)).collect()
}

/// `SELECT id FROM entity WHERE <scope>`, for filtering other tables by what a reader may
/// see; `None` when the scope is everything.
pub fn visible_ids(tx: &Tx, entity: &EntityDef, scope: &RowScope) -> Option<SelectStatement> {
    match scope {
        RowScope::All => None,
        RowScope::Restricted(_) => {
            let mut q = Query::select();
            q.from(table(entity)).column(col("id")).cond_where(scope_condition(tx, entity, scope, Reach::Full));
            Some(q)
        }
    }
}
