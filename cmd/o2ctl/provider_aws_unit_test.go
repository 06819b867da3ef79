package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// runWithEnv runs o2ctl against endpoint with the given environment (and
// a private HOME).
func runWithEnv(t *testing.T, endpoint string, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	home := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"--endpoint", endpoint}, args...), &stdout, &stderr, func(k string) string {
		if k == "HOME" {
			return home
		}
		return env[k]
	})
	return stdout.String(), stderr.String(), code
}

func TestProviderAddAWS(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		return 201, `{"providerId":"pr1","name":"aws-edge","type":"aws","origin":"api","status":{"providerId":"pr1","name":"aws-edge","healthy":false}}`
	})
	creds := writeFile(t, "credentials", "[default]\naws_access_key_id = AKIADEFAULT000000000\naws_secret_access_key = def\n\n"+
		"# the lab account\n[lab]\naws_access_key_id=AKIALAB0000000000000\naws_secret_access_key = lab/secret\naws_session_token = tok\n")
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV0000000000000", "AWS_SECRET_ACCESS_KEY": "env-secret"}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"environment", env, []string{"--region", "us-east-1", "--vpc", "vpc-0a1b2c3d4e5f67890"},
			`{"name":"aws-edge","type":"aws","config":{"region":"us-east-1","credentials":{"accessKeyId":"AKIAENV0000000000000","secretAccessKey":"env-secret"},"vpc":{"vpcId":"vpc-0a1b2c3d4e5f67890"}}}`},
		{"every option", nil, []string{"--region", "us-east-1", "--vpc", "vpc-0a1b2c3d4e5f67890", "--subnet", "subnet-0aaaaaaaaaaaaaaa1:us-east-1a:public",
			"--subnet", "subnet-0bbbbbbbbbbbbbbb1", "--instance-types", "t3.medium,m5.large", "--default-instance-type", "m5.large",
			"--tag", "ManagedBy=o2ims", "--tag", "Project=nephoran", "--vcpus", "64", "--memory-gib", "256", "--aws-endpoint", "http://127.0.0.1:4566",
			"--credentials-file", creds, "--profile", "lab"},
			`{"name":"aws-edge","type":"aws","config":{"region":"us-east-1","credentials":{"accessKeyId":"AKIALAB0000000000000","secretAccessKey":"lab/secret","sessionToken":"tok"},` +
				`"vpc":{"vpcId":"vpc-0a1b2c3d4e5f67890","subnets":[{"id":"subnet-0aaaaaaaaaaaaaaa1","zone":"us-east-1a","type":"public"},{"id":"subnet-0bbbbbbbbbbbbbbb1"}]},` +
				`"instance_types":{"supported":["t3.medium","m5.large"],"default":"m5.large"},"tags":{"default":{"ManagedBy":"o2ims","Project":"nephoran"}},` +
				`"capacity":{"vcpus":64,"memoryGiB":256},"endpoint":"http://127.0.0.1:4566"}}`},
		{"profile from the environment", map[string]string{"AWS_PROFILE": "default"}, []string{"--region", "eu-west-1", "--vpc", "vpc-0a1b2c3d4e5f67890", "--credentials-file", creds},
			`{"name":"aws-edge","type":"aws","config":{"region":"eu-west-1","credentials":{"accessKeyId":"AKIADEFAULT000000000","secretAccessKey":"def"},"vpc":{"vpcId":"vpc-0a1b2c3d4e5f67890"}}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(ims.requests())
			out, errOut, code := runWithEnv(t, ims.URL, c.env, append([]string{"provider", "add", "aws-edge", "--type", "aws"}, c.args...)...)
			if code != 0 || out != "pr1\n" || errOut != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			reqs := ims.requests()
			if want := "POST " + neph + "/providers application/json " + c.want; len(reqs) != before+1 || reqs[before] != want {
				t.Errorf("requests %q\nwant %s", reqs[before:], want)
			}
		})
	}
}

func TestProviderAddAWSUsageErrors(t *testing.T) {
	ims := newFakeIMS(t, func(*http.Request) (int, string) { return 500, `{}` })
	creds := writeFile(t, "credentials", "[default]\naws_access_key_id = AKIADEFAULT000000000\n")
	kubeconfig := writeFile(t, "k", "x")
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV0000000000000", "AWS_SECRET_ACCESS_KEY": "env-secret"}
	base := []string{"provider", "add", "aws-edge", "--type", "aws", "--region", "us-east-1", "--vpc", "vpc-0a1b2c3d4e5f67890"}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env, []string{"provider", "add", "aws-edge", "--type", "aws", "--vpc", "vpc-0a1b2c3d4e5f67890"}, "--type aws needs --region and --vpc"},
		{nil, base, "--type aws needs an access key"},
		{env, append(base, "--profile", "lab"), "--profile selects a profile of --credentials-file"},
		{nil, append(base, "--credentials-file", creds), "profile default has no aws_access_key_id and aws_secret_access_key"},
		{env, append(base, "--tag", "novalue"), `--tag "novalue": want KEY=VALUE`},
		{env, append(base, "--subnet", "a:b:c:d"), "want ID[:ZONE[:public|private]]"},
		{env, append(base, "--vcpus", "8"), "--vcpus and --memory-gib go together"},
		{env, append(base, "--kubeconfig", kubeconfig), "--type aws takes --region, --vpc and their options only"},
		{env, []string{"provider", "add", "edge", "--kubeconfig", kubeconfig, "--region", "us-east-1"}, "--region is a flag of --type aws"},
	} {
		out, errOut, code := runWithEnv(t, ims.URL, c.env, c.args...)
		if code != exitError || out != "" || !strings.HasPrefix(errOut, "o2ctl: ") || !strings.Contains(errOut, c.want) {
			t.Errorf("o2ctl %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(c.args, " "), code, out, errOut, c.want)
		}
	}
	if reqs := ims.requests(); len(reqs) != 0 {
		t.Errorf("requests sent:\n%s", strings.Join(reqs, "\n"))
	}
}
