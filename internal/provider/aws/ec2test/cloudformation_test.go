package ec2test_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/nephoran/o2ims/internal/provider/aws/ec2test"
)

const (
	keyID  = "AKIAIOSFODNN7EXAMPLE"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	vpc    = "vpc-0a1b2c3d4e5f67890"
	subnet = "subnet-0aaaaaaaaaaaaaaa1"
)

// yamlTemplate uses YAML's short forms, a condition and a NoEcho
// parameter.
const yamlTemplate = `
Parameters:
  InstanceType:
    Type: String
    Default: m5.large
    AllowedValues: [t3.medium, m5.large, c5.xlarge]
  KeyPairName:
    Type: String
    Default: ""
  ImageId:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
  VpcId:
    Type: AWS::EC2::VPC::Id
  SubnetId:
    Type: AWS::EC2::Subnet::Id
  Token:
    Type: String
    NoEcho: true
    Default: ""
Conditions:
  HasKeyPair: !Not [!Equals [!Ref KeyPairName, ""]]
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub "stack ${AWS::StackName}"
      VpcId: !Ref VpcId
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 10.0.0.0/8}
        - {IpProtocol: tcp, FromPort: 8080, ToPort: 8080, CidrIp: 10.0.0.0/8}
  Node:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref InstanceType
      ImageId: !Ref ImageId
      SubnetId: !Ref SubnetId
      KeyName: !If [HasKeyPair, !Ref KeyPairName, !Ref "AWS::NoValue"]
      SecurityGroupIds: [!GetAtt Group.GroupId]
      Tags: [{Key: Name, Value: !Ref "AWS::StackName"}]
      UserData:
        Fn::Base64: !Sub |
          #!/bin/sh
          install --token '${Token}' --group ${Group}
`

// jsonTemplate is the same kind of stack in JSON's long forms.
const jsonTemplate = `{
  "Parameters": {"Type": {"Type": "String"}, "Subnet": {"Type": "String"}},
  "Resources": {
    "A": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": {"Ref": "Type"}, "ImageId": "ami-0123456789abcdef0",
      "SubnetId": {"Ref": "Subnet"}, "UserData": {"Fn::Base64": {"Fn::Join": ["", ["a=", {"Ref": "AWS::Region"}]]}}}}
  }
}`

func server(t *testing.T, opts ec2test.Options) *ec2test.Server {
	t.Helper()
	opts.AccessKeyID, opts.SecretAccessKey = keyID, secret
	s := ec2test.New(opts)
	t.Cleanup(s.Close)
	s.AddZone(ec2test.Zone{Name: "us-east-1a", ID: "use1-az1"})
	s.AddVPC(ec2test.VPC{ID: vpc, CIDR: "10.0.0.0/16"})
	s.AddSubnet(ec2test.Subnet{ID: subnet, VPCID: vpc, Zone: "us-east-1a", CIDR: "10.0.1.0/24"})
	return s
}

func client(s *ec2test.Server, attempts int) *cloudformation.Client {
	return cloudformation.New(cloudformation.Options{
		Region: "us-east-1", BaseEndpoint: awssdk.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.MaxBackoff = time.Millisecond
		}),
	})
}

func params(kv ...string) []cfntypes.Parameter {
	var out []cfntypes.Parameter
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, cfntypes.Parameter{ParameterKey: awssdk.String(kv[i]), ParameterValue: awssdk.String(kv[i+1])})
	}
	return out
}

func describe(t *testing.T, c *cloudformation.Client, name string) cfntypes.Stack {
	t.Helper()
	out, err := c.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: awssdk.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Stacks) != 1 {
		t.Fatalf("stacks %+v", out.Stacks)
	}
	return out.Stacks[0]
}

func instanceOf(t *testing.T, c *cloudformation.Client, name, logicalID string) string {
	t.Helper()
	out, err := c.DescribeStackResources(context.Background(), &cloudformation.DescribeStackResourcesInput{StackName: awssdk.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.StackResources {
		if awssdk.ToString(r.LogicalResourceId) == logicalID {
			return awssdk.ToString(r.PhysicalResourceId)
		}
	}
	t.Fatalf("no resource %s in %+v", logicalID, out.StackResources)
	return ""
}

func apiError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("want an API error, got %v", err)
	}
	return api
}

// TestStackLifecycle creates a YAML stack step by step, updates its
// instance type, and deletes it.
func TestStackLifecycle(t *testing.T) {
	s := server(t, ec2test.Options{ManualSteps: true})
	c := client(s, 1)
	ctx := context.Background()
	created, err := c.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: awssdk.String("edge"), TemplateBody: awssdk.String(yamlTemplate),
		Parameters: params("VpcId", vpc, "SubnetId", subnet, "InstanceType", "t3.medium", "Token", "abcdef.0123456789abcdef"),
		Tags:       []cfntypes.Tag{{Key: awssdk.String("ManagedBy"), Value: awssdk.String("o2ims")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := awssdk.ToString(created.StackId)
	if !strings.HasPrefix(id, "arn:aws:cloudformation:us-east-1:123456789012:stack/edge/") {
		t.Errorf("stack id %s", id)
	}
	st := describe(t, c, "edge")
	if st.StackStatus != cfntypes.StackStatusCreateInProgress {
		t.Fatalf("status %s", st.StackStatus)
	}
	// The NoEcho parameter is masked.
	for _, p := range st.Parameters {
		if awssdk.ToString(p.ParameterKey) == "Token" && awssdk.ToString(p.ParameterValue) != "****" {
			t.Errorf("Token shown as %s", awssdk.ToString(p.ParameterValue))
		}
	}

	s.Step() // resources created, the instance pending
	if st := describe(t, c, "edge"); st.StackStatus != cfntypes.StackStatusCreateInProgress {
		t.Fatalf("after one step: %s", st.StackStatus)
	}
	node := instanceOf(t, c, "edge", "Node")
	in, ok := s.Instance(node)
	if !ok || in.State != "pending" || in.Type != "t3.medium" || in.SubnetID != subnet || in.KeyName != "" || in.ImageID == "" {
		t.Fatalf("instance %+v", in)
	}
	wantTags := map[string]string{"ManagedBy": "o2ims", "Name": "edge", "aws:cloudformation:stack-name": "edge",
		"aws:cloudformation:stack-id": id, "aws:cloudformation:logical-id": "Node"}
	for k, v := range wantTags {
		if in.Tags[k] != v {
			t.Errorf("tag %s=%q, want %q", k, in.Tags[k], v)
		}
	}
	groups := s.SecurityGroups()
	if len(groups) != 1 || groups[0].VPCID != vpc || len(groups[0].Ingress) != 2 || groups[0].Ingress[1] != (ec2test.IngressRule{Protocol: "tcp", FromPort: 8080, ToPort: 8080, CIDR: "10.0.0.0/8"}) ||
		!slices.Equal(in.SecurityGroupIDs, []string{groups[0].ID}) || groups[0].Description != "stack edge" {
		t.Errorf("security groups %+v, instance's %v", groups, in.SecurityGroupIDs)
	}
	ud, _ := base64.StdEncoding.DecodeString(in.UserData)
	if want := "#!/bin/sh\ninstall --token 'abcdef.0123456789abcdef' --group " + groups[0].ID + "\n"; string(ud) != want {
		t.Errorf("user data %q, want %q", ud, want)
	}

	s.Step() // running: complete
	if st := describe(t, c, "edge"); st.StackStatus != cfntypes.StackStatusCreateComplete {
		t.Fatalf("after two steps: %s", st.StackStatus)
	}
	if in, _ := s.Instance(node); in.State != "running" {
		t.Errorf("instance %s", in.State)
	}
	// Creating it again is refused; with the first token it is the same.
	_, err = c.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: awssdk.String("edge"), TemplateBody: awssdk.String(yamlTemplate),
		Parameters: params("VpcId", vpc, "SubnetId", subnet)})
	if api := apiError(t, err); api.ErrorCode() != "AlreadyExistsException" || api.ErrorMessage() != "Stack [edge] already exists" {
		t.Errorf("second create: %v", err)
	}

	// The same parameters again: nothing to do.
	_, err = c.UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: awssdk.String("edge"), UsePreviousTemplate: awssdk.Bool(true),
		Parameters: []cfntypes.Parameter{
			{ParameterKey: awssdk.String("VpcId"), UsePreviousValue: awssdk.Bool(true)}, {ParameterKey: awssdk.String("SubnetId"), UsePreviousValue: awssdk.Bool(true)},
			{ParameterKey: awssdk.String("InstanceType"), UsePreviousValue: awssdk.Bool(true)}, {ParameterKey: awssdk.String("Token"), UsePreviousValue: awssdk.Bool(true)},
		}})
	if api := apiError(t, err); api.ErrorCode() != "ValidationError" || api.ErrorMessage() != "No updates are to be performed." {
		t.Errorf("empty update: %v", err)
	}
	// A new instance type: the instance restarts with it, keeping its id.
	if _, err := c.UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: awssdk.String("edge"), TemplateBody: awssdk.String(yamlTemplate),
		Parameters: params("VpcId", vpc, "SubnetId", subnet, "InstanceType", "m5.large", "Token", "abcdef.0123456789abcdef")}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []cfntypes.StackStatus{cfntypes.StackStatusUpdateInProgress, cfntypes.StackStatusUpdateInProgress, cfntypes.StackStatusUpdateComplete} {
		if st := describe(t, c, "edge"); st.StackStatus != want {
			t.Fatalf("update step %d: %s, want %s", i, st.StackStatus, want)
		}
		s.Step()
	}
	if in, _ := s.Instance(node); in.Type != "m5.large" || in.State != "running" {
		t.Errorf("updated instance %+v", in)
	}

	// Deletion terminates the instance; the name is then free.
	if _, err := c.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: awssdk.String("edge")}); err != nil {
		t.Fatal(err)
	}
	s.Step()
	if in, _ := s.Instance(node); in.State != "shutting-down" {
		t.Errorf("deleting: instance %s", in.State)
	}
	s.Step()
	if in, _ := s.Instance(node); in.State != "terminated" {
		t.Errorf("deleted: instance %s", in.State)
	}
	_, err = c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: awssdk.String("edge")})
	if api := apiError(t, err); api.ErrorCode() != "ValidationError" || api.ErrorMessage() != "Stack with id edge does not exist" {
		t.Errorf("describe deleted: %v", err)
	}
	if st := describe(t, c, id); st.StackStatus != cfntypes.StackStatusDeleteComplete || st.DeletionTime == nil {
		t.Errorf("by id: %+v", st)
	}
	if len(s.SecurityGroups()) != 0 {
		t.Errorf("security groups left: %+v", s.SecurityGroups())
	}
	// Deleting what is gone succeeds.
	if _, err := c.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: awssdk.String("edge")}); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

// TestStackFailures: a refused launch rolls the stack back with EC2's
// message in the events; a refused update rolls back to the old type.
func TestStackFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		onFailure cfntypes.OnFailure
		final     cfntypes.StackStatus
	}{
		{"rollback", cfntypes.OnFailureRollback, cfntypes.StackStatusRollbackComplete},
		{"keep", cfntypes.OnFailureDoNothing, cfntypes.StackStatusCreateFailed},
		{"delete", cfntypes.OnFailureDelete, cfntypes.StackStatusDeleteComplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := server(t, ec2test.Options{})
			c := client(s, 1)
			ctx := context.Background()
			s.RefuseInstanceType("c5.xlarge", ec2test.APIError{Code: "InsufficientInstanceCapacity"})
			out, err := c.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: awssdk.String("edge"), TemplateBody: awssdk.String(yamlTemplate),
				Parameters: params("VpcId", vpc, "SubnetId", subnet, "InstanceType", "c5.xlarge"), OnFailure: tc.onFailure})
			if err != nil {
				t.Fatal(err)
			}
			var last cfntypes.StackStatus
			for range 5 {
				out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: out.StackId})
				if err != nil {
					t.Fatal(err)
				}
				last = out.Stacks[0].StackStatus
			}
			if last != tc.final {
				t.Fatalf("status %s, want %s", last, tc.final)
			}
			events, err := c.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: out.StackId})
			if err != nil {
				t.Fatal(err)
			}
			var reasons []string
			for _, e := range events.StackEvents {
				if e.ResourceStatus == cfntypes.ResourceStatusCreateFailed && awssdk.ToString(e.ResourceType) != "AWS::CloudFormation::Stack" {
					reasons = append(reasons, awssdk.ToString(e.LogicalResourceId)+": "+awssdk.ToString(e.ResourceStatusReason))
				}
			}
			want := "Node: Resource handler returned message: \"We currently do not have sufficient c5.xlarge capacity in the Availability Zone you requested (us-east-1a)."
			if len(reasons) != 1 || !strings.HasPrefix(reasons[0], want) {
				t.Errorf("failure events %q", reasons)
			}
			if tc.onFailure == cfntypes.OnFailureRollback {
				if len(s.SecurityGroups()) != 0 {
					t.Errorf("rollback left %+v", s.SecurityGroups())
				}
			}
		})
	}

	t.Run("update", func(t *testing.T) {
		s := server(t, ec2test.Options{})
		c := client(s, 1)
		ctx := context.Background()
		if _, err := c.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: awssdk.String("edge"), TemplateBody: awssdk.String(yamlTemplate),
			Parameters: params("VpcId", vpc, "SubnetId", subnet, "InstanceType", "t3.medium")}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			describe(t, c, "edge")
		}
		s.RefuseInstanceType("m5.large", ec2test.APIError{Status: 400, Code: "Unsupported", Message: "The requested configuration is currently not supported."})
		if _, err := c.UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: awssdk.String("edge"), TemplateBody: awssdk.String(yamlTemplate),
			Parameters: params("VpcId", vpc, "SubnetId", subnet, "InstanceType", "m5.large")}); err != nil {
			t.Fatal(err)
		}
		var st cfntypes.Stack
		for range 3 {
			st = describe(t, c, "edge")
		}
		if st.StackStatus != cfntypes.StackStatusUpdateRollbackComplete {
			t.Fatalf("status %s", st.StackStatus)
		}
		node := instanceOf(t, c, "edge", "Node")
		if in, _ := s.Instance(node); in.Type != "t3.medium" || in.State != "running" {
			t.Errorf("instance after the rollback %+v", in)
		}
		// The rolled-back stack takes updates again.
		s.RefuseInstanceType("m5.large", ec2test.APIError{})
		if _, err := c.UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: awssdk.String("edge"), TemplateBody: awssdk.String(yamlTemplate),
			Parameters: params("VpcId", vpc, "SubnetId", subnet, "InstanceType", "m5.large")}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			st = describe(t, c, "edge")
		}
		if in, _ := s.Instance(node); st.StackStatus != cfntypes.StackStatusUpdateComplete || in.Type != "m5.large" {
			t.Errorf("second update: %s, %+v", st.StackStatus, in)
		}
	})
}

// TestStackValidation: what CreateStack refuses at once, in
// CloudFormation's words.
func TestStackValidation(t *testing.T) {
	s := server(t, ec2test.Options{})
	c := client(s, 1)
	for _, tc := range []struct {
		name, stack, body string
		params            []cfntypes.Parameter
		code, msg         string
	}{
		{"stack name", "1-edge", yamlTemplate, nil, "ValidationError", "Value '1-edge' at 'stackName' failed to satisfy constraint"},
		{"missing parameters", "edge", yamlTemplate, nil, "ValidationError", "Parameters: [SubnetId, VpcId] must have values"},
		{"unknown parameter", "edge", yamlTemplate, params("VpcId", vpc, "SubnetId", subnet, "Colour", "red"), "ValidationError", "Parameters: [Colour] do not exist in the template"},
		{"allowed values", "edge", yamlTemplate, params("VpcId", vpc, "SubnetId", subnet, "InstanceType", "x1.huge"), "ValidationError", "Parameter 'InstanceType' must be one of AllowedValues"},
		{"unknown subnet", "edge", yamlTemplate, params("VpcId", vpc, "SubnetId", "subnet-0ddddddddddddddd1"), "ValidationError",
			"Parameter validation failed: parameter value subnet-0ddddddddddddddd1 for parameter name SubnetId does not exist."},
		{"resource type", "edge", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n", nil, "ValidationError", "Template format error: Unrecognized resource types: [AWS::S3::Bucket]"},
		{"bad yaml", "edge", "Resources: [", nil, "ValidationError", "Template format error: YAML not well-formed."},
		{"bad json", "edge", "{\"Resources\": ", nil, "ValidationError", "Template format error: JSON not well-formed."},
		{"no body", "edge", "", nil, "ValidationError", "Either Template URL or Template Body must be specified."},
		{"token", "edge", yamlTemplate, nil, "ValidationError", "Value 'a:b' at 'clientRequestToken' failed to satisfy constraint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &cloudformation.CreateStackInput{StackName: awssdk.String(tc.stack), Parameters: tc.params}
			if tc.name == "token" {
				in.ClientRequestToken = awssdk.String("a:b")
			}
			if tc.body != "" {
				in.TemplateBody = awssdk.String(tc.body)
			}
			_, err := c.CreateStack(context.Background(), in)
			if api := apiError(t, err); api.ErrorCode() != tc.code || !strings.Contains(api.ErrorMessage(), tc.msg) {
				t.Errorf("got %s: %s; want %s: %s", api.ErrorCode(), api.ErrorMessage(), tc.code, tc.msg)
			}
		})
	}
}

// TestStackPagingAndThrottling: DescribeStacks and DescribeStackEvents
// page; throttling answers are retried by the SDK's retryer.
func TestStackPagingAndThrottling(t *testing.T) {
	s := server(t, ec2test.Options{PageSize: 2})
	c := client(s, 3)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		if _, err := c.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: awssdk.String(name), TemplateBody: awssdk.String(jsonTemplate),
			Parameters: params("Type", "t3.micro", "Subnet", subnet)}); err != nil {
			t.Fatal(err)
		}
	}
	s.FailNext("DescribeStacks", ec2test.CloudFormationThrottled())
	var names []string
	for p := cloudformation.NewDescribeStacksPaginator(c, &cloudformation.DescribeStacksInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range page.Stacks {
			names = append(names, awssdk.ToString(st.StackName))
		}
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("stacks %v", names)
	}
	calls := s.Calls("DescribeStacks")
	if len(calls) != 3 || calls[0].Code != "Throttling" || calls[2].Params.Get("NextToken") == "" {
		t.Errorf("DescribeStacks calls %+v", calls)
	}
	for range 3 {
		describe(t, c, "a")
	}
	var events []cfntypes.StackEvent
	for p := cloudformation.NewDescribeStackEventsPaginator(c, &cloudformation.DescribeStackEventsInput{StackName: awssdk.String("a")}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, page.StackEvents...)
	}
	var seen []string
	for _, e := range events {
		seen = append(seen, awssdk.ToString(e.LogicalResourceId)+" "+string(e.ResourceStatus))
	}
	want := []string{"a CREATE_COMPLETE", "A CREATE_COMPLETE", "A CREATE_IN_PROGRESS", "A CREATE_IN_PROGRESS", "a CREATE_IN_PROGRESS"}
	if !slices.Equal(seen, want) || len(s.Calls("DescribeStackEvents")) != 3 {
		t.Errorf("events %v, want %v (in %d calls)", seen, want, len(s.Calls("DescribeStackEvents")))
	}
	in, _ := s.Instance(instanceOf(t, c, "a", "A"))
	if ud, _ := base64.StdEncoding.DecodeString(in.UserData); string(ud) != "a=us-east-1" || in.Type != "t3.micro" {
		t.Errorf("JSON stack's instance %+v (user data %q)", in, ud)
	}

	// Still throttled after every attempt: the API's error.
	for range 3 {
		s.FailNext("DescribeStacks", ec2test.CloudFormationThrottled())
	}
	_, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: awssdk.String("a")})
	if api := apiError(t, err); api.ErrorCode() != "Throttling" || api.ErrorMessage() != "Rate exceeded" {
		t.Errorf("lasting throttling: %v", err)
	}
	// A wrong secret key is refused.
	_, err = cloudformation.New(cloudformation.Options{Region: "us-east-1", BaseEndpoint: awssdk.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, "wrong", "")}).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
	if api := apiError(t, err); api.ErrorCode() != "AuthFailure" {
		t.Errorf("wrong secret: %v", err)
	}
}
