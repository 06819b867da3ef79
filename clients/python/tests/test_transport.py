"""HTTP behaviour against fake servers: retries, problems, paging,
authentication, request bodies. Mirrors pkg/client's retry, errors,
collection and auth tests."""

from __future__ import annotations

import asyncio
import builtins
import email.utils
import os
import time
import unittest
from unittest import mock

from _support import Answer, FakeServer, free_port_url

from nephoran_o2ims import (
    DeploymentError,
    O2IMSClient,
    O2IMSConnectionError,
    O2IMSError,
    OAuth2ClientCredentials,
    OAuth2Error,
    ProblemError,
    RetryPolicy,
    SyncO2IMSClient,
    WaitTimeout,
    eq,
    is_auth_error,
    is_bad_request,
    is_conflict,
    is_forbidden,
    is_not_found,
    is_unauthorized,
    status_code,
)
from nephoran_o2ims._http import find_link, parse_retry_after
from nephoran_o2ims.errors import _plain_detail

INV = "/o2ims-infrastructureInventory/v1"
FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.02)


def fake(test: unittest.TestCase, handler) -> FakeServer:
    srv = FakeServer(handler)
    test.addCleanup(srv.close)
    return srv


def sequence(*answers: Answer | None):
    """A handler giving the answers in turn, then the last one forever."""
    state = {"i": 0}

    def handler(_req):
        i = min(state["i"], len(answers) - 1)
        state["i"] += 1
        return answers[i]

    return handler


CLOUD = Answer(200, {"oCloudId": "c1", "name": "cloud"})


class RetryTest(unittest.IsolatedAsyncioTestCase):
    async def test_503_honours_retry_after(self):
        srv = fake(self, sequence(Answer(503, b"busy", {"Retry-After": "1"}), CLOUD))
        c = O2IMSClient(srv.url)
        start = time.monotonic()
        info = await c.cloud_info()
        self.assertEqual(info.o_cloud_id, "c1")
        self.assertEqual(len(srv.requests), 2)
        self.assertGreaterEqual(time.monotonic() - start, 0.9)

    async def test_429_then_gives_up(self):
        srv = fake(self, sequence(Answer(429, {"status": 429, "detail": "slow down"}, {"Content-Type": "application/problem+json"})))
        c = O2IMSClient(srv.url, retry=RetryPolicy(max_retries=2, base_delay=0.01))
        with self.assertRaises(ProblemError) as cm:
            await c.resource_pools.list()
        self.assertEqual(cm.exception.status, 429)
        self.assertEqual(cm.exception.detail, "slow down")
        self.assertEqual(len(srv.requests), 3)

    async def test_no_retry_on_post_or_patch(self):
        srv = fake(self, sequence(Answer(503)))
        c = O2IMSClient(srv.url, retry=FAST)
        calls = {
            "POST subscription": lambda: c.subscriptions.create("http://127.0.0.1:9/cb"),
            "PATCH alarm": lambda: c.alarms.acknowledge("a1"),
            "PATCH deployment": lambda: c.deployments.scale("d1", "amf", 2),
            "POST deployment": lambda: c.deployments.create({"name": "x", "components": [{"name": "a"}]}),
            "POST instantiate": lambda: c.cnf_instances.instantiate("i1", flavour_id="f", deployment_manager_id="dm"),
        }
        for name, call in calls.items():
            with self.subTest(name):
                before = len(srv.requests)
                with self.assertRaises(ProblemError):
                    await call()
                self.assertEqual(len(srv.requests) - before, 1)

    async def test_no_retry_on_400_or_500(self):
        for status in (400, 500, 502, 404):
            with self.subTest(status):
                srv = fake(self, sequence(Answer(status)))
                with self.assertRaises(ProblemError):
                    await O2IMSClient(srv.url, retry=FAST).resource_types.list()
                self.assertEqual(len(srv.requests), 1)

    async def test_retry_delete_and_put(self):
        srv = fake(self, sequence(Answer(503), Answer(200, b""), Answer(503), Answer(200, {"retentionPeriod": 7})))
        c = O2IMSClient(srv.url, retry=FAST)
        await c.subscriptions.delete("s1")
        cfg = await c.alarm_service_configuration.replace({"retention_period": 7})
        self.assertEqual(cfg.retention_period, 7)
        self.assertEqual([r.method for r in srv.requests], ["DELETE", "DELETE", "PUT", "PUT"])
        self.assertEqual(srv.requests[2].json(), {"retentionPeriod": 7})

    async def test_retry_on_connection_errors(self):
        srv = fake(self, sequence(None, None, Answer(200, [{"resourcePoolId": "p1"}])))
        page = await O2IMSClient(srv.url, retry=FAST).resource_pools.list()
        self.assertEqual([p.id for p in page], ["p1"])
        self.assertEqual(len(srv.requests), 3)

    async def test_connection_refused_gives_up(self):
        c = O2IMSClient(free_port_url(), retry=FAST)
        with self.assertRaises(O2IMSConnectionError) as cm:
            await c.cloud_info()
        self.assertIsInstance(cm.exception, builtins.ConnectionError)
        self.assertIsNotNone(cm.exception.__cause__)
        self.assertEqual(status_code(cm.exception), 0)

    def test_policy(self):
        p = RetryPolicy(max_retries=3)
        cases = [
            ("GET", 0, 503, None, True),
            ("GET", 0, 429, None, True),
            ("HEAD", 2, 503, None, True),
            ("GET", 3, 503, None, False),
            ("GET", 0, 500, None, False),
            ("GET", 0, 502, None, False),
            ("GET", 0, 404, None, False),
            ("PUT", 0, 503, None, True),
            ("DELETE", 0, 0, ConnectionResetError("reset"), True),
            ("POST", 0, 503, None, False),
            ("PATCH", 0, 429, None, False),
            ("POST", 0, 0, ConnectionResetError("reset"), False),
            ("GET", 0, 0, OAuth2Error("refused"), False),
        ]
        for method, attempt, status, err, want in cases:
            with self.subTest(f"{method} {attempt} {status} {err!r}"):
                self.assertEqual(p.should_retry(method, attempt, status, err), want)
        self.assertEqual(p.delay(0, 5.0), 5.0)
        self.assertEqual(p.delay(0, 600.0), 60.0)
        for attempt in range(8):
            d = p.delay(attempt, None)
            full = min(0.25 * 2**attempt, 8.0)
            self.assertTrue(full / 2 <= d <= full, (attempt, d))

    def test_parse_retry_after(self):
        now = time.time()
        self.assertIsNone(parse_retry_after(None))
        self.assertIsNone(parse_retry_after(""))
        self.assertIsNone(parse_retry_after("0"))
        self.assertIsNone(parse_retry_after("-3"))
        self.assertIsNone(parse_retry_after("soon"))
        self.assertEqual(parse_retry_after("7"), 7.0)
        self.assertEqual(parse_retry_after("999999"), 86400.0)
        date = email.utils.formatdate(now + 30, usegmt=True)
        self.assertAlmostEqual(parse_retry_after(date, now), 30, delta=1.5)
        self.assertIsNone(parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now))


class ProblemTest(unittest.IsolatedAsyncioTestCase):
    CASES = [
        (
            "problem details", 404, "application/problem+json",
            b'{"type":"about:blank","title":"Not Found","status":404,"detail":"resource pool \\"x\\" not found",'
            b'"instance":"/o2ims-infrastructureInventory/v1/resourcePools/x"}',
            (404, "about:blank", "Not Found", 'resource pool "x" not found', "/o2ims-infrastructureInventory/v1/resourcePools/x"),
            '404 Not Found: resource pool "x" not found',
        ),
        (
            "status line wins over body", 400, "application/problem+json; charset=utf-8",
            b'{"status":500,"detail":"bad filter","title":"Bad Request","type":"urn:x"}',
            (400, "urn:x", "Bad Request", "bad filter", "/p"),
            "400 Bad Request: bad filter",
        ),
        (
            "plain text body", 502, "text/html", b"<html>\n  <body>Bad   gateway</body></html>",
            (502, "about:blank", "Bad Gateway", "<html> <body>Bad gateway</body></html>", "/p"),
            "502 Bad Gateway: <html> <body>Bad gateway</body></html>",
        ),
        ("empty body", 401, "", b"", (401, "about:blank", "Unauthorized", "", "/p"), "401 Unauthorized"),
        (
            "invalid json", 500, "application/problem+json", b'{"detail":',
            (500, "about:blank", "Internal Server Error", '{"detail":', "/p"),
            '500 Internal Server Error: {"detail":',
        ),
    ]

    async def test_decoding(self):
        for name, status, ctype, body, want, msg in self.CASES:
            with self.subTest(name):
                headers = {"Content-Type": ctype} if ctype else {}
                srv = fake(self, sequence(Answer(status, body, headers)))
                c = O2IMSClient(srv.url + "/p", max_retries=0)
                with self.assertRaises(ProblemError) as cm:
                    await c.cloud_info()
                pe = cm.exception
                instance = "/p" if pe.instance == "/p" + INV else pe.instance
                self.assertEqual((pe.status, pe.type, pe.title, pe.detail, instance), want)
                self.assertEqual(str(pe), msg)
                self.assertEqual(status_code(pe), status)

    def test_helpers(self):
        checks = [(is_not_found, 404), (is_bad_request, 400), (is_unauthorized, 401), (is_forbidden, 403), (is_conflict, 409)]
        for f, status in checks:
            wrapped = RuntimeError("getting pool")
            wrapped.__cause__ = ProblemError(status)
            self.assertTrue(f(ProblemError(status)))
            self.assertTrue(f(wrapped), status)
            self.assertFalse(f(ProblemError(500)))
            self.assertFalse(f(ValueError("x")))
            self.assertFalse(f(None))
        self.assertTrue(ProblemError(404).is_not_found())
        self.assertTrue(ProblemError(409).is_conflict())
        self.assertTrue(ProblemError(422).is_unprocessable())
        self.assertTrue(is_auth_error(ProblemError(401)))
        self.assertTrue(is_auth_error(ProblemError(403)))
        self.assertTrue(is_auth_error(OAuth2Error("refused")))
        self.assertFalse(is_auth_error(ProblemError(404)))
        self.assertEqual(status_code(ValueError("x")), 0)

    def test_plain_detail_is_bounded(self):
        d = _plain_detail(("é" * 1000).encode())
        self.assertTrue(d.endswith("…"))
        self.assertLessEqual(len(d), 513)
        self.assertEqual(_plain_detail(b"\xff\xfe"), "")


class PagingTest(unittest.IsolatedAsyncioTestCase):
    def pages(self, link_for):
        """A resource type collection of three, one per page; link_for(n)
        is the Link header of page n, or None."""

        def handler(req):
            marker = req.path.partition("nextpage_opaque_marker=")[2] or "0"
            n = int(marker)
            headers = {}
            link = link_for(n)
            if link:
                headers["Link"] = link
            return Answer(200, [{"resourceTypeId": f"t{n}", "name": f"type {n}"}], headers)

        return handler

    async def test_iter_follows_link_and_list_gives_marker(self):
        srv = fake(self, self.pages(lambda n: f'<{INV}/resourceTypes?limit=1&nextpage_opaque_marker={n + 1}>; rel="next"' if n < 2 else None))
        c = O2IMSClient(srv.url)
        ids = [t.id async for t in c.resource_types.iter(limit=1)]
        self.assertEqual(ids, ["t0", "t1", "t2"])
        first = await c.resource_types.list(limit=1)
        self.assertTrue(first.has_next)
        self.assertEqual(first.next_marker, "1")
        second = await c.resource_types.list(limit=1, marker=first.next_marker)
        self.assertEqual([t.id for t in second], ["t1"])
        last = await c.resource_types.list(limit=1, marker="2")
        self.assertFalse(last.has_next)
        self.assertIsNone(last.next_marker)

    async def test_several_link_values_and_quoting(self):
        link = lambda n: (f'<{INV}/resourceTypes?x=a,b;c>; rel="prev start", <{INV}/resourceTypes?nextpage_opaque_marker={n + 1}>; title="a, b"; rel="next"' if n < 1 else None)  # noqa: E731
        srv = fake(self, self.pages(link))
        ids = [t.id async for t in O2IMSClient(srv.url).resource_types.iter()]
        self.assertEqual(ids, ["t0", "t1"])

    async def test_paging_loop_is_an_error(self):
        srv = fake(self, self.pages(lambda n: f'<{INV}/resourceTypes?nextpage_opaque_marker=0>; rel="next"'))
        c = O2IMSClient(srv.url)
        seen = []
        with self.assertRaisesRegex(O2IMSError, "paging loop"):
            async for t in c.resource_types.iter(marker="0"):
                seen.append(t.id)
        self.assertEqual(seen, ["t0"])

    async def test_changed_since_gives_stamp_and_tombstones(self):
        seen = []

        def handler(req):
            seen.append(req.path)
            return Answer(200, [{"resourcePoolId": "p1", "name": "renamed"}, {"resourcePoolId": "p2", "deleted": True}],
                          {"X-Change-Stamp": "YzE6NDI"})

        srv = fake(self, handler)
        page = await O2IMSClient(srv.url).resource_pools.list(changed_since="YzE6MTI")
        self.assertEqual(seen, ["/o2ims/v1/resourcePools?changedSince=YzE6MTI"])
        self.assertEqual(([p.name for p in page], page.deleted, page.change_stamp), (["renamed"], ["p2"], "YzE6NDI"))

    async def test_link_outside_the_endpoint_is_refused(self):
        srv = fake(self, self.pages(lambda n: '<http://evil.example/steal?nextpage_opaque_marker=1>; rel="next"'))
        with self.assertRaisesRegex(O2IMSError, "outside the endpoint"):
            async for _ in O2IMSClient(srv.url, token="secret").resource_types.iter():
                pass
        self.assertEqual(len(srv.requests), 1)

    async def test_link_without_marker_is_an_error(self):
        srv = fake(self, self.pages(lambda n: f'<{INV}/resourceTypes?limit=1>; rel="next"'))
        with self.assertRaisesRegex(O2IMSError, "nextpage_opaque_marker"):
            await O2IMSClient(srv.url).resource_types.list()

    async def test_gateway_prefix_is_kept(self):
        srv = fake(self, self.pages(lambda n: f'<{INV}/resourceTypes?nextpage_opaque_marker={n + 1}>; rel="next"' if n < 1 else None))
        ids = [t.id async for t in O2IMSClient(srv.url + "/gw/").resource_types.iter()]
        self.assertEqual(ids, ["t0", "t1"])
        self.assertTrue(all(r.path.startswith("/gw" + INV + "/resourceTypes") for r in srv.requests), [r.path for r in srv.requests])

    def test_find_link(self):
        self.assertEqual(find_link(['<a,b;c>; rel="next"'], "next"), "a,b;c")
        self.assertEqual(find_link(['<x>; rel=prev, <y>; rel=NEXT'], "next"), "y")
        self.assertEqual(find_link(['<x>; rel="prev next"'], "next"), "x")
        self.assertEqual(find_link(['<x>; rel=prev', '<z>; rel=next'], "next"), "z")
        self.assertIsNone(find_link(['<x>; rel=prev'], "next"))
        self.assertIsNone(find_link([], "next"))

    async def test_ids_are_escaped(self):
        srv = fake(self, sequence(Answer(200, {"resourcePoolId": "a/b?c"})))
        await O2IMSClient(srv.url).resource_pools.get("a/b?c")
        self.assertEqual(srv.requests[0].path, INV + "/resourcePools/a%2Fb%3Fc")
        with self.assertRaises(ValueError):
            await O2IMSClient(srv.url).resource_pools.get("")


class AuthTest(unittest.IsolatedAsyncioTestCase):
    async def test_bearer_token_and_headers(self):
        srv = fake(self, sequence(CLOUD))
        await O2IMSClient(srv.url, token="t0k3n").cloud_info()
        h = srv.requests[0].headers
        self.assertEqual(h["authorization"], "Bearer t0k3n")
        self.assertIn("application/problem+json", h["accept"])
        self.assertTrue(h["user-agent"].startswith("nephoran-o2ims-python/"))

    async def test_environment(self):
        srv = fake(self, sequence(CLOUD))
        with mock.patch.dict(os.environ, {"O2IMS_ENDPOINT": srv.url + "/", "O2IMS_TOKEN": "from-env"}):
            c = O2IMSClient()
        self.assertEqual(c.endpoint, srv.url)
        await c.cloud_info()
        self.assertEqual(srv.requests[0].headers["authorization"], "Bearer from-env")
        with mock.patch.dict(os.environ, {"O2IMS_TOKEN": "from-env"}):
            await O2IMSClient(srv.url, token="").cloud_info()  # an explicit empty token: none
        self.assertNotIn("authorization", srv.requests[1].headers)

    def test_endpoint_is_checked(self):
        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaisesRegex(ValueError, "O2IMS_ENDPOINT"):
                O2IMSClient()
        for bad in ("ftp://x", "http://", "http://user:pw@host", "127.0.0.1:8080"):
            with self.subTest(bad), self.assertRaises(ValueError):
                O2IMSClient(bad)
        with self.assertRaises(ValueError):
            O2IMSClient("http://x", token="a", oauth2=("http://idp/token", "id", "s"))

    def token_endpoint(self, expires_in=60, basic_ok=True):
        issued = []

        def handler(req):
            form = dict(p.split("=", 1) for p in req.body.decode().split("&"))
            if "authorization" in req.headers and not basic_ok:
                return Answer(401, {"error": "invalid_client"})
            if form.get("grant_type") != "client_credentials":
                return Answer(400, {"error": "unsupported_grant_type"})
            tok = f"tok{len(issued) + 1}"
            issued.append((req, form))
            return Answer(200, {"access_token": tok, "token_type": "bearer", "expires_in": expires_in})

        return fake(self, handler), issued

    async def test_oauth2_token_is_cached_and_refreshed_before_expiry(self):
        idp, issued = self.token_endpoint(expires_in=60)
        api = fake(self, sequence(CLOUD))
        now = [1000.0]
        creds = OAuth2ClientCredentials(idp.url + "/token", "smo", "s3cret", ["o2ims:read", "o2ims:write"], clock=lambda: now[0])
        c = O2IMSClient(api.url, oauth2=creds)
        for _ in range(3):
            await c.cloud_info()
        self.assertEqual(len(issued), 1)
        req, form = issued[0]
        self.assertEqual(form["scope"], "o2ims%3Aread+o2ims%3Awrite")
        self.assertTrue(req.headers["authorization"].startswith("Basic "))
        now[0] += 49  # 11 s left: still good
        await c.cloud_info()
        self.assertEqual(len(issued), 1)
        now[0] += 2  # 9 s left: within the 10 s leeway
        await c.cloud_info()
        self.assertEqual(len(issued), 2)
        self.assertEqual([r.headers["authorization"] for r in api.requests], ["Bearer tok1"] * 4 + ["Bearer tok2"])
        self.assertEqual(creds.fetched, 2)

    async def test_oauth2_tuple_and_401_invalidates(self):
        idp, issued = self.token_endpoint()
        api = fake(self, sequence(CLOUD, Answer(401), CLOUD))
        c = O2IMSClient(api.url, oauth2=(idp.url + "/token", "smo", "s3cret", ["o2ims:read"]))
        await c.cloud_info()
        with self.assertRaises(ProblemError) as cm:
            await c.cloud_info()
        self.assertTrue(cm.exception.is_unauthorized())
        await c.cloud_info()
        self.assertEqual(len(issued), 2)

    async def test_oauth2_falls_back_to_body_credentials(self):
        idp, issued = self.token_endpoint(basic_ok=False)
        api = fake(self, sequence(CLOUD))
        c = O2IMSClient(api.url, oauth2=(idp.url + "/token", "smo", "s3cret"))
        await c.cloud_info()
        self.assertEqual(issued[0][1]["client_id"], "smo")
        self.assertEqual(issued[0][1]["client_secret"], "s3cret")
        self.assertEqual(len(idp.requests), 2)

    async def test_token_endpoint_refusal_is_not_retried(self):
        idp = fake(self, sequence(Answer(401, {"error": "invalid_client", "error_description": "bad secret"})))
        api = fake(self, sequence(CLOUD))
        creds = OAuth2ClientCredentials(idp.url + "/token", "smo", "wrong", auth_style="header")
        c = O2IMSClient(api.url, oauth2=creds, retry=FAST)
        with self.assertRaises(OAuth2Error) as cm:
            await c.cloud_info()
        self.assertEqual((cm.exception.status, cm.exception.error), (401, "invalid_client"))
        self.assertIn("bad secret", str(cm.exception))
        self.assertTrue(is_auth_error(cm.exception))
        self.assertEqual(len(idp.requests), 1)
        self.assertEqual(len(api.requests), 0)

    async def test_credentials_stay_on_the_endpoint(self):
        other = fake(self, sequence(CLOUD))
        api = fake(self, sequence(Answer(302, b"", {"Location": other.url + INV})))
        await O2IMSClient(api.url, token="secret").cloud_info()
        self.assertEqual(api.requests[0].headers["authorization"], "Bearer secret")
        self.assertNotIn("authorization", other.requests[0].headers)

    def test_credentials_are_not_printed(self):
        c = O2IMSClient("http://127.0.0.1:1", token="secret")
        self.assertNotIn("secret", repr(c.auth))
        creds = OAuth2ClientCredentials("http://idp/token", "smo", "s3cret")
        self.assertNotIn("s3cret", repr(creds))


class RequestBodyTest(unittest.IsolatedAsyncioTestCase):
    async def test_deployment_create_update_status(self):
        dep = {"deploymentId": "d1", "name": "core", "components": [{"name": "amf", "replicas": 2}], "status": {"phase": "PENDING"}}
        srv = fake(self, sequence(Answer(200, dep, {"ETag": '"7"'})))
        c = O2IMSClient(srv.url)
        d = await c.deployments.create(
            {"name": "core", "components": [{"name": "amf", "vnfd_id": "vnfd-app", "replicas": 2}],
             "placement": {"min_capacity": {"memory": "1Gi", "cpu": 1}}, "newField": True},
            dry_run=True,
        )
        self.assertEqual(d.etag, '"7"')
        self.assertEqual(d.spec.replicas, 2)
        self.assertEqual(
            srv.requests[0].json(),
            {"name": "core", "components": [{"name": "amf", "vnfdId": "vnfd-app", "replicas": 2}],
             "placement": {"minCapacity": "cpu:1,memory:1Gi"}, "newField": True, "dryRun": True},
        )
        await c.deployments.update("d1", {"description": "x"}, if_match=d.etag)
        req = srv.requests[1]
        self.assertEqual((req.method, req.headers["content-type"], req.headers["if-match"]), ("PATCH", "application/merge-patch+json", '"7"'))
        await c.deployments.scale("d1", "amf", 3)
        self.assertEqual(srv.requests[2].json(), {"components": [{"name": "amf", "replicas": 3}]})
        await c.deployments.update_status("d1", phase="ACTIVE", message="ok", resource_version=4,
                                          conditions=[{"type": "Ready", "status": "True"}])
        req = srv.requests[3]
        self.assertEqual((req.method, req.path), ("PUT", "/o2ims/v1/deployments/d1/status"))
        self.assertEqual(req.json(), {"phase": "ACTIVE", "message": "ok", "resourceVersion": 4, "conditions": [{"type": "Ready", "status": "True"}]})
        with self.assertRaises(ValueError):
            await c.deployments.create({"components": []})

    async def test_deployment_wait(self):
        def dep(phase):
            return Answer(200, {"deploymentId": "d1", "name": "core", "status": {"phase": phase, "message": "why"}})

        srv = fake(self, sequence(dep("PENDING"), dep("DEPLOYING"), dep("ACTIVE")))
        c = O2IMSClient(srv.url)
        d = await c.deployments.wait("d1", "ACTIVE", timeout=10)
        self.assertEqual(d.phase, "ACTIVE")
        fake_failed = fake(self, sequence(dep("FAILED")))
        with self.assertRaises(DeploymentError) as cm:
            await O2IMSClient(fake_failed.url).deployments.wait("d1")
        self.assertIn("FAILED: why", str(cm.exception))
        stuck = fake(self, sequence(dep("PENDING")))
        with self.assertRaises(WaitTimeout) as cm:
            await O2IMSClient(stuck.url).deployments.wait("d1", timeout=0.3)
        self.assertEqual(cm.exception.last.phase, "PENDING")
        self.assertIsInstance(cm.exception, TimeoutError)
        gone = fake(self, sequence(dep("DELETING"), Answer(404)))
        await O2IMSClient(gone.url).deployments.wait_deleted("d1", timeout=10)

    async def test_operation_from_location(self):
        srv = fake(self, sequence(Answer(202, b"", {"Location": "/o2ims/v1/lcmOpOccs/op-7"})))
        op = await O2IMSClient(srv.url).cnf_instances.scale("i1", "app", type="SCALE_IN", number_of_steps=2)
        self.assertEqual(op.id, "op-7")
        self.assertEqual(srv.requests[0].json(), {"type": "SCALE_IN", "aspectId": "app", "numberOfSteps": 2})
        with self.assertRaises(ValueError):
            await O2IMSClient(srv.url).cnf_instances.scale("i1", "app", type="UP")

    async def test_package_upload_is_multipart(self):
        srv = fake(self, sequence(Answer(201, {"packageId": "p1", "name": "demo"})))
        pkg = await O2IMSClient(srv.url).cnf_packages.upload(
            {"name": "demo", "version": "1", "vnfd_info": {"vnfd_id": "v"}, "flavours": [{"flavour_id": "small"}]},
            b"kind: Kptfile\n", filename="demo.yaml",
        )
        self.assertEqual(pkg.id, "p1")
        req = srv.requests[0]
        self.assertTrue(req.headers["content-type"].startswith("multipart/form-data; boundary="))
        body = req.body.decode()
        self.assertIn('name="metadata"', body)
        self.assertIn('{"name": "demo", "version": "1", "vnfdInfo": {"vnfdId": "v"}, "flavours": [{"flavourId": "small"}]}', body)
        self.assertIn('name="content"; filename="demo.yaml"', body)
        self.assertIn("kind: Kptfile\n", body)

    async def test_subscription_body(self):
        srv = fake(self, sequence(Answer(201, {"subscriptionId": "s1", "callback": "http://cb"})))
        s = await O2IMSClient(srv.url).subscriptions.create("http://cb", filter=eq("objectType", "ResourcePool"), consumer_subscription_id="c1")
        self.assertEqual(s.id, "s1")
        self.assertEqual(srv.requests[0].json(), {"callback": "http://cb", "consumerSubscriptionId": "c1", "filter": "(eq,objectType,ResourcePool)"})
        with self.assertRaises(ValueError):
            await O2IMSClient(srv.url).subscriptions.create("")

    async def test_unknown_and_odd_attributes_never_crash(self):
        srv = fake(self, sequence(Answer(200, [{"resourceId": "r1", "elements": "not a list", "tags": None, "brandNew": {"a": 1}}, 5])))
        page = await O2IMSClient(srv.url).resources.list()
        self.assertEqual(page[0].elements, "not a list")
        self.assertEqual(page[0].extra, {"brandNew": {"a": 1}})
        self.assertEqual(page[0].dict()["brandNew"], {"a": 1})
        self.assertEqual(page[1], 5)


class SyncClientTest(unittest.TestCase):
    def test_blocking_services(self):
        srv = fake(self, lambda req: Answer(200, [{"resourcePoolId": "p1", "name": "a"}]) if "resourcePools" in req.path else Answer(404))
        with SyncO2IMSClient(srv.url) as c:
            page = c.resource_pools.list(filter=eq("name", "a"))
            self.assertEqual([p.name for p in page], ["a"])
            self.assertEqual([p.id for p in c.resource_pools.iter(limit=5)], ["p1"])
            with self.assertRaises(ProblemError) as cm:
                c.deployments.get("nope")
            self.assertTrue(cm.exception.is_not_found())
        self.assertIn("filter=%28eq%2Cname%2Ca%29", srv.requests[0].path)

    def test_from_async_client_and_inside_a_loop(self):
        srv = fake(self, sequence(CLOUD))
        c = O2IMSClient(srv.url).sync()

        async def inside():  # blocking calls also work where a loop runs
            return c.cloud_info()

        self.assertEqual(asyncio.run(inside()).name, "cloud")
        c.close()


if __name__ == "__main__":
    unittest.main()
