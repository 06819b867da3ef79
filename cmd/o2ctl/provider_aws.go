package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// awsFlags are the flags of "provider add --type aws".
type awsFlags struct {
	region, vpc, endpoint, defaultType, credentialsFile, profile string
	subnets, tags, instanceTypes                                 []string
	vcpus, memoryGiB                                             int64
}

var awsFlagNames = []string{"region", "vpc", "subnet", "instance-types", "default-instance-type",
	"aws-endpoint", "credentials-file", "profile"}

// cloudFlagNames are the flags --type aws and --type azure share.
var cloudFlagNames = []string{"tag", "vcpus", "memory-gib"}

func (f *awsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.region, "region", "", "aws: the region, such as us-east-1")
	fs.StringVar(&f.vpc, "vpc", "", "aws: the VPC inventoried (vpc-…)")
	fs.StringArrayVar(&f.subnets, "subnet", nil, "aws: a subnet of the VPC, ID[:ZONE[:public|private]] (repeatable; default every subnet)")
	fs.StringSliceVar(&f.instanceTypes, "instance-types", nil, "aws: the instance types offered, comma-separated")
	fs.StringVar(&f.defaultType, "default-instance-type", "", "aws: the default instance type (one of --instance-types)")
	fs.StringArrayVar(&f.tags, "tag", nil, "aws, azure: a default tag KEY=VALUE that the IMS's instances and VMs carry (repeatable)")
	fs.Int64Var(&f.vcpus, "vcpus", 0, "aws, azure: the vCPU budget of the region or location (with --memory-gib)")
	fs.Int64Var(&f.memoryGiB, "memory-gib", 0, "aws, azure: the memory budget of the region or location in GiB (with --vcpus)")
	fs.StringVar(&f.endpoint, "aws-endpoint", "", "aws: an http(s) URL replacing the region's EC2 and CloudFormation endpoint")
	fs.StringVar(&f.credentialsFile, "credentials-file", "", "aws: a shared credentials file to read the access key from (default: the environment's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)")
	fs.StringVar(&f.profile, "profile", "", "aws: the profile of --credentials-file (default AWS_PROFILE, else default)")
}

// used names the first aws flag given, if any.
func (f *awsFlags) used(fs *pflag.FlagSet) string { return firstChanged(fs, awsFlagNames) }

// firstChanged names the first of names given on the command line.
func firstChanged(fs *pflag.FlagSet, names []string) string {
	for _, name := range names {
		if fs.Changed(name) {
			return name
		}
	}
	return ""
}

// tagsOf parses --tag KEY=VALUE flags.
func tagsOf(tags []string) (*o2.AWSTags, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	out := &o2.AWSTags{Default: map[string]string{}}
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return nil, &usageError{fmt.Errorf("--tag %q: want KEY=VALUE", t)}
		}
		out.Default[k] = v
	}
	return out, nil
}

// budgetOf is the capacity of --vcpus and --memory-gib.
func budgetOf(vcpus, memoryGiB int64) (*o2.AWSCapacity, error) {
	if (vcpus > 0) != (memoryGiB > 0) || vcpus < 0 || memoryGiB < 0 {
		return nil, &usageError{fmt.Errorf("--vcpus and --memory-gib go together, both positive")}
	}
	if vcpus == 0 {
		return nil, nil
	}
	return &o2.AWSCapacity{VCPUs: vcpus, MemoryGiB: memoryGiB}, nil
}

// config fills in the AWS part of cfg. The access key is sent: the IMS
// stores it encrypted.
func (a *app) awsConfig(f *awsFlags, cfg *o2.ProviderConfig) error {
	if f.region == "" || f.vpc == "" {
		return &usageError{fmt.Errorf("--type aws needs --region and --vpc")}
	}
	cfg.Region, cfg.Endpoint = f.region, f.endpoint
	cfg.VPC = &o2.AWSVPC{VPCID: f.vpc}
	for _, s := range f.subnets {
		parts := strings.Split(s, ":")
		if len(parts) > 3 || parts[0] == "" {
			return &usageError{fmt.Errorf("--subnet %q: want ID[:ZONE[:public|private]]", s)}
		}
		parts = append(parts, "", "")
		cfg.VPC.Subnets = append(cfg.VPC.Subnets, o2.AWSSubnet{ID: parts[0], Zone: parts[1], Type: parts[2]})
	}
	if len(f.instanceTypes) > 0 || f.defaultType != "" {
		cfg.InstanceTypes = &o2.AWSInstanceTypes{Supported: f.instanceTypes, Default: f.defaultType}
	}
	var err error
	if cfg.Tags, err = tagsOf(f.tags); err != nil {
		return err
	}
	if cfg.Capacity, err = budgetOf(f.vcpus, f.memoryGiB); err != nil {
		return err
	}
	creds, err := a.awsCredentials(f)
	if err != nil {
		return err
	}
	cfg.Credentials = creds
	return nil
}

// awsCredentials reads the access key from --credentials-file (its
// --profile) or the environment.
func (a *app) awsCredentials(f *awsFlags) (*o2.AWSCredentials, error) {
	if f.credentialsFile == "" {
		if f.profile != "" {
			return nil, &usageError{fmt.Errorf("--profile selects a profile of --credentials-file")}
		}
		c := &o2.AWSCredentials{AccessKeyID: a.getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: a.getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: a.getenv("AWS_SESSION_TOKEN")}
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, &usageError{fmt.Errorf("--type aws needs an access key: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or --credentials-file")}
		}
		return c, nil
	}
	profile := first(f.profile, a.getenv("AWS_PROFILE"), "default")
	file, err := os.Open(f.credentialsFile)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	keys := map[string]string{}
	section := ""
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line[1:len(line)-1]), "profile "))
		case section == profile:
			if k, v, ok := strings.Cut(line, "="); ok {
				keys[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	c := &o2.AWSCredentials{AccessKeyID: keys["aws_access_key_id"], SecretAccessKey: keys["aws_secret_access_key"], SessionToken: keys["aws_session_token"]}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return nil, &usageError{fmt.Errorf("%s: profile %s has no aws_access_key_id and aws_secret_access_key", f.credentialsFile, profile)}
	}
	return c, nil
}
