"""The client against a real IMS: ``o2ims serve`` with the defaults, which
publishes the host it runs on as a resource pool (O2IMS_ENDPOINT; run by
clients/python/python_test.go)."""

from __future__ import annotations

import asyncio
import time
import unittest
import uuid

from _support import Answer, FakeServer, post_json, require_env

from nephoran_o2ims import (
    AlarmEventType,
    CnfPackage,
    Deployment,
    O2IMSClient,
    PerceivedSeverity,
    ProblemError,
    ResourceList,
    ResourcePool,
    SyncO2IMSClient,
    and_,
    cont,
    eq,
    gte,
    in_,
    is_conflict,
    is_not_found,
)

UNKNOWN = "00000000-0000-0000-0000-000000000000"

# A kpt package as multi-document YAML: the server accepts it without a
# cluster, which is all placement needs to look at the pools.
KPT_PACKAGE = b"""apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  replicas: 1
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: app
        image: registry.invalid/demo:1
"""


class ServerTest(unittest.IsolatedAsyncioTestCase):
    endpoint: str
    pool: ResourcePool
    package: CnfPackage

    @classmethod
    def setUpClass(cls) -> None:
        (cls.endpoint,) = require_env("O2IMS_ENDPOINT")
        with SyncO2IMSClient(cls.endpoint) as c:
            # The local provider fills the inventory shortly after start.
            deadline = time.monotonic() + 30
            while True:
                pools = c.resource_pools.list(all_fields=True)
                if pools or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            if not pools:
                raise AssertionError("the server published no resource pool")
            cls.pool = pools[0]
            cls.vnfd = "vnfd-py-" + uuid.uuid4().hex[:8]
            cls.package = c.cnf_packages.upload(
                {
                    "name": "demo",
                    "version": "1.0.0",
                    "vnfdInfo": {"vnfdId": cls.vnfd},
                    "flavours": [{"flavourId": "small", "replicas": 1, "resources": {"cpu": "100m", "memory": "64Mi"}}],
                    "contentType": "kpt",
                },
                KPT_PACKAGE,
                filename="demo.yaml",
            )

    def setUp(self) -> None:
        self.c = O2IMSClient(self.endpoint)

    # Inventory

    async def test_cloud_and_versions(self):
        info = await self.c.cloud_info()
        self.assertTrue(info.o_cloud_id)
        self.assertEqual(self.pool.o_cloud_id, info.o_cloud_id)
        versions = await self.c.api_versions()
        # The API's root lists both majors the server serves.
        self.assertEqual(versions.uri_prefix, "/o2ims-infrastructureInventory")
        self.assertEqual([v.version for v in versions.api_versions], ["1.0.0", "2.0.0"])

    async def test_local_host_pool(self):
        self.assertEqual(self.pool.provider, "local")
        self.assertEqual(self.pool.extensions["providerName"], "local")
        got = await self.c.resource_pools.get(self.pool.id)
        self.assertEqual(got.name, self.pool.name)
        self.assertEqual(got.extensions["provider"], "local")  # get returns every attribute
        default = await self.c.resource_pools.list()
        self.assertIsNone(default[0].extensions)  # excluded by default
        self.assertEqual(default[0].dict()["resourcePoolId"], self.pool.id)

    async def test_resources_of_the_pool(self):
        hosts = await self.c.resources.list(pool_id=self.pool.id, filter=eq("tags", "host"))
        self.assertEqual(len(hosts), 1)
        host = hosts[0]
        self.assertEqual((host.resource_pool_id, host.tags[0]), (self.pool.id, "host"))
        self.assertIsNone(host.elements)  # excluded by default
        across = await self.c.resources.list(filter=eq("tags", "host"))
        self.assertEqual([r.id for r in across], [host.id])
        full = await self.c.resources.get(host.id, pool_id=self.pool.id)
        self.assertTrue(full.elements)
        self.assertTrue(all(e.resource_id for e in full.elements))
        by_id = await self.c.resources.get(host.id)
        self.assertEqual(len(by_id.elements), len(full.elements))
        n = 0
        async for r in self.c.resources.iter(pool_id=self.pool.id, limit=2):
            n += 1
            self.assertEqual(r.resource_pool_id, self.pool.id)
        self.assertGreater(n, 1)

    async def test_filters_and_fields(self):
        disks = await self.c.resources.list(
            pool_id=self.pool.id,
            filter=and_(in_("tags", "disk", "no such tag"), gte("extensions/sizeBytes", 0)),
            fields=["extensions/sizeBytes", "tags"],
        )
        for d in disks:
            self.assertEqual(d.tags[0], "disk")
            self.assertEqual(list(d.extensions), ["sizeBytes"])
        types = await self.c.resource_types.list(limit=1000)
        spaced = next(t for t in types if " " in t.name)
        # A value with a space is quoted (and the space URL-encoded).
        same = await self.c.resource_types.list(filter=eq("name", spaced.name))
        self.assertEqual([t.id for t in same], [spaced.id])
        tail = spaced.name.split(" ", 1)[1]
        self.assertIn(spaced.id, [t.id for t in await self.c.resource_types.list(filter=cont("name", tail, "no such name"))])
        without = await self.c.resource_types.list(exclude_fields=["description"], filter=eq("name", spaced.name))
        self.assertIsNone(without[0].description)

    async def test_paging_with_limit_one(self):
        everything = await self.c.resource_types.list(limit=1000)
        self.assertGreaterEqual(len(everything), 2)
        self.assertFalse(everything.has_next)
        seen: dict[str, int] = {}
        async for rt in self.c.resource_types.iter(limit=1):
            seen[rt.id] = seen.get(rt.id, 0) + 1
        self.assertEqual(seen, {t.id: 1 for t in everything})
        first = await self.c.resource_types.list(limit=1)
        self.assertTrue(first.has_next)
        second = await self.c.resource_types.list(limit=1, marker=first.next_marker)
        self.assertEqual(len(second), 1)
        self.assertNotEqual(second[0].id, first[0].id)

    async def test_deployment_managers_and_dictionaries(self):
        n = 0
        async for dm in self.c.deployment_managers.iter():
            n += 1
            got = await self.c.deployment_managers.get(dm.id)
            self.assertEqual(got.name, dm.name)
        self.assertGreater(n, 0)
        types = await self.c.resource_types.list(limit=1)
        d = await self.c.resource_types.alarm_dictionary(types[0].id)
        self.assertTrue(d.alarm_definition)
        self.assertIn(d.id, [x.id for x in await self.c.alarm_dictionaries.list()])
        causes = await self.c.probable_causes.list()
        self.assertTrue(causes)
        self.assertEqual((await self.c.probable_causes.get(causes[0].id)).name, causes[0].name)

    async def test_min_capacity(self):
        # The local host reports its hardware threads, memory and 110 pods
        # as capacity: a requirement within them matches its pool, one
        # beyond them matches none.
        self.assertEqual([p.name for p in await self.c.resource_pools.list(min_capacity={"cpu": "500m"})], [self.pool.name])
        self.assertEqual(list(await self.c.resource_pools.list(min_capacity={"cpu": "100000"})), [])
        self.assertEqual(list(await self.c.resource_pools.list(min_capacity=ResourceList(cpu="500m", memory="100Ti"))), [])
        self.assertEqual([p.name async for p in self.c.resource_pools.iter(min_capacity="pods:1")], [self.pool.name])
        self.assertEqual([p async for p in self.c.resource_pools.iter(min_capacity="pods:111")], [])
        self.assertEqual(len(await self.c.resource_pools.list()), 1)
        with self.assertRaises(ProblemError) as cm:
            await self.c.resource_pools.list(min_capacity="bogus")
        self.assertTrue(cm.exception.is_bad_request())
        self.assertIn("minCapacity", cm.exception.detail)

    async def test_changed_since(self):
        # A first poll gives the stamp; nothing changed since, so the next
        # poll lists nothing, and deployments follow changes the same way.
        first = await self.c.resource_pools.list(changed_since=None)
        self.assertEqual(len(first), 1)
        pools = await self.c.resource_pools.list(changed_since="YzE6MA")  # every change since the start
        self.assertTrue(pools.change_stamp)
        self.assertEqual([p.name for p in pools], [self.pool.name])
        again = await self.c.resource_pools.list(changed_since=pools.change_stamp)
        self.assertEqual((list(again), again.deleted), ([], []))
        deps = await self.c.deployments.list(changed_since=pools.change_stamp)
        self.assertTrue(deps.change_stamp)
        self.assertEqual(list(deps), [])
        with self.assertRaises(ProblemError) as cm:
            await self.c.resource_pools.list(changed_since="not-a-stamp")
        self.assertIn("not a change stamp", cm.exception.detail)

    # Problems

    async def test_not_found(self):
        with self.assertRaises(ProblemError) as cm:
            await self.c.resource_pools.get(UNKNOWN)
        pe = cm.exception
        self.assertEqual(pe.status, 404)
        self.assertTrue(pe.is_not_found())
        self.assertIn(UNKNOWN, pe.detail)
        self.assertTrue(pe.instance)
        for call in (
            lambda: self.c.resources.get(UNKNOWN),
            lambda: self.c.resource_types.get(UNKNOWN),
            lambda: self.c.resources.list(pool_id=UNKNOWN),
            lambda: self.c.deployments.get(UNKNOWN),
            lambda: self.c.lcm_op_occs.get(UNKNOWN),
            lambda: self.c.alarms.get(UNKNOWN),
        ):
            with self.assertRaises(ProblemError) as cm:
                await call()
            self.assertTrue(is_not_found(cm.exception), cm.exception)

    async def test_bad_filter(self):
        with self.assertRaises(ProblemError) as cm:
            await self.c.resource_types.list(filter=eq("colour", "red"))
        self.assertEqual(cm.exception.status, 400)
        self.assertIn("colour", str(cm.exception))
        with self.assertRaises(ProblemError) as cm:
            await self.c.resource_types.list(filter="(eq,name")
        self.assertTrue(cm.exception.is_bad_request())

    # Subscriptions and alarms

    async def test_subscriptions(self):
        callbacks = FakeServer(lambda req: Answer(204))
        self.addCleanup(callbacks.close)
        cb = callbacks.url + "/inventory"
        sub = await self.c.subscriptions.create(cb, filter=eq("objectType", "ResourcePool"), consumer_subscription_id="py-1")
        self.assertTrue(sub.id)
        self.assertEqual((sub.callback, sub.consumer_subscription_id, sub.filter), (cb, "py-1", "(eq,objectType,ResourcePool)"))
        listed = await self.c.subscriptions.list(filter=eq("callback", cb))
        self.assertEqual([s.id for s in listed], [sub.id])
        self.assertIsNone(listed[0].delivery_status)  # extensions excluded from lists
        with_status = await self.c.subscriptions.list(filter=eq("callback", cb), fields="extensions/deliveryStatus")
        self.assertEqual(with_status[0].delivery_status.state, "healthy")
        got = await self.c.subscriptions.get(sub.id)
        self.assertTrue(got.delivery_status.healthy)
        with self.assertRaises(ProblemError) as cm:
            await self.c.subscriptions.create(cb, filter=eq("objectType", "ResourcePool"))
        self.assertTrue(cm.exception.is_bad_request())  # a duplicate, as the compliance suite expects
        self.assertIn("exists already", cm.exception.detail)
        with self.assertRaises(ProblemError) as cm:
            await self.c.subscriptions.create("http://169.254.169.254/latest")
        self.assertTrue(cm.exception.is_bad_request())
        await self.c.subscriptions.delete(sub.id)
        with self.assertRaises(ProblemError) as cm:
            await self.c.subscriptions.get(sub.id)
        self.assertTrue(cm.exception.is_not_found())
        with self.assertRaises(ProblemError) as cm:
            await self.c.subscriptions.delete(sub.id)
        self.assertTrue(cm.exception.is_not_found())

    async def test_alarm_subscription_is_notified_and_alarm_acknowledged(self):
        callbacks = FakeServer(lambda req: Answer(204))
        self.addCleanup(callbacks.close)
        cb = callbacks.url + "/alarms"
        sub = await self.c.alarm_subscriptions.create(cb, filter=eq("notificationEventType", AlarmEventType.NEW), consumer_subscription_id="py-alarms")
        self.addAsyncCleanup(self.c.alarm_subscriptions.delete, sub.id)
        self.assertIn(sub.id, [s.id async for s in self.c.alarm_subscriptions.iter()])
        fingerprint = "py-" + uuid.uuid4().hex[:12]
        alert = {
            "status": "firing", "fingerprint": fingerprint, "startsAt": "2026-11-25T10:00:00Z",
            "labels": {"alertname": "PyClientTest", "severity": "critical"}, "annotations": {"summary": "from the Python tests"},
        }
        status, _ = await asyncio.to_thread(post_json, self.endpoint + "/internal/v1/alertmanager", {"version": "4", "status": "firing", "alerts": [alert]})
        self.assertEqual(status, 200)
        note = await asyncio.to_thread(callbacks.wait_for, lambda r: r.path == "/alarms" and r.method == "POST", 30)
        body = note.json()
        self.assertEqual((body["consumerSubscriptionId"], body["notificationEventType"]), ("py-alarms", 0))
        alarm_id = body["alarmEventRecordId"]
        critical = await self.c.alarms.list(filter=eq("perceivedSeverity", PerceivedSeverity.CRITICAL), all_fields=True)
        alarm = next(a for a in critical if a.id == alarm_id)
        self.assertEqual(alarm.extensions["fingerprint"], fingerprint)
        self.assertIs(alarm.severity, PerceivedSeverity.CRITICAL)
        mods = await self.c.alarms.acknowledge(alarm_id)
        self.assertIs(mods.alarm_acknowledged, True)
        self.assertTrue((await self.c.alarms.get(alarm_id)).alarm_acknowledged)
        with self.assertRaises(ProblemError) as cm:
            await self.c.alarms.acknowledge(alarm_id)
        self.assertTrue(cm.exception.is_conflict())
        with self.assertRaises(ProblemError) as cm:  # an Alertmanager alarm clears when the alert resolves
            await self.c.alarms.clear(alarm_id)
        self.assertTrue(cm.exception.is_conflict())

    async def test_alarm_service_configuration(self):
        cfg = await self.c.alarm_service_configuration.get()
        self.assertGreaterEqual(cfg.retention_period, 1)
        changed = await self.c.alarm_service_configuration.patch(retention_period=cfg.retention_period + 1)
        self.assertEqual(changed.retention_period, cfg.retention_period + 1)
        back = await self.c.alarm_service_configuration.replace(cfg)
        self.assertEqual(back.retention_period, cfg.retention_period)

    # Nephoran extensions

    async def test_providers(self):
        providers = await self.c.providers.list()
        local = next(p for p in providers if p.name == "local")
        self.assertEqual((local.origin, local.status.healthy), ("builtin", True))
        self.assertEqual((await self.c.providers.get(local.id)).name, "local")
        health = await self.c.providers.health()
        self.assertIn(local.id, [h.provider_id for h in health])
        with self.assertRaises(ProblemError) as cm:
            await self.c.providers.delete(local.id)
        self.assertTrue(cm.exception.is_conflict())
        with self.assertRaises(ProblemError) as cm:  # no secrets key to store the kubeconfig
            await self.c.providers.create("edge-py", kubeconfig="apiVersion: v1\nkind: Config\n")
        self.assertTrue(cm.exception.is_unprocessable())
        self.assertIn("secrets key", cm.exception.detail)
        with self.assertRaises(ProblemError) as cm:  # no credentials directory: no file names
            await self.c.providers.create("edge-py", kubeconfig_path="/etc/passwd")
        self.assertTrue(cm.exception.is_unprocessable())
        self.assertIn("inline", cm.exception.detail)

    async def test_cnf_package_and_instance(self):
        pkg = await self.c.cnf_packages.get(self.package.id)
        self.assertEqual((pkg.vnfd_info.vnfd_id, pkg.flavours[0].flavour_id), (self.vnfd, "small"))
        self.assertEqual(len(pkg.checksum), 64)
        self.assertEqual([w.kind for w in pkg.workloads], ["Deployment"])
        self.assertIn(pkg.id, [p.id for p in await self.c.cnf_packages.list(filter=eq("vnfdInfo/vnfdId", self.vnfd))])
        inst = await self.c.cnf_instances.create(self.vnfd, name="py-demo")
        self.assertEqual((inst.instantiation_state, inst.phase, inst.package_id), ("NOT_INSTANTIATED", "NOT_INSTANTIATED", pkg.id))
        self.assertEqual((await self.c.cnf_instances.get(inst.id)).vnf_instance_name, "py-demo")
        self.assertIn(inst.id, [i.id for i in await self.c.cnf_instances.list(filter=eq("vnfdId", self.vnfd))])
        dm = (await self.c.deployment_managers.list())[0]
        with self.assertRaises(ProblemError) as cm:  # the host is not a Kubernetes cluster
            await self.c.cnf_instances.instantiate(inst.id, flavour_id="small", deployment_manager_id=dm.id)
        self.assertTrue(cm.exception.is_unprocessable())
        self.assertIn("not a Kubernetes cluster", cm.exception.detail)
        with self.assertRaises(ProblemError) as cm:
            await self.c.cnf_instances.scale(inst.id, "nope")
        self.assertTrue(cm.exception.is_unprocessable())
        with self.assertRaises(ProblemError) as cm:
            await self.c.cnf_instances.terminate(inst.id)
        self.assertTrue(cm.exception.is_conflict())
        self.assertEqual(list(await self.c.lcm_op_occs.list(filter=eq("cnfInstanceId", inst.id))), [])
        await self.c.cnf_instances.delete(inst.id)
        with self.assertRaises(ProblemError) as cm:
            await self.c.cnf_instances.get(inst.id)
        self.assertTrue(cm.exception.is_not_found())

    async def test_deployments_are_refused_on_the_host_pool(self):
        self.assertEqual(list(await self.c.deployments.list()), [])
        self.assertEqual([d async for d in self.c.deployments.iter()], [])
        spec = {
            "name": "core-py",
            "components": [
                {"name": "amf", "vnfdId": self.vnfd, "flavourId": "small", "replicas": 2},
                {"name": "smf", "vnfd_id": self.vnfd, "flavour_id": "small"},
            ],
            "networkRequirements": {"bandwidth": "10Gbps", "latency": "10ms"},
        }
        # The host pool has no Kubernetes deployment manager: placement
        # refuses it, and the 422 names the pool and why.
        for dry_run in (True, False):
            with self.subTest(dry_run=dry_run):
                with self.assertRaises(ProblemError) as cm:
                    await self.c.deployments.create(spec, dry_run=dry_run)
                pe = cm.exception
                self.assertEqual(pe.status, 422)
                self.assertTrue(pe.is_unprocessable())
                self.assertIn(self.pool.name, pe.detail)
                self.assertIn("deployment manager", pe.detail)
        with self.assertRaises(ProblemError) as cm:
            await self.c.deployments.create(Deployment.from_dict(spec).spec, dry_run=True)
        self.assertIn(self.pool.name, cm.exception.detail)
        self.assertEqual(list(await self.c.deployments.list()), [])
        for call in (
            lambda: self.c.deployments.update(UNKNOWN, {"description": "x"}),
            lambda: self.c.deployments.scale(UNKNOWN, "amf", 3),
            lambda: self.c.deployments.update_status(UNKNOWN, phase="ACTIVE"),
            lambda: self.c.deployments.delete(UNKNOWN),
            lambda: self.c.deployments.wait(UNKNOWN, timeout=5),
        ):
            with self.assertRaises(ProblemError) as cm:
                await call()
            self.assertTrue(cm.exception.is_not_found(), cm.exception)
        await self.c.deployments.wait_deleted(UNKNOWN, timeout=5)

    async def test_advisor(self):
        # The advisor reads the intent and places it: the host pool runs no
        # CNFs, so the 422 names it, and nothing is stored.
        with self.assertRaises(ProblemError) as cm:
            await self.c.advisor.recommend("Deploy the AMF with high availability", target_components=["amf"])
        self.assertEqual(cm.exception.status, 422)
        self.assertIn("amf", cm.exception.detail)
        with self.assertRaises(ProblemError) as cm:
            await self.c.advisor.recommend("make it all faster")
        self.assertIn("names no network function", cm.exception.detail)
        with self.assertRaises(ValueError):
            await self.c.advisor.recommend("")
        self.assertEqual(list(await self.c.advisor.list()), [])
        with self.assertRaises(ProblemError) as cm:
            await self.c.advisor.get(UNKNOWN)
        self.assertTrue(cm.exception.is_not_found())

    def test_sync_client(self):
        with SyncO2IMSClient(self.endpoint) as c:
            self.assertEqual([p.id for p in c.resource_pools.list()], [self.pool.id])
            self.assertEqual(len(list(c.resource_types.iter(limit=1))), len(c.resource_types.list(limit=1000)))
            with self.assertRaises(ProblemError) as cm:
                c.resource_pools.get(UNKNOWN)
            self.assertTrue(cm.exception.is_not_found())


if __name__ == "__main__":
    unittest.main()
