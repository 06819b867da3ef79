package aws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provider/aws/ec2test"
	"github.com/nephoran/o2ims/internal/provisioning"
)

const (
	requestID = "5b0e8d7e-3c55-4f0a-9d43-1c1e2d3f4a5b"
	bootstrap = "abcdef.0123456789abcdef"
	caHash    = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// computeStack loads the built-in aws-compute-stack template.
func computeStack(t *testing.T) provisioning.Template {
	t.Helper()
	raw, err := os.ReadFile("../../provisioning/templates/aws-compute-stack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Name            string         `yaml:"name"`
		Version         string         `yaml:"version"`
		Description     string         `yaml:"description"`
		Kind            string         `yaml:"kind"`
		ParameterSchema map[string]any `yaml:"parameterSchema"`
		Defaults        map[string]any `yaml:"defaults"`
		Body            string         `yaml:"body"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schema, err := json.Marshal(doc.ParameterSchema)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Name != "aws-compute-stack" || doc.Kind != TemplateKind || doc.Body == "" {
		t.Fatalf("template %+v", doc)
	}
	return provisioning.Template{Name: doc.Name, Version: doc.Version, Description: doc.Description, Kind: doc.Kind,
		ParameterSchema: schema, Defaults: doc.Defaults, Body: []byte(doc.Body)}
}

// lookupOf finds the given providers by their deployment managers.
func lookupOf(ps ...*Provider) ProviderLookup {
	return func(_ context.Context, id string) (*Provider, error) {
		for _, p := range ps {
			if p.DeploymentManagerID() == id {
				return p, nil
			}
		}
		return nil, ProviderNotFound(id)
	}
}

// params are a request's templateParameters: the template's defaults
// and the given ones.
func params(tmpl provisioning.Template, p *Provider, kv ...string) map[string]any {
	out := map[string]any{"deploymentManagerId": p.DeploymentManagerID()}
	for k, v := range tmpl.Defaults {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// realize calls apply (Apply or Delete) as the provisioning service
// would, with the state of the previous call, until a final phase.
func realize(t *testing.T, apply func(context.Context, provisioning.Job) (provisioning.Progress, error), job *provisioning.Job) provisioning.Progress {
	t.Helper()
	for range 12 {
		pr, err := apply(context.Background(), *job)
		if err != nil {
			t.Fatal(err)
		}
		job.State = pr.State
		if pr.Phase != provisioning.Progressing {
			return pr
		}
		if pr.RetryAfter <= 0 {
			t.Errorf("progressing without RetryAfter: %+v", pr)
		}
	}
	t.Fatal("no final phase after 12 calls")
	return provisioning.Progress{}
}

func discovered(t *testing.T, p *Provider, resourceID string) (ims.Resource, bool) {
	t.Helper()
	snap, err := p.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(snap.Resources, func(r ims.Resource) bool { return r.ResourceID == resourceID })
	if i < 0 {
		return ims.Resource{}, false
	}
	return snap.Resources[i], true
}

// stackWorld is the test server's world, its provider, the template and
// a realizer finding the provider.
func stackWorld(t *testing.T) (*ec2test.Server, *Provider, provisioning.Template, *StackRealizer) {
	t.Helper()
	s := world(t, ec2test.Options{})
	p := newProvider(t, testOptions(s))
	return s, p, computeStack(t), NewStackRealizer(lookupOf(p), p.logger)
}

// TestStackRealizerLifecycle provisions aws-compute-stack with the real
// SDK against the test server, finds its instance in the inventory,
// changes its instance type (also across a restart), and deletes it.
func TestStackRealizerLifecycle(t *testing.T) {
	s := world(t, ec2test.Options{PageSize: 2})
	p := newProvider(t, testOptions(s))
	tmpl := computeStack(t)
	r := NewStackRealizer(lookupOf(p), p.logger)
	job := provisioning.Job{RequestID: requestID, Template: tmpl, Parameters: params(tmpl, p,
		"InstanceType", "t3.medium", "AgentBootstrapToken", bootstrap, "AgentCAHash", caHash, "O2imsServer", "https://ims.example.net:8443")}

	pr := realize(t, r.Apply, &job)
	if pr.Phase != provisioning.Fulfilled || len(pr.Resources) != 1 {
		t.Fatalf("apply: %+v", pr)
	}
	res := pr.Resources[0]
	if res.Name != "Instance" || res.Phase != provisioning.ResourceProvisioned || res.ID == "" {
		t.Fatalf("resource %+v", res)
	}
	if calls := s.Calls("CreateStack"); len(calls) != 1 || calls[0].Params.Get("StackName") != "o2ims-"+requestID {
		t.Fatalf("CreateStack calls %+v", calls)
	}

	// Discovery lists the instance under the resource's id, in the pool of
	// the subnet's zone (the VPC's first subnet, us-east-1a).
	found, ok := discovered(t, p, res.ID)
	if !ok {
		t.Fatalf("resource %s not discovered", res.ID)
	}
	instanceID := found.Extensions["instanceId"].(string)
	tags := found.Extensions["tags"].(map[string]string)
	if found.ResourcePoolID != p.poolID("us-east-1a") || found.Extensions["instanceType"] != "t3.medium" || found.Extensions["subnetId"] != subnetA ||
		tags[RequestTag] != requestID || tags["ManagedBy"] != "o2ims" || tags["aws:cloudformation:logical-id"] != "Instance" || tags["Name"] != "o2ims-"+requestID {
		t.Errorf("discovered %+v", found)
	}
	// The instance runs the agent's installer with the request's settings.
	in, _ := s.Instance(instanceID)
	if in.ImageID != "ami-0c0ffee0c0ffee000" { // the latest image, as the test server resolves SSM parameters
		t.Errorf("image %s", in.ImageID)
	}
	userData, _ := base64.StdEncoding.DecodeString(in.UserData)
	for _, want := range []string{
		"exec /opt/o2ims/install.sh --binary /opt/o2ims/o2ims", "--server 'https://ims.example.net:8443'",
		"--bootstrap-token '" + bootstrap + "'", "--ca-hash '" + caHash + "'", "--pool '" + p.poolID("us-east-1a") + "'",
	} {
		if !strings.Contains(string(userData), want) {
			t.Errorf("user data lacks %q:\n%s", want, userData)
		}
	}
	if strings.Contains(string(userData), "curl") || strings.Contains(string(userData), "wget") || in.KeyName != "" {
		t.Errorf("user data downloads, or a key pair was set: %q\n%s", in.KeyName, userData)
	}
	groups := s.SecurityGroups()
	if len(groups) != 1 || groups[0].VPCID != testVPC || !slices.Equal(groups[0].Ingress, []ec2test.IngressRule{
		{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "10.0.0.0/8"}, {Protocol: "tcp", FromPort: 8080, ToPort: 8080, CIDR: "10.0.0.0/8"}}) {
		t.Errorf("security groups %+v", groups)
	}
	// The stack carries the provider's tags and the request's.
	c := s.Calls("CreateStack")[0]
	var stackTags []string
	for i := 1; c.Params.Has("Tags.member." + itoa(i) + ".Key"); i++ {
		stackTags = append(stackTags, c.Params.Get("Tags.member."+itoa(i)+".Key")+"="+c.Params.Get("Tags.member."+itoa(i)+".Value"))
	}
	if !slices.Equal(stackTags, []string{"ManagedBy=o2ims", "Project=nephoran", RequestTag + "=" + requestID}) {
		t.Errorf("stack tags %v", stackTags)
	}

	// Unchanged: fulfilled at once, nothing sent.
	if pr := realize(t, r.Apply, &job); pr.Phase != provisioning.Fulfilled || len(s.Calls("UpdateStack")) != 0 {
		t.Fatalf("re-apply: %+v, %d updates", pr, len(s.Calls("UpdateStack")))
	}

	// A new instance type updates the stack; the instance keeps its id.
	job.Parameters["InstanceType"] = "m5.large"
	pr = realize(t, r.Apply, &job)
	if pr.Phase != provisioning.Fulfilled || len(pr.Resources) != 1 || pr.Resources[0].ID != res.ID || len(s.Calls("UpdateStack")) != 1 {
		t.Fatalf("update: %+v", pr)
	}
	if in, _ := s.Instance(instanceID); in.Type != "m5.large" || in.State != "running" {
		t.Errorf("updated instance %+v", in)
	}
	if found, _ := discovered(t, p, res.ID); found.Extensions["instanceType"] != "m5.large" {
		t.Errorf("discovered after the update %+v", found)
	}

	// A restart mid-update: a new realizer goes on from the stored state,
	// without starting the update again.
	job.Parameters["InstanceType"] = "t3.medium"
	first, err := r.Apply(context.Background(), job)
	if err != nil || first.Phase != provisioning.Progressing {
		t.Fatalf("first call: %+v, %v", first, err)
	}
	job.State = first.State
	var st stackState
	if err := json.Unmarshal(job.State, &st); err != nil || st.Operation != "update" || !strings.Contains(st.StackID, ":stack/o2ims-"+requestID+"/") {
		t.Fatalf("state %s: %v", job.State, err)
	}
	restarted := NewStackRealizer(lookupOf(newProvider(t, testOptions(s))), p.logger)
	if pr := realize(t, restarted.Apply, &job); pr.Phase != provisioning.Fulfilled || len(s.Calls("UpdateStack")) != 2 {
		t.Fatalf("after the restart: %+v, %d updates", pr, len(s.Calls("UpdateStack")))
	}
	if in, _ := s.Instance(instanceID); in.Type != "t3.medium" {
		t.Errorf("instance after the restart %+v", in)
	}

	// Deletion terminates the instance; discovery no longer lists it.
	pr = realize(t, r.Delete, &job)
	if pr.Phase != provisioning.Deleted {
		t.Fatalf("delete: %+v", pr)
	}
	if in, _ := s.Instance(instanceID); in.State != "terminated" {
		t.Errorf("instance after the deletion %+v", in)
	}
	if _, ok := discovered(t, p, res.ID); ok {
		t.Errorf("resource %s still discovered", res.ID)
	}
	if status, _ := s.StackStatus("o2ims-" + requestID); status != "DELETE_COMPLETE" {
		t.Errorf("stack %s", status)
	}
	// Deleting again: gone.
	if pr := realize(t, r.Delete, &job); pr.Phase != provisioning.Deleted || len(s.Calls("DeleteStack")) != 1 {
		t.Errorf("second delete: %+v", pr)
	}
}

// TestStackRealizerFailures: what CloudFormation refuses or rolls back
// fails the request with its message; a changed request recovers.
func TestStackRealizerFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(*ec2test.Server)
		params  []string
		want    string
	}{
		{"insufficient capacity", func(s *ec2test.Server) {
			s.RefuseInstanceType("m5.large", ec2test.APIError{Code: "InsufficientInstanceCapacity"})
		}, nil, "stack o2ims-" + requestID + ": ROLLBACK_COMPLETE: Instance: Resource handler returned message: \"We currently do not have sufficient m5.large capacity in the Availability Zone you requested (us-east-1a)."},
		{"refused parameter", nil, []string{"InstanceType", "m5.xlarge"}, "CloudFormation refused stack o2ims-" + requestID + ": Parameter 'InstanceType' must be one of AllowedValues"},
		{"subnet of another VPC", nil, []string{"SubnetId", subnetC}, "templateParameters.SubnetId: " + subnetC + " is not a subnet of VPC " + testVPC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, p, tmpl, r := stackWorld(t)
			if tc.prepare != nil {
				tc.prepare(s)
			}
			job := provisioning.Job{RequestID: requestID, Template: tmpl, Parameters: params(tmpl, p, tc.params...)}
			pr := realize(t, r.Apply, &job)
			if pr.Phase != provisioning.Failed || !strings.HasPrefix(pr.Message, tc.want) {
				t.Fatalf("got %s %q\nwant prefix %q", pr.Phase, pr.Message, tc.want)
			}
			// Asked again, it stays failed without a new attempt.
			creates := len(s.Calls("CreateStack"))
			if again := realize(t, r.Apply, &job); again.Phase != provisioning.Failed || again.Message != pr.Message || len(s.Calls("CreateStack")) != creates {
				t.Errorf("again: %+v", again)
			}
			// A request changed to what can run is realized: a rolled-back
			// stack is deleted and created anew.
			job.Parameters = params(tmpl, p, "InstanceType", "t3.medium")
			if pr := realize(t, r.Apply, &job); pr.Phase != provisioning.Fulfilled {
				t.Fatalf("changed request: %+v", pr)
			}
			if pr := realize(t, r.Delete, &job); pr.Phase != provisioning.Deleted {
				t.Fatalf("delete: %+v", pr)
			}
		})
	}

	t.Run("update rolled back", func(t *testing.T) {
		s, p, tmpl, r := stackWorld(t)
		job := provisioning.Job{RequestID: requestID, Template: tmpl, Parameters: params(tmpl, p, "InstanceType", "t3.medium")}
		pr := realize(t, r.Apply, &job)
		if pr.Phase != provisioning.Fulfilled {
			t.Fatalf("create: %+v", pr)
		}
		s.RefuseInstanceType("m5.large", ec2test.APIError{Status: 400, Code: "Unsupported", Message: "The requested configuration is currently not supported. Please check the documentation for supported configurations."})
		job.Parameters["InstanceType"] = "m5.large"
		failed := realize(t, r.Apply, &job)
		want := "stack o2ims-" + requestID + ": UPDATE_ROLLBACK_COMPLETE: Instance: Resource handler returned message: \"The requested configuration is currently not supported."
		if failed.Phase != provisioning.Failed || !strings.HasPrefix(failed.Message, want) {
			t.Fatalf("got %s %q\nwant prefix %q", failed.Phase, failed.Message, want)
		}
		// The stack still runs the old type; its instance stays a resource.
		if len(failed.Resources) != 1 || failed.Resources[0].ID != pr.Resources[0].ID || failed.Resources[0].Phase != provisioning.ResourceProvisioned {
			t.Errorf("resources after the rollback %+v", failed.Resources)
		}
		// Back to the type it runs: nothing to update, fulfilled.
		job.Parameters["InstanceType"] = "t3.medium"
		if pr := realize(t, r.Apply, &job); pr.Phase != provisioning.Fulfilled || len(s.Calls("UpdateStack")) != 2 {
			t.Fatalf("reverted: %+v, %d updates", pr, len(s.Calls("UpdateStack")))
		}
	})

	t.Run("throttling is transient", func(t *testing.T) {
		s, p, tmpl, r := stackWorld(t) // 3 attempts
		for range 3 {
			s.FailNext("CreateStack", ec2test.CloudFormationThrottled())
		}
		job := provisioning.Job{RequestID: requestID, Template: tmpl, Parameters: params(tmpl, p, "ImageId", "ami-0123456789abcdef0")}
		_, err := r.Apply(context.Background(), job)
		if err == nil || !strings.Contains(err.Error(), "still throttled after 3 attempts (Throttling: Rate exceeded)") {
			t.Fatalf("want a transient error, got %v", err)
		}
		pr := realize(t, r.Apply, &job)
		if pr.Phase != provisioning.Fulfilled {
			t.Fatalf("after the throttling: %+v", pr)
		}
		if found, _ := discovered(t, p, pr.Resources[0].ID); found.Extensions["imageId"] != "ami-0123456789abcdef0" {
			t.Errorf("the given image: %+v", found)
		}
	})

	t.Run("provider gone", func(t *testing.T) {
		_, p, tmpl, _ := stackWorld(t)
		r := NewStackRealizer(lookupOf(), p.logger)
		job := provisioning.Job{RequestID: requestID, Template: tmpl, Parameters: params(tmpl, p)}
		want := "deployment manager " + p.DeploymentManagerID() + " is not a registered AWS provider"
		if pr := realize(t, r.Apply, &job); pr.Phase != provisioning.Failed || pr.Message != want {
			t.Errorf("apply: %+v", pr)
		}
		if pr := realize(t, r.Delete, &job); pr.Phase != provisioning.Failed || !strings.HasPrefix(pr.Message, want) {
			t.Errorf("delete: %+v", pr)
		}
	})
}

func TestStackRealizerValidate(t *testing.T) {
	s := world(t, ec2test.Options{})
	opts := testOptions(s)
	opts.Subnets = []Subnet{{ID: subnetA, Zone: "us-east-1a"}, {ID: subnetB}}
	p := newProvider(t, opts)
	tmpl := computeStack(t)
	r := NewStackRealizer(lookupOf(p), p.logger)
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"valid", params(tmpl, p, "InstanceType", "t3.medium", "SubnetId", subnetB), ""},
		{"unknown deployment manager", map[string]any{"deploymentManagerId": "0d6f0c7e-0000-4000-8000-000000000000"},
			`templateParameters.deploymentManagerId: "0d6f0c7e-0000-4000-8000-000000000000" is not the deployment manager of a registered AWS provider`},
		{"unsupported instance type", params(tmpl, p, "InstanceType", "c5.xlarge"),
			`templateParameters.InstanceType: "c5.xlarge" is not among the instance types of deployment manager ` + p.DeploymentManagerID() + ` (t3.medium, m5.large, m5.xlarge)`},
		{"subnet not the provider's", params(tmpl, p, "SubnetId", subnetA2), `templateParameters.SubnetId: "` + subnetA2 + `" is not among the subnets`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Validate(context.Background(), tmpl, tc.params)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (ims.ErrorCode(err) != ims.EINVALID || !strings.HasPrefix(ims.ErrorMessage(err), tc.want)):
				t.Errorf("got %v\nwant %s: %s", err, ims.EINVALID, tc.want)
			}
		})
	}
}

func TestStackName(t *testing.T) {
	for in, want := range map[string]string{
		requestID:                "o2ims-" + requestID,
		"a_b.c":                  "o2ims-a-b-c",
		strings.Repeat("x", 200): "o2ims-" + strings.Repeat("x", 122),
	} {
		if got := StackName(in); got != want {
			t.Errorf("StackName(%q) = %q, want %q", in, got, want)
		}
	}
}
