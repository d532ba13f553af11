// Keel's GraphQL explorer: a small offline page (no CDN, no inline script, so it runs
// under the API's strict Content-Security-Policy). It posts the query with the session
// cookie (or a bearer token typed in) and shows the schema's SDL with a finder.
"use strict";

function $(id) {
  return document.getElementById(id);
}

function headers() {
  const h = { "content-type": "application/json" };
  const token = $("token").value.trim();
  if (token) h.authorization = "Bearer " + token;
  return h;
}

async function run() {
  const out = $("result");
  let variables = {};
  try {
    const text = $("variables").value.trim();
    variables = text ? JSON.parse(text) : {};
  } catch (e) {
    out.className = "error";
    out.textContent = "Variables are not valid JSON: " + e.message;
    return;
  }
  out.className = "";
  out.textContent = "Running…";
  try {
    const res = await fetch("/api/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: headers(),
      body: JSON.stringify({ query: $("query").value, variables }),
    });
    const body = await res.json();
    out.className = body.errors ? "error" : "";
    out.textContent = JSON.stringify(body, null, 2);
    if (res.status === 401) out.textContent += "\n\nSign in to Keel in this browser, or paste an API token above.";
  } catch (e) {
    out.className = "error";
    out.textContent = String(e);
  }
}

let sdl = "";

function showSchema() {
  const needle = $("find").value.trim().toLowerCase();
  if (!needle) {
    $("sdl").textContent = sdl;
    return;
  }
  // Whole definitions (blocks separated by blank lines) that mention the needle.
  const blocks = sdl.split(/\n\s*\n/).filter((b) => b.toLowerCase().includes(needle));
  $("sdl").textContent = blocks.join("\n\n") || "No type or field matches.";
}

async function loadSchema() {
  try {
    const res = await fetch("/api/graphql/schema.graphql", { credentials: "same-origin", headers: headers() });
    sdl = await res.text();
    if (!res.ok) sdl = "Sign in (or paste an API token and press Run) to load the schema.";
  } catch (e) {
    sdl = String(e);
  }
  showSchema();
}

document.addEventListener("DOMContentLoaded", () => {
  $("run").addEventListener("click", () => {
    run();
    if (!sdl || sdl.startsWith("Sign in")) loadSchema();
  });
  $("find").addEventListener("input", showSchema);
  $("query").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run();
    }
  });
  loadSchema();
});
