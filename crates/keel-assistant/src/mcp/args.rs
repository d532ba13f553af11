//! Checking a tool call's arguments against the tool's input schema — the very JSON
//! schema the model provider sends (`engine::tool_schemas`), so an MCP client gets an
//! answer naming the argument and the rule (`amount.gt must be an integer`) instead of a
//! serde message. Only the keywords those schemas use are read (type, properties,
//! required, items, enum); a schema-validation crate would add a large dependency tree
//! for five keywords, so this is written by hand.

use serde_json::{Map, Value as Json};

/// One argument that breaks its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// The argument's path, e.g. `amount.gt` or `stages[1]`.
    pub argument: String,
    /// `required`, `unknown`, `type` or `enum`.
    pub rule: &'static str,
    pub message: String,
}

/// Every broken rule of `args` (a JSON object) against `schema` (an object schema).
pub fn check(schema: &Json, args: &Map<String, Json>) -> Vec<ArgError> {
    let mut errors = Vec::new();
    check_object(schema, args, "", &mut errors);
    errors
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") }
}

fn check_object(schema: &Json, value: &Map<String, Json>, path: &str, errors: &mut Vec<ArgError>) {
    let empty = Map::new();
    let properties = schema.get("properties").and_then(Json::as_object).unwrap_or(&empty);
    for name in schema.get("required").and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str) {
        if value.get(name).is_none_or(Json::is_null) {
            let argument = join(path, name);
            errors.push(ArgError { message: format!("`{argument}` is required"), argument, rule: "required" });
        }
    }
    for (name, v) in value {
        let argument = join(path, name);
        match properties.get(name) {
            None => {
                let known: Vec<&str> = properties.keys().map(String::as_str).collect();
                errors.push(ArgError {
                    message: format!("`{argument}` is not an argument of this tool (known: {})", known.join(", ")),
                    argument,
                    rule: "unknown",
                });
            }
            // An optional argument sent as null is the same as one left out.
            Some(_) if v.is_null() => {}
            Some(s) => check_value(s, v, &argument, errors),
        }
    }
}

fn check_value(schema: &Json, value: &Json, path: &str, errors: &mut Vec<ArgError>) {
    let kind = schema.get("type").and_then(Json::as_str).unwrap_or("any");
    let ok = match kind {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    };
    if !ok {
        let what = match kind {
            "integer" => "an integer (amounts are in minor units: cents)",
            "string" => "a string",
            "number" => "a number",
            "boolean" => "true or false",
            "array" => "an array",
            _ => "an object",
        };
        errors.push(ArgError { argument: path.to_string(), rule: "type", message: format!("`{path}` must be {what}") });
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Json::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> =
            allowed.iter().map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string)).collect();
        errors.push(ArgError {
            argument: path.to_string(),
            rule: "enum",
            message: format!("`{path}` must be one of: {}", list.join(", ")),
        });
    }
    match value {
        Json::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check_value(item_schema, item, &format!("{path}[{i}]"), errors);
                }
            }
        }
        Json::Object(map) if schema.get("properties").is_some() => check_object(schema, map, path, errors),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Json {
        json!({
            "type": "object",
            "properties": {
                "deal": { "type": "string" },
                "stages": { "type": "array", "items": { "type": "string" } },
                "amount": { "type": "object", "properties": { "gt": { "type": "integer" } } },
                "measure": { "type": "string", "enum": ["sum", "count"] },
            },
            "required": ["deal"],
        })
    }

    fn errors(args: Json) -> Vec<(String, &'static str)> {
        let args = args.as_object().cloned().unwrap_or_default();
        check(&schema(), &args).into_iter().map(|e| (e.argument, e.rule)).collect()
    }

    #[test]
    fn good_arguments_pass() {
        assert!(
            errors(json!({ "deal": "Acme", "stages": ["Proposal"], "amount": { "gt": 5 }, "measure": "sum" }))
                .is_empty()
        );
        assert!(errors(json!({ "deal": "Acme", "measure": null })).is_empty());
    }

    #[test]
    fn each_broken_rule_names_its_argument() {
        assert_eq!(errors(json!({})), vec![("deal".to_string(), "required")]);
        assert_eq!(errors(json!({ "deal": 3 })), vec![("deal".to_string(), "type")]);
        assert_eq!(errors(json!({ "deal": "x", "amount": { "gt": "lots" } })), vec![("amount.gt".to_string(), "type")]);
        assert_eq!(errors(json!({ "deal": "x", "amount": { "gt": 1.5 } })), vec![("amount.gt".to_string(), "type")]);
        assert_eq!(errors(json!({ "deal": "x", "stages": ["a", 2] })), vec![("stages[1]".to_string(), "type")]);
        assert_eq!(errors(json!({ "deal": "x", "measure": "avg" })), vec![("measure".to_string(), "enum")]);
        assert_eq!(errors(json!({ "deal": "x", "drop": true })), vec![("drop".to_string(), "unknown")]);
    }
}
