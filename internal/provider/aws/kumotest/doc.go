// Package kumotest runs the aws provider's CloudFormation calls against
// github.com/sivchari/kumo, an AWS emulator written independently of the
// test server in ../ec2test: the same stack lifecycle through the real
// SDK against a second implementation of the wire format guards against
// a test server that only agrees with the provider's own mistakes.
//
// It is a module of its own, so that kumo and its dependencies stay out
// of the main module (whose ./... does not reach it); it builds the main
// module's packages from this tree. Run it with
//
//	cd internal/provider/aws/kumotest && GOFLAGS=-mod=mod go test ./...
//
// (-mod=mod lets go.sum take in what the main module added since).
//
// kumo serves CreateStack, UpdateStack, DeleteStack, DescribeStacks and
// DescribeStackResources; it keeps stacks as records (it launches no
// instances, reads only JSON templates, drops the Parameters and Tags
// the SDK sends and has no stack events), and its EC2 has no
// DescribeAvailabilityZones, no instance placement and no filters, so
// discovery, parameters and instance-creating stacks are tested against
// ec2test only.
package kumotest
