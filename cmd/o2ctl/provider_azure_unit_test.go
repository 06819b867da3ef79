package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestProviderAddAzure(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		return 201, `{"providerId":"pr2","name":"azure-edge","type":"azure","origin":"api","status":{"providerId":"pr2","name":"azure-edge","healthy":false}}`
	})
	secret := writeFile(t, "secret", "file~secret\n")
	base := []string{"provider", "add", "azure-edge", "--type", "azure", "--subscription-id", "11111111-2222-3333-4444-555555555555",
		"--tenant-id", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "--client-id", "99999999-8888-7777-6666-555555555555",
		"--resource-group", "rg-edge", "--location", "westeurope", "--vnet", "vnet-edge"}
	principal := `"subscriptionId":"11111111-2222-3333-4444-555555555555","tenantId":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","clientId":"99999999-8888-7777-6666-555555555555"`
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"environment", map[string]string{"AZURE_CLIENT_SECRET": "env~secret"}, base,
			`{"name":"azure-edge","type":"azure","config":{` + principal + `,"clientSecret":"env~secret","resourceGroup":"rg-edge","location":"westeurope","networking":{"vnetName":"vnet-edge"}}}`},
		{"every option", map[string]string{"AZURE_CLIENT_SECRET": "env~secret"}, append(base, "--client-secret-file", secret,
			"--azure-subnet", "compute:compute", "--azure-subnet", "storage:storage", "--vm-sizes", "Standard_D2s_v5,Standard_D4s_v5",
			"--default-vm-size", "Standard_D2s_v5", "--tag", "ManagedBy=o2ims", "--vcpus", "64", "--memory-gib", "256", "--cloud", "AzureChina"),
			`{"name":"azure-edge","type":"azure","config":{"tags":{"default":{"ManagedBy":"o2ims"}},"capacity":{"vcpus":64,"memoryGiB":256},` + principal +
				`,"clientSecret":"file~secret","resourceGroup":"rg-edge","location":"westeurope","networking":{"vnetName":"vnet-edge","subnets":[{"name":"compute","purpose":"compute"},{"name":"storage","purpose":"storage"}]},` +
				`"vmSizes":{"supported":["Standard_D2s_v5","Standard_D4s_v5"],"default":"Standard_D2s_v5"},"cloud":"AzureChina"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(ims.requests())
			out, errOut, code := runWithEnv(t, ims.URL, c.env, c.args...)
			if code != 0 || out != "pr2\n" || errOut != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			reqs := ims.requests()
			if want := "POST " + neph + "/providers application/json " + c.want; len(reqs) != before+1 || reqs[before] != want {
				t.Errorf("requests %q\nwant %s", reqs[before:], want)
			}
		})
	}
}

func TestProviderAddAzureUsageErrors(t *testing.T) {
	ims := newFakeIMS(t, func(*http.Request) (int, string) { return 500, `{}` })
	kubeconfig := writeFile(t, "k", "x")
	env := map[string]string{"AZURE_CLIENT_SECRET": "env~secret"}
	base := []string{"provider", "add", "azure-edge", "--type", "azure", "--subscription-id", "s", "--tenant-id", "t", "--client-id", "c",
		"--resource-group", "rg", "--location", "westeurope", "--vnet", "v"}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env, []string{"provider", "add", "azure-edge", "--type", "azure", "--subscription-id", "s"}, "--type azure needs --subscription-id, --tenant-id"},
		{nil, base, "--type azure needs the client secret"},
		{env, append(base, "--azure-subnet", "a:b:c"), "want NAME[:compute|storage]"},
		{env, append(base, "--tag", "novalue"), `--tag "novalue": want KEY=VALUE`},
		{env, append(base, "--memory-gib", "8"), "--vcpus and --memory-gib go together"},
		{env, append(base, "--region", "us-east-1"), "--region is a flag of --type aws"},
		{env, append(base, "--kubeconfig", kubeconfig), "--type azure takes --subscription-id, --resource-group and their options only"},
		{env, []string{"provider", "add", "edge", "--kubeconfig", kubeconfig, "--vnet", "v"}, "--vnet is a flag of --type azure"},
		{env, []string{"provider", "add", "edge", "--kubeconfig", kubeconfig, "--tag", "a=b"}, "--tag is a flag of --type aws and --type azure"},
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
