"""A real MCP client (the official Python SDK, `pip install mcp`) driving Keel's MCP
server, for crates/keel/tests/mcp.rs. Used only by the tests.

    python3 mcp_client.py --transport http|stdio --url BASE --keel PATH --database-url URL
        --token REP_TOKEN --bad-token TOKEN --public-url URL --suffix S
        --hidden ID,ID,... --own-deal TITLE

Connects as the rep whose token it is given, lists and calls the tools, checks that
nothing of another team's records (ids `--hidden`) comes back, makes writes that the
human accepts and declines through elicitation, one in a session without elicitation,
and checks that a bad token is refused. Prints one JSON line of what it wrote (for the
Rust test to verify in the database); exits non-zero naming the first failed check.
"""

import argparse
import asyncio
import json
import os
import sys
from contextlib import asynccontextmanager

from mcp import ClientSession, types
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

TOOLS = {
    "search_companies",
    "search_contacts",
    "search_deals",
    "search_records",
    "deal_totals",
    "get_deal_summary",
    "create_contact",
    "create_deal",
    "log_activity",
    "update_deal",
}


class Failed(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failed(message)


@asynccontextmanager
async def connect(args, token, elicitation=None):
    """An initialized session over the chosen transport, as the token's user."""
    if args.transport == "stdio":
        env = {
            "DATABASE_URL": args.database_url,
            "KEEL_API_TOKEN": token,
            "KEEL_PUBLIC_URL": args.public_url,
            "KEEL_LOG": "warn",
            "PATH": os.environ.get("PATH", ""),
        }
        params = StdioServerParameters(command=args.keel, args=["mcp"], env=env)
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1], elicitation_callback=elicitation) as session:
                await session.initialize()
                yield session
    else:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with http:
            async with streamable_http_client(args.url + "/mcp", http_client=http) as streams:
                async with ClientSession(streams[0], streams[1], elicitation_callback=elicitation) as session:
                    await session.initialize()
                    yield session


def dump(result):
    return json.dumps(result.model_dump(mode="json", by_alias=True))


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def scenario(args):
    out = {}
    answers = []
    asked = []

    async def on_elicit(context, params):
        asked.append(params.message)
        action = answers.pop(0)
        if action == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        return types.ElicitResult(action=action)

    async with connect(args, args.token, on_elicit) as s:
        tools = (await s.list_tools()).tools
        names = {t.name for t in tools}
        check(names == TOOLS, f"tools/list: {sorted(names)}")
        deals_tool = next(t for t in tools if t.name == "search_deals")
        check("amount" in deals_tool.input_schema.get("properties", {}), "search_deals schema has `amount`")
        update_tool = next(t for t in tools if t.name == "update_deal")
        check(update_tool.input_schema.get("required") == ["deal"], "update_deal requires `deal`")

        # Reads: text plus structured records with absolute links.
        r = await s.call_tool("search_deals", {})
        check(not r.is_error, f"search_deals: {dump(r)}")
        check(args.own_deal in text_of(r), f"search_deals lists the rep's deal: {text_of(r)}")
        records = (r.structured_content or {}).get("records", [])
        check(any(args.own_deal in x["title"] for x in records), f"structured records: {records}")
        check(all(x["url"].startswith(args.public_url + "/") for x in records), f"absolute links: {records}")
        r = await s.call_tool("search_companies", {"query": "Acme"})
        check(not r.is_error and "Acme Corp" in text_of(r), f"search_companies: {dump(r)}")
        r = await s.call_tool("search_contacts", {"company": "Acme Corp"})
        check(not r.is_error and "Sarah Johnson" in text_of(r), f"search_contacts: {dump(r)}")
        r = await s.call_tool("get_deal_summary", {"deal": args.own_deal})
        check(not r.is_error and args.own_deal in text_of(r), f"get_deal_summary: {dump(r)}")

        # Another team's records: nothing about them through any tool.
        hidden_deal = args.hidden[0]
        probes = [
            ("search_deals", {"company": "Umbrella Retail"}),
            ("search_deals", {"stages": ["Negotiation"]}),
            ("search_deals", {"amount": {"gte": 0}}),
            ("search_deals", {"query": "Umbrella"}),
            ("deal_totals", {"stages": ["Negotiation"], "measure": "sum"}),
            ("search_companies", {"query": "Umbrella"}),
            ("search_companies", {"industry": "Retail"}),
            ("search_contacts", {"company": "Umbrella Retail"}),
            ("search_contacts", {"query": "Zoe"}),
            ("search_records", {"query": "Umbrella"}),
            ("search_records", {"query": "Zoe Quinn"}),
            ("get_deal_summary", {"deal": "Umbrella Big Deal"}),
            ("get_deal_summary", {"deal": hidden_deal}),
            ("update_deal", {"deal": "Umbrella Big Deal", "stage": "Closed Won"}),
            ("log_activity", {"type": "Call", "with": "Zoe Quinn"}),
        ]
        for name, arguments in probes:
            r = await s.call_tool(name, arguments)
            seen = dump(r)
            for hid in args.hidden:
                check(hid not in seen, f"{name} {arguments} revealed a hidden id: {seen}")
            for word in ["zoe@umbrella", "$500,000"]:
                check(word not in seen, f"{name} {arguments} revealed {word}: {seen}")
            check(not (r.structured_content or {}).get("proposals"), f"{name}: no proposal about hidden records")
        check(not asked, f"nothing hidden was put to the user: {asked}")

        # Bad input: unknown tool (JSON-RPC error), bad arguments (isError naming them).
        try:
            await s.call_tool("delete_everything", {})
            raise Failed("an unknown tool must be a JSON-RPC error")
        except Exception as e:  # the SDK's MCPError
            if isinstance(e, Failed):
                raise
            check("Unknown tool" in str(e), f"unknown tool error: {e}")
        r = await s.call_tool("search_deals", {"amount": "lots"})
        check(r.is_error and "`amount` must be an object" in text_of(r), f"bad argument: {dump(r)}")
        r = await s.call_tool("search_deals", {"amount": {"gt": "lots"}})
        check(r.is_error and "`amount.gt` must be an integer" in text_of(r), f"bad nested argument: {dump(r)}")
        r = await s.call_tool("update_deal", {})
        check(r.is_error and "`deal` is required" in text_of(r), f"missing argument: {dump(r)}")
        r = await s.call_tool("log_activity", {"type": "Dance"})
        check(r.is_error and "`type` must be one of" in text_of(r), f"enum argument: {dump(r)}")
        errors = (r.structured_content or {}).get("errors", [])
        check(errors and errors[0]["argument"] == "type" and errors[0]["rule"] == "enum", f"errors: {errors}")

        # A write the human accepts: saved as the rep.
        answers.append("accept")
        title = f"MCP accepted {args.suffix}"
        r = await s.call_tool("create_deal", {"company": "Acme Corp", "title": title, "amount": 1234500})
        check(not r.is_error, f"accepted write: {dump(r)}")
        check(len(asked) == 1 and "Acme Corp" in asked[0], f"the user was asked: {asked}")
        p = r.structured_content["proposals"][0]
        check(p["decision"] == "confirmed" and p["status"] == "confirmed", f"accepted proposal: {p}")
        check(p["records"] and p["records"][0]["url"].startswith(args.public_url), f"records: {p}")
        out["accepted_id"] = p["records"][0]["id"]
        out["accepted_title"] = title

        # A write the human declines: nothing written.
        answers.append("decline")
        title = f"MCP declined {args.suffix}"
        r = await s.call_tool("create_deal", {"company": "Acme Corp", "title": title})
        check(not r.is_error, f"declined write: {dump(r)}")
        p = r.structured_content["proposals"][0]
        check(p["decision"] == "declined" and p["status"] == "cancelled", f"declined proposal: {p}")
        check("Nothing was saved" in text_of(r), text_of(r))
        out["declined_title"] = title
        out["declined_proposal"] = p["id"]

        # Cancelling the dialog is a decline too.
        answers.append("cancel")
        r = await s.call_tool("log_activity", {"type": "Call", "with": "Sarah Johnson", "subject": f"MCP {args.suffix}"})
        p = r.structured_content["proposals"][0]
        check(p["decision"] == "declined", f"cancelled proposal: {p}")
        check(len(asked) == 3, f"three questions: {asked}")

    # A client without elicitation: the proposal waits to be confirmed in Keel.
    async with connect(args, args.token, None) as s:
        title = f"MCP pending {args.suffix}"
        r = await s.call_tool("create_deal", {"company": "Acme Corp", "title": title})
        check(not r.is_error, f"pending write: {dump(r)}")
        p = r.structured_content["proposals"][0]
        check(p["decision"] == "pending" and p["status"] == "pending", f"pending proposal: {p}")
        review = f"{args.public_url}/assistant/proposals/{p['id']}"
        check(p["review_url"] == review and review in text_of(r), f"the page to confirm it: {text_of(r)}")
        out["pending_title"] = title
        out["pending_proposal"] = p["id"]

    # A bad token gets nowhere.
    try:
        async with asyncio.timeout(60):
            async with connect(args, args.bad_token, None) as s:
                await s.list_tools()
        raise Failed("a bad token must be refused")
    except BaseException as e:  # noqa: BLE001 - the SDK wraps transport errors in groups
        if first_failure(e) is not None:
            raise
        if isinstance(e, TimeoutError):
            raise Failed("a bad token must be refused, not hang") from e
        out["bad_token_error"] = repr(e)[:300]
    return out


def first_failure(e):
    """The failed check inside (nested) exception groups, if that is what `e` is."""
    if isinstance(e, Failed):
        return e
    for inner in getattr(e, "exceptions", []):
        found = first_failure(inner)
        if found is not None:
            return found
    return None


def main():
    ap = argparse.ArgumentParser()
    for name in ["transport", "url", "keel", "database-url", "token", "bad-token", "public-url", "suffix", "own-deal"]:
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--hidden", required=True, type=lambda s: [x for x in s.split(",") if x])
    args = ap.parse_args()
    try:
        out = asyncio.run(scenario(args))
    except BaseException as e:  # noqa: BLE001 - anyio wraps a failed check in exception groups
        failed = first_failure(e)
        if failed is None:
            raise
        print(f"FAILED ({args.transport}): {failed}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
