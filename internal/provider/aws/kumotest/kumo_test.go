package kumotest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/sivchari/kumo"

	awsprovider "github.com/nephoran/o2ims/internal/provider/aws"
	"github.com/nephoran/o2ims/internal/provisioning"
)

// template is a stack kumo can read: JSON, without Parameters (kumo
// reads CreateStack's Parameters as a map, which the SDK's
// Parameters.member.N list does not decode into).
const template = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "SecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
      "GroupDescription": "o2ims kumo cross-check", "VpcId": "vpc-0a1b2c3d4e5f67890",
      "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8"}]
    }}
  }
}`

const (
	keyID     = "AKIAIOSFODNN7EXAMPLE"
	secret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	requestID = "0c9f5f0e-7d1c-4d55-a4a4-6f0e8d2b1c3a"
)

// TestStackRealizerAgainstKumo creates, updates and deletes a stack with
// the StackRealizer, whose provider's real CloudFormation client calls
// kumo.
func TestStackRealizerAgainstKumo(t *testing.T) {
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := awsprovider.New(awsprovider.Options{
		Name: "kumo", Region: "us-east-1", Endpoint: srv.URL, SelfContained: true,
		Credentials: &awsprovider.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		VPCID:       "vpc-0a1b2c3d4e5f67890", Tags: map[string]string{"ManagedBy": "o2ims"},
		MaxAttempts: 2, MaxBackoff: 10 * time.Millisecond,
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	r := awsprovider.NewStackRealizer(func(_ context.Context, id string) (*awsprovider.Provider, error) {
		if id == p.DeploymentManagerID() {
			return p, nil
		}
		return nil, awsprovider.ProviderNotFound(id)
	}, logger)
	job := provisioning.Job{
		RequestID:  requestID,
		Template:   provisioning.Template{Name: "kumo-check", Version: "1.0.0", Kind: awsprovider.TemplateKind, Body: []byte(template)},
		Parameters: map[string]any{"deploymentManagerId": p.DeploymentManagerID()},
	}
	cfn := cloudformation.New(cloudformation.Options{Region: "us-east-1", BaseEndpoint: awssdk.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, "")})
	name := awsprovider.StackName(requestID)
	stack := func() (string, string) {
		t.Helper()
		out, err := cfn.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: awssdk.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Stacks) != 1 {
			t.Fatalf("stacks %+v", out.Stacks)
		}
		res, err := cfn.DescribeStackResources(context.Background(), &cloudformation.DescribeStackResourcesInput{StackName: awssdk.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, r := range res.StackResources {
			types = append(types, awssdk.ToString(r.LogicalResourceId)+"="+awssdk.ToString(r.ResourceType))
		}
		return string(out.Stacks[0].StackStatus), strings.Join(types, ",")
	}

	apply := func(call func(context.Context, provisioning.Job) (provisioning.Progress, error)) provisioning.Progress {
		t.Helper()
		for range 6 {
			pr, err := call(context.Background(), job)
			if err != nil {
				t.Fatal(err)
			}
			job.State = pr.State
			if pr.Phase != provisioning.Progressing {
				return pr
			}
		}
		t.Fatal("no final phase")
		return provisioning.Progress{}
	}

	if pr := apply(r.Apply); pr.Phase != provisioning.Fulfilled {
		t.Fatalf("create: %+v", pr)
	}
	if status, resources := stack(); status != "CREATE_COMPLETE" || resources != "SecurityGroup=AWS::EC2::SecurityGroup" {
		t.Errorf("created stack: %s, resources %s", status, resources)
	}

	// A new version of the template updates the stack.
	job.Template.Version, job.Template.Body = "1.1.0", []byte(strings.Replace(template, `"FromPort": 22, "ToPort": 22`, `"FromPort": 8080, "ToPort": 8080`, 1))
	if pr := apply(r.Apply); pr.Phase != provisioning.Fulfilled {
		t.Fatalf("update: %+v", pr)
	}
	if status, _ := stack(); status != "UPDATE_COMPLETE" {
		t.Errorf("updated stack: %s", status)
	}

	if pr := apply(r.Delete); pr.Phase != provisioning.Deleted {
		t.Fatalf("delete: %+v", pr)
	}
	out, err := cfn.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: awssdk.String(name)})
	if err == nil && (len(out.Stacks) != 1 || out.Stacks[0].StackStatus != "DELETE_COMPLETE") {
		t.Errorf("the deleted stack: %+v", out.Stacks)
	}
}
