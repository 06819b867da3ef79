// Package ec2test is an Amazon EC2 and AWS CloudFormation endpoint for
// tests, served on a loopback port: the Query protocol (form-encoded POSTs
// naming an Action and the API's Version, XML answers, each API's XML
// errors) behind Signature Version 4, which it verifies with the one key
// pair it accepts. The Version tells the APIs apart: 2016-11-15 is EC2,
// signed for service ec2; 2010-05-15 is CloudFormation, signed for
// cloudformation. It implements exactly the calls the aws provider makes:
// DescribeAvailabilityZones, DescribeVpcs, DescribeSubnets,
// DescribeInstances and DescribeInstanceTypes, with their filters, their
// MaxResults bounds and NextToken paging in pages as small as a test
// wants; Service Quotas' GetServiceQuota (JSON, signed for
// servicequotas, see quotas.go); and CreateStack, UpdateStack, DeleteStack, DescribeStacks,
// DescribeStackEvents and DescribeStackResources on stacks whose
// templates (JSON or YAML) declare EC2 instances and security groups,
// which it creates as instances it then serves (see cloudformation.go).
// Tests shape the world it serves and inject one-off errors, such as the
// throttling answers RequestLimitExceeded and Throttling.
//
// It exists because no AWS emulator that can run here models availability
// zones, subnet placement, tags, filters, paging and stacks that create
// instances; the real SDK clients are pointed at it through their
// BaseEndpoint.
package ec2test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// APIVersion is the EC2 API version the SDK speaks.
const APIVersion = "2016-11-15"

// service is one API the server speaks: the name requests are signed for,
// its Version and its error document.
type service struct {
	name, version string
	errorDoc      func(e APIError, requestID string) []byte
}

var (
	ec2Service = service{name: "ec2", version: APIVersion, errorDoc: func(e APIError, requestID string) []byte {
		return errorDoc("<Response><Errors><Error><Code>", e, "</Message></Error></Errors><RequestID>"+requestID+"</RequestID></Response>")
	}}
	cfnService = service{name: "cloudformation", version: CloudFormationAPIVersion, errorDoc: func(e APIError, requestID string) []byte {
		typ := "Sender"
		if e.Status >= 500 {
			typ = "Receiver"
		}
		return errorDoc("<ErrorResponse><Error><Type>"+typ+"</Type><Code>", e, "</Message></Error><RequestId>"+requestID+"</RequestId></ErrorResponse>")
	}}
)

// errorDoc writes an error's code and message between the document's
// opening (up to <Code>) and closing (from </Message>).
func errorDoc(open string, e APIError, close string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header + open)
	_ = xml.EscapeText(&b, []byte(e.Code))
	b.WriteString("</Code><Message>")
	_ = xml.EscapeText(&b, []byte(e.Message))
	b.WriteString(close)
	return b.Bytes()
}

// Options configure a server.
type Options struct {
	// Region is the only region it serves (default us-east-1); requests
	// signed for another are refused.
	Region string
	// AccessKeyID and SecretAccessKey are the only credentials it
	// accepts; SessionToken, when set, must come with them
	// (X-Amz-Security-Token).
	AccessKeyID, SecretAccessKey, SessionToken string
	// PageSize is the largest page it answers (default 1000): EC2 may
	// answer fewer items than MaxResults asks for.
	PageSize int
	// OwnerID is the account of every object (default 123456789012).
	OwnerID string
	// ManualSteps leaves stacks and the instances they launch where they
	// are until Step is called; by default each DescribeStacks request
	// takes a step first.
	ManualSteps bool
}

// Zone is an availability zone of the region.
type Zone struct {
	Name string
	ID   string
	// State is available (the default), information, impaired or
	// unavailable.
	State string
}

// VPC is a virtual private cloud.
type VPC struct {
	ID, CIDR string
	Tags     map[string]string
}

// Subnet is a subnet of a VPC in one zone.
type Subnet struct {
	ID, VPCID, Zone, CIDR string
	MapPublicIPOnLaunch   bool
	Tags                  map[string]string
}

// Instance is an EC2 instance in a subnet.
type Instance struct {
	ID, ImageID, Type, SubnetID string
	// State is pending, running, shutting-down, terminated, stopping or
	// stopped.
	State string
	// PrivateIPs are its private addresses, the primary first.
	PrivateIPs []string
	// PublicIP is shown while it runs.
	PublicIP   string
	LaunchTime time.Time
	Tags       map[string]string
	// KeyName, SecurityGroupIDs and UserData (base64, as RunInstances
	// takes it) are those of a stack's instance.
	KeyName          string
	SecurityGroupIDs []string
	UserData         string
}

// InstanceType describes an instance type.
type InstanceType struct {
	Name          string
	VCPUs         int32
	MemoryMiB     int64
	Architectures []string
}

// APIError is an error answer.
type APIError struct {
	Status        int
	Code, Message string
}

// Throttled is EC2's throttling answer.
func Throttled() APIError {
	return APIError{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
}

// Call is one request the server answered.
type Call struct {
	Action string
	Params url.Values
	// Code is the error code it was answered with; "" for success.
	Code string
}

// Server is a running EC2 endpoint.
type Server struct {
	// URL is its base URL, for the SDK's BaseEndpoint.
	URL  string
	opts Options
	http *httptest.Server

	mu        sync.Mutex
	zones     []Zone
	vpcs      []VPC
	subnets   []Subnet
	instances []Instance
	types     map[string]InstanceType
	failures  map[string][]APIError
	calls     []Call
	seq       int
	cfn       cloudFormation
	quotas    map[string]float64
}

// New starts a server on a loopback port; Close stops it.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.OwnerID == "" {
		opts.OwnerID = "123456789012"
	}
	s := &Server{opts: opts, types: map[string]InstanceType{}, failures: map[string][]APIError{}, cfn: newCloudFormation(), quotas: map[string]float64{}}
	for _, t := range DefaultInstanceTypes() {
		s.types[t.Name] = t
	}
	s.http = httptest.NewServer(s)
	s.URL = s.http.URL
	return s
}

// DefaultInstanceTypes are the instance types every server knows.
func DefaultInstanceTypes() []InstanceType {
	x86 := []string{"x86_64"}
	return []InstanceType{
		{Name: "t3.micro", VCPUs: 2, MemoryMiB: 1024, Architectures: x86},
		{Name: "t3.medium", VCPUs: 2, MemoryMiB: 4096, Architectures: x86},
		{Name: "m5.large", VCPUs: 2, MemoryMiB: 8192, Architectures: x86},
		{Name: "m5.xlarge", VCPUs: 4, MemoryMiB: 16384, Architectures: x86},
		{Name: "c5.xlarge", VCPUs: 4, MemoryMiB: 8192, Architectures: x86},
		{Name: "c5.2xlarge", VCPUs: 8, MemoryMiB: 16384, Architectures: x86},
		{Name: "m6g.large", VCPUs: 2, MemoryMiB: 8192, Architectures: []string{"arm64"}},
	}
}

// Close stops the server: its URL then refuses connections.
func (s *Server) Close() { s.http.Close() }

// AddZone adds availability zones.
func (s *Server) AddZone(zones ...Zone) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zones = append(s.zones, zones...)
}

// SetZoneState changes a zone's state.
func (s *Server) SetZoneState(name, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.zones {
		if s.zones[i].Name == name {
			s.zones[i].State = state
		}
	}
}

// AddVPC adds VPCs.
func (s *Server) AddVPC(vpcs ...VPC) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vpcs = append(s.vpcs, vpcs...)
}

// AddSubnet adds subnets.
func (s *Server) AddSubnet(subnets ...Subnet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subnets = append(s.subnets, subnets...)
}

// AddInstance adds instances.
func (s *Server) AddInstance(instances ...Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.instances = append(s.instances, instances...)
}

// SetInstanceState changes an instance's state.
func (s *Server) SetInstanceState(id, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.instances {
		if s.instances[i].ID == id {
			s.instances[i].State = state
		}
	}
}

// Instance returns the instance with the given id.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.instances {
		if in.ID == id {
			in.Tags = maps.Clone(in.Tags)
			return in, true
		}
	}
	return Instance{}, false
}

// AddInstanceType adds or replaces instance types.
func (s *Server) AddInstanceType(types ...InstanceType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range types {
		s.types[t.Name] = t
	}
}

// FailNext answers the next request of action with e, once; errors queue.
func (s *Server) FailNext(action string, e APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[action] = append(s.failures[action], e)
}

// Calls returns the requests of action answered so far (every action's
// for "").
func (s *Server) Calls(action string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if action == "" || c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the requests answered so far.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// ServeHTTP answers one Query-protocol request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	svc := ec2Service
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.fail(w, svc, "", nil, APIError{http.StatusBadRequest, "MalformedQueryString", "unreadable body"})
		return
	}
	if r.Method != http.MethodPost {
		s.fail(w, svc, "", nil, APIError{http.StatusBadRequest, "InvalidAction", "this test endpoint takes POST requests (as the SDK sends them)"})
		return
	}
	if target, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), quotasTarget); ok {
		s.serveQuotas(w, r, body, target)
		return
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		s.fail(w, svc, "", nil, APIError{http.StatusBadRequest, "MalformedQueryString", err.Error()})
		return
	}
	action := params.Get("Action")
	if params.Get("Version") == cfnService.version {
		svc = cfnService
	}
	if e, ok := s.authenticate(r, body, svc.name); !ok {
		s.fail(w, svc, action, params, e)
		return
	}
	if v := params.Get("Version"); v != svc.version {
		s.fail(w, svc, action, params, APIError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Invalid API version %q.", v)})
		return
	}
	s.mu.Lock()
	if e, failed := s.injected(action); failed {
		s.mu.Unlock()
		s.fail(w, svc, action, params, e)
		return
	}
	var (
		resp any
		e    *APIError
	)
	if svc.name == cfnService.name {
		resp, e = s.cloudFormation(action, params)
	} else {
		switch action {
		case "DescribeAvailabilityZones":
			resp, e = s.describeZones(params)
		case "DescribeVpcs":
			resp, e = s.describeVPCs(params)
		case "DescribeSubnets":
			resp, e = s.describeSubnets(params)
		case "DescribeInstances":
			resp, e = s.describeInstances(params)
		case "DescribeInstanceTypes":
			resp, e = s.describeInstanceTypes(params)
		default:
			e = &APIError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", action)}
		}
	}
	s.mu.Unlock()
	if e != nil {
		s.fail(w, svc, action, params, *e)
		return
	}
	s.record(action, params, "")
	out, err := xml.Marshal(resp)
	if err != nil {
		s.fail(w, svc, action, params, APIError{http.StatusInternalServerError, "InternalError", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

// injected takes the next error FailNext queued for action; the caller
// holds mu.
func (s *Server) injected(action string) (APIError, bool) {
	q := s.failures[action]
	if len(q) == 0 {
		return APIError{}, false
	}
	s.failures[action] = q[1:]
	return q[0], true
}

func (s *Server) record(action string, params url.Values, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Action: action, Params: params, Code: code})
}

// fail writes the service's error document.
func (s *Server) fail(w http.ResponseWriter, svc service, action string, params url.Values, e APIError) {
	s.record(action, params, e.Code)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.Status)
	_, _ = w.Write(svc.errorDoc(e, s.requestID()))
}

func (s *Server) requestID() string {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	return fmt.Sprintf("0000%04x-ec2t-4000-8000-%012x", n&0xffff, n)
}

// authFailure is EC2's answer to credentials it cannot validate.
var authFailure = APIError{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"}

// authenticate verifies the request's Signature Version 4: the access key
// id and scope, then the signature itself, recomputed from the signed
// headers, the body and the secret key.
func (s *Server) authenticate(r *http.Request, body []byte, service string) (APIError, bool) {
	const algo = "AWS4-HMAC-SHA256"
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, algo+" ") {
		return APIError{http.StatusUnauthorized, "AuthFailure", "The request must be signed (Authorization: AWS4-HMAC-SHA256 …)"}, false
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algo+" "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return APIError{http.StatusBadRequest, "IncompleteSignature", "Malformed Credential in the Authorization header"}, false
	}
	if scope[0] != s.opts.AccessKeyID {
		return authFailure, false
	}
	if scope[2] != s.opts.Region || scope[3] != service {
		return APIError{http.StatusUnauthorized, "AuthFailure", fmt.Sprintf("Credential should be scoped to a valid region and service (%s in %s), not %s/%s.", service, s.opts.Region, scope[2], scope[3])}, false
	}
	if s.opts.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != s.opts.SessionToken {
		return authFailure, false
	}
	date := r.Header.Get("X-Amz-Date")
	if !strings.HasPrefix(date, scope[1]) {
		return APIError{http.StatusBadRequest, "IncompleteSignature", "X-Amz-Date does not match the Credential scope"}, false
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	var canon strings.Builder
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		default:
			var vals []string
			for _, hv := range r.Header.Values(h) {
				vals = append(vals, strings.Join(strings.Fields(hv), " "))
			}
			v = strings.Join(vals, ",")
		}
		canon.WriteString(h + ":" + v + "\n")
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = hexSHA256(body)
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	request := strings.Join([]string{r.Method, path, "", canon.String(), fields["SignedHeaders"], payload}, "\n")
	toSign := strings.Join([]string{algo, date, strings.Join(scope[1:], "/"), hexSHA256([]byte(request))}, "\n")
	key := []byte("AWS4" + s.opts.SecretAccessKey)
	for _, part := range scope[1:] {
		key = hmacSHA256(key, part)
	}
	if !hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(key, toSign))), []byte(fields["Signature"])) {
		return authFailure, false
	}
	return APIError{}, true
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// list reads the flattened list parameter prefix.1, prefix.2, …
func list(p url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := p[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

type filter struct {
	name   string
	values []string
}

// filters reads Filter.N.Name and Filter.N.Value.M.
func filters(p url.Values) []filter {
	var out []filter
	for i := 1; ; i++ {
		name, ok := p["Filter."+strconv.Itoa(i)+".Name"]
		if !ok {
			return out
		}
		out = append(out, filter{name: name[0], values: list(p, "Filter."+strconv.Itoa(i)+".Value")})
	}
}

// fields gives an object's values for each filter name it supports; tag
// filters (tag:<key>, tag-key) are answered from tags.
type fields func(name string) (values []string, known bool)

func tagFields(tags map[string]string, base fields) fields {
	return func(name string) ([]string, bool) {
		if k, ok := strings.CutPrefix(name, "tag:"); ok {
			if v, ok := tags[k]; ok {
				return []string{v}, true
			}
			return nil, true
		}
		if name == "tag-key" {
			var keys []string
			for k := range tags {
				keys = append(keys, k)
			}
			return keys, true
		}
		return base(name)
	}
}

// match applies the filters (all must match; within one, any value), or
// names the first filter the object does not support.
func match(fs []filter, f fields) (bool, *APIError) {
	ok := true
	for _, flt := range fs {
		have, known := f(flt.name)
		if !known {
			return false, &APIError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The filter '%s' is invalid", flt.name)}
		}
		if !slices.ContainsFunc(flt.values, func(v string) bool { return slices.Contains(have, v) }) {
			ok = false
		}
	}
	return ok, nil
}

// page cuts n items into the page params ask for: MaxResults within
// [min, max] (when given), NextToken issued by an earlier page of action.
func (s *Server) page(p url.Values, action string, n, min, max int) (from, to int, next string, e *APIError) {
	size := max
	if v := p.Get("MaxResults"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil || m < min || m > max {
			return 0, 0, "", &APIError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Value ( %s ) for parameter maxResults is invalid. Expecting a value between %d and %d.", v, min, max)}
		}
		size = m
	}
	size = minInt(size, s.opts.PageSize)
	if tok := p.Get("NextToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		rest, ok := strings.CutPrefix(string(raw), action+":")
		off, aerr := strconv.Atoi(rest)
		if err != nil || !ok || aerr != nil || off < 0 || off > n {
			return 0, 0, "", &APIError{http.StatusBadRequest, "InvalidParameterValue", "The token '" + tok + "' is invalid."}
		}
		from = off
	}
	to = minInt(from+size, n)
	if to < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(action + ":" + strconv.Itoa(to)))
	}
	return from, to, next, nil
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// byIDs checks that every id asked for exists.
func byIDs(ids []string, exists func(string) bool, code, what string) *APIError {
	for _, id := range ids {
		if !exists(id) {
			return &APIError{http.StatusBadRequest, code, fmt.Sprintf("The %s '%s' does not exist", what, id)}
		}
	}
	return nil
}

const xmlns = "http://ec2.amazonaws.com/doc/" + APIVersion + "/"

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func tagSet(tags map[string]string) []xmlTag {
	var out []xmlTag
	for k, v := range tags {
		out = append(out, xmlTag{k, v})
	}
	slices.SortFunc(out, func(a, b xmlTag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

type xmlZone struct {
	ZoneName           string `xml:"zoneName"`
	ZoneID             string `xml:"zoneId"`
	ZoneState          string `xml:"zoneState"`
	RegionName         string `xml:"regionName"`
	GroupName          string `xml:"groupName"`
	NetworkBorderGroup string `xml:"networkBorderGroup"`
	ZoneType           string `xml:"zoneType"`
	OptInStatus        string `xml:"optInStatus"`
}

type zonesResponse struct {
	XMLName   xml.Name  `xml:"DescribeAvailabilityZonesResponse"`
	Xmlns     string    `xml:"xmlns,attr"`
	RequestID string    `xml:"requestId"`
	Zones     []xmlZone `xml:"availabilityZoneInfo>item"`
}

func (s *Server) describeZones(p url.Values) (any, *APIError) {
	names := list(p, "ZoneName")
	if e := byIDs(names, func(n string) bool { return slices.ContainsFunc(s.zones, func(z Zone) bool { return z.Name == n }) },
		"InvalidParameterValue", "availability zone"); e != nil {
		return nil, e
	}
	fs := filters(p)
	resp := zonesResponse{Xmlns: xmlns, RequestID: s.requestIDLocked()}
	for _, z := range s.zones {
		state := z.State
		if state == "" {
			state = "available"
		}
		if len(names) > 0 && !slices.Contains(names, z.Name) {
			continue
		}
		ok, e := match(fs, func(name string) ([]string, bool) {
			switch name {
			case "zone-name":
				return []string{z.Name}, true
			case "zone-id":
				return []string{z.ID}, true
			case "region-name":
				return []string{s.opts.Region}, true
			case "state":
				return []string{state}, true
			}
			return nil, false
		})
		if e != nil {
			return nil, e
		}
		if ok {
			resp.Zones = append(resp.Zones, xmlZone{ZoneName: z.Name, ZoneID: z.ID, ZoneState: state, RegionName: s.opts.Region,
				GroupName: s.opts.Region, NetworkBorderGroup: s.opts.Region, ZoneType: "availability-zone", OptInStatus: "opt-in-not-required"})
		}
	}
	return resp, nil
}

// requestIDLocked is requestID for callers holding mu.
func (s *Server) requestIDLocked() string {
	s.seq++
	return fmt.Sprintf("0000%04x-ec2t-4000-8000-%012x", s.seq&0xffff, s.seq)
}

type xmlVPC struct {
	VpcID     string   `xml:"vpcId"`
	OwnerID   string   `xml:"ownerId"`
	State     string   `xml:"state"`
	CidrBlock string   `xml:"cidrBlock"`
	IsDefault bool     `xml:"isDefault"`
	Tags      []xmlTag `xml:"tagSet>item"`
}

type vpcsResponse struct {
	XMLName   xml.Name `xml:"DescribeVpcsResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	VPCs      []xmlVPC `xml:"vpcSet>item"`
	NextToken string   `xml:"nextToken,omitempty"`
}

func (s *Server) describeVPCs(p url.Values) (any, *APIError) {
	ids := list(p, "VpcId")
	if e := byIDs(ids, func(id string) bool { return slices.ContainsFunc(s.vpcs, func(v VPC) bool { return v.ID == id }) },
		"InvalidVpcID.NotFound", "vpc ID"); e != nil {
		return nil, e
	}
	fs := filters(p)
	var hits []VPC
	for _, v := range s.vpcs {
		if len(ids) > 0 && !slices.Contains(ids, v.ID) {
			continue
		}
		ok, e := match(fs, tagFields(v.Tags, func(name string) ([]string, bool) {
			switch name {
			case "vpc-id":
				return []string{v.ID}, true
			case "cidr", "cidr-block-association.cidr-block":
				return []string{v.CIDR}, true
			case "state":
				return []string{"available"}, true
			}
			return nil, false
		}))
		if e != nil {
			return nil, e
		}
		if ok {
			hits = append(hits, v)
		}
	}
	from, to, next, e := s.page(p, "DescribeVpcs", len(hits), 5, 1000)
	if e != nil {
		return nil, e
	}
	resp := vpcsResponse{Xmlns: xmlns, RequestID: s.requestIDLocked(), NextToken: next}
	for _, v := range hits[from:to] {
		resp.VPCs = append(resp.VPCs, xmlVPC{VpcID: v.ID, OwnerID: s.opts.OwnerID, State: "available", CidrBlock: v.CIDR, Tags: tagSet(v.Tags)})
	}
	return resp, nil
}

type xmlSubnet struct {
	SubnetID                string   `xml:"subnetId"`
	SubnetArn               string   `xml:"subnetArn"`
	State                   string   `xml:"state"`
	OwnerID                 string   `xml:"ownerId"`
	VpcID                   string   `xml:"vpcId"`
	CidrBlock               string   `xml:"cidrBlock"`
	AvailableIPAddressCount int      `xml:"availableIpAddressCount"`
	AvailabilityZone        string   `xml:"availabilityZone"`
	AvailabilityZoneID      string   `xml:"availabilityZoneId"`
	DefaultForAz            bool     `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool     `xml:"mapPublicIpOnLaunch"`
	Tags                    []xmlTag `xml:"tagSet>item"`
}

type subnetsResponse struct {
	XMLName   xml.Name    `xml:"DescribeSubnetsResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	RequestID string      `xml:"requestId"`
	Subnets   []xmlSubnet `xml:"subnetSet>item"`
	NextToken string      `xml:"nextToken,omitempty"`
}

func (s *Server) zoneID(name string) string {
	for _, z := range s.zones {
		if z.Name == name {
			return z.ID
		}
	}
	return ""
}

func (s *Server) describeSubnets(p url.Values) (any, *APIError) {
	ids := list(p, "SubnetId")
	if e := byIDs(ids, func(id string) bool { return slices.ContainsFunc(s.subnets, func(v Subnet) bool { return v.ID == id }) },
		"InvalidSubnetID.NotFound", "subnet ID"); e != nil {
		return nil, e
	}
	fs := filters(p)
	var hits []Subnet
	for _, sn := range s.subnets {
		if len(ids) > 0 && !slices.Contains(ids, sn.ID) {
			continue
		}
		ok, e := match(fs, tagFields(sn.Tags, func(name string) ([]string, bool) {
			switch name {
			case "vpc-id":
				return []string{sn.VPCID}, true
			case "subnet-id":
				return []string{sn.ID}, true
			case "availability-zone":
				return []string{sn.Zone}, true
			case "cidr-block":
				return []string{sn.CIDR}, true
			case "state":
				return []string{"available"}, true
			}
			return nil, false
		}))
		if e != nil {
			return nil, e
		}
		if ok {
			hits = append(hits, sn)
		}
	}
	from, to, next, e := s.page(p, "DescribeSubnets", len(hits), 5, 1000)
	if e != nil {
		return nil, e
	}
	resp := subnetsResponse{Xmlns: xmlns, RequestID: s.requestIDLocked(), NextToken: next}
	for _, sn := range hits[from:to] {
		resp.Subnets = append(resp.Subnets, xmlSubnet{
			SubnetID: sn.ID, SubnetArn: "arn:aws:ec2:" + s.opts.Region + ":" + s.opts.OwnerID + ":subnet/" + sn.ID,
			State: "available", OwnerID: s.opts.OwnerID, VpcID: sn.VPCID, CidrBlock: sn.CIDR, AvailableIPAddressCount: 250,
			AvailabilityZone: sn.Zone, AvailabilityZoneID: s.zoneID(sn.Zone), MapPublicIPOnLaunch: sn.MapPublicIPOnLaunch, Tags: tagSet(sn.Tags),
		})
	}
	return resp, nil
}

type xmlState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

type xmlPrivateIP struct {
	PrivateIPAddress string `xml:"privateIpAddress"`
	Primary          bool   `xml:"primary"`
}

type xmlNIC struct {
	NetworkInterfaceID string         `xml:"networkInterfaceId"`
	SubnetID           string         `xml:"subnetId"`
	VpcID              string         `xml:"vpcId"`
	PrivateIPAddress   string         `xml:"privateIpAddress"`
	PrivateIPs         []xmlPrivateIP `xml:"privateIpAddressesSet>item"`
}

type xmlInstance struct {
	InstanceID     string   `xml:"instanceId"`
	ImageID        string   `xml:"imageId"`
	InstanceState  xmlState `xml:"instanceState"`
	PrivateDNSName string   `xml:"privateDnsName"`
	InstanceType   string   `xml:"instanceType"`
	LaunchTime     string   `xml:"launchTime"`
	Placement      struct {
		AvailabilityZone string `xml:"availabilityZone"`
		Tenancy          string `xml:"tenancy"`
	} `xml:"placement"`
	SubnetID         string   `xml:"subnetId"`
	VpcID            string   `xml:"vpcId"`
	PrivateIPAddress string   `xml:"privateIpAddress,omitempty"`
	IPAddress        string   `xml:"ipAddress,omitempty"`
	Architecture     string   `xml:"architecture"`
	NICs             []xmlNIC `xml:"networkInterfaceSet>item"`
	Tags             []xmlTag `xml:"tagSet>item"`
}

type xmlReservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []xmlInstance `xml:"instancesSet>item"`
}

type instancesResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []xmlReservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

func (s *Server) subnet(id string) Subnet {
	for _, sn := range s.subnets {
		if sn.ID == id {
			return sn
		}
	}
	return Subnet{}
}

func (s *Server) describeInstances(p url.Values) (any, *APIError) {
	ids := list(p, "InstanceId")
	if len(ids) > 0 && p.Get("MaxResults") != "" {
		return nil, &APIError{http.StatusBadRequest, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults"}
	}
	if e := byIDs(ids, func(id string) bool {
		return slices.ContainsFunc(s.instances, func(v Instance) bool { return v.ID == id })
	},
		"InvalidInstanceID.NotFound", "instance ID"); e != nil {
		return nil, e
	}
	fs := filters(p)
	var hits []Instance
	for _, in := range s.instances {
		if len(ids) > 0 && !slices.Contains(ids, in.ID) {
			continue
		}
		sn := s.subnet(in.SubnetID)
		ok, e := match(fs, tagFields(in.Tags, func(name string) ([]string, bool) {
			switch name {
			case "vpc-id":
				return []string{sn.VPCID}, true
			case "subnet-id":
				return []string{sn.ID}, true
			case "availability-zone":
				return []string{sn.Zone}, true
			case "instance-id":
				return []string{in.ID}, true
			case "instance-type":
				return []string{in.Type}, true
			case "instance-state-name":
				return []string{in.State}, true
			case "instance-state-code":
				return []string{strconv.Itoa(stateCodes[in.State])}, true
			case "private-ip-address":
				return in.PrivateIPs, true
			}
			return nil, false
		}))
		if e != nil {
			return nil, e
		}
		if ok {
			hits = append(hits, in)
		}
	}
	from, to, next, e := s.page(p, "DescribeInstances", len(hits), 5, 1000)
	if e != nil {
		return nil, e
	}
	resp := instancesResponse{Xmlns: xmlns, RequestID: s.requestIDLocked(), NextToken: next}
	for _, in := range hits[from:to] {
		sn := s.subnet(in.SubnetID)
		x := xmlInstance{
			InstanceID: in.ID, ImageID: in.ImageID, InstanceState: xmlState{stateCodes[in.State], in.State}, InstanceType: in.Type,
			LaunchTime: in.LaunchTime.UTC().Format("2006-01-02T15:04:05.000Z"), SubnetID: in.SubnetID, VpcID: sn.VPCID,
			Architecture: "x86_64", Tags: tagSet(in.Tags),
		}
		if t, ok := s.types[in.Type]; ok && len(t.Architectures) > 0 {
			x.Architecture = t.Architectures[0]
		}
		x.Placement.AvailabilityZone, x.Placement.Tenancy = sn.Zone, "default"
		if len(in.PrivateIPs) > 0 && in.State != "terminated" {
			x.PrivateIPAddress = in.PrivateIPs[0]
			x.PrivateDNSName = "ip-" + strings.ReplaceAll(in.PrivateIPs[0], ".", "-") + ".ec2.internal"
			nic := xmlNIC{NetworkInterfaceID: "eni-" + strings.TrimPrefix(in.ID, "i-"), SubnetID: sn.ID, VpcID: sn.VPCID, PrivateIPAddress: in.PrivateIPs[0]}
			for i, ip := range in.PrivateIPs {
				nic.PrivateIPs = append(nic.PrivateIPs, xmlPrivateIP{ip, i == 0})
			}
			x.NICs = []xmlNIC{nic}
		}
		if in.State == "running" {
			x.IPAddress = in.PublicIP
		}
		resp.Reservations = append(resp.Reservations, xmlReservation{ReservationID: "r-" + strings.TrimPrefix(in.ID, "i-"), OwnerID: s.opts.OwnerID, Instances: []xmlInstance{x}})
	}
	return resp, nil
}

type xmlInstanceType struct {
	InstanceType      string `xml:"instanceType"`
	CurrentGeneration bool   `xml:"currentGeneration"`
	Hypervisor        string `xml:"hypervisor"`
	VCPUInfo          struct {
		DefaultVCpus int32 `xml:"defaultVCpus"`
	} `xml:"vCpuInfo"`
	MemoryInfo struct {
		SizeInMiB int64 `xml:"sizeInMiB"`
	} `xml:"memoryInfo"`
	ProcessorInfo struct {
		SupportedArchitectures []string `xml:"supportedArchitectures>item"`
	} `xml:"processorInfo"`
}

type instanceTypesResponse struct {
	XMLName       xml.Name          `xml:"DescribeInstanceTypesResponse"`
	Xmlns         string            `xml:"xmlns,attr"`
	RequestID     string            `xml:"requestId"`
	InstanceTypes []xmlInstanceType `xml:"instanceTypeSet>item"`
	NextToken     string            `xml:"nextToken,omitempty"`
}

func (s *Server) describeInstanceTypes(p url.Values) (any, *APIError) {
	names := list(p, "InstanceType")
	if len(names) > 100 {
		return nil, &APIError{http.StatusBadRequest, "InvalidParameterValue", "The maximum number of instance types is 100."}
	}
	var unknown []string
	for _, n := range names {
		if _, ok := s.types[n]; !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, &APIError{http.StatusBadRequest, "InvalidInstanceType", fmt.Sprintf("The following supplied instance types do not exist: [%s]", strings.Join(unknown, ", "))}
	}
	all := make([]string, 0, len(s.types))
	for n := range s.types {
		all = append(all, n)
	}
	slices.Sort(all)
	fs := filters(p)
	var hits []InstanceType
	for _, n := range all {
		t := s.types[n]
		if len(names) > 0 && !slices.Contains(names, n) {
			continue
		}
		ok, e := match(fs, func(name string) ([]string, bool) {
			switch name {
			case "instance-type":
				return []string{t.Name}, true
			case "processor-info.supported-architecture":
				return t.Architectures, true
			}
			return nil, false
		})
		if e != nil {
			return nil, e
		}
		if ok {
			hits = append(hits, t)
		}
	}
	from, to, next, e := s.page(p, "DescribeInstanceTypes", len(hits), 5, 100)
	if e != nil {
		return nil, e
	}
	resp := instanceTypesResponse{Xmlns: xmlns, RequestID: s.requestIDLocked(), NextToken: next}
	for _, t := range hits[from:to] {
		x := xmlInstanceType{InstanceType: t.Name, CurrentGeneration: true, Hypervisor: "nitro"}
		x.VCPUInfo.DefaultVCpus, x.MemoryInfo.SizeInMiB, x.ProcessorInfo.SupportedArchitectures = t.VCPUs, t.MemoryMiB, t.Architectures
		resp.InstanceTypes = append(resp.InstanceTypes, x)
	}
	return resp, nil
}
