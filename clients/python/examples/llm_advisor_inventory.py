"""An LLM deployment advisor's inventory side, on the Nephoran O2 IMS.

The advisor gives a language model the O-Cloud as it is (resource pools
with their free capacity, providers and their health, CNF packages), takes
the plan the model proposes, validates it with a dry run (the IMS places
it and explains why each pool was chosen or refused) and, with --submit,
creates the deployment. The model is stood in for by a rule here, so the
example runs anywhere:

    O2IMS_ENDPOINT=http://127.0.0.1:8080 python3 examples/llm_advisor_inventory.py
    python3 examples/llm_advisor_inventory.py --intent "5G core with 3 AMF" --submit
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys

from nephoran_o2ims import O2IMSClient, ProblemError


class InventoryAdvisor:
    def __init__(self, o2ims: O2IMSClient) -> None:
        self.o2ims = o2ims

    async def context(self) -> dict:
        """What the model is told about the O-Cloud."""
        pools = await self.o2ims.resource_pools.list(all_fields=True)
        providers = await self.o2ims.providers.list()
        packages = await self.o2ims.cnf_packages.list()
        return {
            "resourcePools": [
                {
                    "id": p.id,
                    "name": p.name,
                    "provider": p.provider,
                    "location": p.location,
                    "freeCapacity": (c.free.dict() if (c := p.capacity()) else None),
                }
                for p in pools
            ],
            "providers": [{"name": p.name, "type": p.type, "healthy": p.status.healthy if p.status else None} for p in providers],
            "packages": [{"vnfdId": p.vnfd_info.vnfd_id, "flavours": [f.flavour_id for f in p.flavours or []]} for p in packages if p.vnfd_info],
        }

    def propose(self, intent: str, context: dict) -> dict:
        """The model's plan; here a rule: one component per network function
        named in the intent, on the first package the IMS knows."""
        functions = [f for f in ("amf", "smf", "upf", "nrf") if f in intent.lower()] or ["amf"]
        count = int(m.group(1)) if (m := re.search(r"(\d+)\s*(?:x\s*)?(?:amf|smf|upf|replicas?)", intent.lower())) else 1
        pkg = context["packages"][0] if context["packages"] else {"vnfdId": "vnfd-5g-core", "flavours": ["small"]}
        return {
            "name": "advisor-" + "-".join(functions),
            "description": intent,
            "components": [
                {"name": f, "vnfdId": pkg["vnfdId"], "flavourId": (pkg["flavours"] or ["small"])[0], "replicas": count}
                for f in functions
            ],
            "placement": {"spread": 1},
            "networkRequirements": {"latency": "10ms"},
        }

    async def validate_and_submit(self, plan: dict, submit: bool) -> int:
        try:
            dry = await self.o2ims.deployments.create(plan, dry_run=True)
        except ProblemError as e:
            if not e.is_unprocessable():
                raise
            # Feed the refusal back to the model: it names every pool and why.
            print(f"plan refused by the IMS ({e.status}): {e.detail}")
            return 0
        print("placement:", json.dumps(dry.status.placement.dict() if dry.status and dry.status.placement else {}, indent=2))
        if submit:
            validated_plan = dry.spec
            deployment = await self.o2ims.deployments.create(validated_plan)
            print(f"created deployment {deployment.id}: {deployment.status.phase}, {deployment.spec.replicas} replicas")
        return 0


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--intent", default="Deploy 5G AMF with 2 replicas at the edge")
    ap.add_argument("--submit", action="store_true", help="create the deployment when the dry run places it")
    args = ap.parse_args()
    async with O2IMSClient() as o2ims:  # O2IMS_ENDPOINT, O2IMS_TOKEN
        advisor = InventoryAdvisor(o2ims)
        context = await advisor.context()
        print("context for the model:", json.dumps(context, indent=2))
        if not context["resourcePools"]:
            print("the O-Cloud has no resource pool", file=sys.stderr)
            return 1
        plan = advisor.propose(args.intent, context)
        print("proposed plan:", json.dumps(plan, indent=2))
        return await advisor.validate_and_submit(plan, args.submit)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
