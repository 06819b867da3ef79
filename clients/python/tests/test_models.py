"""The generated models: decoding, encoding, unknown attributes, helpers."""

import dataclasses
import json
import unittest

from nephoran_o2ims import (
    AlarmEventRecord,
    AlarmSubscription,
    AlarmSubscriptionInfo,
    Deployment,
    DeploymentPhase,
    DeploymentSpec,
    LcmOpOcc,
    Model,
    PerceivedSeverity,
    Resource,
    ResourceList,
    ResourcePool,
    Subscription,
    models,
)
from nephoran_o2ims.capacity import encode_resource_list

DEPLOYMENT = {
    "deploymentId": "9d0f",
    "name": "core",
    "description": "5G core",
    "components": [
        {"name": "amf", "vnfdId": "vnfd-app", "flavourId": "small", "replicas": 2},
        {"name": "smf", "vnfdId": "vnfd-app", "flavourId": "small"},
    ],
    "placement": {"providers": ["kubernetes"], "spread": 2, "minCapacity": "cpu:1"},
    "networkRequirements": {"bandwidth": "10Gbps", "latency": "10ms", "sliceId": "embb-1", "jitter": "1ms"},
    "resourceVersion": 3,
    "status": {
        "phase": "ACTIVE",
        "components": [{"name": "amf", "replicas": 2, "readyReplicas": 2, "phase": "INSTANTIATED"}],
        "placement": {
            "assignments": [{"component": "amf", "resourcePoolId": "p1", "replicas": 2, "requests": {"cpuMillicores": 1000, "memoryBytes": 128, "pods": 2}}],
            "decisions": [{"resourcePoolId": "p1", "eligible": True, "chosen": True, "score": 0.8, "reasons": ["fits"]}],
        },
        "conditions": [{"type": "A1PolicySynced", "status": "True"}],
        "futureStatus": "kept",
    },
    "futureAttribute": {"x": 1},
}


class DeploymentTest(unittest.TestCase):
    def test_guide_attributes(self):
        d = Deployment.from_dict(DEPLOYMENT)
        self.assertEqual(d.id, "9d0f")
        self.assertEqual(d.status.phase, "ACTIVE")
        self.assertEqual(d.status.phase, DeploymentPhase.ACTIVE)
        self.assertEqual(d.phase, "ACTIVE")
        self.assertEqual(d.spec.replicas, 3)  # amf 2 + smf (default 1)
        self.assertEqual(d.replicas, 3)
        self.assertIsInstance(d.spec, DeploymentSpec)
        self.assertEqual(d.spec.name, "core")
        self.assertEqual([c.name for c in d.spec.components], ["amf", "smf"])
        self.assertEqual(d.spec.placement.spread, 2)
        self.assertEqual(d.spec.component("amf").replicas, 2)
        self.assertIsNone(d.spec.component("upf"))
        a = d.status.placement.assignments[0]
        self.assertEqual((a.requests.cpu_millicores, a.requests.pods), (1000, 2))
        self.assertTrue(d.status.placement.decisions[0].chosen)

    def test_unknown_attributes_are_kept(self):
        d = Deployment.from_dict(DEPLOYMENT)
        self.assertEqual(d.extra, {"futureAttribute": {"x": 1}})
        self.assertEqual(d.status.extra, {"futureStatus": "kept"})
        self.assertEqual(d.network_requirements.extra, {"jitter": "1ms"})
        self.assertEqual(d.dict(), DEPLOYMENT)  # a lossless round trip
        self.assertEqual(json.loads(d.to_json()), DEPLOYMENT)

    def test_spec_resubmits(self):
        spec = Deployment.from_dict(DEPLOYMENT).spec.dict()
        self.assertNotIn("status", spec)
        self.assertNotIn("deploymentId", spec)
        self.assertEqual(spec["components"][0], {"name": "amf", "vnfdId": "vnfd-app", "flavourId": "small", "replicas": 2})

    def test_python_names_and_dict_access(self):
        spec = DeploymentSpec.from_dict({"name": "x", "components": [{"name": "a", "vnfd_id": "v", "replicas": 4}], "reserve_capacity": False})
        self.assertEqual(spec.components[0].vnfd_id, "v")
        self.assertIs(spec.reserve_capacity, False)
        self.assertEqual(spec.dict(), {"name": "x", "components": [{"name": "a", "vnfdId": "v", "replicas": 4}], "reserveCapacity": False})
        self.assertEqual(spec.dict(by_alias=False)["reserve_capacity"], False)
        self.assertEqual(spec["reserveCapacity"], False)
        self.assertEqual(spec["reserve_capacity"], False)
        self.assertEqual(spec.get("description", "none"), "none")
        with self.assertRaises(KeyError):
            spec["description"]

    def test_odd_values_are_kept_not_refused(self):
        d = Deployment.from_dict({"components": "many", "status": ["x"], "resourceVersion": "3"})
        self.assertEqual((d.components, d.status, d.resource_version), ("many", ["x"], "3"))
        self.assertEqual(d.spec.replicas, 0)
        self.assertIsNone(d.phase)
        with self.assertRaises(TypeError):
            Deployment.from_dict(["not", "a", "mapping"])

    def test_repr_leaves_out_none(self):
        r = repr(Resource.from_dict({"resourceId": "r1", "tags": ["host"]}))
        self.assertEqual(r, "Resource(resource_id='r1', tags=['host'])")


class HelperTest(unittest.TestCase):
    def test_pool_capacity(self):
        pool = ResourcePool.from_dict({
            "resourcePoolId": "p1",
            "extensions": {"provider": "kubernetes", "capacity": {
                "allocatable": {"cpuMillicores": 4000, "memoryBytes": 8, "pods": 110},
                "free": {"cpuMillicores": 1500, "memoryBytes": 2, "pods": 100},
            }},
        })
        self.assertEqual(pool.id, "p1")
        self.assertEqual(pool.provider, "kubernetes")
        cap = pool.capacity()
        self.assertEqual(cap.free.cpu_millicores, 1500)
        self.assertEqual(cap.allocatable.pods, 110)
        self.assertIsNone(cap.reserved.cpu_millicores)
        self.assertIsNone(ResourcePool.from_dict({"resourcePoolId": "p2"}).capacity())

    def test_delivery_status(self):
        for cls in (Subscription, AlarmSubscriptionInfo):
            s = cls.from_dict({"callback": "http://cb", "extensions": {"deliveryStatus": {"state": "retrying", "lastError": "503", "delivered": 4}}})
            ds = s.delivery_status
            self.assertEqual((ds.state, ds.last_error, ds.delivered, ds.healthy), ("retrying", "503", 4, False))
            self.assertIsNone(cls.from_dict({}).delivery_status)
        self.assertIs(AlarmSubscription, AlarmSubscriptionInfo)

    def test_alarm_severity_and_operation_state(self):
        a = AlarmEventRecord.from_dict({"alarmEventRecordId": "a1", "perceivedSeverity": 0})
        self.assertEqual(a.id, "a1")
        self.assertIs(a.severity, PerceivedSeverity.CRITICAL)
        self.assertFalse(a.cleared)
        self.assertEqual(AlarmEventRecord.from_dict({"perceivedSeverity": 9}).severity, 9)
        self.assertTrue(LcmOpOcc.from_dict({"id": "o1", "operationState": "FAILED"}).final)
        self.assertFalse(LcmOpOcc.from_dict({"id": "o1", "operationState": "PROCESSING"}).final)
        self.assertEqual(LcmOpOcc.from_dict({"id": "o1"}).id, "o1")

    def test_models_without_identifier(self):
        with self.assertRaises(AttributeError):
            models.Capacity().id

    def test_resource_list(self):
        rl = ResourceList(pods=10, memory="8Gi", cpu="4")
        self.assertEqual(str(rl), "cpu:4,memory:8Gi,pods:10")
        self.assertEqual(ResourceList.parse("cpu:4, memory:8Gi"), {"cpu": "4", "memory": "8Gi"})
        self.assertEqual(encode_resource_list({"cpu": 0.5}), "cpu:0.5")
        self.assertEqual(encode_resource_list({"cpu": 2.0}), "cpu:2")
        for bad in ({"": "1"}, {"cpu": "1:2"}, {"cpu": None}, {"cpu": True}):
            with self.subTest(bad), self.assertRaises(ValueError):
                encode_resource_list(bad)
        with self.assertRaises(ValueError):
            ResourceList.parse("cpu")
        spec = DeploymentSpec.from_dict({"name": "x", "placement": {"minCapacity": ResourceList(cpu="1")}})
        self.assertEqual(spec.dict()["placement"], {"minCapacity": "cpu:1"})

    def test_every_model_is_a_keyword_dataclass(self):
        for name in models.__all__:
            cls = getattr(models, name)
            with self.subTest(name):
                self.assertTrue(issubclass(cls, Model))
                self.assertTrue(cls.__schema__.split("#")[0].endswith(".yaml"))
                obj = cls()
                self.assertEqual(obj.dict(), {})
                self.assertEqual(cls.from_dict(obj.dict(exclude_none=False)), obj)
                for f in dataclasses.fields(cls):
                    self.assertTrue(f.kw_only, f.name)


if __name__ == "__main__":
    unittest.main()
