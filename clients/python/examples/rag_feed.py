"""Feed the O-Cloud's inventory to a retrieval-augmented generation index.

Walks the inventory of the Nephoran O2 IMS page by page (resource pools,
their resources, resource types, deployment managers, deployments and
open alarms) and writes one JSON document per object, with a short text
for embedding and the object itself as metadata, to stdout or --out:

    O2IMS_ENDPOINT=http://127.0.0.1:8080 python3 examples/rag_feed.py --out inventory.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from nephoran_o2ims import O2IMSClient, PerceivedSeverity, lt


class RagFeed:
    def __init__(self, o2ims_client: O2IMSClient) -> None:
        self.o2ims_client = o2ims_client

    async def documents(self):
        c = self.o2ims_client
        async for pool in c.resource_pools.iter(all_fields=True, limit=100):
            yield doc("resourcePool", pool.id, f"Resource pool {pool.name} ({pool.provider or 'unknown'} provider) "
                      f"at {pool.location or 'an unknown location'}: {pool.description or ''}", pool)
            async for r in c.resources.iter(pool_id=pool.id, limit=100):
                yield doc("resource", r.id, f"Resource {r.description or r.id} in pool {pool.name}, tags {', '.join(r.tags or [])}", r)
        async for rt in c.resource_types.iter(limit=100):
            yield doc("resourceType", rt.id, f"Resource type {rt.name}: {rt.resource_class} {rt.resource_kind}, vendor {rt.vendor}", rt)
        async for dm in c.deployment_managers.iter(limit=100):
            yield doc("deploymentManager", dm.id, f"Deployment manager {dm.name}: {dm.description or ''}", dm)
        for d in await self.o2ims_client.deployments.list():
            yield doc("deployment", d.id, f"Deployment {d.name} is {d.status.phase} with {d.spec.replicas} replicas", d)
        async for a in c.alarms.iter(filter=lt("perceivedSeverity", PerceivedSeverity.CLEARED)):
            severity = a.severity.name if isinstance(a.severity, PerceivedSeverity) else a.severity
            yield doc("alarm", a.id, f"Alarm {severity} on {a.resource_id}, raised {a.alarm_raised_time}", a)


def doc(kind: str, id: str, text: str, obj) -> dict:
    return {"id": f"{kind}/{id}", "kind": kind, "text": " ".join(text.split()), "metadata": obj.dict()}


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="JSON Lines file to write (default: stdout)")
    args = ap.parse_args()
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    counts: dict[str, int] = {}
    try:
        async with O2IMSClient() as client:
            async for d in RagFeed(client).documents():
                out.write(json.dumps(d) + "\n")
                counts[d["kind"]] = counts.get(d["kind"], 0) + 1
    finally:
        if out is not sys.stdout:
            out.close()
    print("documents:", ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none", file=sys.stderr)
    return 0 if counts.get("resourcePool") else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
