//! Full-text search, the one part of a list query whose SQL differs per backend.
//! User text is cut into alphanumeric words before it reaches SQL, so neither FTS5's
//! query syntax nor tsquery's can be injected; each word becomes a prefix term.

use sea_query::{Expr, SimpleExpr};

use crate::db::Backend;

const MAX_TERMS: usize = 8;

pub fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).take(MAX_TERMS).map(str::to_lowercase).collect()
}

/// A condition matching rows of `table` whose searchable fields contain every word of
/// `q` as a word prefix. `None` when `q` has no words at all (nothing can match).
pub fn condition(backend: Backend, table: &str, q: &str) -> Option<SimpleExpr> {
    let words = terms(q);
    if words.is_empty() {
        return None;
    }
    Some(match backend {
        Backend::Sqlite => {
            let query = words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" AND ");
            Expr::cust_with_values(format!("rid IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)"), [query])
        }
        Backend::Postgres => {
            let query = words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
            // sea-query numbers PostgreSQL placeholders itself only in `$N` form.
            Expr::cust_with_values("search @@ to_tsquery('simple'::regconfig, keel_unaccent($1))", [query])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_cut_into_words_without_syntax() {
        assert_eq!(terms("Acme \"OR 1=1 -- *"), vec!["acme", "or", "1", "1"]);
        assert_eq!(terms("john@acme.com"), vec!["john", "acme", "com"]);
        assert!(terms("%%% ''' ").is_empty());
    }
}
