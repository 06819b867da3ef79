"""The client against an IMS with HTTPS, client certificates (mTLS) and
OIDC bearer tokens, and an OAuth 2.0 token endpoint, both started by
clients/python/python_test.go:

- O2IMS_TEST_SECURE_ENDPOINT: the server (https)
- O2IMS_TEST_CA_FILE: the CA of its certificate and of the client's
- O2IMS_TEST_CLIENT_CERT, O2IMS_TEST_CLIENT_KEY: a client certificate
- O2IMS_TEST_TOKEN_URL, O2IMS_TEST_CLIENT_ID, O2IMS_TEST_CLIENT_SECRET:
  client credentials; O2IMS_TEST_ISSUED_URL answers how many tokens
  the endpoint issued and how many requests it had
- O2IMS_TEST_READ_TOKEN, O2IMS_TEST_NOSCOPE_TOKEN, O2IMS_TEST_EXPIRED_TOKEN:
  signed tokens with scope o2ims:read, with scope openid, and expired
"""

from __future__ import annotations

import json
import os
import ssl
import time
import unittest
import urllib.request
from unittest import mock

from _support import require_env

from nephoran_o2ims import (
    SCOPE_READ,
    SCOPE_WRITE,
    O2IMSClient,
    O2IMSConnectionError,
    OAuth2ClientCredentials,
    OAuth2Error,
    ProblemError,
    RetryPolicy,
    SyncO2IMSClient,
    is_auth_error,
    is_forbidden,
)

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SecureServerTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        (
            cls.endpoint, cls.ca, cls.cert, cls.key, cls.token_url, cls.client_id, cls.secret,
            cls.issued_url, cls.read_token, cls.noscope_token, cls.expired_token,
        ) = require_env(
            "O2IMS_TEST_SECURE_ENDPOINT", "O2IMS_TEST_CA_FILE", "O2IMS_TEST_CLIENT_CERT", "O2IMS_TEST_CLIENT_KEY",
            "O2IMS_TEST_TOKEN_URL", "O2IMS_TEST_CLIENT_ID", "O2IMS_TEST_CLIENT_SECRET", "O2IMS_TEST_ISSUED_URL",
            "O2IMS_TEST_READ_TOKEN", "O2IMS_TEST_NOSCOPE_TOKEN", "O2IMS_TEST_EXPIRED_TOKEN",
        )

    def client(self, **kwargs) -> O2IMSClient:
        kwargs.setdefault("verify", self.ca)
        kwargs.setdefault("cert", (self.cert, self.key))
        return O2IMSClient(self.endpoint, **kwargs)

    def oauth2(self, *scopes: str, secret: str | None = None, **kwargs) -> OAuth2ClientCredentials:
        return OAuth2ClientCredentials(self.token_url, self.client_id, self.secret if secret is None else secret, list(scopes), **kwargs)

    def idp_counts(self) -> dict:
        with _DIRECT.open(self.issued_url, timeout=10) as res:
            return json.loads(res.read())

    async def test_without_credentials_401(self):
        with mock.patch.dict(os.environ):
            os.environ.pop("O2IMS_TOKEN", None)
            c = self.client()
        with self.assertRaises(ProblemError) as cm:
            await c.cloud_info()
        pe = cm.exception
        self.assertTrue(pe.is_unauthorized())
        self.assertTrue(is_auth_error(pe))
        self.assertIn("Bearer", pe.headers.get("WWW-Authenticate", ""))

    async def test_client_credentials_one_token_for_many_calls(self):
        before = self.idp_counts()["issued"]
        creds = self.oauth2(SCOPE_READ)
        c = self.client(oauth2=creds)
        info = await c.cloud_info()
        self.assertTrue(info.o_cloud_id)
        n = 0
        async for rt in c.resource_types.iter(limit=1):
            await c.resource_types.get(rt.id)
            n += 1
        self.assertGreater(n, 1)
        self.assertEqual(creds.fetched, 1)
        self.assertEqual(self.idp_counts()["issued"] - before, 1)

    async def test_tuple_form_and_write_scope(self):
        c = self.client(oauth2=(self.token_url, self.client_id, self.secret, [SCOPE_READ, SCOPE_WRITE]))
        sub = await c.subscriptions.create("http://127.0.0.1:9/o2ims-python-test")
        await c.subscriptions.delete(sub.id)
        reader = self.client(oauth2=(self.token_url, self.client_id, self.secret, [SCOPE_READ]))
        with self.assertRaises(ProblemError) as cm:
            await reader.subscriptions.create("http://127.0.0.1:9/o2ims-python-test")
        self.assertTrue(is_forbidden(cm.exception))

    async def test_static_token_from_the_environment(self):
        with mock.patch.dict(os.environ, {"O2IMS_ENDPOINT": self.endpoint, "O2IMS_TOKEN": self.read_token}):
            c = O2IMSClient(verify=self.ca, cert=(self.cert, self.key))
        await c.resource_pools.list()
        self.assertEqual(c.endpoint, self.endpoint)

    async def test_token_without_scope_403(self):
        with self.assertRaises(ProblemError) as cm:
            await self.client(token=self.noscope_token).resource_pools.list()
        self.assertTrue(cm.exception.is_forbidden())
        self.assertTrue(is_auth_error(cm.exception))

    async def test_expired_token_401(self):
        with self.assertRaises(ProblemError) as cm:
            await self.client(token=self.expired_token).cloud_info()
        self.assertTrue(cm.exception.is_unauthorized())
        self.assertIn("invalid_token", cm.exception.headers.get("WWW-Authenticate", ""))

    async def test_wrong_secret_is_refused_once(self):
        before = self.idp_counts()
        c = self.client(oauth2=self.oauth2(SCOPE_READ, secret="wrong", auth_style="header"), retry=RetryPolicy(max_retries=3, base_delay=0.01))
        with self.assertRaises(OAuth2Error) as cm:
            await c.cloud_info()
        self.assertEqual(cm.exception.status, 401)
        self.assertTrue(is_auth_error(cm.exception))
        after = self.idp_counts()
        self.assertEqual(after["issued"], before["issued"])
        self.assertEqual(after["requests"] - before["requests"], 1)  # not retried

    async def test_server_certificate_is_verified(self):
        # Not signed by the system's roots: refused, and not retried.
        c = self.client(verify=True, token=self.read_token, retry=RetryPolicy(max_retries=3, base_delay=2.0))
        start = time.monotonic()
        with self.assertRaises(O2IMSConnectionError) as cm:
            await c.cloud_info()
        self.assertIsInstance(cm.exception.__cause__, ssl.SSLCertVerificationError)
        self.assertLess(time.monotonic() - start, 2.0)

    async def test_verification_off(self):
        c = self.client(verify=False, token=self.read_token)
        self.assertTrue((await c.cloud_info()).o_cloud_id)

    async def test_ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        c = self.client(verify=ctx, token=self.read_token)
        self.assertTrue((await c.cloud_info()).o_cloud_id)

    async def test_client_certificate_is_required(self):
        c = self.client(cert=None, token=self.read_token, retry=RetryPolicy(max_retries=0))
        with self.assertRaises(O2IMSConnectionError):
            await c.cloud_info()

    def test_sync_client(self):
        with SyncO2IMSClient(self.endpoint, oauth2=self.oauth2(SCOPE_READ), verify=self.ca, cert=(self.cert, self.key)) as c:
            self.assertTrue(c.cloud_info().o_cloud_id)
            self.assertTrue(c.resource_types.list())


if __name__ == "__main__":
    unittest.main()
