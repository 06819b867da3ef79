"""Keep a Near-RT RIC's view of the deployments in step with the O2 IMS.

Reads the deployments of the Nephoran O2 IMS and derives, for each
running one, the records a RIC integration keeps (the deployment, its
phase, its replicas per component and pool), then prints what changed
since the last round. With --interval it repeats; by default it runs
once:

    O2IMS_ENDPOINT=http://127.0.0.1:8080 python3 examples/ric_sync.py
    python3 examples/ric_sync.py --interval 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from nephoran_o2ims import DeploymentPhase, O2IMSClient, SyncO2IMSClient

RUNNING = {DeploymentPhase.ACTIVE, DeploymentPhase.SCALING, DeploymentPhase.SCALED, DeploymentPhase.DEGRADED}


class RicSync:
    def __init__(self, o2ims_client: O2IMSClient) -> None:
        self.o2ims_client = o2ims_client
        self.known: dict[str, dict] = {}

    async def desired(self) -> dict[str, dict]:
        records = {}
        for deployment in await self.o2ims_client.deployments.list():
            if deployment.status.phase not in RUNNING:
                continue
            per_pool: dict[str, int] = {}
            for part in deployment.status.components or []:
                per_pool[part.resource_pool_id] = per_pool.get(part.resource_pool_id, 0) + (part.replicas or 0)
            records[deployment.id] = {
                "deployment": deployment.name,
                "phase": deployment.status.phase,
                "replicas": deployment.spec.replicas,
                "replicasByPool": per_pool,
            }
        return records

    async def sync_once(self) -> dict[str, list[str]]:
        want = await self.desired()
        changes = {
            "added": sorted(set(want) - set(self.known)),
            "removed": sorted(set(self.known) - set(want)),
            "changed": sorted(k for k in set(want) & set(self.known) if want[k] != self.known[k]),
        }
        self.known = want
        return changes


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--interval", type=float, default=0, help="seconds between rounds (0: one round)")
    args = ap.parse_args()
    async with O2IMSClient() as client:
        sync = RicSync(client)
        while True:
            changes = await sync.sync_once()
            print(json.dumps({"running": len(sync.known), **changes}))
            for dep_id, rec in sync.known.items():
                print(f"  {dep_id} {rec['deployment']}: {rec['phase']}, {rec['replicas']} replicas {rec['replicasByPool']}")
            if not args.interval:
                break
            await asyncio.sleep(args.interval)
    # The same read with the blocking client, as a synchronous RIC agent would do it.
    with SyncO2IMSClient() as blocking:
        total = sum(d.spec.replicas for d in blocking.deployments.iter())
    print(f"replicas of every deployment: {total}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
